"""Character cards: V2 PNG and V3 JSON built here, imported, and played on the scripted stage."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from simstage.cards import CardError, card_from_bytes, png_text_chunks, read_card
from simstage.cards.png import MAX_TEXT_BYTES
from simstage.cli import main
from simstage.engine import Simulation
from simstage.events import Said
from simstage.scenario import ScenarioError, load_scenario, parse_scenario
from simstage.stage.scripted import ScriptedStage


def chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def make_png(*text_chunks: bytes) -> bytes:
    """A valid 1x1 grey PNG with the given extra chunks before the image data."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"".join(text_chunks) + idat + chunk(b"IEND", b"")


def text_chunk(keyword: str, payload: bytes, kind: str = "tEXt") -> bytes:
    """A tEXt, zTXt or iTXt chunk holding `payload`."""
    key = keyword.encode("latin-1") + b"\x00"
    if kind == "tEXt":
        return chunk(b"tEXt", key + payload)
    if kind == "zTXt":
        return chunk(b"zTXt", key + b"\x00" + zlib.compress(payload))
    return chunk(b"iTXt", key + b"\x01\x00" + b"\x00" + b"\x00" + zlib.compress(payload))


def card(spec: str, version: str, **data) -> dict:
    """A character card of `spec` (chara_card_v2 or _v3) holding `data`."""
    return {"spec": spec, "spec_version": version, "data": data}


def v2_card(name: str = "Mira") -> dict:
    entries = [
        {"keys": ["key"], "content": "{{char}} hid the brass key under the mat.", "enabled": True},
        {"keys": ["off"], "content": "A disabled entry.", "enabled": False},
    ]
    return card(
        "chara_card_v2", "2.0", name=name,
        description="{{char}} is a lighthouse keeper who trusts no one.",
        personality="wry, watchful", scenario="A storm over the harbour.",
        first_mes="Close the door, {{user}}, the wind bites.",
        mes_example="<START>\n{{char}}: Mind the stairs.",
        character_book={"entries": entries},
        extensions={"avatar": "file:///etc/passwd", "card": "../../secret.png"},
    )  # fmt: skip


def v3_card(name: str = "Tobiah") -> dict:
    return card(
        "chara_card_v3", "3.0", name=name, description="A retired sea captain.",
        personality="gruff but kind", first_mes="Ahoy.", mes_example="",
        character_book={"entries": [{"keys": ["map"], "content": "He owns the only chart of the reef."}]},
        assets=[{"type": "icon", "uri": "file:///etc/shadow", "name": "main", "ext": "png"}],
    )  # fmt: skip


def v2_png(name: str = "Mira", kind: str = "tEXt") -> bytes:
    payload = base64.b64encode(json.dumps(v2_card(name)).encode())
    return make_png(text_chunk("chara", payload, kind))


def write_cards(folder: Path) -> tuple[Path, Path]:
    png = folder / "mira.png"
    png.write_bytes(v2_png())
    js = folder / "cards" / "tobiah.json"
    js.parent.mkdir()
    js.write_text(json.dumps(v3_card()), encoding="utf-8")
    return png, js


SCENE = """\
title: Cards at the lighthouse
seed: 3
stage: {backend: scripted}
world:
  locations: [lamp_room, stairs]
  containers: {mat: {in: lamp_room}, drawer: {in: lamp_room}}
  objects: {key: {in: mat}}
cast:
  - {card: mira.png, location: lamp_room}
  - {card: cards/tobiah.json, location: lamp_room, name: Toby, goals: [Find the key.]}
timeline:
  - {at: 2, event: {type: exit, who: Toby, to: stairs}}
  - {at: 3, event: {type: move, who: Mira, object: key, to: drawer}}
probes:
  - {at: 4, ask: Toby, about: key}
max_turns: 4
"""


@pytest.mark.parametrize("kind", ["tEXt", "zTXt", "iTXt"])
def test_v2_png_card_reads_from_every_text_chunk_kind(kind: str) -> None:
    card = card_from_bytes(v2_png(kind=kind), "mira.png")
    assert card.spec == "chara_card_v2" and card.name == "Mira"
    assert card.first_mes.startswith("Close the door")
    assert [entry.content for entry in card.lore] == ["{{char}} hid the brass key under the mat."]


def test_v3_png_prefers_the_ccv3_chunk() -> None:
    v3 = base64.b64encode(json.dumps(v3_card()).encode())
    v2 = base64.b64encode(json.dumps(v2_card()).encode())
    card = card_from_bytes(make_png(text_chunk("chara", v2), text_chunk("ccv3", v3)), "both.png")
    assert card.spec == "chara_card_v3" and card.name == "Tobiah"


def test_card_import_prints_a_cast_entry(tmp_path: Path) -> None:
    png, js = write_cards(tmp_path)
    result = CliRunner().invoke(main, ["card", "import", str(png), "--location", "lamp_room"])
    assert result.exit_code == 0, result.output
    [entry] = yaml.safe_load(result.output)
    assert entry["name"] == "Mira" and entry["location"] == "lamp_room"
    assert (
        entry["persona"].startswith("Mira is a lighthouse keeper")
        and "Personality: wry" in entry["persona"]
    )
    assert entry["first_line"] == "Close the door, the others, the wind bites."
    assert entry["secrets"] == ["Mira hid the brass key under the mat."]
    # The printed entry is a valid cast member.
    scene = SCENE.replace("{card: mira.png, location: lamp_room}", json.dumps(entry))
    assert "Mira" in load_scenario_text(scene, tmp_path).scenario.cast_names
    result = CliRunner().invoke(main, ["card", "import", str(js)])
    assert result.exit_code == 0 and yaml.safe_load(result.output)[0]["name"] == "Tobiah"


def load_scenario_text(text: str, folder: Path):
    path = folder / "scene.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def test_scenario_with_cards_plays_on_the_scripted_stage(tmp_path: Path) -> None:
    write_cards(tmp_path)
    loaded = load_scenario_text(SCENE, tmp_path)
    scenario = loaded.scenario
    assert scenario.cast_names == ["Mira", "Toby"]
    mira, toby = scenario.cast
    assert "lighthouse keeper" in mira.persona and mira.secrets == [
        "Mira hid the brass key under the mat."
    ]
    assert toby.goals == ["Find the key."] and toby.secrets == [
        "He owns the only chart of the reef."
    ]
    # Nothing a card names as a path is followed; its first line is a turn-1 line.
    assert "passwd" not in loaded.text and "shadow" not in loaded.text
    stage = ScriptedStage()
    sim = Simulation(scenario, stage)
    sim.run()
    first = [
        e for e in sim.events if isinstance(e, Said) and e.turn == 1 and e.origin == "timeline"
    ]
    assert [(e.who, e.text) for e in first] == [
        ("Mira", "Close the door, the others, the wind bites."),
        ("Toby", "Ahoy."),
    ]
    system = stage.prompts[0][1][0].content
    assert "lighthouse keeper" in system and "brass key" in system
    # The resolved text (what a run log's header keeps) replays without the card files.
    (tmp_path / "mira.png").unlink()
    again = parse_scenario(loaded.text, "header")
    assert again.scenario == scenario


def test_run_and_replay_through_the_cli(tmp_path: Path) -> None:
    write_cards(tmp_path)
    scene = tmp_path / "scene.yaml"
    scene.write_text(SCENE, encoding="utf-8")
    out = tmp_path / "run.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        main, ["run", str(scene), "--headless", "--stage", "scripted", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    (tmp_path / "mira.png").unlink()
    result = runner.invoke(main, ["replay", str(out)])
    assert result.exit_code == 0, result.output
    assert "Close the door" in result.output


def test_card_entry_problems_are_located(tmp_path: Path) -> None:
    write_cards(tmp_path)
    (tmp_path / "broken.png").write_bytes(make_png(text_chunk("chara", b"%%% not base64 %%%")))
    (tmp_path / "plain.png").write_bytes(make_png())
    bad = SCENE.replace("mira.png", "broken.png")
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(bad, tmp_path)
    [problem] = info.value.problems
    assert (problem.line, problem.field) == (
        9,
        "cast.0.card",
    ) and "not valid base64" in problem.message
    with pytest.raises(ScenarioError, match="holds no character card"):
        load_scenario_text(SCENE.replace("mira.png", "plain.png"), tmp_path)
    with pytest.raises(ScenarioError, match="must be a .png or .json"):
        load_scenario_text(SCENE.replace("mira.png", "../../etc/passwd"), tmp_path)
    with pytest.raises(ScenarioError, match="cast.1.colour"):
        load_scenario_text(SCENE.replace("name: Toby,", "name: Toby, colour: red,"), tmp_path)
    # Card entries in text that did not come from a file (a run log's header) are refused, not read.
    with pytest.raises(ScenarioError, match="only read from scenario files"):
        parse_scenario(SCENE, "header")


def test_broken_cards_have_clear_errors(tmp_path: Path) -> None:
    cases = {
        b"not a card at all": "not valid JSON",
        b"[1, 2]": "must be a JSON object",
        b'{"spec": "something_else"}': "not a character card",
        b'{"spec": "chara_card_v2"}': "under 'data'",
        b'{"spec": "chara_card_v2", "data": {"name": 5}}': "'name' must be text",
        b"[" * 100_000: "nests deeper",
        b'{"a":' * 40 + b"1" + b"}" * 40: "nests deeper",
        b"\x89PNG\r\n\x1a\n\x00\x00": "truncated",
        make_png(text_chunk("chara", base64.b64encode(b"{broken"))): "not valid JSON",
    }
    for data, message in cases.items():
        with pytest.raises(CardError, match=message):
            card_from_bytes(data, "c")


def test_decompression_bomb_is_refused() -> None:
    bomb = zlib.compress(b"A" * (MAX_TEXT_BYTES * 4), 9)
    assert len(bomb) < 100_000
    png = make_png(chunk(b"zTXt", b"chara\x00\x00" + bomb))
    with pytest.raises(CardError, match="decompresses to more than"):
        png_text_chunks(png, "bomb.png")


def test_read_card_never_reads_a_directory_or_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CardError, match="cannot read"):
        read_card(tmp_path)
    with pytest.raises(CardError, match="cannot read"):
        read_card(tmp_path / "missing.png")


def test_schema_lists_card_entries_as_cast_items() -> None:
    from simstage.scenario import scenario_json_schema

    schema = scenario_json_schema()
    refs = [item["$ref"] for item in schema["properties"]["cast"]["items"]["anyOf"]]
    assert refs == ["#/$defs/CharacterConfig", "#/$defs/CardCastEntry"]
    card = schema["$defs"]["CardCastEntry"]
    assert (
        sorted(card["required"]) == ["card", "location"]
        and card["properties"]["card"]["description"]
    )
