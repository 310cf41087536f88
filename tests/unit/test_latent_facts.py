"""Latent datasets of fact probes: the tracker's answer (yes / no / don't know) and whether the asked
character has a belief at all, as targets of `latent dataset` and `latent fit`, on synthetic captured runs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from simstage.analysis.dataset import COLUMNS, build_dataset, load_dataset
from simstage.analysis.probes import fit, targets_for
from simstage.analysis.results import CcsRows
from simstage.cli import main
from simstage.events import LatentCaptured, ProbeAnswered
from simstage.latent.store import LatentStore
from simstage.run.log import RunLogWriter, logged_scenario, read_runlog
from simstage.run.open import make_header
from simstage.scenario import parse_scenario
from simstage.tom.metrics import probe_verdicts
from tests.unit.latent_runs import DIMS, LAYERS, Plant, direction, play_scripted

PAIR = ("yes", "no")


def variant(seed: int) -> str:
    """Ann knows Felix owes Edwin money; at turn 2 she tells Bob privately that he does, that he does
    not (a lie), or nothing; Cy hears it only when she says it aloud. Then Bob, Cy and Ann (of Bob)
    are asked about the debt, and Bob where the ring is."""
    rng = random.Random(seed)
    said = rng.choice(["told", "lied", "aloud", "nothing"])
    timeline = []
    if said != "nothing":
        event = {"type": "assert", "who": "Ann", "fact": "debt", "holds": said != "lied"}
        timeline.append({"at": 2, "event": event if said == "aloud" else {**event, "to": "Bob"}})
    data = {
        "title": f"debt {seed}",
        "seed": seed,
        "stage": {"backend": "scripted"},
        "world": {
            "locations": ["hall"],
            "containers": {"box": {"in": "hall"}, "drawer": {"in": "hall"}},
            "objects": {"ring": {"in": rng.choice(["box", "drawer"])}},
            "facts": {"debt": {"text": "Felix owes Edwin money", "true": True}},
        },
        "cast": [
            {"name": "Ann", "persona": "p", "location": "hall", "knows": {"debt": True}},
            {"name": "Bob", "persona": "p", "location": "hall"},
            {"name": "Cy", "persona": "p", "location": "hall"},
        ],
        "timeline": timeline,
        "probes": [
            {"at": 3, "ask": "Bob", "about": "debt"},
            {"at": 3, "ask": "Cy", "about": "debt"},
            {"at": 3, "ask": "Ann", "about": "debt", "through": ["Bob"]},
            {"at": 3, "ask": "Bob", "about": "ring"},
            {"at": 3, "ask": "Ann", "who_knows": "debt"},
        ],
        "max_turns": 3,
    }
    return yaml.safe_dump(data, sort_keys=False)


def write_run(
    path: Path, seed: int, plant: Plant | None = None, contrast: Plant | None = None
) -> Path:
    """Play one variant and log it with a capture after each probe about an object or a fact.

    `plant` adds ±strength along the planted direction at its layer where the row's label
    (`fact` or `has_belief`) is `positive`, or where `positive` is a dict, strength times the
    label's sign in it; `contrast` gives fact rows a (yes, no) pair whose completion matching the
    tracker's answer gets +strength.
    """
    loaded = parse_scenario(variant(seed), f"debt-{seed}.yaml")
    _rng, stage, events = play_scripted(loaded, seed)
    trackers = iter(v.tracker for v in probe_verdicts(loaded.scenario, events))
    header = make_header(loaded, stage, loaded.scenario.seed, loaded.scenario.max_turns)
    noise = np.random.default_rng(seed)
    store = LatentStore(path)
    with RunLogWriter(path, header, overwrite=True) as writer:
        for event in events:
            writer.append(event)
            if not isinstance(event, ProbeAnswered):
                continue
            tracker = next(trackers)
            fact = event.kind == "fact"
            labels = {
                "fact": tracker if fact else None,
                "has_belief": tracker not in (None, "don't know"),
            }
            vectors = noise.standard_normal((len(LAYERS), DIMS)).astype(np.float32)
            if plant is not None and labels[plant.column] is not None:
                label = labels[plant.column]
                if isinstance(plant.positive, dict):
                    sign = plant.positive[label]
                else:
                    sign = 1.0 if label == plant.positive else -1.0
                vectors[LAYERS.index(plant.layer)] += sign * plant.strength * direction()
            pair: tuple[str, ...] = ()
            if contrast is not None and fact:
                pair = PAIR
                completions = noise.standard_normal((2, len(LAYERS), DIMS)).astype(np.float32)
                for side, option in enumerate(pair):
                    sign = 1.0 if tracker == option else -1.0
                    completions[side, LAYERS.index(contrast.layer)] += (
                        sign * contrast.strength * direction()
                    )
                completions[0] += 5.0
                vectors = np.concatenate([vectors[None], completions])
            offset, digest = store.append(vectors)
            writer.append(
                LatentCaptured(
                    turn=event.turn, ask=event.ask, about=event.about, through=event.through, style=event.style,
                    layers=LAYERS, dims=DIMS, offset=offset, sha256=digest, contrast=pair,
                )
            )  # fmt: skip
    return path


def write_sweep(
    folder: Path, runs: int, plant: Plant | None = None, contrast: Plant | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(runs):
        write_run(folder / f"run-{seed:03d}.jsonl", seed, plant, contrast)
    return folder


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 runs, `fact` planted at block 3 (yes, don't know, no along one line), and a contrast pair
    on each fact row at block 5."""
    signs = {"yes": 1.0, "don't know": 0.0, "no": -1.0}
    return write_sweep(
        tmp_path_factory.mktemp("facts"),
        24,
        Plant("fact", signs, layer=3, strength=5.0),
        Plant("fact", "yes", layer=5),
    )


def test_fact_probes_are_rows_with_their_labels(planted: Path) -> None:
    dataset = build_dataset([planted])
    assert (
        len(dataset) == 24 * 4
    )  # three fact probes and one object probe a run; the who-knows probe is not captured
    assert set(dataset.labels[0]) == set(COLUMNS) >= {"kind", "fact", "has_belief"}
    for path in sorted(planted.glob("*.jsonl")):
        log = read_runlog(path)
        verdicts = probe_verdicts(logged_scenario(log.header).scenario, log.events)
        rows = [row for row in dataset.labels if row["run"] == path.stem]
        assert len(rows) == len(verdicts) == 4
        for row, verdict in zip(rows, verdicts, strict=True):
            probe = verdict.probe
            assert (row["kind"], row["about"], row["answer"], row["truth"]) == (
                probe.kind,
                probe.about,
                probe.answer,
                probe.truth,
            )
            if probe.kind == "fact":
                assert row["fact"] == verdict.tracker and row["believed"] is None
                assert row["has_belief"] == (verdict.tracker != "don't know")
                assert row["false_belief"] == (
                    None if not row["has_belief"] else verdict.tracker != probe.truth
                )
            else:
                assert row["fact"] is None and row["believed"] == verdict.tracker
                assert row["has_belief"] == (verdict.tracker is not None)
            assert row["correct"] == (probe.answer == verdict.tracker)
    # The variants make every answer occur: a lie, the truth, nothing said.
    assert {row["fact"] for row in dataset.labels if row["kind"] == "fact"} == {
        "yes",
        "no",
        "don't know",
    }
    assert set(dataset.column("has_belief")) == {True, False}
    assert targets_for(dataset) == ["container", "false_belief", "named_last", "fact", "has_belief"]


def test_the_fact_target_is_decoded_at_its_planted_block(planted: Path) -> None:
    dataset = build_dataset([planted])
    result = fit(dataset, target="fact")
    assert result.summary.classes == ("don't know", "no", "yes")
    assert (
        result.summary.n == 24 * 3 and result.summary.dropped == 24
    )  # the object probes have no fact label
    by_layer = {entry.layer: entry for entry in result.layers}
    planted_block, others = by_layer[3], [by_layer[1], by_layer[5]]
    assert planted_block.mean_diff is not None and planted_block.mean_diff.estimate >= 0.9
    assert planted_block.logistic is not None and planted_block.logistic.estimate >= 0.8
    assert all(entry.mean_diff is not None and entry.mean_diff.estimate < 0.7 for entry in others)
    # CCS reads the (yes, no) pairs, on the rows whose answer is one of them.
    assert isinstance(result.ccs, CcsRows)
    assert result.ccs.rows == sum(1 for row in dataset.labels if row["fact"] in PAIR)
    assert by_layer[5].ccs is not None and by_layer[5].ccs.estimate >= 0.9


def test_latent_dataset_and_fit_take_a_fact_target(planted: Path, tmp_path: Path) -> None:
    out = tmp_path / "facts.npz"
    made = CliRunner().invoke(main, ["latent", "dataset", str(planted), "-o", str(out)])
    assert made.exit_code == 0, made.output
    assert "96 probes from 24 runs" in made.output
    assert {row["kind"] for row in load_dataset(out).labels} == {"object", "fact"}
    result = CliRunner().invoke(main, ["latent", "fit", str(out), "--target", "fact", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["target"] == "fact" and data["column"] == "fact" and data["n"] == 72
    best = max(data["layers"], key=lambda entry: entry["mean_diff"]["estimate"])
    assert best["layer"] == 3 and best["mean_diff"]["estimate"] >= 0.9
    held = CliRunner().invoke(main, ["latent", "fit", str(out), "--target", "has_belief"])
    assert held.exit_code == 0, held.output
    assert "target has_belief (False, True): 96 probes" in held.output


def test_has_belief_is_decoded_where_it_is_planted(tmp_path: Path) -> None:
    folder = write_sweep(tmp_path / "held", 16, Plant("has_belief", True, layer=1, strength=4.0))
    result = fit(build_dataset([folder]), target="has_belief")
    by_layer = {entry.layer: entry.logistic.estimate for entry in result.layers if entry.logistic}
    assert by_layer[1] >= 0.9 and max(by_layer[3], by_layer[5]) < 0.85


def test_a_dataset_saved_before_fact_probes_loads_as_objects(planted: Path, tmp_path: Path) -> None:
    dataset = build_dataset([planted])
    for row in dataset.labels:
        for key in ("kind", "fact", "has_belief"):
            del row[key]  # type: ignore[misc]
    dataset.save(tmp_path / "old.npz")
    old = load_dataset(tmp_path / "old.npz")
    assert set(old.column("kind")) == {"object"} and set(old.column("fact")) == {None}
    assert old.column("has_belief") == [row["believed"] is not None for row in old.labels]
    assert targets_for(old) == ["container", "false_belief", "named_last"]
