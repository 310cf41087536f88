"""A battery file: which scenes, models, puppeteers, probe styles and seeds to play, every combination.

    title: The embedded chat model against the embedded base model
    models:
      - default                                  # an embedded model's name, or a GGUF path
      - {name: base, model: gemma3-270m}
      - {name: remote, backend: litellm, model: openai/qwen, stage: {api_base: http://127.0.0.1:8000/v1}}
    scenes:
      - {family: false-belief, n: 10, seed: 1, options: {order: 2, characters: 3, events: 4}}
      - {family: sycophancy, n: 10, seed: 1, puppeteers: [optimizer, bare]}
      - {file: ../sally-anne.yaml}
    puppeteers: [as-written]
    styles: [as-written]
    seeds: 1-3
    stage: {max_tokens: 40}

Read like a scenario: safe YAML, every model forbids unknown fields, and every problem is
one `FILE:LINE:COLUMN: field: message` line (the scenario loader's located errors).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simstage.errors import SimstageError
from simstage.scenario.loader import LocatedProblem, _locate, read_mapping, read_text

MAX_BATTERY_BYTES = 200_000
AS_WRITTEN = "as-written"
"""A puppeteer or style value that keeps what the scene says."""
PUPPETEERS = (AS_WRITTEN, "bare", "round_robin", "scripted", "director", "optimizer")
"""The puppeteers a battery may play a scene under (those that play without a person)."""
STYLES = (AS_WRITTEN, "direct", "indirect", "both")
"""`both` asks every question about an object twice, directly and indirectly (direct vs indirect agreement)."""
Loc = tuple[str | int, ...]


class BatteryError(SimstageError):
    """A battery file that cannot be played; carries every problem found, each located."""

    def __init__(self, problems: list[LocatedProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ModelEntry(_Strict):
    """One model the battery plays every scene on (a plain string is `model:` alone)."""

    name: str | None = Field(
        None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"
    )
    """Its name in run ids, tables and the report (default: the model's, without folders or `.gguf`)."""
    backend: Literal["llama", "litellm", "scripted"] = "llama"
    """`llama` (in process), `litellm` (a server), `scripted` (canned lines, for tests)."""
    model: str = Field("default", min_length=1)
    """`default` (the embedded chat model), `gemma3-270m` (the embedded base model), a GGUF path
    (relative to the battery file), or for `litellm` its model name (`openai/NAME`)."""
    stage: dict[str, Any] = Field(default_factory=dict)
    """More `stage:` options for this model only (`api_base`, `chat_template`, `n_ctx`, ...)."""

    @model_validator(mode="before")
    @classmethod
    def _plain_name(cls, value: Any) -> Any:
        return {"model": value} if isinstance(value, str) else value

    @property
    def label(self) -> str:
        """The model's name in the battery."""
        if self.name:
            return self.name
        tail = self.model.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        return tail.removesuffix(".gguf") or "model"


class SceneEntry(_Strict):
    """Scenes to play: `n` generated scenes of a family, or one scenario file."""

    family: str | None = None
    """A scene family (`false-belief`, `deception`, `secrets`, `sycophancy`): `simstage generate`'s scenes."""
    n: int = Field(1, ge=1, le=10_000)
    """How many scenes of the family."""
    seed: int = Field(0, ge=0, le=2**31 - 1)
    """The family's set seed (`simstage generate --seed`): the same seed writes the same scenes."""
    options: dict[str, bool | int | float] = Field(default_factory=dict)
    """The family's options (`order`, `characters`, `events`, `turns`, ... as `simstage generate` takes them)."""
    file: str | None = None
    """A scenario file (relative to the battery file), instead of a family."""
    puppeteers: list[str] | None = None
    """The puppeteers for these scenes (default: the battery's)."""
    styles: list[str] | None = None
    """The probe styles for these scenes (default: the battery's)."""

    @model_validator(mode="after")
    def _family_or_file(self) -> SceneEntry:
        if (self.family is None) == (self.file is None):
            raise ValueError(
                "give a `family` (generated scenes) or a `file` (a scenario), not both"
            )
        if self.file is not None and (
            self.options or "n" in self.model_fields_set or "seed" in self.model_fields_set
        ):
            raise ValueError(
                "`n`, `seed` and `options` are for a family's generated scenes, not a `file`"
            )
        return self

    @field_validator("puppeteers")
    @classmethod
    def _puppeteers(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _choices(value, PUPPETEERS, "puppeteer")

    @field_validator("styles")
    @classmethod
    def _styles(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _choices(value, STYLES, "style")


def _choices(values: list[str], valid: tuple[str, ...], what: str) -> list[str]:
    if not values:
        raise ValueError(f"give at least one {what}")
    for value in values:
        if value not in valid:
            raise ValueError(
                f"{value!r} is not a {what} a battery plays (valid: {', '.join(valid)})"
            )
    if len(set(values)) != len(values):
        raise ValueError(f"a {what} is listed twice")
    return values


class Battery(_Strict):
    """A battery: every scene on every model, under every puppeteer and style, with every seed."""

    title: str | None = None
    """What the battery is for (the report's title)."""
    models: list[ModelEntry] = Field(min_length=1)
    """The models, played one after another, each loaded once for all its runs."""
    scenes: list[SceneEntry] = Field(min_length=1)
    """Generated families of scenes, or scenario files."""
    puppeteers: list[str] = Field(default_factory=lambda: [AS_WRITTEN])
    """`as-written` (the scene's own), `bare`, `round_robin`, `scripted`, `director`, `optimizer`; each
    puppeteer other than `as-written` records puppeteer metrics (sycophancy, persona drift)."""
    styles: list[str] = Field(default_factory=lambda: [AS_WRITTEN])
    """`as-written`, `direct`, `indirect` (every question about an object asked that way), or `both`."""
    seeds: list[int] | str = Field(default_factory=lambda: [1])
    """Run seeds: a list, or ranges as `simstage sweep --seeds` takes them (`1-10`, `1,3,5-7`)."""
    stage: dict[str, Any] = Field(default_factory=dict)
    """`stage:` options for every run (`max_tokens`, `temperature`, `n_ctx`, ...); a model's own win.
    A scene's own `stage:` section is replaced: the battery says what plays."""
    max_turns: int | None = Field(None, ge=1)
    """Override every scene's `max_turns`."""
    latent: dict[str, Any] | None = None
    """A scenario `latent:` block for every run (`{layers: all}`): capture activations at the probes
    (llama models), for the report's per-layer probe accuracies."""

    _puppeteers = field_validator("puppeteers")(lambda cls, v: _choices(v, PUPPETEERS, "puppeteer"))
    _styles = field_validator("styles")(lambda cls, v: _choices(v, STYLES, "style"))

    @model_validator(mode="after")
    def _distinct_models(self) -> Battery:
        labels = [model.label for model in self.models]
        for index, label in enumerate(labels):
            if label.lower() in (other.lower() for other in labels[:index]):
                raise ValueError(f"two models are called {label!r}: give one a `name`")
        return self


@dataclass(frozen=True)
class LoadedBattery:
    """A valid battery with the text and the YAML tree it came from (to locate later problems)."""

    battery: Battery
    text: str
    path: str
    root: yaml.Node | None

    @property
    def sha256(self) -> str:
        """Digest of the file's text: a folder holds one battery, and says so by this."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def folder(self) -> Path:
        """Where the battery's relative paths (scene files, GGUF models) start."""
        return Path(self.path).parent

    def problem(self, loc: Loc, message: str) -> LocatedProblem:
        """A problem at `loc` (a path into the battery, e.g. `("models", 1, "stage")`), located in its file."""
        return _locate(self.path, self.root, loc, message)

    def error(self, loc: Loc, message: str) -> BatteryError:
        """`problem` as the error to raise."""
        return BatteryError([self.problem(loc, message)])


def parse_battery(text: str, path: str = "<string>") -> LoadedBattery:
    """Validate battery text.

    Raises:
        BatteryError: YAML syntax errors and field errors, each located.
    """
    data, root = read_mapping(text, path, "battery", BatteryError)
    try:
        battery = Battery.model_validate(data)
    except ValidationError as exc:
        raise BatteryError(
            [_locate(path, root, tuple(e["loc"]), e["msg"]) for e in exc.errors()]
        ) from None
    except RecursionError:
        raise BatteryError([LocatedProblem(path, 1, 1, "", "nesting too deep")]) from None
    return LoadedBattery(battery, text, path, root)


def load_battery(path: str | Path) -> LoadedBattery:
    """Read and validate a battery file.

    Raises:
        BatteryError: the file is unreadable, too large, not UTF-8, or invalid.
    """
    name = str(path)
    text = read_text(path, MAX_BATTERY_BYTES, BatteryError)
    return parse_battery(text, name)
