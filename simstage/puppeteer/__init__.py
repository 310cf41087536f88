"""Puppeteers: who steers the stage beyond plain continuation.

One policy per module: `bare` (the stage picks who speaks), `round_robin`,
`scripted` (an explicit order), `director` (a meta-character played by the
stage), `optimizer` (best of N lines by reward), `human` (the keyboard).
"""

from __future__ import annotations

from typing import get_args

from simstage.puppeteer.base import Puppeteer
from simstage.scenario.models import PuppeteerConfig, PuppeteerKind

KINDS: tuple[str, ...] = get_args(PuppeteerKind)


def make_puppeteer(config: PuppeteerConfig) -> Puppeteer:
    """The puppeteer a scenario names.

    Raises:
        ValueError: an unknown kind (the message lists the valid ones).
    """
    kind = config.kind
    if kind == "round_robin":
        from simstage.puppeteer.round_robin import RoundRobin

        return RoundRobin()
    if kind == "bare":
        from simstage.puppeteer.bare import BareStage

        return BareStage()
    if kind == "scripted":
        from simstage.puppeteer.scripted import ScriptedOrder

        return ScriptedOrder(config.order)
    if kind == "director":
        from simstage.puppeteer.director import Director

        return Director()
    if kind == "optimizer":
        from simstage.puppeteer.optimizer import Optimizer

        return Optimizer(config)
    if kind == "human":
        from simstage.puppeteer.human import HumanPuppeteer

        return HumanPuppeteer()
    raise ValueError(f"unknown puppeteer {kind!r} (valid: {', '.join(KINDS)})")


__all__ = ["KINDS", "Puppeteer", "make_puppeteer"]
