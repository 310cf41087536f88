"""`simstage sweep` on the scripted stage: plans, run logs, rows, the table, resume, kills, plots."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.run.log import read_runlog
from simstage.sweep import SweepError
from simstage.sweep import runner as sweep_runner
from simstage.sweep.plan import apply_setting, make_plan, parse_seeds, parse_set, seeds_text
from simstage.sweep.runner import pool_size
from tests.conftest import ROOT, SCENARIOS

SCRIPTED = ["--set", "stage.backend=scripted"]

# A sweep in a child process whose scripted stage is slow (so it can be killed mid-run),
# with Ctrl-C raising KeyboardInterrupt even where the parent ignores SIGINT.
SLOW_SWEEP = """
import signal, sys
import simstage.stage.scripted as scripted
signal.signal(signal.SIGINT, signal.default_int_handler)
original = scripted.ScriptedStage.__init__
def slow(self, *args, **kwargs):
    kwargs.setdefault("delay", float(sys.argv[1]))
    original(self, *args, **kwargs)
scripted.ScriptedStage.__init__ = slow
from simstage.cli import main
main(sys.argv[2:], prog_name="simstage")
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "sally-anne.yaml"
    shutil.copy(SCENARIOS / "sally-anne.yaml", path)
    return path


def two_puppeteers_two_seeds(scenario: Path, out: Path, *more: str) -> object:
    """A scripted sweep of round robin and bare, seeds 1 and 2, into `out`."""
    return sweep(
        str(scenario),
        "--seeds",
        "1-2",
        *SCRIPTED,
        "--set",
        "puppeteer.kind=round_robin,bare",
        "--out",
        str(out),
        *more,
    )


def sweep(*args: str) -> object:
    return CliRunner().invoke(main, ["sweep", *args])


def results(out: Path) -> list[dict[str, str]]:
    with open(out / "results.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def rows_in(out: Path) -> set[str]:
    return {path.stem for path in (out / "rows").glob("*.json")}


@pytest.fixture
def played(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The run ids that actually play in this process, in the order they start."""
    ids: list[str] = []
    original = sweep_runner.play_run

    def recording(run, *args, **kwargs):
        ids.append(run.run_id)
        return original(run, *args, **kwargs)

    monkeypatch.setattr(sweep_runner, "play_run", recording)
    return ids


# -- seeds and settings ------------------------------------------------------------


def test_seeds_take_ranges_and_lists() -> None:
    assert parse_seeds("1-3") == [1, 2, 3]
    assert parse_seeds("1,2,5-7") == [1, 2, 5, 6, 7]
    assert parse_seeds(" 9 , 1-2,2") == [9, 1, 2]
    assert seeds_text([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"


@pytest.mark.parametrize("text", ["", "x", "1-", "-3", "5-1", "1-2-3", "1.5", "1-100000000"])
def test_bad_seeds_are_refused(text: str) -> None:
    with pytest.raises(SweepError, match="--seeds"):
        parse_seeds(text)


def test_set_values_are_yaml() -> None:
    assert parse_set("stage.temperature=0.3,0.9").values == (0.3, 0.9)
    assert parse_set("puppeteer.kind=bare, optimizer").values == ("bare", "optimizer")
    assert parse_set("puppeteer.metrics=true,false").values == (True, False)
    assert parse_set("cast.0.persona=[A shy boy, 'A bold girl, loud']").values == (
        "A shy boy",
        "A bold girl, loud",
    )
    assert parse_set("stage.n_threads=null,2").values == (None, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stage.temperature", "expected KEY=V1,V2"),
        ("=1,2", "expected KEY=V1,V2"),
        ("stage..temperature=1", "not a dotted path"),
        ("stage.temperature=0.3,,0.9", "empty value"),
        ("stage.temperature=0.3,0.3", "given twice"),
        ("seed=1,2", "--seeds"),
        ("title=2024-01-01", "not plain YAML"),
        ("cast.0.persona=[unclosed", "not a YAML value"),
    ],
)
def test_bad_sets_are_refused(text: str, message: str) -> None:
    with pytest.raises(SweepError, match=message.replace("[", r"\[")):
        parse_set(text)


def test_apply_setting_creates_missing_keys_and_indexes_lists() -> None:
    data = {"stage": {"backend": "llama"}, "cast": [{"name": "A"}, {"name": "B"}]}
    apply_setting(data, "puppeteer.metrics", True)
    apply_setting(data, "cast.1.persona", "bold")
    apply_setting(data, "stage.temperature", 0.3)
    assert data["puppeteer"] == {"metrics": True}
    assert data["cast"][1] == {"name": "B", "persona": "bold"}
    assert data["stage"] == {"backend": "llama", "temperature": 0.3}
    with pytest.raises(SweepError, match="cast has 2 entries"):
        apply_setting(data, "cast.2.persona", "x")
    with pytest.raises(SweepError, match="index it by number"):
        apply_setting(data, "cast.first.persona", "x")
    with pytest.raises(SweepError, match="not a mapping or a list"):
        apply_setting(data, "stage.backend.name", "x")


def test_plan_is_the_product_of_sets_and_seeds(scenario: Path) -> None:
    sets = [parse_set("puppeteer.kind=bare,round_robin"), parse_set("stage.temperature=0.3,0.9")]
    plan = make_plan(scenario, sets, [1, 2, 3])
    assert len(plan.variants) == 4 and len(plan.runs) == 12
    assert [run.run_id for run in plan.runs[:4]] == [
        "puppeteer.kind=bare__stage.temperature=0.3__seed1",
        "puppeteer.kind=bare__stage.temperature=0.3__seed2",
        "puppeteer.kind=bare__stage.temperature=0.3__seed3",
        "puppeteer.kind=bare__stage.temperature=0.9__seed1",
    ]
    variant = plan.runs[-1].variant
    assert variant.loaded.scenario.puppeteer.kind == "round_robin"
    assert variant.loaded.scenario.stage.temperature == 0.9
    assert plan.runs[-1].settings == {"puppeteer.kind": "round_robin", "stage.temperature": 0.9}


def test_plan_without_sets_keeps_the_file_text(scenario: Path) -> None:
    plan = make_plan(scenario, [], [4, 5])
    assert [run.run_id for run in plan.runs] == ["seed4", "seed5"]
    assert plan.variants[0].loaded.text == scenario.read_text()


def test_run_ids_are_safe_file_names_and_distinct(scenario: Path) -> None:
    sets = [parse_set("cast.0.persona=[A shy/odd boy, A shy_odd boy, a shy/odd boy]")]
    plan = make_plan(scenario, sets, [1])
    ids = [run.run_id for run in plan.runs]
    assert len({i.lower() for i in ids}) == 3
    for run_id in ids:
        assert "/" not in run_id and " " not in run_id
        assert run_id.lower().startswith("cast.0.persona=a_shy_odd_boy")


def test_pool_size_is_one_on_the_llama_stage() -> None:
    assert pool_size(["scripted"], None) == (4, None)
    assert pool_size(["litellm", "scripted"], 8) == (8, None)
    assert pool_size(["llama"], None) == (1, None)
    size, note = pool_size(["scripted", "llama"], 4)
    assert size == 1 and note is not None and "llama" in note


# -- bad input on the command line ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "1-x"], "--seeds"),
        (["--set", "stage.temprature=0.3"], "stage.temprature: Extra inputs are not permitted"),
        (["--set", "stage.temperature=0.3,9"], "--set stage.temperature=9: stage.temperature"),
        (
            ["--set", "puppeteer.kind=bare,sideways"],
            "--set puppeteer.kind=sideways: puppeteer.kind",
        ),
        (["--set", "cast.7.persona=x"], "cast has 2 entries"),
        (["--set", "stage=1", "--set", "stage.temperature=1"], "overlap"),
        (["--set", "nonsense"], "expected KEY=V1,V2"),
        (["--set", "stage.temperature=!!timestamp 2001-99-99"], "is not a YAML value"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_any_run(
    scenario: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    result = sweep(str(scenario), *SCRIPTED, *args, "--out", str(out))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert all(line.startswith("simstage:") for line in result.stderr.splitlines())
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_missing_scenario_is_exit_2(tmp_path: Path) -> None:
    result = sweep(str(tmp_path / "nope.yaml"), "--seeds", "1")
    assert result.exit_code == 2
    assert "nope.yaml:1:1: cannot read" in result.stderr


def test_a_combination_of_valid_values_can_be_invalid(scenario: Path, tmp_path: Path) -> None:
    # Each value is fine alone; a scripted puppeteer with no order is not.
    text = scenario.read_text().replace(
        "{kind: round_robin}", "{kind: round_robin, order: [Sally, Anne]}"
    )
    scenario.write_text(text)
    result = sweep(
        str(scenario),
        *SCRIPTED,
        "--set",
        "puppeteer.kind=scripted",
        "--set",
        "puppeteer.order=[[]]",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "simstage: --set stage.backend=scripted, puppeteer.kind=scripted, puppeteer.order=[]: "
        "puppeteer.kind: the scripted puppeteer needs an `order` of speakers\n"
    )


# -- runs, rows and the table ----------------------------------------------------------------


def test_one_log_and_one_row_per_run_and_a_table(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = two_puppeteers_two_seeds(scenario, out)
    assert result.exit_code == 0, result.output
    ids = {
        f"stage.backend=scripted__puppeteer.kind={kind}__seed{seed}"
        for kind in ("round_robin", "bare")
        for seed in (1, 2)
    }
    assert {p.stem for p in out.glob("*.jsonl")} == ids
    assert rows_in(out) == ids
    assert result.stdout.count("done ") == 4
    plan_file = json.loads((out / "sweep.json").read_text())
    assert plan_file["seeds"] == [1, 2] and plan_file["runs"] == 4
    assert plan_file["sets"][1] == {"key": "puppeteer.kind", "values": ["round_robin", "bare"]}

    log = read_runlog(out / "stage.backend=scripted__puppeteer.kind=bare__seed2.jsonl")
    assert log.header.seed == 2
    assert (
        "kind: bare" in log.header.scenario_text and "backend: scripted" in log.header.scenario_text
    )
    assert log.events[-1].type == "run_ended" and log.events[-1].reason == "completed"

    table = results(out)
    assert [row["run_id"] for row in table] == [
        "stage.backend=scripted__puppeteer.kind=round_robin__seed1",
        "stage.backend=scripted__puppeteer.kind=round_robin__seed2",
        "stage.backend=scripted__puppeteer.kind=bare__seed1",
        "stage.backend=scripted__puppeteer.kind=bare__seed2",
    ]
    columns = list(table[0])
    assert columns[:4] == ["run_id", "stage.backend", "puppeteer.kind", "seed"]
    for name in (
        "status",
        "turns",
        "tom_n",
        "tom_accuracy",
        "tom_false_belief",
        "tom_reality",
        "voice_collapse",
        "reward_gain",
        "persona_drift",
        "prompt_tokens",
        "generated_tokens",
        "wall_s",
        "log",
    ):
        assert name in columns
    row = table[2]
    assert row["puppeteer.kind"] == "bare" and row["seed"] == "1" and row["status"] == "completed"
    assert row["turns"] == "6" and row["tom_n"] == "3" and float(row["tom_accuracy"]) == 1.0
    assert int(row["generated_tokens"]) > 0
    assert (out / row["log"]).exists()


def test_a_sweep_log_replays_and_verifies(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        sweep(
            str(scenario),
            "--seeds",
            "3",
            *SCRIPTED,
            "--set",
            "puppeteer.kind=bare",
            "--out",
            str(out),
        ).exit_code
        == 0
    )
    log = next(out.glob("*.jsonl"))
    result = CliRunner().invoke(main, ["replay", str(log), "--verify"])
    assert result.exit_code == 0, result.output
    assert "verify: match" in result.output


def test_puppeteer_metrics_and_rewards_get_columns(tmp_path: Path) -> None:
    path = tmp_path / "sycophancy.yaml"
    shutil.copy(SCENARIOS / "sycophancy.yaml", path)
    out = tmp_path / "out"
    result = sweep(
        str(path),
        "--seeds",
        "1",
        *SCRIPTED,
        "--set",
        "puppeteer.kind=bare,optimizer",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    table = results(out)
    assert len(table) == 2 and "reward.sycophancy" in table[0]
    assert all(row["reward.sycophancy"] != "" and row["voice_collapse"] != "" for row in table)
    optimizer = next(row for row in table if row["puppeteer.kind"] == "optimizer")
    assert optimizer["reward_gain"] != ""


def test_parquet_beside_the_csv(scenario: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "out"
    assert (
        sweep(
            str(scenario),
            "--seeds",
            "1-2",
            *SCRIPTED,
            "--set",
            "stage.temperature=0,0.5",
            "--out",
            str(out),
        ).exit_code
        == 0
    )
    table = pq.read_table(out / "results.parquet").to_pylist()
    assert len(table) == 4
    assert [row["stage.temperature"] for row in table] == [0, 0, 0.5, 0.5]
    assert table[0]["tom_accuracy"] == 1.0 and table[0]["seed"] == 1


def test_max_turns_applies_to_every_run(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        sweep(
            str(scenario), "--seeds", "1-2", *SCRIPTED, "--max-turns", "3", "--out", str(out)
        ).exit_code
        == 0
    )
    assert {row["turns"] for row in results(out)} == {"3"}


# -- resume --------------------------------------------------------------------------------


def test_resume_plays_only_runs_without_a_row(
    scenario: Path, tmp_path: Path, played: list[str]
) -> None:
    out = tmp_path / "out"
    args = [
        str(scenario),
        "--seeds",
        "1-3",
        *SCRIPTED,
        "--set",
        "puppeteer.kind=round_robin,bare",
        "--out",
        str(out),
    ]
    assert sweep(*args).exit_code == 0
    assert len(played) == 6
    # One run crashed after its log was complete, one in the middle of its log.
    crashed = "stage.backend=scripted__puppeteer.kind=bare__seed2"
    cut = "stage.backend=scripted__puppeteer.kind=round_robin__seed3"
    (out / "rows" / f"{crashed}.json").unlink()
    (out / "rows" / f"{cut}.json").unlink()
    log = out / f"{cut}.jsonl"
    log.write_bytes(log.read_bytes()[:700])
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.jsonl")}
    played.clear()

    result = sweep(*args)
    assert result.exit_code == 0, result.output
    assert sorted(played) == sorted([crashed, cut])
    assert "4 finished before; 2 to play" in result.stderr
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.jsonl")}
    assert {name for name in before if before[name] != after[name]} == {
        f"{crashed}.jsonl",
        f"{cut}.jsonl",
    }
    assert read_runlog(log).ended and not read_runlog(log).warnings
    table = results(out)
    assert sorted(row["run_id"] for row in table) == sorted(rows_in(out)) and len(table) == 6

    played.clear()
    again = sweep(*args)
    assert again.exit_code == 0 and played == []
    assert "6 finished before; 0 to play" in again.stderr


def test_finishing_from_the_folder_alone(scenario: Path, tmp_path: Path, played: list[str]) -> None:
    out = tmp_path / "out"
    assert sweep(str(scenario), "--seeds", "1-2", *SCRIPTED, "--out", str(out)).exit_code == 0
    (out / "rows" / "stage.backend=scripted__seed1.json").unlink()
    played.clear()
    result = sweep("--out", str(out))
    assert result.exit_code == 0, result.output
    assert played == ["stage.backend=scripted__seed1"]


def test_another_plan_in_the_same_folder_is_refused(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert sweep(str(scenario), "--seeds", "1-2", *SCRIPTED, "--out", str(out)).exit_code == 0
    result = sweep(str(scenario), "--seeds", "1-3", *SCRIPTED, "--out", str(out))
    assert result.exit_code == 2
    assert (
        "holds another sweep" in result.stderr and "--seeds there: 1-2; here: 1-3" in result.stderr
    )
    scenario.write_text(scenario.read_text().replace("max_turns: 6", "max_turns: 5"))
    result = sweep(str(scenario), "--seeds", "1-2", *SCRIPTED, "--out", str(out))
    assert result.exit_code == 2 and "scenario file differs" in result.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    result = sweep(str(scenario), "--seeds", "1", *SCRIPTED, "--out", str(tmp_path / "full"))
    assert result.exit_code == 2 and "not empty" in result.stderr


def _stage_down_for(monkeypatch: pytest.MonkeyPatch, down: Callable[[int], bool]) -> list[int]:
    """Make the Nth stage a run builds unreachable when `down(N)` (N from 1); returns the count made."""
    import simstage.run.open
    from simstage.stage import StageError
    from simstage.stage.scripted import ScriptedStage

    class Unreachable(ScriptedStage):
        def generate(self, seq, messages, sampling):
            raise StageError("cannot reach http://127.0.0.1:9/v1 (model openai/x)")

    made: list[int] = []

    def make_stage(*args, **kwargs):
        made.append(1)
        return Unreachable() if down(len(made)) else ScriptedStage()

    monkeypatch.setattr(simstage.run.open, "make_stage", make_stage)
    return made


def test_a_failed_stage_leaves_the_run_for_next_time(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, played: list[str]
) -> None:
    _stage_down_for(monkeypatch, lambda n: n == 2)
    out = tmp_path / "out"
    args = [str(scenario), "--seeds", "1-3", *SCRIPTED, "--concurrency", "1", "--out", str(out)]
    result = sweep(*args)
    assert result.exit_code == 1, result.output
    assert "failed stage.backend=scripted__seed2: cannot reach" in result.stderr
    assert "1 run failed; re-run the same command to retry it" in result.stderr
    assert rows_in(out) == {"stage.backend=scripted__seed1", "stage.backend=scripted__seed3"}
    ended = read_runlog(out / "stage.backend=scripted__seed2.jsonl").events[-1]
    assert ended.type == "run_ended" and ended.reason == "error" and "cannot reach" in ended.message
    assert [row["seed"] for row in results(out)] == ["1", "3"]

    played.clear()
    result = sweep(*args)
    assert result.exit_code == 0, result.output
    assert played == ["stage.backend=scripted__seed2"]
    assert [row["seed"] for row in results(out)] == ["1", "2", "3"]


def test_a_sweep_whose_stage_is_down_gives_up_early(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _stage_down_for(monkeypatch, lambda n: True)
    out = tmp_path / "out"
    result = sweep(
        str(scenario), "--seeds", "1-20", *SCRIPTED, "--concurrency", "1", "--out", str(out)
    )
    assert result.exit_code == 1, result.output
    assert "giving up: the first 3 runs all failed" in result.stderr
    assert len(made) <= 4 and rows_in(out) == set()  # the 4th may have started; it stops


def test_runs_play_concurrently_on_the_scripted_stage(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import simstage.run.open
    from simstage.stage.scripted import ScriptedStage

    in_flight = [0, 0]
    lock = threading.Lock()
    original = sweep_runner.play_run

    def counting(*args, **kwargs):
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(sweep_runner, "play_run", counting)
    monkeypatch.setattr(simstage.run.open, "make_stage", lambda *a, **k: ScriptedStage(delay=0.005))
    result = sweep(
        str(scenario),
        "--seeds",
        "1-4",
        *SCRIPTED,
        "--concurrency",
        "2",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 0, result.output
    assert in_flight[1] == 2
    assert len(results(tmp_path / "out")) == 4


# -- killed and interrupted sweeps ---------------------------------------------------------------


def _slow_sweep(scenario: Path, out: Path, seeds: str, delay: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            SLOW_SWEEP,
            str(delay),
            "sweep",
            str(scenario),
            "--seeds",
            seeds,
            *SCRIPTED,
            "--concurrency",
            "2",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _signalled_sweep(
    scenario: Path, out: Path, *, rows: int, sig: int
) -> tuple[subprocess.Popen, str]:
    """A slow six-seed sweep sent `sig` once `rows` runs have finished; its stderr."""
    process = _slow_sweep(scenario, out, "1-6", delay=0.02)
    _wait_for_rows(process, out, rows)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    return process, stderr


def _wait_for_rows(process: subprocess.Popen, out: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while not (out / "rows").is_dir() or len(rows_in(out)) < count:
        if process.poll() is not None:
            raise AssertionError(f"the sweep ended early: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"fewer than {count} rows after 60 s")
        time.sleep(0.02)


def test_a_killed_sweep_finishes_only_the_missing_runs(
    scenario: Path, tmp_path: Path, played: list[str]
) -> None:
    out = tmp_path / "out"
    _process, _ = _signalled_sweep(scenario, out, rows=2, sig=signal.SIGKILL)
    finished = rows_in(out)
    every = {f"stage.backend=scripted__seed{seed}" for seed in range(1, 7)}
    assert 2 <= len(finished) < 6
    # Runs in flight when the sweep was killed left logs without rows.
    assert {p.stem for p in out.glob("*.jsonl")} - finished

    result = sweep(
        str(scenario), "--seeds", "1-6", *SCRIPTED, "--concurrency", "2", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert sorted(played) == sorted(every - finished)
    table = results(out)
    assert sorted(row["run_id"] for row in table) == sorted(every)
    for run_id in every:
        log = read_runlog(out / f"{run_id}.jsonl")
        assert log.ended and log.events[-1].reason == "completed" and not log.warnings


def test_ctrl_c_ends_runs_in_flight_cleanly(
    scenario: Path, tmp_path: Path, played: list[str]
) -> None:
    out = tmp_path / "out"
    process, stderr = _signalled_sweep(scenario, out, rows=1, sig=signal.SIGINT)
    assert process.returncode == 130, stderr
    finished = rows_in(out)
    assert (
        f"{len(finished)} of 6 runs finished; re-run the same command to finish the rest" in stderr
    )
    assert len(finished) < 6
    unfinished = {p.stem for p in out.glob("*.jsonl")} - finished
    assert unfinished
    for run_id in unfinished:
        ended = read_runlog(out / f"{run_id}.jsonl").events[-1]
        assert ended.type == "run_ended" and ended.reason == "interrupted"
    assert len(results(out)) == len(finished)

    result = sweep(str(scenario), "--seeds", "1-6", *SCRIPTED, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert len(played) == 6 - len(finished)
    assert len(results(out)) == 6


# -- plots ------------------------------------------------------------------------------------


def test_plot_draws_a_png_and_a_terminal_chart(scenario: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("plotext")
    out = tmp_path / "out"
    result = two_puppeteers_two_seeds(scenario, out, "--plot")
    assert result.exit_code == 0, result.output
    png = out / "plot.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ToM accuracy (all probes, false-belief probes)" in result.stdout
    assert "round_robin · all probes (1.00 [1.00, 1.00], n=2)" in result.stdout
    assert "\x1b[" not in result.stdout
    png.unlink()
    again = sweep("--out", str(out), "--plot")
    assert again.exit_code == 0, again.output
    assert png.exists()


def test_plot_without_its_libraries_says_what_to_install(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "plotext", None)
    out = tmp_path / "out"
    result = sweep(str(scenario), "--seeds", "1", *SCRIPTED, "--out", str(out), "--plot")
    assert result.exit_code == 2
    assert "pip install 'simstage[sweep]'" in result.stderr
    assert not out.exists()


def test_a_row_whose_log_is_gone_is_played_again(
    scenario: Path, tmp_path: Path, played: list[str]
) -> None:
    out = tmp_path / "out"
    args = [str(scenario), "--seeds", "1-2", *SCRIPTED, "--out", str(out)]
    assert sweep(*args).exit_code == 0
    gone = "stage.backend=scripted__seed2"
    (out / f"{gone}.jsonl").unlink()
    played.clear()
    result = sweep(*args)
    assert result.exit_code == 0, result.output
    assert played == [gone]
    assert "1 finished before; 1 to play" in result.stderr
    assert read_runlog(out / f"{gone}.jsonl").ended
    assert sorted(row["run_id"] for row in results(out)) == sorted(rows_in(out))


def test_a_second_sweep_in_the_same_folder_is_refused(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = _slow_sweep(scenario, out, "1-6", delay=0.05)
    try:
        _wait_for_rows(process, out, 1)
        rows_before = rows_in(out)
        result = sweep(
            str(scenario), "--seeds", "1-6", *SCRIPTED, "--concurrency", "2", "--out", str(out)
        )
        assert result.exit_code == 2, result.output
        assert f"another sweep is running in this folder (pid {process.pid})" in result.stderr
        assert "Traceback" not in result.output
        assert rows_before <= rows_in(out)
    finally:
        process.kill()
        process.communicate(timeout=30)
    # The killed sweep's lock died with it: the next sweep takes the folder and finishes.
    again = sweep(
        str(scenario), "--seeds", "1-6", *SCRIPTED, "--concurrency", "2", "--out", str(out)
    )
    assert again.exit_code == 0, again.output
    assert len(results(out)) == 6


def test_a_foreign_folder_is_refused_without_leaving_a_lock(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me\n")
    result = sweep(str(scenario), "--seeds", "1", *SCRIPTED, "--out", str(out))
    assert result.exit_code == 2
    assert "not empty" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
