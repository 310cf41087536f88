"""BeliefGraph, export formats read back, probes scored against the tracker."""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.engine import Simulation
from simstage.events import ProbeAnswered, event_from_json
from simstage.run.log import read_runlog
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tom.graph import belief_diff, belief_graph
from simstage.tom.metrics import probe_verdicts, tom_metrics
from simstage.tom.tracker import fold_beliefs

ROOT = Path(__file__).resolve().parents[2]
SALLY = ROOT / "scenarios" / "sally-anne.yaml"


@pytest.fixture
def sally_log(tmp_path: Path) -> Path:
    out = tmp_path / "sally.jsonl"
    result = CliRunner().invoke(
        main, ["run", str(SALLY), "--headless", "--stage", "scripted", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def beliefs_of(graph: nx.MultiDiGraph) -> dict[tuple[str, str, str], dict]:
    return {
        (d["holder"], d["chain"], d["object"]): d
        for _, _, d in graph.edges(data=True)
        if d.get("kind") == "belief"
    }


def check_sally_anne(beliefs: dict[tuple[str, str, str], dict]) -> None:
    sally = beliefs[("Sally", "", "marble")]
    assert sally["container"] == "basket" and sally["true"] in (False, "false", "False")
    assert beliefs[("Anne", "Sally", "marble")]["container"] == "basket"
    assert beliefs[("Anne", "", "marble")]["container"] == "box"


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json"])
def test_export_reads_back_with_networkx(sally_log: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"g.{fmt}"
    result = CliRunner().invoke(main, ["export", str(sally_log), "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    if fmt == "graphml":
        graph = nx.read_graphml(out)
    elif fmt == "gexf":
        graph = nx.read_gexf(out)
    else:
        graph = nx.node_link_graph(json.loads(out.read_text()), edges="edges")
    beliefs = beliefs_of(graph)
    check_sally_anne(beliefs)
    assert (
        beliefs[("Sally", "", "marble")]["probed"] == "basket"
    )  # the scripted stage picks the first option
    kinds = {d.get("kind") for _, d in graph.nodes(data=True)}
    assert kinds == {"character", "object", "container"}


def test_export_dot_and_mermaid_parse(sally_log: Path) -> None:
    runner = CliRunner()
    dot = runner.invoke(main, ["export", str(sally_log), "--format", "dot"]).output
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    edges = re.findall(r'^\s*"([^"]+)" -> "([^"]+)" \[(.*)\];$', dot, re.M)
    parsed = [
        dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', attrs)) | {"u": u, "v": v}
        for u, v, attrs in edges
    ]
    beliefs = {
        (e["holder"], e["chain"], e["object"]): e for e in parsed if e.get("kind") == "belief"
    }
    check_sally_anne(beliefs)
    assert beliefs[("Sally", "", "marble")]["color"] == "red"

    mermaid = runner.invoke(main, ["export", str(sally_log), "--format", "mermaid"]).output
    lines = mermaid.splitlines()
    assert lines[0] == "flowchart LR"
    names = dict(re.findall(r'^\s*(n\d+)[\[(]+"([^"]+)"', mermaid, re.M))
    labelled = {
        (names[u], label, names[v])
        for u, label, v in re.findall(r'(n\d+) -->\|"([^"]*)"\| (n\d+)', mermaid)
    }
    assert ("Anne", "Sally: basket (false)", "marble") in labelled
    assert ("Anne", "box", "marble") in labelled


def test_all_turns_and_diff(sally_log: Path, tmp_path: Path) -> None:
    stem = tmp_path / "graphs" / "sa"
    result = CliRunner().invoke(
        main, ["export", str(sally_log), "--format", "graphml", "--all-turns", "-o", str(stem)]
    )
    assert result.exit_code == 0, result.output
    files = sorted(stem.parent.glob("sa-turn*.graphml"))
    assert len(files) == 7
    turn2 = beliefs_of(nx.read_graphml(stem.parent / "sa-turn2.graphml"))
    assert turn2[("Anne", "", "marble")]["container"] == "basket"
    log = read_runlog(sally_log)
    scenario = load_scenario(SALLY).scenario
    changes = {c.key: (c.before, c.after) for c in belief_diff(scenario, log.events, 2, 3)}
    assert changes == {"Anne||marble": ("basket", "box")}
    assert belief_graph(scenario, log.events, 3).graph["turn"] == 3


def test_export_errors_are_one_line(tmp_path: Path, sally_log: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["export", str(tmp_path / "none.jsonl")])
    assert (
        missing.exit_code == 2
        and "none.jsonl" in missing.output
        and "Traceback" not in missing.output
    )
    corrupt = tmp_path / "bad.jsonl"
    lines = sally_log.read_text().splitlines()
    corrupt.write_text("\n".join([lines[0], lines[1], "{not json", lines[2]]) + "\n")
    result = runner.invoke(main, ["export", str(corrupt)])
    assert result.exit_code == 2 and "bad.jsonl:3" in result.output
    late = runner.invoke(main, ["export", str(sally_log), "--turn", "99"])
    assert late.exit_code == 2 and "99" in late.output


def test_probe_verdicts_and_the_score_are_folds_over_the_events() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "false-claim.yaml").scenario
    # The model always answers "coat" (the claimed, false place).
    stage = ScriptedStage(chooser=lambda messages, options: list(options).index("coat"))
    simulation = Simulation(scenario, stage)
    simulation.run()
    verdicts = probe_verdicts(scenario, simulation.events)
    probes = [e for e in simulation.events if isinstance(e, ProbeAnswered)]
    assert [v.probe for v in verdicts] == probes
    state = fold_beliefs(
        scenario, [e for e in simulation.events if e.turn <= probes[0].turn], order=2
    )
    for verdict in verdicts:
        expected = state.where(verdict.probe.ask, verdict.probe.about, verdict.probe.through)
        assert verdict.tracker == (expected.container if expected else None)
    assert [v.tracker for v in verdicts] == ["coat", "drawer", "coat"]
    # Nothing derived is stored: the score is computed where it is read.
    assert "tom_metrics" not in {e.type for e in simulation.events}
    m = tom_metrics(scenario, simulation.events)
    assert m is not None
    assert (m.overall.n, m.overall.agreed) == (3, 2)
    assert (m.by_order["1"].n, m.by_order["1"].agreed) == (2, 1)
    assert (m.by_order["2"].n, m.by_order["2"].agreed) == (1, 1)
    assert (m.false_belief.n, m.false_belief.agreed) == (2, 2)
    assert (m.reality.n, m.reality.agreed) == (3, 0)


def test_old_probe_lines_still_parse() -> None:
    old = {
        "type": "probe",
        "turn": 5,
        "ask": "Sally",
        "about": "marble",
        "question": "q",
        "options": ["a"],
        "answer": "a",
        "truth": "a",
    }
    event = event_from_json(json.dumps(old))
    assert isinstance(event, ProbeAnswered)


def test_headless_run_prints_the_metrics(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    result = CliRunner().invoke(
        main, ["run", str(SALLY), "--headless", "--stage", "scripted", "--out", str(out)]
    )
    text = " ".join(result.output.split())  # the console wraps long lines
    assert "ToM: model agrees with the tracker on 3/3" in text
    assert "order 2: 1/1" in text
