"""What a run would silently not do, said: a --max-turns short of the scene's probes, the
optimizer in compare's default puppeteers on a scene without rewards, latent capture on a stage
that reads no activations, a token count on a stage with no tokenizer."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from simstage.cli import main
from simstage.scenario import load_scenario
from tests.conftest import SCENARIOS

SALLY = SCENARIOS / "sally-anne.yaml"
WARNING = (
    "warning: --max-turns 3 leaves out 3 probes (turn 5) and 1 timeline event (turn 4) of the scene"
)


def test_left_out_names_the_probes_and_timeline_events_past_the_last_turn() -> None:
    scenario = load_scenario(SALLY).scenario
    assert scenario.left_out(3) == "3 probes (turn 5) and 1 timeline event (turn 4)"
    assert scenario.left_out(4) == "3 probes (turn 5)"
    assert scenario.left_out(5) is None
    assert scenario.left_out(1).startswith(
        "3 probes (turn 5) and 3 timeline events (turns 2, 3, 4)"
    )


def test_run_with_a_short_max_turns_warns_on_stderr(tmp_path: Path) -> None:
    # Before, the run ended "completed" with none of its probes asked, and nothing said why.
    args = [
        "run",
        str(SALLY),
        "--headless",
        "--stage",
        "scripted",
        "--out",
        str(tmp_path / "r.jsonl"),
    ]
    short = CliRunner().invoke(main, [*args, "--max-turns", "3"])
    assert short.exit_code == 0, short.output
    assert WARNING in short.stderr and WARNING not in short.stdout
    whole = CliRunner().invoke(main, [*args, "--force"])
    assert whole.exit_code == 0 and "leaves out" not in whole.stderr


def test_a_resumed_run_with_a_short_max_turns_warns_too(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    args = ["run", str(SALLY), "--headless", "--stage", "scripted", "--max-turns", "2"]
    assert CliRunner().invoke(main, [*args, "--out", str(out)]).exit_code == 0
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:-1]))  # cut before its end: resumable
    resumed = CliRunner().invoke(main, ["run", "--resume", str(out), "--max-turns", "3"])
    assert resumed.exit_code == 0, resumed.output
    assert WARNING in resumed.stderr


def test_compare_by_default_leaves_the_optimizer_out_of_a_scene_without_rewards() -> None:
    # Before, the default puppeteers failed on every shipped scene but sycophancy.
    base = ["compare", str(SALLY), "--stage", "scripted", "--seeds", "1", "--max-turns", "3"]
    result = CliRunner().invoke(main, [*base, "--json"])
    assert result.exit_code == 0, result.output
    assert "leave the optimizer out" in result.stderr and WARNING in result.stderr
    assert '"optimizer"' not in result.stdout and '"director"' in result.stdout
    typo = CliRunner().invoke(main, [*base, "--puppeteer", "bare,nope"])
    assert typo.exit_code == 2
    assert typo.stderr.splitlines()[-1] == (
        "simstage: --puppeteer: cannot compare puppeteer 'nope' "
        "(valid: bare, round_robin, scripted, director, optimizer)"
    )
    asked = CliRunner().invoke(main, [*base, "--puppeteer", "bare,optimizer"])
    assert asked.exit_code == 2
    assert asked.stderr.splitlines()[-1] == (
        f"simstage: {SALLY}: the optimizer needs `puppeteer.rewards` in the scenario"
    )


def test_latent_capture_on_a_stage_that_reads_no_activations_is_refused_or_warned(
    tmp_path: Path,
) -> None:
    # Before, the run exited 0 with no capture and no word; `latent dataset` failed much later.
    out = tmp_path / "r.jsonl"
    asked = CliRunner().invoke(
        main,
        ["run", str(SALLY), "--headless", "--stage", "scripted", "--latent", "--out", str(out)],
    )
    assert asked.exit_code == 2 and not out.exists()
    assert asked.output == (
        "simstage: --latent reads the llama stage's activations; the scripted stage has none\n"
    )
    text = SALLY.read_text()
    own = tmp_path / "scripted.yaml"
    own.write_text(text + "\nstage: {backend: scripted}\n")
    for args in (
        ["run", str(own), "--headless", "--latent", "--out", str(out)],
        [
            "sweep",
            str(SALLY),
            "--set",
            "stage.backend=scripted",
            "--latent",
            "--out",
            str(tmp_path / "sw"),
        ],
    ):
        refused = CliRunner().invoke(main, args)
        assert refused.exit_code == 2, refused.output
        assert refused.stderr.splitlines()[-1] == (
            "simstage: --latent reads the llama stage's activations; the scripted stage has none"
        )
    assert not out.exists() and not (tmp_path / "sw").exists()
    scene = tmp_path / "latent.yaml"
    scene.write_text(text + "\nlatent: {layers: all}\nstage: {backend: scripted}\n")
    played = CliRunner().invoke(main, ["run", str(scene), "--headless", "--out", str(out)])
    assert played.exit_code == 0, played.output
    assert "warning: the scripted stage reads no activations" in played.stderr


def test_prompt_tokens_on_a_stage_without_a_tokenizer_says_so() -> None:
    # Before, --tokens printed nothing on the scripted stage.
    result = CliRunner().invoke(
        main,
        ["prompt", str(SALLY), "--as", "Sally", "--turn", "2", "--stage", "scripted", "--tokens"],
    )
    assert result.exit_code == 0, result.output
    assert "the scripted stage has no tokenizer, so no token count" in result.stderr
    remote = CliRunner().invoke(
        main,
        ["prompt", str(SALLY), "--as", "Sally", "--turn", "2", "--stage", "litellm", "--tokens"],
    )
    assert remote.exit_code == 0, remote.output
    assert "the litellm stage has no tokenizer" in remote.stderr


def test_export_all_turns_to_standard_output_is_refused(tmp_path: Path, monkeypatch) -> None:
    # Before, it wrote files named --turn0.dot, --turn1.dot... in the current folder.
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r.jsonl"
    args = ["run", str(SALLY), "--headless", "--stage", "scripted", "--max-turns", "2"]
    assert CliRunner().invoke(main, [*args, "--out", str(out)]).exit_code == 0
    result = CliRunner().invoke(
        main, ["export", str(out), "--format", "dot", "--all-turns", "-o", "-"]
    )
    assert result.exit_code == 2
    assert "--all-turns writes one file per turn" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl"]
