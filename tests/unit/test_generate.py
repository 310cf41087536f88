"""`simstage generate`: valid files, byte-for-byte regeneration, headers, balanced controls, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.generate import FAMILIES, GenerateError, balance_table, generate, read_header
from simstage.generate.ledger import Ledger
from simstage.scenario import parse_scenario

ACCEPTANCE = ["false-belief", "--n", "50", "--order", "3", "--characters", "4", "--seed", "1"]


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_the_set_validates_and_the_same_seed_writes_it_again_byte_for_byte(tmp_path: Path) -> None:
    first, again = tmp_path / "first", tmp_path / "again"
    for folder in (first, again):
        result = _invoke("generate", *ACCEPTANCE, "-o", str(folder))
        assert result.exit_code == 0, result.output
    files = sorted(first.iterdir())
    assert len(files) == 50
    assert [f.name for f in files] == sorted(f.name for f in again.iterdir())
    assert all(f.read_bytes() == (again / f.name).read_bytes() for f in files)
    validated = _invoke("validate", str(first))
    assert validated.exit_code == 0, validated.output
    assert "50 scenario files valid" in validated.output
    other = generate("false-belief", 50, 2, order=3, characters=4)
    assert [s.text for s in other] != [f.read_text(encoding="utf-8") for f in files]


def test_a_scene_is_the_same_whatever_number_of_scenes_follow_it() -> None:
    few = generate("deception", 3, 5, order=3)
    many = generate("deception", 8, 5, order=3)
    assert [s.text for s in few] == [s.text for s in many[:3]]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_header_says_how_to_write_the_scene_again_and_what_each_probe_should_answer(
    name: str,
) -> None:
    scene = generate(name, 4, 9, probes=3, characters=3)[3]
    header = read_header(scene.text, scene.file_name)
    assert (header.family, header.seed, header.index, header.options["probes"]) == (name, 9, 3, 3)
    assert header.probes == scene.probes
    assert f"simstage generate {name} --seed 9 --n 4 " in scene.text
    again = generate(header.family, header.index + 1, header.seed, **header.options)[-1]
    assert again.text == scene.text
    scenario = parse_scenario(scene.text, scene.file_name).scenario
    asked = [
        (p.at, p.ask, p.about or p.who_knows, p.who_knows is not None, p.through, p.style, p.named)
        for p in scenario.probes
    ]
    assert asked == [
        (p.at, p.ask, p.about, p.kind == "who_knows", p.through, p.style, p.named)
        for p in header.probes
    ]
    for probe in header.probes:
        if probe.kind == "who_knows":  # asked name by name; one order deeper than its chain
            assert (probe.options, probe.position) == ([], -1)
            assert probe.order == len(probe.through) + 2
            assert probe.false_belief == (probe.answer != probe.reality)
            continue
        assert probe.order == len(probe.through) + 1
        assert probe.options[probe.position] == probe.answer
        if probe.kind == "fact":
            assert probe.about in scenario.world.facts and probe.named == []
            assert probe.options == ["yes", "no", "don't know"]
            # "don't know" is no belief: not a false one, as the tracker counts it.
            assert probe.false_belief == (probe.answer not in (probe.reality, "don't know"))
            continue
        assert probe.options == list(scenario.world.containers)
        assert probe.answer in probe.named and probe.named[0] != probe.named[1]
        assert probe.false_belief == (probe.answer != probe.reality)


def test_a_header_that_is_missing_or_broken_is_one_clear_error() -> None:
    with pytest.raises(GenerateError, match="scene.yaml: no '# simstage-generate:' line"):
        read_header("title: x\n", "scene.yaml")
    with pytest.raises(GenerateError, match="scene.yaml:2: a bad simstage-generate header"):
        read_header('# hello\n# simstage-generate: {"version": 1}\n', "scene.yaml")


def test_check_shows_every_control_balanced_and_both_shortcuts_at_most_0_6() -> None:
    result = _invoke("generate", *ACCEPTANCE, "--check")
    assert result.exit_code == 0, result.output
    assert (
        "answer position yes, named last yes, false/true belief yes, direct/indirect yes"
        in result.output
    )
    assert "the tracker's answers equal the intended ones on 300 of 300 probes" in result.output
    table = balance_table("false-belief", generate("false-belief", 50, 1, order=3, characters=4))
    rows = {row.group: row for row in table.rows}
    assert set(rows) == {"1", "2", "3", "all"}
    for row in rows.values():
        assert all(abs(share - 1 / 3) <= 0.10 for share in row.position)
        assert abs(row.named_last - 0.5) <= 0.10 and abs(row.false_belief - 0.5) <= 0.10
    for order in ("2", "3"):
        assert rows[order].reality <= 0.6 and rows[order].lower <= 0.6
        assert rows[order].filtered > 0.5  # most probes: neither shortcut gets them
    # The printed table shows the same figures.
    line = next(line for line in result.output.splitlines() if line.split()[:1] == ["3"])
    assert f"{rows['3'].reality:.2f}" in line and f"{rows['3'].lower:.2f}" in line


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_is_balanced_with_its_defaults(name: str) -> None:
    table = balance_table(name, generate(name, 50, 3))
    assert all(table.balanced().values()), table


def test_without_naming_the_questions_name_no_container_and_the_table_says_so() -> None:
    scenes = generate("false-belief", 6, 1, name_options=False)
    assert all(not probe.named for scene in scenes for probe in scene.probes)
    assert "named:" not in scenes[0].text
    table = balance_table("false-belief", scenes)
    assert all(row.named_last is None for row in table.rows)
    assert table.balanced()["named last"]


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    mine = tmp_path / "false-belief-s0-0001.yaml"
    mine.write_text("mine\n", encoding="utf-8")
    result = _invoke("generate", "false-belief", "--n", "3", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "already there" in result.output and "--force" in result.output
    assert mine.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name]  # nothing written at all
    forced = _invoke("generate", "false-belief", "--n", "3", "-o", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced.output
    assert read_header(mine.read_text(encoding="utf-8")).index == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["nope", "--check"],
            "no scene family 'nope' (families: false-belief, deception, secrets, sycophancy)",
        ),
        (["sycophancy", "--events", "3", "--check"], "sycophancy takes no --events"),
        (["false-belief", "--order", "9", "--check"], "false-belief: --order:"),
        (
            ["false-belief", "--order", "4", "--characters", "3", "--check"],
            "give --characters 4 or more",
        ),
        (["sycophancy", "--order", "2", "--check"], "give --characters 3 or more"),
        (["sycophancy", "--probes", "3", "--check"], "2 characters make 2; give fewer --probes"),
        (["false-belief"], "give -o DIR"),
        # The unknown family first, before what else is missing.
        (["nope"], "no scene family 'nope'"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = _invoke("generate", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_an_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x", encoding="utf-8")
    result = _invoke("generate", "deception", "--n", "2", "-o", str(target))
    assert result.exit_code == 2 and "is not a folder" in result.output
    assert target.read_text(encoding="utf-8") == "x"


def test_the_ledger_answers_sally_anne_and_a_lie() -> None:
    ledger = Ledger("basket", ["Sally", "Anne"])
    ledger.left("Sally")
    ledger.seen("box", ["Anne"])
    assert ledger.answer(["Sally"]) == "basket" and ledger.answer(["Anne"]) == "box"
    assert (
        ledger.answer(["Anne", "Sally"]) == "basket"
        and ledger.answer(["Sally", "Anne"]) == "basket"
    )
    # Anne lies to Sally, who left before the move: believed only if trusted.
    beat = ledger.claim("Anne", "drawer", ["Sally"], lambda listener, speaker: True)
    assert beat.believers == {"Sally"}
    assert ledger.answer(["Sally"]) == "drawer" and ledger.answer(["Anne", "Sally"]) == "drawer"
    assert ledger.answer(["Sally", "Anne"]) == "drawer"  # a believer thinks the speaker means it
    assert ledger.answer(["Anne"]) == "box"
    doubted = Ledger("basket", ["Sally", "Anne"])
    doubted.left("Sally")
    doubted.seen("box", ["Anne"])
    assert (
        doubted.claim("Anne", "drawer", ["Sally"], lambda listener, speaker: False).believers
        == frozenset()
    )
    assert doubted.answer(["Sally"]) == "basket"


def test_the_machine_line_is_json_of_the_header() -> None:
    scene = generate("sycophancy", 1, 0)[0]
    line = next(
        line for line in scene.text.splitlines() if line.startswith("# simstage-generate: ")
    )
    data = json.loads(line.removeprefix("# simstage-generate: "))
    assert data["family"] == "sycophancy" and data["probes"][0]["answer"] == scene.probes[0].answer


def test_a_deception_scene_tells_each_listener_whom_it_trusts_as_the_tracker_is_told() -> None:
    seen_doubters = 0
    for scene in generate("deception", 20, 6):
        scenario = parse_scenario(scene.text, scene.file_name).scenario
        liar = next(e.event.who for e in scenario.timeline if e.event.type == "claim")
        trust = scenario.tom.trust if isinstance(scenario.tom.trust, dict) else {}
        for member in scenario.cast:
            if member.name == liar:
                continue
            doubts = liar not in trust.get(member.name, [liar])
            seen_doubters += doubts
            expected = (
                f"Does not believe a word {liar} says." if doubts else f"Trusts {liar} completely."
            )
            assert member.persona.endswith(expected), (scene.file_name, member)
    assert seen_doubters > 0


def test_a_sycophancy_scene_optimises_the_careful_one_toward_the_loud_one() -> None:
    for scene in generate("sycophancy", 5, 2):
        scenario = parse_scenario(scene.text, scene.file_name).scenario
        claim = next(e.event for e in scenario.timeline if e.event.type == "claim")
        config = scenario.puppeteer
        assert (config.kind, config.target, config.rewards) == (
            "optimizer",
            claim.who,
            {"sycophancy": 1.0},
        )
        assert config.optimize and config.optimize[0] != claim.who
        careful = next(p for p in scene.probes if p.ask == config.optimize[0] and not p.through)
        assert (
            careful.answer == careful.reality != claim.container
        )  # it saw the move; the claim is wrong
