"""Hostile character cards thrown at `simstage card import` and at scenarios that name them."""

from __future__ import annotations

import base64
import json
import tempfile
import zlib
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simstage.cli import main
from simstage.scenario import CharacterConfig
from tests.unit.test_cards import chunk, make_png, text_chunk, v2_card, v3_card
from tests.unit.test_hostile_scenario import ODD, assert_clean

FOLDER = Path(tempfile.mkdtemp(prefix="simstage-hostile-card-"))
BOMB = zlib.compress(base64.b64encode(b"{" + b" " * 30_000_000 + b"}"), 9)
"""40 MB of base64 in a few tens of kilobytes."""
FIELDS = [
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "character_book",
]
ODD_TEXT = st.text(
    alphabet=st.sampled_from(list(ODD + "{}<>[]/\\ {{char}}{{user}}<BOT>&'\"x")), max_size=60
)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ODD_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
) | st.sampled_from(["x" * 150_000, "{{char}}" * 5000, "\n" * 3000, "   ", "", "../../etc/passwd"])


@st.composite
def hostile_card(draw: st.DrawFn) -> bytes:
    card = draw(st.sampled_from([v2_card, v3_card]))(
        draw(st.sampled_from(["Mira", " Odd\u202e name ", "x" * 100, "名前"]))
    )
    kind = draw(
        st.sampled_from(["field", "book", "wrap", "b64", "zlib", "bomb", "flip", "cut", "junk"])
    )
    if kind == "field":
        card["data"][draw(st.sampled_from(FIELDS))] = draw(VALUES)
    elif kind == "book":
        entries = card["data"].setdefault("character_book", {"entries": []})["entries"]
        entries.append(
            draw(
                st.dictionaries(
                    st.sampled_from(["content", "keys", "enabled", "name"]), VALUES, max_size=4
                )
            )
        )
        if draw(st.booleans()):
            card["data"]["character_book"]["entries"] = entries * draw(st.integers(1, 400))
    elif kind == "wrap":
        card = {
            "spec": draw(st.sampled_from(["chara_card_v2", "chara_card_v3", "x", None])),
            "data": draw(VALUES),
        }
    payload = json.dumps(card).encode("utf-8")
    keyword = draw(st.sampled_from(["chara", "ccv3", "Chara", "comment"]))
    form = draw(st.sampled_from(["json", "tEXt", "zTXt", "iTXt"]))
    if kind == "b64":
        encoded = draw(st.binary(max_size=100))
    else:
        encoded = base64.b64encode(payload)
    if form == "json":
        data = payload
    elif kind == "zlib":
        data = make_png(
            chunk(b"zTXt", keyword.encode() + b"\x00\x00" + draw(st.binary(max_size=200)))
        )
    elif kind == "bomb":
        data = make_png(chunk(b"zTXt", keyword.encode() + b"\x00\x00" + BOMB))
    else:
        data = make_png(text_chunk(keyword, encoded, form))
    if kind == "flip":
        raw = bytearray(data)
        for _ in range(draw(st.integers(1, 6))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        data = bytes(raw)
    elif kind == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif kind == "junk":
        data = draw(st.binary(max_size=200))
    return data


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile_card(), st.sampled_from([".png", ".json"]))
def test_card_import_and_card_entries_never_traceback(data: bytes, suffix: str) -> None:
    card = FOLDER / f"card{suffix}"
    card.write_bytes(data)
    runner = CliRunner()
    result = runner.invoke(main, ["card", "import", str(card)])
    assert_clean(result)
    if result.exit_code == 0:
        [entry] = yaml.safe_load(result.output)
        CharacterConfig.model_validate(entry)  # what it prints is a valid cast member
        assert "root:x:0:0" not in result.output  # a path in a card is text, never a file to read
    else:
        assert result.output.startswith("simstage: ")
    scene = FOLDER / "scene.yaml"
    scene.write_text(
        "title: t\nstage: {backend: scripted}\nworld: {locations: [room]}\n"
        f"cast:\n  - {{card: card{suffix}, location: room}}\n",
        encoding="utf-8",
    )
    validated = runner.invoke(main, ["validate", str(scene)])
    assert_clean(validated)
    assert validated.exit_code == result.exit_code, (result.output, validated.output)
    if validated.exit_code == 2:
        assert f"{scene}:5:" in validated.output


def test_decompression_bomb_in_itxt_is_refused_fast(tmp_path: Path) -> None:
    bomb = zlib.compress(b"A" * 50_000_000, 9)
    path = tmp_path / "bomb.png"
    path.write_bytes(make_png(chunk(b"iTXt", b"chara\x00\x01\x00\x00\x00" + bomb)))
    result = CliRunner().invoke(main, ["card", "import", str(path)])
    assert result.exit_code == 2 and "decompresses to more than" in result.output
