"""A run log's turns only go forward and never past the run's max_turns; `export --all-turns` writes the turns it has.

A forged turn of 10^400 made `report` die with an OverflowError traceback, and a
turn of 10^6 made `export --all-turns` write a million files. Such a log is
corrupt: one line naming the file and line, exit 2, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.run.log import LONGEST_RUN, RunLogError, read_runlog
from simstage.run.open import open_run
from simstage.stage.base import StageError
from tests.conftest import SCENARIOS

SALLY = SCENARIOS / "sally-anne.yaml"


def _played(tmp_path: Path) -> Path:
    out = tmp_path / "run.jsonl"
    with open_run(SALLY, out, backend="scripted") as session:
        session.simulation.run()
    return out


def _forge(path: Path, change) -> tuple[Path, int]:
    """The log with `change(index, event)` applied to its events; the line number of the first it changed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    first = 0
    for index in range(1, len(lines)):
        event = json.loads(lines[index])
        if change(index, event):
            lines[index] = json.dumps(event)
            first = first or index + 1
    forged = path.with_name("forged.jsonl")
    forged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return forged, first


def _commands(log: Path, folder: Path) -> dict[str, list[str]]:
    return {
        "replay": ["replay", str(log)],
        "report": ["report", str(log), "-o", str(folder / "report.html")],
        "export": ["export", str(log), "--all-turns", "-o", str(folder / "graphs" / "g")],
    }


@pytest.mark.parametrize("turn", [10**400, 10**15, 7], ids=["10^400", "10^15", "max_turns+1"])
def test_a_turn_past_max_turns_is_corrupt(tmp_path: Path, turn: int) -> None:
    base = _played(tmp_path)
    log, line = _forge(base, lambda i, e: e["type"] == "probe" and not e.update(turn=turn))
    with pytest.raises(RunLogError, match=rf"forged.jsonl:{line}: .*max_turns \(6\)"):
        read_runlog(log)
    out = tmp_path / "out"
    out.mkdir()
    for name, args in _commands(log, out).items():
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            name,
            result.exception,
        )
        assert f"forged.jsonl:{line}:" in result.output, (name, result.output)
    assert list(out.rglob("*")) in ([], [out / "graphs"])  # nothing written


def test_turns_going_backwards_are_corrupt(tmp_path: Path) -> None:
    base = _played(tmp_path)
    events = base.read_text(encoding="utf-8").splitlines()
    late = max(i for i, raw in enumerate(events) if json.loads(raw).get("turn") == 5)
    log, line = _forge(base, lambda i, e: i == late and not e.update(turn=2))
    result = CliRunner().invoke(main, ["replay", str(log)])
    assert result.exit_code == 2, result.output
    assert f"forged.jsonl:{line}: " in result.output and "turn 2" in result.output


def test_a_header_declaring_an_endless_run_is_refused(tmp_path: Path) -> None:
    base = _played(tmp_path)
    lines = base.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["max_turns"] = LONGEST_RUN + 1
    lines[0] = json.dumps(header)
    base.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RunLogError, match=r"run.jsonl:1: "):
        read_runlog(base)


def test_all_turns_writes_one_graph_per_recorded_turn(tmp_path: Path) -> None:
    base = _played(tmp_path)
    # Keep the events of turns 1 and 6 only: a log that skips turns.
    header, *events = base.read_text(encoding="utf-8").splitlines()
    kept = [raw for raw in events if json.loads(raw)["turn"] in (1, 6)]
    log = tmp_path / "gaps.jsonl"
    log.write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
    stem = tmp_path / "graphs" / "g"
    result = CliRunner().invoke(
        main, ["export", str(log), "--format", "json", "--all-turns", "-o", str(stem)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in stem.parent.iterdir()) == [
        "g-turn0.json",
        "g-turn1.json",
        "g-turn6.json",
    ]
    assert "3 graphs" in result.output


def _failed_at_turn_3(tmp_path: Path) -> Path:
    out = tmp_path / "run.jsonl"
    with open_run(SALLY, out, backend="scripted") as session:
        stage, original, calls = session.stage, session.stage.generate, {"n": 0}

        def generate(seq, messages, sampling):
            calls["n"] += 1
            if calls["n"] == 3:
                raise StageError("the stage went away")
            yield from original(seq, messages, sampling)

        stage.generate = generate  # type: ignore[method-assign]
        with pytest.raises(StageError):
            session.simulation.run()
    return out


def test_a_run_resumed_with_more_turns_records_them_and_still_reads(tmp_path: Path) -> None:
    out = _failed_at_turn_3(tmp_path)
    result = CliRunner().invoke(main, ["run", "--resume", str(out), "--max-turns", "9"])
    assert result.exit_code == 0, result.output
    log = read_runlog(out)
    assert log.header.max_turns == 9 and max(e.turn for e in log.events) == 9
    backup = next(e for e in log.events if e.type == "run_resumed").backup
    assert read_runlog(backup).header.max_turns == 6  # the log as it was is kept
    assert CliRunner().invoke(main, ["replay", str(out)]).exit_code == 0


def test_resume_refuses_max_turns_before_a_played_turn(tmp_path: Path) -> None:
    out = _failed_at_turn_3(tmp_path)
    before = out.read_bytes()
    result = CliRunner().invoke(main, ["run", "--resume", str(out), "--max-turns", "1"])
    assert result.exit_code == 2, result.output
    assert "max_turns 1 is before turn 2" in result.output
    assert out.read_bytes() == before


@pytest.mark.parametrize("turn", [10**15, 7])
def test_prompt_refuses_a_turn_past_max_turns(turn: int) -> None:
    result = CliRunner().invoke(
        main, ["prompt", str(SALLY), "--as", "Sally", "--turn", str(turn), "--stage", "scripted"]
    )
    assert result.exit_code == 2, result.output[-400:]
    assert f"--turn {turn}" in result.output and "max_turns (6)" in result.output
    assert result.output.count("\n") == 1


def test_prompt_takes_the_last_turn_and_bounds_a_log_by_its_run(tmp_path: Path) -> None:
    last = CliRunner().invoke(
        main, ["prompt", str(SALLY), "--as", "Sally", "--turn", "6", "--stage", "scripted"]
    )
    assert last.exit_code == 0, last.output
    log = _played(tmp_path)
    past = CliRunner().invoke(
        main,
        [
            "prompt",
            str(SALLY),
            "--as",
            "Sally",
            "--turn",
            "7",
            "--log",
            str(log),
            "--stage",
            "scripted",
        ],
    )
    assert past.exit_code == 2 and "max_turns (6)" in past.output


@pytest.mark.parametrize(
    "command",
    [
        ["run", str(SALLY), "--headless", "--stage", "scripted"],
        ["sweep", str(SALLY), "--seeds", "1"],
        ["compare", str(SALLY), "--stage", "scripted", "--puppeteer", "bare"],
    ],
    ids=["run", "sweep", "compare"],
)
def test_every_max_turns_stops_at_the_longest_run_a_log_can_hold(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    too_long = CliRunner().invoke(main, [*command, "--max-turns", str(LONGEST_RUN + 1)])
    assert too_long.exit_code == 2, too_long.output[-400:]
    assert "--max-turns" in too_long.output and f"1<=x<={LONGEST_RUN}" in too_long.output
    assert "Traceback" not in too_long.output and list(tmp_path.iterdir()) == []
