"""The embedded model re-labelled with each real chat template: prompts, a played scene, hostile templates.

Each copy is SmolLM2 with another `tokenizer.chat_template` (written with the
`gguf` package), so the stage renders that family's markup through the real
llama.cpp path. The model was not trained on that markup: the tests check the
prompt machinery (markers, KV reuse, exact prompts), not what the model says.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.engine import Simulation
from simstage.events import TurnEnded
from simstage.scenario import load_scenario
from simstage.stage.models import resolve_model
from tests.conftest import ROOT, SCENARIOS
from tests.unit.test_chat_templates import FAMILIES, TEMPLATES

pytestmark = pytest.mark.model

gguf = pytest.importorskip("gguf", reason="needs the gguf package (the test extra)")


@pytest.fixture(scope="module")
def relabelled(tmp_path_factory) -> dict[str, Path]:
    """stem -> a copy of the embedded GGUF carrying that template."""
    from tests.gguf_copy import relabel

    if not TEMPLATES.is_dir():
        pytest.skip(f"the chat-template data is not beside the repository ({TEMPLATES})")
    folder = tmp_path_factory.mktemp("relabelled")
    source = resolve_model("default")
    return {
        stem: relabel(
            source,
            folder / f"{stem}.gguf",
            (TEMPLATES / f"{stem}.jinja").read_text(encoding="utf-8"),
        )
        for stem in sorted(FAMILIES)
    }


def test_prompt_shows_each_models_own_markers(relabelled) -> None:
    runner = CliRunner()
    for stem, path in relabelled.items():
        result = runner.invoke(
            main,
            [
                "prompt",
                str(SCENARIOS / "sally-anne.yaml"),
                "--as",
                "Sally",
                "--turn",
                "5",
                "--model",
                str(path),
                "--json",
            ],
        )
        assert result.exit_code == 0, (stem, result.output)
        report = json.loads(result.stdout)
        user_marker, generation_prompt, _ = FAMILIES[stem]
        assert report["chat_format"] == "jinja" and len(report["template_sha256"]) == 64, stem
        assert user_marker in report["text"], stem
        assert report["text"].endswith(generation_prompt), stem
        # What Sally saw while she was out is not in her prompt; what she saw is.
        assert "You enter the room." in report["text"], stem
        assert report["token_count"] > 100, stem


def test_a_scene_plays_on_each_template_with_exact_prompts_and_kv_reuse(
    relabelled, monkeypatch
) -> None:
    from simstage.stage.llama import LlamaStage

    scenario = load_scenario(SCENARIOS / "sally-anne.yaml").scenario
    scenario = scenario.model_copy(
        update={"stage": scenario.stage.model_copy(update={"max_tokens": 32})}
    )
    for stem, path in relabelled.items():
        stage = LlamaStage(path, n_ctx=4096, n_threads=2, n_seq_max=8)
        prompts: list[tuple[int, list[int]]] = []
        sync_many = stage.sync_many

        def recording(work, _sync=sync_many, _stage=stage, _prompts=prompts):
            _sync(work)
            for seq, tokens in work:
                # After a sync the sequence holds exactly the prompt the template rendered.
                assert _stage._cache[seq] == list(tokens)
                _prompts.append((seq, list(tokens)))

        monkeypatch.setattr(stage, "sync_many", recording)
        sim = Simulation(scenario, stage, max_turns=3, seed=1, metrics=False)
        try:
            sim.run()
            turns = [e for e in sim.events if isinstance(e, TurnEnded)]
            assert len(turns) == 3, stem
            assert stage.describe().chat_format == "jinja"
            full = sum(len(tokens) for _, tokens in prompts)
            # Only what a sequence has not seen is decoded, whichever template renders it.
            assert 0 < stage.counters.prompt_tokens < full, stem
        finally:
            sim.release_sequences()
            stage.close()


HOSTILE = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"


def test_a_gguf_whose_template_escapes_the_sandbox_is_one_line_exit_2(tmp_path) -> None:
    from tests.gguf_copy import relabel

    hostile = relabel(resolve_model("default"), tmp_path / "hostile.gguf", HOSTILE)
    out = tmp_path / "run.jsonl"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "simstage",
            "run",
            str(SCENARIOS / "sally-anne.yaml"),
            "--headless",
            "--model",
            str(hostile),
            "--out",
            str(out),
            "--threads",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(hostile) in lines[0] and "sandbox" in lines[0], run.stderr
    assert "Traceback" not in run.stderr and not out.exists()
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "simstage",
            "prompt",
            str(SCENARIOS / "sally-anne.yaml"),
            "--as",
            "Sally",
            "--model",
            str(hostile),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert shown.returncode == 2 and len(shown.stderr.strip().splitlines()) == 1, shown.stderr


def test_the_run_log_records_the_chat_format(tmp_path, relabelled) -> None:
    from simstage.run.log import read_runlog

    out = tmp_path / "run.jsonl"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "simstage",
            "run",
            str(SCENARIOS / "sally-anne.yaml"),
            "--headless",
            "--model",
            str(relabelled["mistral-v0.3"]),
            "--out",
            str(out),
            "--threads",
            "2",
            "--max-turns",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    stage = read_runlog(out).header.stage
    template = (TEMPLATES / "mistral-v0.3.jinja").read_text(encoding="utf-8")
    import hashlib

    assert stage.chat_format == "jinja"
    assert stage.template_sha256 == hashlib.sha256(template.encode()).hexdigest()
    assert "mistral-v0.3.gguf" in (stage.template_source or "")


def test_a_gguf_without_a_template_plays_a_screenplay_or_a_named_built_in(tmp_path) -> None:
    from tests.gguf_copy import relabel

    bare = relabel(resolve_model("default"), tmp_path / "no-template.gguf", None)
    text = (SCENARIOS / "sally-anne.yaml").read_text(encoding="utf-8")
    runner = CliRunner()
    plain = runner.invoke(
        main,
        [
            "prompt",
            str(SCENARIOS / "sally-anne.yaml"),
            "--as",
            "Anne",
            "--turn",
            "4",
            "--model",
            str(bare),
            "--json",
        ],
    )
    assert plain.exit_code == 0, plain.output
    report = json.loads(plain.stdout)
    assert report["chat_format"] == "screenplay" and report["text"].endswith("\nAnne:")
    named = tmp_path / "sally-llama3.yaml"
    named.write_text(
        text.replace("stage: {backend: llama,", "stage: {chat_template: llama3, backend: llama,")
    )
    built_in = runner.invoke(
        main, ["prompt", str(named), "--as", "Anne", "--turn", "4", "--model", str(bare), "--json"]
    )
    assert built_in.exit_code == 0, built_in.output
    report = json.loads(built_in.stdout)
    assert report["chat_format"] == "builtin:llama3"
    assert "<|start_header_id|>user<|end_header_id|>" in report["text"]
    named.write_text(
        text.replace(
            "stage: {backend: llama,", "stage: {chat_template: no-such-family, backend: llama,"
        )
    )
    unknown = runner.invoke(main, ["prompt", str(named), "--as", "Anne", "--model", str(bare)])
    assert (
        unknown.exit_code == 2
        and "no-such-family" in unknown.stderr
        and "Traceback" not in unknown.output
    )
