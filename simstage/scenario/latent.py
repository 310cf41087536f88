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
    contrast: bool = False
    """Also read, at each captured probe, the last token of the answer completed with each of two
    candidate containers (the two named, or the world's two): contrast pairs for CCS (`latent fit`).
    It decodes both completions after the probe is answered, so answers are unchanged; later turns
    can still differ slightly from a run without it, since the cache cells they use move."""
