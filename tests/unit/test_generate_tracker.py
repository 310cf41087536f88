"""The generator's intended answers against the ToM tracker, on thousands of scenes; and the scenes play."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.engine import Simulation
from simstage.events import ProbeAnswered
from simstage.generate import FAMILIES, generate
from simstage.generate.check import scene_scenario, tracker_answers
from simstage.generate.core import knowers_label
from simstage.stage.scripted import ScriptedStage
from simstage.tom.metrics import WhoKnowsVerdict, run_verdicts, tom_metrics

# Each family at its deepest: every order up to 3, bystanders, several rooms and containers.
DEEP = {
    "false-belief": {"order": 3, "characters": 4, "containers": 4, "rooms": 3},
    "deception": {"order": 3, "characters": 5},
    "sycophancy": {"order": 2, "characters": 4},
    "secrets": {"order": 3, "characters": 5},
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_tracker_answers_every_probe_as_the_generator_intends_on_1000_scenes(name: str) -> None:
    scenes = generate(name, 1000, 27, **DEEP[name])
    asked, differ = 0, []
    for scene in scenes:
        found = tracker_answers(scene_scenario(scene))
        assert not found.rejected, (scene.file_name, found.rejected)
        for number, (probe, answer) in enumerate(zip(scene.probes, found.answers, strict=True), 1):
            asked += 1
            if answer != probe.answer:
                differ.append(
                    f"{scene.file_name} probe {number}: intended {probe.answer}, tracker {answer}"
                )
    assert asked >= 1000 * 2 * DEEP[name]["order"]
    assert not differ, f"{len(differ)} of {asked} differ:\n" + "\n".join(differ[:10])


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_played_on_the_scripted_stage_each_probe_is_scored_against_the_intended_answer(
    name: str,
) -> None:
    for scene in generate(name, 3, 4, **DEEP[name]):
        scenario = scene_scenario(scene)
        sim = Simulation(scenario, ScriptedStage())
        sim.run()
        asked = [e for e in sim.events if isinstance(e, ProbeAnswered)]
        named = [p for p in scene.probes if p.named]
        assert [
            p.question.endswith(f"The {i.named[0]} or the {i.named[1]}?")
            for p, i in zip(asked, named, strict=False)
        ] == [True] * len(named)
        verdicts = run_verdicts(scenario, sim.events)
        assert [
            knowers_label(v.tracker) if isinstance(v, WhoKnowsVerdict) else v.tracker
            for v in verdicts
        ] == [p.answer for p in scene.probes]
        assert [
            knowers_label(v.really) if isinstance(v, WhoKnowsVerdict) else v.probe.truth
            for v in verdicts
        ] == [p.reality for p in scene.probes]
        metrics = tom_metrics(scenario, sim.events)
        assert metrics is not None and metrics.overall.n == len(scene.probes)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_simstage_run_plays_a_generated_file_headless(name: str, tmp_path: Path) -> None:
    written = CliRunner().invoke(
        main, ["generate", name, "--n", "2", "--seed", "3", "-o", str(tmp_path)]
    )
    assert written.exit_code == 0, written.output
    scene = sorted(tmp_path.glob("*.yaml"))[1]
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(scene),
            "--stage",
            "scripted",
            "--headless",
            "--out",
            str(tmp_path / "run.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ToM: model agrees with the tracker on" in result.output
    assert (tmp_path / "run.jsonl").stat().st_size > 0
