"""Terminal escapes in data (a title, a model's line, a forged log, a card's file name) are shown, never obeyed.

`run --headless` and `replay` print text that came from files and from the
model; an ESC in it could clear the screen, recolour it or plant an OSC 8 link.
Every control character but newline and tab, and every bidi override, reaches
the terminal as a visible stand-in (`simstage.terminal.printable`). Names with
them are refused by `validate`, at their line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.terminal import printable
from tests.conftest import SCENARIOS

CONTROLS = [chr(c) for c in [*range(0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]]
BIDI = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
OBEYED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CLEAR = "\x1b[2J\x1b[H"
LINK = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
C1_CSI = "\x9b31m"


@pytest.mark.parametrize("char", CONTROLS + BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_printable_shows_every_control_and_bidi_character(char: str) -> None:
    shown = printable(f"a{char}b")
    assert not OBEYED.search(shown)
    assert shown.startswith("a") and shown.endswith("b") and len(shown) > 2


def test_printable_keeps_ordinary_text_newlines_and_tabs() -> None:
    text = "Sally: où est ma bille ? 🎲\n\tindented « quoted » 名前"
    assert printable(text) == text


def test_printable_shows_esc_as_its_control_picture() -> None:
    assert printable(CLEAR) == "␛[2J␛[H"
    assert printable("\x9b") == "\\x9b" and printable("\u202e") == "\\u202e"


def _scenario(tmp_path: Path, title: str, line: str) -> Path:
    text = (SCENARIOS / "sally-anne.yaml").read_text(encoding="utf-8")
    text = text.replace("title: Sally and Anne", f"title: {json.dumps(title)}")
    text = text.replace(
        "timeline:\n",
        f"timeline:\n  - {{at: 1, event: {{type: say, who: Anne, text: {json.dumps(line)}}}}}\n",
        1,
    )
    path = tmp_path / "escapes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _assert_shown(output: str) -> None:
    assert not OBEYED.search(output), repr(output[:400])


def test_run_headless_and_replay_show_escapes_from_the_scenario(tmp_path: Path) -> None:
    path = _scenario(tmp_path, f"Sally{CLEAR} and {LINK}", f"Hello {CLEAR}{C1_CSI}red\x07 {LINK}")
    out = tmp_path / "run.jsonl"
    runner = CliRunner()
    run = runner.invoke(
        main, ["run", str(path), "--headless", "--stage", "scripted", "--out", str(out)]
    )
    assert run.exit_code == 0, run.output
    _assert_shown(run.output)
    assert "Hello ␛[2J␛[H\\x9b31mred␇" in run.output
    replay = runner.invoke(main, ["replay", str(out)])
    assert replay.exit_code == 0, replay.output
    _assert_shown(replay.output)
    assert "Sally␛[2J␛[H and ␛]8;;http://evil.example/␛\\click" in replay.output
    assert "Hello ␛[2J␛[H\\x9b31mred␇" in replay.output


def test_replay_shows_escapes_a_forged_log_puts_in_a_line(tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    runner = CliRunner()
    run = runner.invoke(
        main,
        [
            "run",
            str(SCENARIOS / "sally-anne.yaml"),
            "--headless",
            "--stage",
            "scripted",
            "--out",
            str(out),
        ],
    )
    assert run.exit_code == 0, run.output
    lines = out.read_text(encoding="utf-8").splitlines()
    for index, raw in enumerate(lines[1:], start=1):
        event = json.loads(raw)
        if event["type"] == "say":
            event["text"] = f"{CLEAR}[bold]x[/]{LINK}\u202eevil"
            lines[index] = json.dumps(event)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    replay = runner.invoke(main, ["replay", str(out)])
    assert replay.exit_code == 0, replay.output
    _assert_shown(replay.output)
    assert "␛[2J␛[H[bold]x[/]␛]8;;" in replay.output  # shown, and not read as markup either


def test_an_error_quoting_a_file_name_shows_its_escapes(tmp_path: Path) -> None:
    text = (SCENARIOS / "sally-anne.yaml").read_text(encoding="utf-8")
    card = f"{CLEAR}gone.json"
    text = text.replace(
        "  - name: Anne\n", f"  - {{card: {json.dumps(card)}, location: room}}\n  - name: Anne\n", 1
    )
    path = tmp_path / "card.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    _assert_shown(result.output)
    assert "␛[2J␛[Hgone.json" in result.output
    missing = CliRunner().invoke(main, ["replay", str(tmp_path / f"{CLEAR}.jsonl")])
    assert missing.exit_code == 2
    _assert_shown(missing.output)


@pytest.mark.parametrize(
    "old, new",
    [
        ("  - name: Anne\n", '  - name: "An\\ene"\n'),
        ("  - name: Anne\n", '  - name: "An\\u202Ene"\n'),
        ("  locations: [room, hallway]", '  locations: [room, "hall\\x9bway"]'),
        ("    box: {in: room}", '    "b\\aox": {in: room}'),
        ("    marble: {in: basket}", '    "mar\\u2067ble": {in: basket}'),
    ],
    ids=[
        "esc-in-character",
        "bidi-in-character",
        "c1-in-location",
        "bel-in-container",
        "bidi-in-object",
    ],
)
def test_validate_refuses_control_and_bidi_characters_in_names(
    tmp_path: Path, old: str, new: str
) -> None:
    text = (SCENARIOS / "sally-anne.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "names.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    _assert_shown(result.output)
    line = text.splitlines().index(old.rstrip("\n")) + 1
    assert f"{path}:{line}:" in result.output
    assert "control" in result.output
