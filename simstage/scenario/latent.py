"""The strict base of every scenario model, and the `latent:` block (kept here for models.py's size)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown fields are errors; field docstrings become the schema's descriptions."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class LatentConfig(StrictModel):
    """Read the stage's residual stream when probes are asked (`simstage latent`; llama stage only)."""

    layers: Literal["all"] | list[int] = "all"
    """The blocks whose output is read (0-based), or `all`."""
    probes: Literal["all"] | list[int] = "all"
    """Which entries of `probes:` (0-based) are captured, or `all` (also probes asked in the TUI)."""
    name_options: bool = False
    """Name two containers at the end of each captured question, in a seeded order ("The basket or
    the box?"): the one named last is a control label a probe must find. It changes what the model reads."""
