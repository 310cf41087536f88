"""`simstage.analysis.dataset`: captured probes joined with the tracker's labels; bad input is one clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simstage.analysis.dataset import COLUMNS, build_dataset, load_dataset
from simstage.engine import Simulation
from simstage.latent.store import LatentError, sidecar_path
from simstage.run.log import RunLogWriter, logged_scenario, read_runlog
from simstage.run.open import make_header
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tom.metrics import probe_verdicts
from tests.conftest import SCENARIOS
from tests.unit.latent_runs import DIMS, LAYERS, write_run, write_sweep


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("sweep"), runs=6)


def test_one_row_per_capture_joined_with_its_probe_and_the_tracker(sweep: Path) -> None:
    dataset = build_dataset([sweep])
    assert dataset.X.shape == (18, len(LAYERS), DIMS) and dataset.X.dtype == np.float32
    assert dataset.layers == LAYERS
    assert set(dataset.labels[0]) == set(COLUMNS)
    log = read_runlog(sweep / "run-002.jsonl")
    verdicts = probe_verdicts(logged_scenario(log.header).scenario, log.events)
    rows = [row for row in dataset.labels if row["run"] == "run-002"]
    assert len(rows) == len(verdicts) == 3
    for row, verdict in zip(rows, verdicts, strict=True):
        probe = verdict.probe
        assert (row["ask"], row["about"], row["style"], row["answer"]) == (
            probe.ask,
            probe.about,
            probe.style,
            probe.answer,
        )
        assert row["believed"] == verdict.tracker and row["seed"] == log.header.seed == 2
        assert row["order"] == len(probe.through) + 1
        assert row["false_belief"] == (verdict.tracker != probe.truth)
        assert row["correct"] == (probe.answer == verdict.tracker)
        assert row["named_last"] in ("basket", "box")
    # The variants make the believed container and false belief vary across runs.
    assert (
        len(set(dataset.column("believed"))) == 2 and len(set(dataset.column("false_belief"))) == 2
    )


def test_vectors_are_the_sidecar_records(sweep: Path) -> None:
    from simstage.events import LatentCaptured
    from simstage.latent.store import read_record

    log_path = sweep / "run-000.jsonl"
    captures = [e for e in read_runlog(log_path).events if isinstance(e, LatentCaptured)]
    dataset = build_dataset([log_path])
    for row, event in zip(dataset.X, captures, strict=True):
        np.testing.assert_array_equal(row, read_record(log_path, event))


def test_save_and_load_round_trip(sweep: Path, tmp_path: Path) -> None:
    dataset = build_dataset([sweep])
    dataset.save(tmp_path / "ds.npz")
    again = load_dataset(tmp_path / "ds.npz")
    np.testing.assert_array_equal(again.X, dataset.X)
    assert again.layers == dataset.layers and again.labels == dataset.labels


def test_a_torn_sidecar_names_the_file(tmp_path: Path) -> None:
    log = write_run(tmp_path / "torn.jsonl", 3)
    sidecar = sidecar_path(log)
    sidecar.write_bytes(sidecar.read_bytes()[:-10])
    with pytest.raises(LatentError, match=r"torn\.latent\.f32.*cut short.*torn\.jsonl"):
        build_dataset([log])


def test_an_event_naming_a_record_larger_than_memory_is_cut_short_not_read(tmp_path: Path) -> None:
    log = write_run(tmp_path / "huge.jsonl", 3)
    lines = log.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if '"latent_captured"' in line)
    lines[at] = lines[at].replace(f'"dims":{DIMS}', '"dims":1000000000000000')
    assert '"dims":1000000000000000' in lines[at]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LatentError, match=r"huge\.latent\.f32.*cut short"):
        build_dataset([log])


def test_a_changed_record_fails_its_sha256(tmp_path: Path) -> None:
    log = write_run(tmp_path / "bent.jsonl", 3)
    data = bytearray(sidecar_path(log).read_bytes())
    data[5] ^= 0xFF
    sidecar_path(log).write_bytes(bytes(data))
    with pytest.raises(LatentError, match="sha256"):
        build_dataset([log])


def test_a_missing_sidecar_is_an_error(tmp_path: Path) -> None:
    log = write_run(tmp_path / "alone.jsonl", 3)
    sidecar_path(log).unlink()
    with pytest.raises(LatentError, match=r"alone\.latent\.f32: cannot read"):
        build_dataset([log])


def test_a_log_torn_mid_capture_keeps_the_whole_rows(tmp_path: Path) -> None:
    log = write_run(tmp_path / "cut.jsonl", 4)
    lines = log.read_text(encoding="utf-8").splitlines()
    last = max(i for i, line in enumerate(lines) if '"latent_captured"' in line)
    # Killed while writing the third capture's event: its line is half there, nothing after it.
    log.write_text(
        "\n".join(lines[:last]) + "\n" + lines[last][: len(lines[last]) // 2], encoding="utf-8"
    )
    assert len(build_dataset([log])) == 2


def test_missing_paths_and_logs_without_captures_are_named(tmp_path: Path) -> None:
    with pytest.raises(LatentError, match=r"nowhere\.jsonl: no such file"):
        build_dataset([tmp_path / "nowhere.jsonl"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(LatentError, match="holds no run log"):
        build_dataset([tmp_path / "empty"])
    loaded = load_scenario(SCENARIOS / "sally-anne.yaml")
    stage = ScriptedStage()
    plain = tmp_path / "plain.jsonl"
    with RunLogWriter(plain, make_header(loaded, stage, 7, 6)) as writer:
        Simulation(loaded.scenario, stage, sink=writer.append).run()
    with pytest.raises(LatentError, match=r"plain\.jsonl: the run captured no activations"):
        build_dataset([plain])
    (tmp_path / "not.npz").write_text("no", encoding="utf-8")
    with pytest.raises(LatentError, match="not a simstage latent dataset"):
        load_dataset(tmp_path / "not.npz")


def test_runs_of_another_width_are_refused(tmp_path: Path) -> None:
    write_run(tmp_path / "a.jsonl", 1)
    write_run(tmp_path / "b.jsonl", 2, dims=DIMS + 1)
    with pytest.raises(LatentError, match="build one dataset per setting"):
        build_dataset([tmp_path])


@pytest.mark.parametrize(
    ("dims", "message"), [(2**62, "cut short"), (-1, "no size"), (0, "no size")]
)
def test_an_event_whose_size_wraps_or_is_nothing_is_one_clear_error(
    tmp_path: Path, dims: int, message: str
) -> None:
    log = write_run(tmp_path / "odd.jsonl", 3)
    text = log.read_text(encoding="utf-8").replace(f'"dims":{DIMS}', f'"dims":{dims}', 1)
    log.write_text(text, encoding="utf-8")
    with pytest.raises(LatentError, match=message):
        build_dataset([log])


def test_a_record_holding_nan_is_refused(tmp_path: Path) -> None:
    import hashlib
    import json

    log = write_run(tmp_path / "nan.jsonl", 3)
    sidecar = sidecar_path(log)
    lines = log.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if '"latent_captured"' in line)
    event = json.loads(lines[at])
    size = len(event["layers"]) * event["dims"] * 4
    data = bytearray(sidecar.read_bytes())
    record = np.frombuffer(
        bytes(data[event["offset"] : event["offset"] + size]), dtype="<f4"
    ).copy()
    record[0] = np.nan
    data[event["offset"] : event["offset"] + size] = record.tobytes()
    sidecar.write_bytes(bytes(data))
    event["sha256"] = hashlib.sha256(record.tobytes()).hexdigest()
    lines[at] = json.dumps(event, separators=(",", ":"))
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LatentError, match="holds NaN or inf"):
        build_dataset([log])
