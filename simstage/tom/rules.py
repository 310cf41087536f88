"""Named rule sets of the ToM tracker: simstage's own, and those of the ToMi and Hi-ToM generators.

A benchmark's labels come from its generator's update rules, and those are not
always the rules a person would write down. A rule set names each choice the
tracker makes where the generators differ, so a researcher can switch a
benchmark's rules on (`tom.rules` in a scenario, `--rules` on `simstage eval`)
and see exactly where they part from simstage's defaults.

- `default`: simstage's rules (see `simstage.tom.tracker`).
- `tomi`: ToMi's generator (facebookresearch/ToMi, `tomi/actions.py`): containers
  are "not enclosed", so an entrant learns where everything in the room is, and
  a belief is never erased (entering shows what is there; it does not infer
  what is not).
- `hitom`: Hi-ToM's generator (He et al., 2023, `dynamic_actions.py` and
  `tasks.py`): everything is seen on entering and nothing is erased, as in ToMi;
  a move updates "A thinks B thinks ..." only along chains in the order the
  witnesses came into the room, the mover counted last (the generator builds
  them with `itertools.combinations` over the observers in that order, which is
  also the order they leave); claims follow its exit-order rule (a listener
  believes a speaker who left the object's room after it did, or one it never
  saw the object with), and change only first- and second-order beliefs: a
  believer believes the claim and thinks the speaker does, and the speaker
  thinks every listener believes it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

RuleName = Literal["default", "tomi", "hitom"]
RULE_NAMES: tuple[RuleName, ...] = ("default", "tomi", "hitom")


@dataclass(frozen=True)
class RuleSet:
    """The choices that make up one rule set."""

    name: RuleName
    """The set's name."""
    see_everything: bool
    """An entrant learns where every object in the room is, closed containers included."""
    infer_absence: bool
    """Finding an open container empty that one believed held the object leaves no belief."""
    move_chains: Literal["all", "arrival_order"]
    """Which nested beliefs a move updates: along every chain of witnesses (`all`), or only
    along chains that follow the order the witnesses came into the room, the mover last."""
    claims: Literal["common_knowledge", "first_and_second"]
    """`common_knowledge`: who believed a claim is common knowledge among its witnesses, to any
    depth, and a believer thinks the speaker believes it. `first_and_second`: a believer
    believes it and thinks the speaker does; the speaker thinks every listener believes it;
    no deeper belief changes."""
    believe_when_agreeing: bool
    """A trusting listener who has no belief yet, or already believes the claim, counts as a
    believer even when it saw the object more recently than the speaker."""


_DEFAULT = RuleSet(
    "default",
    see_everything=False,
    infer_absence=True,
    move_chains="all",
    claims="common_knowledge",
    believe_when_agreeing=True,
)
# Each benchmark's rules as its departures from the one it builds on.
_TOMI = replace(_DEFAULT, name="tomi", see_everything=True, infer_absence=False)
_HITOM = replace(
    _TOMI,
    name="hitom",
    move_chains="arrival_order",
    claims="first_and_second",
    believe_when_agreeing=False,
)
RULES: dict[str, RuleSet] = {rules.name: rules for rules in (_DEFAULT, _TOMI, _HITOM)}


def rule_set(name: str) -> RuleSet:
    """The rule set called `name`.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
    """
    try:
        return RULES[name]
    except KeyError:
        raise ValueError(f"unknown rule set {name!r} (valid: {', '.join(RULE_NAMES)})") from None
