"""The theory-of-mind tracker: nested beliefs folded from who witnessed what.

`simstage.tom.tracker` imports nothing heavy; the belief graph and its export
(networkx) live in `simstage.tom.graph` and `simstage.tom.export`.
"""

from simstage.tom.tracker import Belief, BeliefState, BeliefTracker, fold_beliefs

__all__ = ["Belief", "BeliefState", "BeliefTracker", "fold_beliefs"]
