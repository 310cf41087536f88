"""Logs written before derived values left the log still load, replay and score the same.

The two logs in tests/data were recorded by the scripted stage with the code of
commit e79af56, which still stored each probe's `tracker` answer and the
`tom_metrics` / `run_metrics` summaries as events.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from simstage.cli import main
from simstage.engine import Simulation
from simstage.puppeteer.metrics import RunMetrics, run_metrics
from simstage.render import tom_metrics_line
from simstage.run.log import logged_scenario, read_runlog
from simstage.stage.scripted import ScriptedStage
from simstage.tom.metrics import TomMetrics, probe_verdicts, tom_metrics
from simstage.tom.timeline import BeliefTimeline
from simstage.world.state import fold_world
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"


def _stored(path, kind: str) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    return [line for line in lines if line.get("type") == kind]


def _today(path):
    """The same scenario and seed played again now on the scripted stage."""
    log = read_runlog(path)
    scenario = logged_scenario(log.header).scenario
    sim = Simulation(
        scenario, ScriptedStage(), seed=log.header.seed, max_turns=log.header.max_turns
    )
    sim.run()
    return log, scenario, sim.events


def test_an_old_log_reads_without_its_derived_lines():
    path = DATA / "before-derived-sally-anne.jsonl"
    log = read_runlog(path)
    assert not log.warnings
    assert {"tom_metrics", "run_metrics"}.isdisjoint(e.type for e in log.events)
    assert all("tracker" not in e.model_dump() for e in log.events)


def test_an_old_log_replays_to_the_same_transcript_world_beliefs_and_scores():
    path = DATA / "before-derived-sally-anne.jsonl"
    log, scenario, today = _today(path)
    assert [e.model_dump() for e in log.events] == [e.model_dump() for e in today]
    assert fold_world(scenario, log.events) == fold_world(scenario, today)
    before, now = (
        BeliefTimeline(scenario).extend(log.events),
        BeliefTimeline(scenario).extend(today),
    )
    assert sorted(map(repr, before.now().beliefs())) == sorted(map(repr, now.now().beliefs()))
    # What the old log stored is what the fold computes now.
    stored_trackers = [line["tracker"] for line in _stored(path, "probe")]
    assert [v.tracker for v in probe_verdicts(scenario, log.events)] == stored_trackers
    (stored,) = _stored(path, "tom_metrics")
    computed = tom_metrics(scenario, log.events)
    # Every field the old log stored (later fields, such as `by_kind`, it could not have).
    kept = set(stored) - {"type"}
    assert computed is not None
    assert computed.model_dump(include=kept) == TomMetrics.model_validate(
        {k: stored[k] for k in kept}
    ).model_dump(include=kept)
    replay = CliRunner().invoke(main, ["replay", str(path)])
    assert replay.exit_code == 0, replay.output
    assert " ".join(tom_metrics_line(computed).split()) in " ".join(replay.output.split())


def test_an_old_logs_run_metrics_are_the_fold_of_its_turn_metrics():
    path = DATA / "before-derived-sycophancy.jsonl"
    log, scenario, today = _today(path)
    (stored,) = _stored(path, "run_metrics")
    summary = run_metrics(log.events, scenario.puppeteer.kind)
    assert summary == RunMetrics.model_validate({k: v for k, v in stored.items() if k != "type"})
    assert run_metrics(today, scenario.puppeteer.kind) == summary
