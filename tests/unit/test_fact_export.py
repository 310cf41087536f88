"""`simstage export` of a run with facts: fact rows in the CSV, fact nodes and belief edges in every graph format."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.scenario import load_scenario
from simstage.tom.graph import belief_diff, belief_graph, fact_edges
from simstage.tom.timeline import BeliefTimeline
from tests.conftest import ROOT

FACTS = ROOT / "tests" / "data" / "four-facts-order3.yaml"


@pytest.fixture(scope="module")
def run_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("facts") / "run.jsonl"
    result = CliRunner().invoke(
        main, ["run", str(FACTS), "--headless", "--stage", "scripted", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def events_of(path: Path) -> list:
    from simstage.run.log import read_runlog

    return list(read_runlog(path).events)


def test_csv_has_a_row_per_fact_belief_and_pandas_reads_it(run_log: Path, tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    out = tmp_path / "beliefs.csv"
    result = CliRunner().invoke(main, ["export", str(run_log), "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pandas.read_csv(out, keep_default_na=False, dtype=str)
    facts = frame[frame.fact != ""]
    assert len(facts) == 9 * 52 * 2 and len(frame) == 2 * len(
        facts
    )  # as many fact cells as object cells
    assert (
        set(facts.object) == {""}
        and set(facts.container) == {""}
        and set(facts.fact) == {"forged", "sold"}
    )
    assert set(facts.value) == {"true", "false", ""}
    timeline = BeliefTimeline(load_scenario(FACTS).scenario).extend(events_of(run_log))
    for row in facts.itertuples():
        chain = tuple(row.chain.split(">")) if row.chain else ()
        belief = timeline.at(int(row.turn)).fact_belief(row.holder, row.fact, chain)
        want = (
            ("", "", "", "")
            if belief is None
            else (
                str(belief.value).lower(),
                str(belief.right).lower(),
                belief.source,
                belief.lie_by or "",
            )
        )
        assert (row.value, row.true, row.source, row.lie_by) == want
    # Cole, watching unseen, believed Mara's lie that the papers are not forged.
    cole = facts[
        (facts.turn == "3")
        & (facts.holder == "Cole")
        & (facts.chain == "")
        & (facts.fact == "forged")
    ]
    assert cole[["value", "true", "source", "lie_by"]].values.tolist() == [
        ["false", "false", "overheard", "Mara"]
    ]


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json"])
def test_fact_beliefs_are_edges_in_every_graph_format(
    run_log: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"g.{fmt}"
    result = CliRunner().invoke(
        main, ["export", str(run_log), "--format", fmt, "--turn", "5", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    graph = {
        "graphml": lambda: nx.read_graphml(out),
        "gexf": lambda: nx.read_gexf(out),
        "json": lambda: nx.node_link_graph(json.loads(out.read_text()), edges="edges"),
    }[fmt]()
    assert graph.nodes["sold"]["kind"] == "fact" and graph.nodes["sold"]["known_by"] == "Priya,Mara"
    edges = {
        (d["holder"], d["chain"], d["fact"]): d
        for _, _, d in graph.edges(data=True)
        if d.get("kind") == "fact_belief"
    }
    state = BeliefTimeline(load_scenario(FACTS).scenario).extend(events_of(run_log)).at(5)
    assert set(edges) == {(b.holder, ">".join(b.chain), b.fact) for b in state.fact_beliefs()}
    reed = edges[("Reed", "Mara", "sold")]  # Reed thinks Mara heard him, but she was not listening
    assert str(reed["value"]).lower() == "true" and str(reed["right"]).lower() == "false"
    assert ("Mara", "", "sold") in edges and (
        "Mara",
        "Cole",
        "forged",
    ) not in edges  # no belief: no edge


def test_dot_and_mermaid_label_fact_beliefs(run_log: Path) -> None:
    dot = CliRunner().invoke(main, ["export", str(run_log), "--format", "dot", "--turn", "3"])
    assert dot.exit_code == 0
    line = next(
        x for x in dot.output.splitlines() if '"key"="Cole||forged"' in x.replace("key=", '"key"=')
    )
    assert 'label="false"' in line and 'color="red"' in line and 'style="dashed"' in line
    assert '"forged" [' in dot.output and 'shape="note"' in dot.output
    mermaid = CliRunner().invoke(
        main, ["export", str(run_log), "--format", "mermaid", "--turn", "3"]
    )
    assert (
        mermaid.exit_code == 0 and '"Mara: false (wrong)"' in mermaid.output
    )  # Cole thinks Mara believes it
    assert '{{"forged"}}' in mermaid.output


def test_a_fact_belief_that_changes_is_a_change(run_log: Path) -> None:
    scenario = load_scenario(FACTS).scenario
    events = events_of(run_log)
    changes = {c.key: (c.before, c.after) for c in belief_diff(scenario, events, 2, 3)}
    assert changes["Cole||forged"] == (None, "false")
    assert (
        "Reed|Mara|forged" not in changes
    )  # Reed saw through Mara's lie: she still believes it, to him
    # At the start: Reed's own secret, and Priya's and Mara's common knowledge to order 3.
    start = {key for key, data in fact_edges(belief_graph(scenario, events, 0)).items()}
    assert start == {"Reed||forged", "Priya||sold", "Priya|Mara|sold", "Priya|Mara>Priya|sold", "Mara||sold",
                     "Mara|Priya|sold", "Mara|Priya>Mara|sold"}  # fmt: skip


def test_export_csv_of_the_dinner_party_has_fact_rows_pandas_reads(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    dinner = ROOT / "scenarios" / "dinner-party.yaml"
    run = tmp_path / "dinner.jsonl"
    played = CliRunner().invoke(
        main, ["run", str(dinner), "--headless", "--stage", "scripted", "--out", str(run)]
    )
    assert played.exit_code == 0, played.output
    out = tmp_path / "dinner.csv"
    result = CliRunner().invoke(main, ["export", str(run), "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pandas.read_csv(out)
    facts = frame[frame.fact.notna()]
    scenario = load_scenario(dinner).scenario
    assert set(facts.fact) == set(scenario.world.facts) == {"debt", "pawned", "fake", "threat"}
    assert len(facts) == 9 * 52 * 4  # turns 0..8, 4 characters' chains to order 3, 4 facts
    assert facts.object.isna().all() and set(facts.value.dropna()) <= {True, False}
    # Margot heard of the debt from Edwin at turn 6 and believed Felix's denial at turn 7.
    margot = facts[
        (facts.holder == "Margot") & facts.chain.isna() & (facts.fact == "debt")
    ].set_index("turn")
    assert bool(margot.loc[6, "value"]) is True and margot.loc[6, "source"] == "told"
    assert bool(margot.loc[7, "value"]) is False and margot.loc[7, "lie_by"] == "Felix"
    state = BeliefTimeline(scenario).extend(events_of(run)).at(7)
    belief = state.fact_belief("Margot", "debt")
    assert belief is not None and (belief.value, belief.source, belief.lie_by) == (
        False,
        "claimed",
        "Felix",
    )
