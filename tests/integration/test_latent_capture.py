"""Latent capture on the embedded model: the last block's output is the embedding before its norm,
and a run with --latent logs one whole record per probe and re-runs to the same digests.

Shapes, ranges and invariants only: never which container the model picked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simstage.cast.probes import ANSWER_PREFIX
from simstage.cli import main
from simstage.latent.store import read_record, sidecar_path
from simstage.run.log import read_runlog
from simstage.stage.base import Message
from simstage.stage.llama import LlamaStage
from simstage.stage.models import resolve_model

pytestmark = pytest.mark.model

SCENES = Path(__file__).resolve().parents[2] / "scenarios"
MESSAGES = [
    Message("system", "You are Sally. You put your marble in the basket, then went out."),
    Message("user", "Anne moved things while you were away. Where do you think the marble is?"),
]


def _output_norm(path: Path) -> tuple[np.ndarray, float]:
    import gguf

    reader = gguf.GGUFReader(str(path))
    field = reader.fields["llama.attention.layer_norm_rms_epsilon"]
    weight = next(t for t in reader.tensors if t.name == "output_norm.weight")
    return np.asarray(weight.data, dtype=np.float32), float(field.parts[field.data[0]][0])


def test_last_layer_capture_with_the_output_norm_is_the_embedding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = resolve_model("default")
    stage = LlamaStage(path, n_ctx=2048, n_threads=2, n_seq_max=8, latent_layers="all")
    try:
        seq = stage.open_sequence()
        job = (seq, MESSAGES, ["basket", "box"], ANSWER_PREFIX)
        answers, vectors = stage.choose_many_latent([job])
        paired_answers, paired = stage.choose_many_latent([job], [[0, 1]])
        prompt = stage._request(seq, MESSAGES, ANSWER_PREFIX, ["basket", "box"]).prompt
        completed = stage.prompt_tokens(MESSAGES, ANSWER_PREFIX + "box")
        n_layer = stage._lc.llama_model_n_layer(stage._model)
    finally:
        stage.close()
    assert answers[0] in (0, 1)
    assert vectors[0].shape == (n_layer, 576) and np.isfinite(vectors[0]).all()
    assert not np.allclose(vectors[0][0], vectors[0][-1])
    # Contrast pairs: the same answer and question token, then each completion's last token.
    assert paired_answers == answers and paired[0].shape == (3, n_layer, 576)
    np.testing.assert_array_equal(paired[0][0], vectors[0])
    assert np.isfinite(paired[0]).all() and not np.allclose(paired[0][1][-1], paired[0][2][-1])

    import llama_cpp

    plain = llama_cpp.llama_context_default_params

    def with_embeddings():  # the reference context hands out the normed last hidden state
        params = plain()
        params.embeddings = True
        return params

    monkeypatch.setattr(llama_cpp, "llama_context_default_params", with_embeddings)
    reference = LlamaStage(path, n_ctx=2048, n_threads=2, n_seq_max=8)
    try:
        embeddings = []
        for tokens in (prompt, completed):
            reference.sync(reference.open_sequence(), tokens)
            pointer = llama_cpp.llama_get_embeddings_ith(reference._ctx, -1)
            embeddings.append(np.ctypeslib.as_array(pointer, shape=(576,)).copy())
    finally:
        reference.close()
    weight, eps = _output_norm(path)
    for last, embedding in ((vectors[0][-1], embeddings[0]), (paired[0][2][-1], embeddings[1])):
        last = last.astype(np.float64)
        normed = last / np.sqrt(np.mean(last**2) + eps) * weight
        np.testing.assert_allclose(normed, embedding, rtol=1e-3, atol=1e-3)


def test_a_latent_run_logs_a_whole_record_per_probe_and_verifies(tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    runner = CliRunner()
    played = runner.invoke(
        main,
        [
            "run",
            str(SCENES / "sally-anne.yaml"),
            "--headless",
            "--latent",
            "--threads",
            "2",
            "--out",
            str(out),
        ],
    )
    assert played.exit_code == 0, played.output
    log = read_runlog(out)
    probes = [e for e in log.events if e.type == "probe"]
    captured = [e for e in log.events if e.type == "latent_captured"]
    assert len(probes) == 3 and len(captured) == 3
    assert json.loads(out.read_text().splitlines()[0])["latent"]["layers"] == "all"
    for probe, event in zip(probes, captured, strict=False):
        assert (event.ask, event.about, event.through, event.style) == (
            probe.ask,
            probe.about,
            probe.through,
            probe.style,
        )
        record = read_record(out, event)
        assert record.shape == (len(event.layers), event.dims) and np.isfinite(record).all()
    assert sidecar_path(out).stat().st_size == sum(len(e.layers) * e.dims * 4 for e in captured)
    verified = runner.invoke(main, ["replay", str(out), "--verify", "--threads", "2"])
    assert verified.exit_code == 0, verified.output
    assert "verify: match" in verified.output

    from simstage.analysis.behaviour import behaviour_ablation

    first = read_record(out, captured[0])
    ablation = behaviour_ablation([out], {10: first[10]}, threads=2)
    assert ablation.baseline_matches_log is True  # re-asked as logged, before any steering
    (row,) = ablation.layers
    assert row.n == 3
    for changed in (row.direction, row.random):
        assert 0 <= changed.changed <= 1
        assert sum(changed.toward.values()) == round(changed.changed * 3)

    plain = tmp_path / "plain.jsonl"
    again = runner.invoke(
        main,
        [
            "run",
            str(SCENES / "sally-anne.yaml"),
            "--headless",
            "--threads",
            "2",
            "--out",
            str(plain),
        ],
    )
    assert again.exit_code == 0, again.output
    assert not sidecar_path(plain).exists()
    assert not [e for e in read_runlog(plain).events if e.type == "latent_captured"]


def test_projecting_a_direction_out_changes_what_the_next_blocks_read() -> None:
    stage = LlamaStage(
        resolve_model("default"), n_ctx=2048, n_threads=2, n_seq_max=8, latent_layers=[9, 10, 20]
    )
    try:
        seq = stage.open_sequence()
        job = (seq, MESSAGES, ["basket", "box"], ANSWER_PREFIX)
        _, (plain,) = stage.choose_many_latent([job])
        _, (again,) = stage.choose_many_latent([job])
        direction = plain[1] / np.linalg.norm(plain[1])
        _, (steered,) = stage.choose_many_latent([job], steer={10: direction})  # this call only
        _, (after,) = stage.choose_many_latent([job])
    finally:
        stage.close()
    np.testing.assert_array_equal(plain, again)  # reading alone changes nothing
    np.testing.assert_array_equal(steered[:2], plain[:2])  # recorded before the projection
    assert not np.allclose(steered[2], plain[2], atol=1e-3)  # block 20 read the ablated stream
    np.testing.assert_array_equal(after, plain)  # and the next probe is itself again


def test_a_contrast_run_logs_each_pair_and_verifies(tmp_path: Path) -> None:
    scene = tmp_path / "sally-anne.yaml"
    text = (SCENES / "sally-anne.yaml").read_text(encoding="utf-8")
    scene.write_text(text + "\nlatent: {layers: [3, 15, 29], contrast: true}\n", encoding="utf-8")
    out = tmp_path / "run.jsonl"
    runner = CliRunner()
    played = runner.invoke(
        main, ["run", str(scene), "--headless", "--latent", "--threads", "2", "--out", str(out)]
    )
    assert played.exit_code == 0, played.output
    captured = [e for e in read_runlog(out).events if e.type == "latent_captured"]
    assert len(captured) == 3 and all(e.contrast == ("basket", "box") for e in captured)
    for event in captured:
        record = read_record(out, event)
        assert record.shape == (3, 3, event.dims) and np.isfinite(record).all()
    assert sidecar_path(out).stat().st_size == sum(3 * 3 * e.dims * 4 for e in captured)
    verified = runner.invoke(main, ["replay", str(out), "--verify", "--threads", "2"])
    assert verified.exit_code == 0 and "verify: match" in verified.output, verified.output

    from simstage.analysis.dataset import build_dataset

    dataset = build_dataset([out])
    assert dataset.pairs is not None and dataset.pairs.shape == (3, 2, 3, captured[0].dims)
    assert all(row["contrast"] == ["basket", "box"] for row in dataset.labels)
