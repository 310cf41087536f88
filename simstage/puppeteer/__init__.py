"""Puppeteers: who steers the stage beyond plain continuation."""

from __future__ import annotations

from simstage.puppeteer.base import Puppeteer
from simstage.scenario.models import PuppeteerConfig

KINDS = ("round_robin",)


def make_puppeteer(config: PuppeteerConfig) -> Puppeteer:
    """The puppeteer a scenario names.

    Raises:
        ValueError: an unknown kind (the message lists the valid ones).
    """
    if config.kind == "round_robin":
        from simstage.puppeteer.round_robin import RoundRobin

        return RoundRobin()
    raise ValueError(f"unknown puppeteer {config.kind!r} (valid: {', '.join(KINDS)})")


__all__ = ["KINDS", "Puppeteer", "make_puppeteer"]
