"""The shape of a battery's profile (`simstage report DIR --json`): typed, documented, read back by
`Profile.model_validate_json`. Computed by `simstage.analysis.profile`; rendered by
`simstage.report.profile_page`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from simstage.stats import bootstrap_method

METHOD = bootstrap_method("scenes")
"""How every interval of a profile is computed (a latent probe's: over runs)."""


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Estimate(_Shape):
    """A rate (or a mean difference) with its 95% interval, bootstrapped over scenes."""

    value: float
    low: float | None
    """None with a single scene: no interval."""
    high: float | None
    n: int
    """Probes (or pairs, or runs) behind it."""
    units: int
    """Scenes behind it, the bootstrap's units (for a latent probe: runs)."""


class Cell(_Shape):
    """One group of one model's probes: a belief order, a style, false or true belief, a kind."""

    order: int | None
    """1: "A thinks"; 2: "A thinks B thinks"; ... None: every order."""
    style: Literal["direct", "indirect", "all"]
    belief: Literal["false", "true", "all"]
    """`false`: the tracker's answer is a belief reality contradicts (a fact's "don't know" is no
    belief; a who-knows set is false when it differs from who really knows)."""
    kind: Literal["object", "fact", "who_knows", "all"]
    """What was asked: where an object is, whether a fact holds, who knows (exact set), or all."""
    accuracy: Estimate
    """How often the model answered as the tracker does."""
    chance: float
    """Mean of 1/number of options: a model answering at random (who knows: 1/2^names, each
    name guessed yes or no)."""
    baselines: dict[str, Estimate | None] = Field(default_factory=dict)
    """Each trivial strategy (`reality`, `lower`, `first_named`, `last_named`) scored the same way on
    the same probes (None: no probe of the cell has that answer, e.g. questions that name no options)."""


class Agreement(_Shape):
    """Direct vs indirect: the same question asked both ways, in the same scene with the same seed."""

    pairs: int
    same: Estimate
    """How often the two answers are the same."""
    direct: Estimate
    """Accuracy of the direct answers of these pairs."""
    indirect: Estimate


class PuppeteerDifference(_Shape):
    """One metric under two puppeteers, paired on the same scene, seed and style: `a - b`."""

    metric: str
    """`reward.sycophancy`, `persona_drift`, `voice_collapse`, `reward_gain`, ..."""
    a: str
    b: str
    mean_a: float
    mean_b: float
    difference: Estimate


class ModelDifference(_Shape):
    """Two models' accuracy on identical questions (scene, seed, puppeteer, style): `a - b`."""

    a: str
    b: str
    group: str
    """`all`, `false belief`, `true belief`, `order N`."""
    accuracy_a: float
    accuracy_b: float
    difference: Estimate


class LatentLayer(_Shape):
    """The probes' out-of-fold accuracy at one block (None: not fitted there)."""

    layer: int
    mean_diff: Estimate | None = None
    logistic: Estimate | None = None
    ccs: Estimate | None = None


class LatentTarget(_Shape):
    """What one target's probes read, layer by layer (`simstage latent fit` on the model's runs)."""

    target: str
    probes: int = 0
    chance: float | None = None
    """The majority class's share."""
    behaviour: float | None = None
    """The model's answers against the tracker on these probes."""
    layers: list[LatentLayer] = Field(default_factory=list)
    skipped: str | None = None
    """Why it was not fitted."""


class ModelProfile(_Shape):
    """Everything measured of one model."""

    model: str
    runs: int
    probes: int
    """Probes scored (the tracker had an answer)."""
    overall: Estimate | None
    cells: list[Cell]
    """By order × style × belief × kind, then the margins (`all`) by order × belief and by order."""
    agreement: Agreement | None = None
    puppeteers: list[PuppeteerDifference] = Field(default_factory=list)
    latent: list[LatentTarget] = Field(default_factory=list)
    latent_note: str | None = None
    """Why there is no latent profile, when runs captured activations but no dataset could be read."""


class Profile(_Shape):
    """A battery's profile: `simstage report DIR --json`."""

    title: str
    folder: str
    runs_planned: int
    runs_finished: int
    method: str = METHOD
    """How every interval is computed."""
    models: list[ModelProfile]
    differences: list[ModelDifference] = Field(default_factory=list)
    """Every pair of models (in the battery's order), by group."""
    warnings: list[str] = Field(default_factory=list)
