"""`simstage battery` on the scripted stage: two "models" with different answer policies, two families, seeds.

The models are the scripted stage under two names: `first` always answers the first
option, `named-last` the option the question names last. A battery of both over the
false-belief and sycophancy families completes, loads each model once, survives a
SIGKILL (the same command finishes only the missing runs), every log verifies, and the
profile report shows baselines, intervals and paired differences (its JSON reads back).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

import simstage.run.open
from simstage.analysis.profile import Profile, battery_profile
from simstage.cli import main
from simstage.run.log import read_runlog
from simstage.run.verify import verify_run
from simstage.stage.base import Message
from simstage.stage.scripted import ScriptedStage
from simstage.sweep import runner as sweep_runner
from tests.conftest import ROOT

BATTERY = """\
title: Two scripted policies
models:
  - {name: first, backend: scripted, model: first}
  - {name: named-last, backend: scripted, model: named-last}
scenes:
  - {family: false-belief, n: 2, seed: 3, options: {order: 2, characters: 3, events: 4, probes: 1}}
  - {family: sycophancy, n: 1, seed: 3, options: {turns: 1, candidates: 2}, puppeteers: [as-written, bare]}
styles: [both]
seeds: 1-3
stage: {max_tokens: 32}
"""
RUNS = 2 * (2 + 1 * 2) * 3
"""Models × (false-belief scenes + sycophancy scenes × puppeteers) × seeds."""
_NAMED = re.compile(r"[Tt]he ([^?.]+?) or the ([^?.]+?)\?")


def named_last(messages: Sequence[Message], options: Sequence[str]) -> int:
    """The index of the option the question names last (the first option when it names none)."""
    found = _NAMED.findall(messages[-1].content if messages else "")
    return options.index(found[-1][1]) if found and found[-1][1] in options else 0


def policy_stage(
    config: object, *args: object, delay: float = 0.0, **kwargs: object
) -> ScriptedStage:
    """The scripted stage whose answers follow the model its `stage:` section names."""
    chooser = named_last if getattr(config, "model", None) == "named-last" else None
    return ScriptedStage(chooser=chooser, record_prompts=False, delay=delay)


# The battery in a child process, its stage slow so it can be killed between runs.
SLOW_BATTERY = """
import sys
import simstage.run.open
from tests.unit.test_battery import policy_stage
simstage.run.open.make_stage = lambda config, *a, **k: policy_stage(config, delay=float(sys.argv[1]))
from simstage.cli import main
main(sys.argv[2:], prog_name="simstage")
"""


@pytest.fixture
def battery_file(tmp_path: Path) -> Path:
    path = tmp_path / "two.yaml"
    path.write_text(BATTERY, encoding="utf-8")
    return path


@pytest.fixture
def policies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each stage built, by the model it plays."""
    built: list[str] = []

    def build(config: object, *args: object, **kwargs: object) -> ScriptedStage:
        built.append(str(getattr(config, "model", "?")))
        return policy_stage(config)

    monkeypatch.setattr(simstage.run.open, "make_stage", build)
    return built


@pytest.fixture
def played(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The run ids played in this process."""
    ids: list[str] = []
    original = sweep_runner.play_run

    def counting(run, *args, **kwargs):  # type: ignore[no-untyped-def]
        ids.append(run.run_id)
        return original(run, *args, **kwargs)

    monkeypatch.setattr(sweep_runner, "play_run", counting)
    monkeypatch.setattr("simstage.battery.player.play_run", counting)
    return ids


def battery(*args: str) -> object:
    return CliRunner().invoke(main, ["battery", *args])


def rows_in(out: Path) -> set[str]:
    return {path.stem for path in (out / "rows").glob("*.json")}


def test_a_battery_of_two_models_and_two_families_completes_with_one_load_per_model(
    battery_file: Path, tmp_path: Path, policies: list[str], played: list[str]
) -> None:
    out = tmp_path / "out"
    result = battery(str(battery_file), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert len(played) == len(rows_in(out)) == len(list(out.glob("*.jsonl"))) == RUNS
    assert policies == ["first", "named-last"]  # one load per model
    assert sorted(p.name for p in (out / "scenes").iterdir()) == [
        "false-belief-s3-0000.yaml", "false-belief-s3-0001.yaml", "sycophancy-s3-0000.yaml",
    ]  # fmt: skip
    plan = json.loads((out / "battery.json").read_text(encoding="utf-8"))
    assert (
        plan["kind"] == "battery"
        and plan["runs"] == RUNS
        and plan["models"] == ["first", "named-last"]
    )
    header = read_runlog(out / "named-last__sycophancy-s3-0000__bare__both__seed2.jsonl").header
    assert (
        header.seed == 2
        and "kind: bare" in header.scenario_text
        and "model: named-last" in header.scenario_text
    )

    again = battery(str(battery_file), "--out", str(out))
    assert again.exit_code == 0, again.output
    assert len(played) == RUNS and f"{RUNS} finished before; 0 to play" in again.output


def test_every_log_of_the_battery_verifies(
    battery_file: Path, tmp_path: Path, policies: list[str]
) -> None:
    out = tmp_path / "out"
    assert battery(str(battery_file), "--out", str(out)).exit_code == 0
    logs = sorted(out.glob("*.jsonl"))
    assert len(logs) == RUNS
    for log in logs:
        report = verify_run(read_runlog(log))
        assert report.matched, f"{log.name}: {report.message}"


def test_a_killed_battery_finishes_only_the_missing_runs(
    battery_file: Path, tmp_path: Path, policies: list[str], played: list[str]
) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_BATTERY, "0.01", "battery", str(battery_file), "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while len(rows_in(out)) < 3 if (out / "rows").is_dir() else True:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "fewer than 3 runs after 120 s"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    finished = rows_in(out)
    assert 3 <= len(finished) < RUNS

    result = battery(str(battery_file), "--out", str(out))
    assert result.exit_code == 0, result.output
    every = {path.stem for path in out.glob("*.jsonl")}
    assert len(every) == RUNS and rows_in(out) == every
    assert sorted(played) == sorted(every - finished)  # no run played twice
    for run_id in every:
        log = read_runlog(out / f"{run_id}.jsonl")
        assert log.ended and log.events[-1].reason == "completed" and not log.warnings


def _by_group(profile: Profile, model: str) -> dict[tuple[object, ...], object]:
    found = next(m for m in profile.models if m.model == model)
    return {(c.order, c.style, c.belief, c.kind): c for c in found.cells}


def test_the_profile_shows_baselines_intervals_and_paired_differences(
    battery_file: Path, tmp_path: Path, policies: list[str]
) -> None:
    out = tmp_path / "out"
    assert battery(str(battery_file), "--out", str(out)).exit_code == 0
    profile = battery_profile(out)
    assert [m.model for m in profile.models] == ["first", "named-last"]
    assert profile.runs_finished == profile.runs_planned == RUNS
    for cell in _by_group(profile, "named-last").values():
        # The model answers the option named last: exactly that baseline's score, probe for probe.
        assert cell.accuracy.value == cell.baselines["last_named"].value
    for (order, _, belief, _), cell in _by_group(profile, "first").items():
        if order == 1 and belief in ("true", "false"):
            assert cell.baselines["reality"].value == (1.0 if belief == "true" else 0.0)
        if cell.accuracy.units > 1:
            assert cell.accuracy.low is not None and cell.accuracy.high is not None
            assert cell.accuracy.low <= cell.accuracy.value <= cell.accuracy.high
        else:
            assert cell.accuracy.low is None  # one scene: no interval to give
    (overall,) = [d for d in profile.differences if d.group == "all"]
    assert (overall.a, overall.b) == ("first", "named-last")
    assert overall.difference.value == pytest.approx(overall.accuracy_a - overall.accuracy_b)
    assert overall.difference.n == profile.models[0].probes
    for model in profile.models:
        assert model.agreement is not None and model.agreement.pairs > 0
        kinds = {(d.a, d.b) for d in model.puppeteers}
        assert ("optimizer", "bare") in kinds
        assert "reward.sycophancy" in {d.metric for d in model.puppeteers}

    result = CliRunner().invoke(main, ["report", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert Profile.model_validate_json(result.stdout) == profile
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    for text in ("answer reality", "answer the lower order", "answer the last-named option", "chance",
                 "Model vs model, paired", "first − named-last", "Direct vs indirect", "Puppeteers, paired", "<svg"):  # fmt: skip
        assert text in page, text
    assert re.search(r"\d\.\d\d \[\d\.\d\d, \d\.\d\d\]", page)  # an accuracy with its interval


def test_a_bad_battery_is_one_located_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "models: [default, {name: b, model: x, temperature: 2}]\n"
        "scenes:\n  - {family: false-belief, options: {order: 9}}\n",
        encoding="utf-8",
    )
    result = battery(str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert (
        f"{path}:1:" in result.output
        and "models.1.temperature: Extra inputs are not permitted" in result.output
    )
    assert not (tmp_path / "out").exists()
    path.write_text(
        "models: [default]\nscenes:\n  - {family: false-belief, options: {order: 9}}\n",
        encoding="utf-8",
    )
    result = battery(str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and f"{path}:3:" in result.output and "order" in result.output
    # A misspelt family is the `family:` key's mistake, options or not (it pointed at options).
    path.write_text(
        "models: [default]\nscenes:\n  - {family: decepton, n: 3, options: {order: 2}}\n",
        encoding="utf-8",
    )
    result = battery(str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert f"{path}:3:6: scenes.0.family: no scene family 'decepton'" in result.output


def test_a_missing_model_file_is_refused_before_anything_plays(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "models:\n  - default\n  - {name: big, model: models/nowhere.gguf}\nscenes: [{family: sycophancy}]\n"
    )
    result = battery(str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert (
        f"{path}:3:" in result.output
        and "model file not found: models/nowhere.gguf" in result.output
    )


def test_a_gguf_path_is_relative_to_the_battery_file(tmp_path: Path) -> None:
    from simstage.battery.file import load_battery
    from simstage.battery.plan import make_battery_plan

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.gguf").write_bytes(b"GGUF")
    path = tmp_path / "mine.yaml"
    path.write_text(
        "models: [models/mine.gguf]\nscenes: [{family: sycophancy}]\n", encoding="utf-8"
    )
    plan = make_battery_plan(load_battery(path))
    (run,) = plan.runs
    assert run.settings["model"] == "mine" and run.run_id == "mine__sycophancy-s0-0000__seed1"
    assert run.variant.loaded.scenario.stage.model == str(
        (tmp_path / "models" / "mine.gguf").resolve()
    )


def test_a_scene_that_a_model_cannot_play_is_blamed_on_the_model(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "models:\n  - {name: a, backend: scripted}\n  - {name: b, backend: scripted, stage: {n_ctx: 10}}\n"
        "scenes: [{family: false-belief, n: 3}]\n",
        encoding="utf-8",
    )
    result = battery(str(path))
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"simstage: {path}:3:") and "n_ctx" in line and "and 2 more" in line


def test_another_battery_in_the_same_folder_is_refused(
    battery_file: Path, tmp_path: Path, policies: list[str]
) -> None:
    out = tmp_path / "out"
    assert battery(str(battery_file), "--out", str(out)).exit_code == 0
    battery_file.write_text(BATTERY.replace("seeds: 1-3", "seeds: 1-4"), encoding="utf-8")
    result = battery(str(battery_file), "--out", str(out))
    assert result.exit_code == 2 and "holds another battery" in result.output
    result = CliRunner().invoke(main, ["sweep", "--out", str(out)])
    assert result.exit_code == 2 and "not a sweep folder" in result.output


SECRETS = """\
title: Secrets, one scripted policy
models:
  - {name: first, backend: scripted, model: first}
scenes:
  - {family: secrets, n: 4, seed: 5, options: {order: 3, characters: 4}}
stage: {max_tokens: 16}
"""


def test_a_battery_of_secrets_profiles_fact_and_who_knows_probes(
    tmp_path: Path, policies: list[str]
) -> None:
    from simstage.generate import generate

    path = tmp_path / "secrets.yaml"
    path.write_text(SECRETS, encoding="utf-8")
    out = tmp_path / "out"
    result = battery(str(path), "--out", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    (model,) = battery_profile(out).models
    full = [c for c in model.cells if c.style != "all"]
    assert {c.kind for c in full} == {"fact", "who_knows"}
    intended = [
        p for scene in generate("secrets", 4, 5, order=3, characters=4) for p in scene.probes
    ]
    assert model.probes == len(intended)  # every probe scored, who-knows ones included
    # The policy answers the first option: "yes" to every fact, and yes for every name.
    facts = [c for c in full if c.kind == "fact"]
    right = sum(c.accuracy.value * c.accuracy.n for c in facts) / sum(c.accuracy.n for c in facts)
    wanted = [p for p in intended if p.kind == "fact"]
    assert right == pytest.approx(sum(p.answer == "yes" for p in wanted) / len(wanted))
    for c in facts:  # answering reality scores the true beliefs: none among the false ones
        if c.belief == "false":
            assert c.baselines["reality"] is not None and c.baselines["reality"].value == 0.0
    who = [c for c in full if c.kind == "who_knows"]
    assert {c.order for c in who} == {2, 3} and all(c.chance == 1 / 2**4 for c in who)
    everyone = [p for p in intended if p.kind == "who_knows"]
    said_all = sum(c.accuracy.value * c.accuracy.n for c in who)
    assert said_all == pytest.approx(sum(p.answer.count(",") == 3 for p in everyone))


def test_a_battery_with_a_failed_run_exits_1_and_a_repeat_retries_it(
    battery_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simstage.stage import StageError

    def build(config: object, *args: object, **kwargs: object) -> ScriptedStage:
        if getattr(config, "model", None) == "named-last":
            raise StageError("cannot load named-last")
        return policy_stage(config)

    monkeypatch.setattr(simstage.run.open, "make_stage", build)
    out = tmp_path / "out"
    result = battery(str(battery_file), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert f"battery {RUNS} runs (2 models × 4 scene-puppeteer pairs × 3 seeds)" in result.stderr
    assert f"{RUNS // 2} of {RUNS} runs finished" in result.stderr
    assert f"{RUNS // 2} runs failed; re-run the same command to retry them" in result.stderr
    assert all(run_id.startswith("first__") for run_id in rows_in(out))

    monkeypatch.setattr(simstage.run.open, "make_stage", policy_stage)
    result = battery(str(battery_file), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert len(rows_in(out)) == RUNS


def _factors(shape: str) -> list[int]:
    return [int(term.split()[0]) for term in shape.split(" × ")]


_EVERY_SCENE_BOTH_PUPPETEERS = BATTERY.replace(", puppeteers: [as-written, bare]", "") + (
    "puppeteers: [as-written, bare]\n"
)


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        (BATTERY, "2 models × 4 scene-puppeteer pairs × 3 seeds"),
        (
            BATTERY.replace("styles: [both]", "styles: [direct, indirect]"),
            "2 models × 4 scene-puppeteer pairs × 2 styles × 3 seeds",
        ),
        (_EVERY_SCENE_BOTH_PUPPETEERS, "2 models × 3 scenes × 2 puppeteers × 3 seeds"),
    ],
)
def test_the_first_line_says_how_the_runs_multiply_up(
    tmp_path: Path, text: str, shape: str
) -> None:
    """Two scenes under one puppeteer and one under two are 4 scene-puppeteer pairs, not 3 × 2."""
    from math import prod

    from simstage.battery.file import load_battery
    from simstage.battery.plan import make_battery_plan

    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    plan = make_battery_plan(load_battery(path))
    assert plan.shape() == shape
    assert prod(_factors(plan.shape())) == len(plan.runs)


def test_ctrl_c_while_the_battery_sets_up_is_a_clean_stop(
    battery_file: Path, tmp_path: Path, policies: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, Ctrl-C while the scenes were written printed click's "Aborted!" with exit 1,
    # and SIGTERM killed the process, leaving temporary files behind.
    import simstage.battery.scenes

    real = simstage.battery.scenes.write_scenes

    def interrupted(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(simstage.battery.scenes, "write_scenes", interrupted)
    out = tmp_path / "out"
    result = battery(str(battery_file), "--out", str(out))
    assert result.exit_code == 130, result.output
    assert result.output.splitlines()[-1] == (
        "stopped: the runs finished stay, and the same command goes on"
    )
    assert [p.name for p in out.rglob("*.tmp")] == []
    monkeypatch.setattr(simstage.battery.scenes, "write_scenes", real)
    assert battery(str(battery_file), "--out", str(out)).exit_code == 0
