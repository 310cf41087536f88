"""One loaded stage for many runs: a restarted stage plays a run as a fresh one does, and its log verifies."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import simstage.run.open
from simstage.run.log import read_runlog
from simstage.run.verify import verify_run
from simstage.scenario import load_scenario
from simstage.stage.abilities import Restart, counters
from simstage.stage.batch import LlamaLane
from simstage.stage.owner import OwnedStage
from simstage.stage.scripted import ScriptedStage
from simstage.sweep.plan import PlannedRun, Variant
from simstage.sweep.runner import play_run
from tests.conftest import SCENARIOS


def _run(seed: int) -> PlannedRun:
    loaded = load_scenario(SCENARIOS / "sally-anne.yaml")
    return PlannedRun(f"seed{seed}", Variant((), loaded, ""), seed)


def _events(path: Path) -> list[dict]:
    return [event.model_dump() for event in read_runlog(path).events]


def test_a_restarted_scripted_stage_answers_as_a_fresh_one() -> None:
    fresh, used = ScriptedStage(), ScriptedStage()
    for stage in (used,):
        seq = stage.open_sequence()
        "".join(stage.generate(seq, [], _sampling()))
        stage.fork(seq)
    restart = used.ability(Restart)
    assert restart is not None
    restart.restart()
    assert used.open_sequence() == fresh.open_sequence()
    assert "".join(used.generate(0, [], _sampling())) == "".join(fresh.generate(0, [], _sampling()))
    assert counters(used).generated_tokens == counters(fresh).generated_tokens


def _sampling():
    from simstage.stage.base import Sampling

    return Sampling()


def test_the_owner_thread_offers_restart_and_a_lane_does_not() -> None:
    owned = OwnedStage(ScriptedStage())
    try:
        restart = owned.ability(Restart)
        assert restart is not None
        restart.restart()
    finally:
        owned.close()
    lane = LlamaLane.__new__(LlamaLane)  # no model: only its declared abilities are asked
    lane.latent = None
    assert lane.ability(Restart) is None


def test_runs_on_one_restarted_stage_equal_runs_on_fresh_stages_and_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = ScriptedStage(record_prompts=False)
    loads = []

    def loaded(run: PlannedRun) -> ScriptedStage:
        if loads:
            restart = shared.ability(Restart)
            assert restart is not None
            restart.restart()
        loads.append(run.run_id)
        return shared

    stop = threading.Event()
    for folder in ("one", "fresh"):
        (tmp_path / folder / "rows").mkdir(parents=True)
    monkeypatch.setattr(
        simstage.run.open, "make_stage", lambda *a, **k: ScriptedStage(record_prompts=False)
    )
    for seed in (1, 2, 3):
        on_one = play_run(_run(seed), tmp_path / "one", stop, loaded_stage=loaded)
        alone = play_run(_run(seed), tmp_path / "fresh", stop)
        assert on_one.status == alone.status == "finished"
        assert on_one.row is not None and alone.row is not None
        assert on_one.row["generated_tokens"] == alone.row["generated_tokens"] > 0
        assert _events(tmp_path / "one" / f"seed{seed}.jsonl") == _events(
            tmp_path / "fresh" / f"seed{seed}.jsonl"
        )
        report = verify_run(read_runlog(tmp_path / "one" / f"seed{seed}.jsonl"))
        assert report.matched, report.message
    assert len(loads) == 3


def test_without_a_restart_a_later_run_differs_from_a_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the restart is for: the scripted stage numbers its lines, so a used stage says other lines."""
    shared = ScriptedStage(record_prompts=False)
    stop = threading.Event()
    (tmp_path / "rows").mkdir()
    monkeypatch.setattr(
        simstage.run.open, "make_stage", lambda *a, **k: ScriptedStage(record_prompts=False)
    )
    play_run(_run(1), tmp_path, stop, loaded_stage=lambda run: shared)
    play_run(_run(2), tmp_path, stop, loaded_stage=lambda run: shared)
    report = verify_run(read_runlog(tmp_path / "seed2.jsonl"))
    assert not report.matched
