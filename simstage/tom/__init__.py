"""The theory-of-mind tracker: nested beliefs folded from who witnessed what.

`simstage.tom.tracker` imports nothing heavy; the belief graph and its export
(networkx) live in `simstage.tom.graph` and `simstage.tom.export`. Beliefs about
facts (`FactBelief`) are folded by `simstage.tom.facts`.
"""

from simstage.tom.tracker import Belief, BeliefState, BeliefTracker, FactBelief, fold_beliefs

__all__ = ["Belief", "BeliefState", "BeliefTracker", "FactBelief", "fold_beliefs"]
