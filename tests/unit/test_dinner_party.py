"""The shipped scenes about facts: the dinner party's probes are all scored, and in the study window
a secret watcher and a distracted witness make second-order beliefs wrong."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from click.testing import CliRunner

from simstage.cli import main
from simstage.engine import Simulation
from simstage.run.log import read_runlog
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tom.metrics import run_verdicts, tom_metrics
from simstage.tom.timeline import BeliefTimeline
from tests.conftest import SCENARIOS, compare_json

DINNER = SCENARIOS / "dinner-party.yaml"
WINDOW = SCENARIOS / "the-study-window.yaml"

# The tracker's answer to each dinner-party probe, in the order they are asked (turn 6, then 8),
# by the rules: Felix moved the ring alone; Margot was told of the debt by Edwin, then believed
# Felix's public denial (a lie), and Felix thinks she does; Edwin, who shares the debt with Felix
# from the start, sees through it; Iris knew of the fake from the start and keeps it against
# Margot's praise of the ring, which Felix thinks she believed.
DINNER_TRACKER = [
    "jewellery box",
    "jewellery box",
    "yes",  # turn 6
    "jewellery box",
    "no",
    "yes",
    "yes",
    "no",
    "yes",
    "no",
    "no",
    "yes",
    ("Margot", "Felix", "Iris", "Edwin"),  # Iris heard everyone hear the denial, and believes it
    ("Felix", "Edwin"),  # who really knows of the debt
    ("Felix", "Iris"),  # and of the fake
]


def test_dinner_party_on_the_scripted_stage_scores_every_fact_and_who_knows_probe(
    tmp_path: Path,
) -> None:
    out = tmp_path / "dinner.jsonl"
    result = CliRunner().invoke(
        main, ["run", str(DINNER), "--headless", "--stage", "scripted", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    scenario = load_scenario(DINNER).scenario
    kinds = [scenario.probe_kind(probe) for probe in scenario.probes]
    assert kinds.count("fact") == 9 and kinds.count("who_knows") == 3
    assert {len(p.through) + 1 for p in scenario.probes if scenario.probe_kind(p) == "fact"} == {
        1,
        2,
        3,
    }
    events = read_runlog(out).events
    metrics = tom_metrics(scenario, events)
    assert metrics is not None and metrics.overall.n == len(scenario.probes) == 15
    assert (
        metrics.by_kind["fact"].n == 9
        and metrics.by_kind["who_knows"].n == 3
        and metrics.by_kind["object"].n == 3
    )
    assert metrics.who_knows_f1 is not None and 0.0 <= metrics.who_knows_f1 <= 1.0
    assert [v.tracker for v in run_verdicts(scenario, events)] == DINNER_TRACKER
    summary = " ".join(result.output.split())
    found = re.search(r"ToM: model agrees with the tracker on (\d+)/(\d+)", summary)
    assert found is not None and int(found.group(2)) == 15
    assert re.search(r"facts: \d+/9 ", summary) and re.search(r"who knows: \d+/3 ", summary)


def test_in_the_study_window_the_watcher_and_the_distracted_witness_make_second_order_beliefs_wrong() -> (
    None
):
    scenario = load_scenario(WINDOW).scenario
    simulation = Simulation(scenario, ScriptedStage())
    simulation.run()
    state = BeliefTimeline(scenario).extend(simulation.events).now()
    assert simulation.events and not [e for e in simulation.events if e.type == "rejected"]
    for other in ("Ben", "Cleo"):
        thought, real = state.where("Ada", "letter", [other]), state.where(other, "letter")
        assert thought is not None and real is not None and thought.container != real.container
        thought_fact, real_fact = (
            state.fact_belief("Ada", "forged", [other]),
            state.fact_belief(other, "forged"),
        )
        assert (thought_fact is None) != (real_fact is None)
    # Ben, distracted, saw nothing; Cleo, watching unseen, saw all.
    assert state.where("Ben", "letter").container == "desk"  # type: ignore[union-attr]
    assert state.where("Cleo", "letter").container == "bookcase"  # type: ignore[union-attr]
    assert state.who_knows("forged", "Ada") == ("Ada", "Ben") and state.who_knows("forged") == (
        "Ada",
        "Cleo",
    )
    metrics = tom_metrics(scenario, simulation.events)
    assert metrics is not None and metrics.overall.n == len(scenario.probes)


def test_compare_gives_scores_by_kind_with_intervals_and_counts() -> None:
    result = compare_json("dinner-party.yaml", "round_robin", "1,2")
    entry = result["puppeteers"]["round_robin"]
    for name in (
        "tom.kind.fact",
        "tom.kind.who_knows",
        "tom.kind.object",
        "tom.order.3",
        "tom.who_knows_f1",
    ):
        assert name in entry["metrics"] and entry["intervals"][name]["n"] == 2
    seed = entry["per_seed"][0]
    assert seed["tom"]["by_kind"]["fact"]["n"] == 9 and seed["values"]["tom_n"] == 15


def test_sweep_rows_and_summary_carry_scores_by_kind(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(DINNER),
            "--seeds",
            "1-2",
            "--set",
            "stage.backend=scripted",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    with (out / "results.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2
    for row in rows:
        assert (
            row["tom_n"] == "15"
            and row["tom.kind.fact.n"] == "9"
            and row["tom.kind.who_knows.n"] == "3"
        )
        low, value, high = (float(row[f"tom.kind.fact{end}"]) for end in (".low", "", ".high"))
        assert 0.0 <= low <= value <= high <= 1.0
        assert 0.0 <= float(row["tom_who_knows_f1"]) <= 1.0
    with (out / "summary.csv").open(encoding="utf-8") as handle:
        (summary,) = list(csv.DictReader(handle))
    assert summary["tom.kind.who_knows.runs"] == "2" and summary["tom_who_knows_f1"] != ""
