"""The tracker on ToM benchmarks: generated ToMi-format stories and the real Hi-ToM data."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main

HITOM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hitom"
NAMES = ["Ava", "Ben", "Cleo", "Dan", "Eli"]
ROOMS = ["pantry", "den", "garage"]
BOXES = ["crate", "jar", "basket", "drawer", "chest", "bucket"]
THINGS = ["pear", "apple", "lime", "plum", "bean", "fig"]


class Oracle:
    """ToMi's rules, written independently of the tracker: closed containers, observers = those present."""

    def __init__(self) -> None:
        self.where: dict[str, str] = {}
        self.start: dict[str, str] = {}
        self.room: dict[str, str | None] = {}
        self.first: dict[tuple[str, str], str] = {}
        self.second: dict[tuple[str, str, str], str] = {}

    def present(self, room: str) -> list[str]:
        return [n for n, r in self.room.items() if r == room]

    def observe(self, room: str, thing: str, box: str) -> None:
        people = self.present(room)
        for a in people:
            self.first[(a, thing)] = box
            for b in people:
                if a != b:
                    self.second[(a, b, thing)] = box


def make_story(rng: random.Random, kind: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Lines of one story and (question, answer, question type) for each question asked."""
    a, b, c = rng.sample(NAMES, 3)
    room = rng.choice(ROOMS)
    box1, box2 = rng.sample(BOXES, 2)
    thing = rng.choice(THINGS)
    oracle = Oracle()
    lines: list[str] = []

    def enter(who: str) -> None:
        lines.append(f"{who} entered the {room}.")
        oracle.room[who] = room

    def leave(who: str) -> None:
        lines.append(f"{who} exited the {room}.")
        oracle.room[who] = None

    def noise() -> None:
        if rng.random() < 0.5:
            lines.append(f"{rng.choice([a, b, c])} {rng.choice(['likes', 'dislikes', 'loves', 'hates'])} the {rng.choice(THINGS)}.")

    enter(a)
    noise()
    if rng.random() < 0.5:
        lines.append(f"{a} is in the {room}.")
    enter(b)
    if rng.random() < 0.5:
        lines.append(f"The {box1} is in the {room}.")
    lines.append(f"The {thing} is in the {box1}.")
    oracle.where[thing] = oracle.start[thing] = box1
    oracle.observe(room, thing, box1)
    noise()
    if kind in ("false_belief", "second_order_false_belief"):
        leave(b)
    lines.append(f"{a} moved the {thing} to the {box2}.")
    oracle.where[thing] = box2
    oracle.observe(room, thing, box2)
    if kind == "second_order_false_belief":
        leave(a)
        enter(b)
    noise()
    questions = []
    for asked in (a, b):
        belief = oracle.first[(asked, thing)]
        questions.append((f"Where will {asked} look for the {thing}?", belief, f"first_order_{int(asked == b)}_{'tom' if belief != box2 else 'no_tom'}"))
    for x, y in ((a, b), (b, a)):
        belief = oracle.second[(x, y, thing)]
        questions.append((f"Where does {x} think that {y} searches for the {thing}?", belief, f"second_order_{int(x == b)}_{'tom' if belief != box2 else 'no_tom'}"))
    questions.append((f"Where was the {thing} at the beginning?", oracle.start[thing], "memory"))
    questions.append((f"Where is the {thing} really?", oracle.where[thing], "reality"))
    return lines, questions


def write_tomi(path: Path, count: int, seed: int) -> list[str]:
    """A ToMi file with one question per story, and its .trace; returns the question types in order."""
    rng = random.Random(seed)
    out: list[str] = []
    traces: list[str] = []
    kinds = ["true_belief", "false_belief", "second_order_false_belief"]
    for index in range(count):
        kind = kinds[index % 3]
        lines, questions = make_story(rng, kind)
        question, answer, qtype = questions[(index // 3) % len(questions)]
        numbered = [f"{n} {line}" for n, line in enumerate(lines, start=1)]
        numbered.append(f"{len(lines) + 1} {question}\t{answer}\t1")
        out.extend(numbered)
        traces.append(f"{kind},enter,move,{qtype},{kind}")
    path.write_text("\n".join(out) + "\n")
    path.with_suffix(".trace").write_text("\n".join(traces) + "\n")
    return [t.split(",")[-2] for t in traces]


def test_tomi_generated_stories_score_100(tmp_path: Path) -> None:
    stories = tmp_path / "tomi.txt"
    types = write_tomi(stories, 180, seed=1)
    assert {t.split("_")[0] for t in types} == {"first", "second", "memory", "reality"}
    assert any(t.endswith("_tom") for t in types) and any(t.endswith("no_tom") for t in types)
    wrong = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(main, ["eval", "tomi", str(stories), "--json", "--disagreements", str(wrong)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["n"] == 180
    assert summary["accuracy"] == 1.0, wrong.read_text()[:2000]
    assert set(summary["by_type"]) == set(types)
    assert wrong.read_text() == ""


def test_tomi_wrong_answers_are_reported(tmp_path: Path) -> None:
    stories = tmp_path / "tomi.txt"
    write_tomi(stories, 12, seed=2)
    lines = stories.read_text().splitlines()
    questions = [i for i, line in enumerate(lines) if "\t" in line]
    for i in questions[::3]:  # spoil every third answer
        q, _, support = lines[i].split("\t")
        lines[i] = f"{q}\tnowhere\t{support}"
    stories.write_text("\n".join(lines) + "\n")
    flipped = len(questions[::3])
    wrong = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(main, ["eval", "tomi", str(stories), "--json", "--disagreements", str(wrong)])
    summary = json.loads(result.output)
    assert summary["accuracy"] == pytest.approx((12 - flipped) / 12)
    rows = [json.loads(line) for line in wrong.read_text().splitlines()]
    assert len(rows) == flipped and all(r["expected"] == "nowhere" for r in rows)
    human = CliRunner().invoke(main, ["eval", "tomi", str(stories)])
    assert "ToMi: 12 questions" in human.output


def test_tomi_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    stories = tmp_path / "bad.txt"
    stories.write_text("1 Ava entered the pantry.\n2 Ava juggled the pear.\n")
    result = CliRunner().invoke(main, ["eval", "tomi", str(stories)])
    assert result.exit_code == 2
    assert "bad.txt:2" in result.output and "Traceback" not in result.output
    stories.write_text("Ava entered the pantry.\n")
    result = CliRunner().invoke(main, ["eval", "tomi", str(stories)])
    assert result.exit_code == 2 and "bad.txt:1" in result.output
    assert CliRunner().invoke(main, ["eval", "tomi", str(tmp_path / "none.txt")]).exit_code == 2


def test_hitom_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "h.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(main, ["eval", "hitom", str(bad)])
    assert result.exit_code == 2 and "h.json" in result.output
    bad.write_text(json.dumps({"data": [{"story": "1 Ava danced.\n", "question": "Where is the pear really?", "answer": "x"}]}))
    result = CliRunner().invoke(main, ["eval", "hitom", str(bad)])
    assert result.exit_code == 2 and "record 0" in result.output and "line 1" in result.output


def test_hitom_real_data(tmp_path: Path) -> None:
    data = HITOM / "Hi-ToM_data.json"
    if not data.exists():
        pytest.skip(f"Hi-ToM data not present at {data}")
    wrong = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(main, ["eval", "hitom", str(data), "--json", "--disagreements", str(wrong)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["n"] == 1200
    for order in ("order_0", "order_1", "order_0_deception", "order_1_deception"):
        assert summary["by_type"][order]["accuracy"] == 1.0, order
    rows = wrong.read_text().splitlines()
    assert len(rows) == round(summary["n"] * (1 - summary["accuracy"]))
    assert all(json.loads(r)["type"].split("_")[1] in "234" for r in rows)


# -- --stage: the model answers too ----------------------------------------------------------------


def _oracle_stage(monkeypatch: pytest.MonkeyPatch, scored: list, seen: list) -> None:
    """A scripted stage that answers right when the story so far has an even length, else wrong."""
    import simstage.stage as stage_module
    from simstage.stage.scripted import ScriptedStage

    expected = {(item.context, item.question): item.expected for item in scored}

    def chooser(messages, options):
        story, _, rest = messages[-1].content.partition("\n\nQuestion: ")
        question = rest.split("\n")[0]
        seen.append((story, question, list(options)))
        right = list(options).index(expected[(story, question)])
        return right if len(story) % 2 == 0 else (right + 1) % len(options)

    monkeypatch.setattr(stage_module, "make_stage", lambda *a, **k: ScriptedStage(chooser=chooser))


def _oracle_accuracy(scored: list) -> float:
    return sum(len(item.context) % 2 == 0 for item in scored) / len(scored)


def test_tomi_stage_answers_from_the_story_so_far(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simstage.tom.tomi import read_tomi

    stories = tmp_path / "tomi.txt"
    write_tomi(stories, 24, seed=3)
    scored = read_tomi(stories)
    seen: list = []
    _oracle_stage(monkeypatch, scored, seen)
    wrong = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(
        main, ["eval", "tomi", str(stories), "--stage", "scripted", "--json", "--disagreements", str(wrong)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["accuracy"] == 1.0  # the tracker's
    assert summary["stage"]["n"] == 24 and summary["stage"]["model"] == "scripted"
    assert summary["stage"]["accuracy"] == pytest.approx(_oracle_accuracy(scored))
    assert 0 < summary["stage"]["accuracy"] < 1
    assert len(seen) == 24
    for story, question, options in seen:
        # The story as told, without any question line or its answer.
        assert "\t" not in story and "?" not in story and story.startswith("1 ")
        assert question.endswith("?") and len(options) >= 2
    rows = [json.loads(line) for line in wrong.read_text().splitlines()]
    assert len(rows) == round(24 * (1 - summary["stage"]["accuracy"]))
    assert all(row["stage"] != row["expected"] == row["tracker"] for row in rows)


def test_hitom_stage_limit_spreads_over_the_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simstage.tom.hitom import read_hitom

    data = HITOM / "Hi-ToM_data.json"
    if not data.exists():
        pytest.skip(f"Hi-ToM data not present at {data}")
    scored = read_hitom(data)
    seen: list = []
    _oracle_stage(monkeypatch, scored, seen)
    result = CliRunner().invoke(main, ["eval", "hitom", str(data), "--stage", "scripted", "--limit", "20"])
    assert result.exit_code == 0, result.output
    assert "20 questions asked of scripted" in result.stdout
    # Every type is asked twice (the file is sorted by type), and each gets the dataset's choices.
    assert all(line.split()[3] == "2" for line in result.stdout.splitlines()[3:])
    assert len(seen) == 20 and all(len(options) == 15 for _, _, options in seen)


def test_spread_keeps_the_mix() -> None:
    from simstage.tom.ask import spread

    assert spread(10, 3) == [0, 3, 6]
    assert spread(5, None) == spread(5, 9) == [0, 1, 2, 3, 4]
    assert len(spread(1200, 7)) == 7


def test_stage_options_need_stage(tmp_path: Path) -> None:
    stories = tmp_path / "tomi.txt"
    write_tomi(stories, 3, seed=4)
    result = CliRunner().invoke(main, ["eval", "tomi", str(stories), "--limit", "2"])
    assert result.exit_code == 2
    assert result.output.strip() == "simstage: --api-base, --threads and --limit need --stage"


def test_stage_that_cannot_start_is_one_line(tmp_path: Path) -> None:
    stories = tmp_path / "tomi.txt"
    write_tomi(stories, 3, seed=5)
    result = CliRunner().invoke(main, ["eval", "tomi", str(stories), "--stage", "--model", str(tmp_path / "no.gguf")])
    assert result.exit_code == 2
    assert "no.gguf" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_ctrl_c_while_asking_reports_what_was_answered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simstage.stage as stage_module
    from simstage.stage.scripted import ScriptedStage

    stories = tmp_path / "tomi.txt"
    write_tomi(stories, 12, seed=6)
    calls: list[int] = []

    def chooser(messages, options):
        calls.append(1)
        if len(calls) == 6:  # in the second batch of four
            raise KeyboardInterrupt
        return 0

    monkeypatch.setattr(stage_module, "make_stage", lambda *a, **k: ScriptedStage(chooser=chooser))
    wrong = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(
        main, ["eval", "tomi", str(stories), "--stage", "scripted", "--json", "--disagreements", str(wrong)]
    )
    assert result.exit_code == 130, result.output
    assert "interrupted: reporting the 4 of 12 questions the model answered" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["n"] == 12 and summary["stage"]["n"] == 4
    assert wrong.exists()
