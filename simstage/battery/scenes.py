"""A battery's scenes: each family's generated set and each scenario file, written into its folder.

Every scene a battery plays lies in its folder's `scenes/` (generated or copied, cards
resolved), so the folder stands alone; a resumed battery finds the same files there.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simstage.battery.file import LoadedBattery, Loc
from simstage.scenario import load_scenario
from simstage.sweep.plan import SweepError

SCENES = "scenes"
"""The folder, inside a battery's, that holds every scene it plays (generated or copied)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass(frozen=True)
class BatteryScene:
    """One scene of the battery: the file it is in the battery's folder and where it came from."""

    name: str
    """The file name without `.yaml`: its part of run ids and tables."""
    text: str
    """What `scenes/NAME.yaml` holds."""
    family: str | None
    """The family that generated it; None for a scenario file."""
    entry: int
    """Its entry in the battery's `scenes:`."""

    @property
    def file_name(self) -> str:
        """Its file in `scenes/`."""
        return f"{self.name}.yaml"

    @property
    def sha256(self) -> str:
        """Digest of its text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def collect_scenes(loaded: LoadedBattery) -> list[BatteryScene]:
    """Every scene of the battery: each family's generated set, each file read (cards resolved).

    Raises:
        BatteryError: a family or option that is not one, or two entries giving scenes the same name.
        ScenarioError: a scenario file is invalid.
    """
    from simstage.generate import GenerateError, family, generate

    scenes: list[BatteryScene] = []
    taken: set[str] = set()
    for index, entry in enumerate(loaded.battery.scenes):
        if entry.family is not None:
            try:
                family(entry.family)  # an unknown family is the `family:` line's mistake
            except GenerateError as exc:
                raise loaded.error(("scenes", index, "family"), str(exc)) from None
            try:
                generated = generate(entry.family, entry.n, entry.seed, **entry.options)
            except GenerateError as exc:
                where: Loc = (
                    ("scenes", index, "options") if entry.options else ("scenes", index, "family")
                )
                raise loaded.error(where, str(exc)) from None
            made = [
                BatteryScene(g.file_name.removesuffix(".yaml"), g.text, entry.family, index)
                for g in generated
            ]
        else:
            assert entry.file is not None
            path = (
                Path(entry.file) if Path(entry.file).is_absolute() else loaded.folder / entry.file
            )
            if not path.is_file():
                raise loaded.error(
                    ("scenes", index, "file"), f"{entry.file}: no such scenario file"
                )
            scenario = load_scenario(path)
            stem = _UNSAFE.sub("_", path.stem).strip("._") or "scene"
            name, number = stem, 2
            while name.lower() in taken:
                name, number = f"{stem}-{number}", number + 1
            made = [BatteryScene(name, scenario.text, None, index)]
        for scene in made:
            if scene.name.lower() in taken:
                raise loaded.error(
                    ("scenes", index),
                    f"its scene {scene.name} is another entry's too (same family and seed?)",
                )
            taken.add(scene.name.lower())
        scenes.extend(made)
    return scenes


def write_scenes(out: Path, scenes: Sequence[BatteryScene]) -> None:
    """Write the scenes into `out/scenes/` (hold the folder's lock); a scene already there must be the same.

    Raises:
        SweepError: a scene there differs from this battery's, or cannot be written.
    """
    from simstage.report.files import atomic_write_text, stale_temporaries

    folder = out / SCENES
    try:
        folder.mkdir(exist_ok=True)
        for temporary in stale_temporaries(folder):
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise SweepError(f"{folder}: cannot write: {exc.strerror or exc}") from None
    for scene in scenes:
        path = folder / scene.file_name
        try:
            if path.is_file() and path.read_text(encoding="utf-8") == scene.text:
                continue
            if path.exists():
                raise SweepError(
                    f"{path}: differs from the scene this battery plays; choose another --out"
                )
            atomic_write_text(path, scene.text)
        except (OSError, UnicodeDecodeError) as exc:
            raise SweepError(
                f"{path}: cannot write: {getattr(exc, 'strerror', None) or exc}"
            ) from None
