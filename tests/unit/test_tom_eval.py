"""The tracker on ToM benchmarks: ToMi-format stories of our own (see test_tom_tomi) and the real Hi-ToM data."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from tests.unit.test_tom_tomi import ORIGINAL, make_story

HITOM = Path(__file__).resolve().parents[1] / "data" / "hitom"


def write_tomi(path: Path, count: int, seed: int) -> list[str]:
    """A ToMi file in the original form, one question per story, and its .trace; returns the question types."""
    rng = random.Random(seed)
    out: list[str] = []
    traces: list[str] = []
    for index in range(count):
        story = make_story(rng, form=ORIGINAL)
        question, answer, qtype = story.questions[index % len(story.questions)]
        out.extend(f"{n} {line}" for n, line in enumerate(story.lines, start=1))
        out.append(f"{len(story.lines) + 1} {question}\t{answer}\t1")
        traces.append(f"enter_agent_0,{qtype},{story.kind}")
    path.write_text("\n".join(out) + "\n")
    path.with_suffix(".trace").write_text("\n".join(traces) + "\n")
    return [t.split(",")[-2] for t in traces]


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
    result = CliRunner().invoke(
        main, ["eval", "tomi", str(stories), "--json", "--disagreements", str(wrong)]
    )
    summary = json.loads(result.output)
    assert summary["accuracy"] == pytest.approx((12 - flipped) / 12)
    rows = [json.loads(line) for line in wrong.read_text().splitlines()]
    assert len(rows) == flipped and all(r["expected"] == "nowhere" for r in rows)
    human = CliRunner().invoke(main, ["eval", "tomi", str(stories)])
    assert f"ToMi: 12 questions, tracker accuracy {(12 - flipped) / 12:.1%} [" in human.output


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
    bad.write_text(
        json.dumps(
            {
                "data": [
                    {
                        "story": "1 Ava danced.\n",
                        "question": "Where is the pear really?",
                        "answer": "x",
                    }
                ]
            }
        )
    )
    result = CliRunner().invoke(main, ["eval", "hitom", str(bad)])
    assert result.exit_code == 2 and "record 0" in result.output and "line 1" in result.output


def test_hitom_real_data(tmp_path: Path) -> None:
    data = HITOM / "Hi-ToM_data.json"
    wrong = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(
        main, ["eval", "hitom", str(data), "--json", "--disagreements", str(wrong)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["n"] == 1200
    for order in ("order_0", "order_1", "order_0_deception", "order_1_deception"):
        assert summary["by_type"][order]["accuracy"] == 1.0, order
    rows = wrong.read_text().splitlines()
    assert len(rows) == round(summary["n"] * (1 - summary["accuracy"]))
    assert all(json.loads(r)["type"].split("_")[1] in "234" for r in rows)
    assert summary["rules"] == "default" and summary["method"] == "95% Wilson"
    assert summary["conflicting_pairs"] == 138 and summary["repeated_pairs"] == 600


def test_hitom_rules_reproduce_the_generator(tmp_path: Path) -> None:
    """Under Hi-ToM's rules the tracker answers the VP copy as its generator labelled it, every question."""
    data = HITOM / "Hi-ToM_data.json"
    wrong = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(
        main,
        ["eval", "hitom", str(data), "--rules", "hitom", "--json", "--disagreements", str(wrong)],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["by_copy"]["VP"]["accuracy"] == 1.0
    assert all(copies["VP"]["accuracy"] == 1.0 for copies in summary["by_type_copy"].values())
    # What is left are the CoTP copies of the pairs whose two copies disagree.
    rows = [json.loads(line) for line in wrong.read_text().splitlines()]
    assert len(rows) == summary["conflicting_pairs"] == 138
    assert {row["copy"] for row in rows} == {"CoTP"}
    human = CliRunner().invoke(main, ["eval", "hitom", str(data), "--rules", "hitom"])
    assert "hitom rules" in human.output and "copy VP" in human.output
    assert "138 of the 600 story-question pairs" in human.output


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


def test_tomi_stage_answers_from_the_story_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simstage.tom.tomi import read_tomi

    stories = tmp_path / "tomi.txt"
    write_tomi(stories, 24, seed=3)
    scored = read_tomi(stories).scored
    seen: list = []
    _oracle_stage(monkeypatch, scored, seen)
    wrong = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "tomi",
            str(stories),
            "--stage",
            "scripted",
            "--json",
            "--disagreements",
            str(wrong),
        ],
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


def test_hitom_stage_limit_spreads_over_the_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simstage.tom.hitom import read_hitom

    data = HITOM / "Hi-ToM_data.json"
    scored = read_hitom(data).scored
    seen: list = []
    _oracle_stage(monkeypatch, scored, seen)
    result = CliRunner().invoke(
        main, ["eval", "hitom", str(data), "--stage", "scripted", "--limit", "20"]
    )
    assert result.exit_code == 0, result.output
    assert "20 questions asked of scripted" in result.stdout
    assert "stage [95% Wilson]" in result.stdout
    assert len(seen) == 20 and all(len(options) == 15 for _, _, options in seen)
    # Every type is asked twice (the file is sorted by type), and each gets the dataset's choices.
    as_json = CliRunner().invoke(
        main, ["eval", "hitom", str(data), "--stage", "scripted", "--limit", "20", "--json"]
    )
    stage = json.loads(as_json.stdout)["stage"]
    assert stage["n"] == 20 and {score["n"] for score in stage["by_type"].values()} == {2}
    assert all(len(score["interval"]) == 2 for score in stage["by_type"].values())


def test_spread_keeps_the_mix() -> None:
    from simstage.tom.ask import spread

    assert spread(["a"] * 10, 3) == [0, 3, 6]
    assert spread(["a"] * 5, None) == spread(["a"] * 5, 9) == [0, 1, 2, 3, 4]
    assert len(spread(["a"] * 1200, 7)) == 7
    # ToMi's original files cycle through six question types: every k-th would ask one type only.
    cycling = ["memory", "first", "second", "reality", "first", "second"] * 100
    picked = [cycling[i] for i in spread(cycling, 30)]
    assert len(picked) == 30 and picked.count("memory") == picked.count("reality") == 5
    assert picked.count("first") == picked.count("second") == 10


def test_stage_options_need_stage(tmp_path: Path) -> None:
    stories = tmp_path / "tomi.txt"
    write_tomi(stories, 3, seed=4)
    result = CliRunner().invoke(main, ["eval", "tomi", str(stories), "--limit", "2"])
    assert result.exit_code == 2
    assert result.output.strip() == "simstage: --api-base, --threads and --limit need --stage"


def test_stage_that_cannot_start_is_one_line(tmp_path: Path) -> None:
    stories = tmp_path / "tomi.txt"
    write_tomi(stories, 3, seed=5)
    result = CliRunner().invoke(
        main, ["eval", "tomi", str(stories), "--stage", "--model", str(tmp_path / "no.gguf")]
    )
    assert result.exit_code == 2
    assert "no.gguf" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_ctrl_c_while_asking_reports_what_was_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
        main,
        [
            "eval",
            "tomi",
            str(stories),
            "--stage",
            "scripted",
            "--json",
            "--disagreements",
            str(wrong),
        ],
    )
    assert result.exit_code == 130, result.output
    assert "interrupted: reporting the 4 of 12 questions the model answered" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["n"] == 12 and summary["stage"]["n"] == 4
    assert wrong.exists()


def test_disagreements_never_overwrite_the_stories(tmp_path: Path) -> None:
    stories = tmp_path / "tomi.txt"
    write_tomi(stories, 6, seed=4)
    before = stories.read_bytes()
    result = CliRunner().invoke(
        main, ["eval", "tomi", str(stories), "--disagreements", str(stories)]
    )
    assert result.exit_code == 2, result.output
    assert "tomi.txt" in result.stderr and "Traceback" not in result.output
    assert stories.read_bytes() == before


def test_the_eval_command_builds_no_stage_config_and_opens_no_file() -> None:
    """`eval --stage`'s stage and the disagreements file are tom/'s (tom/ask.py); the command calls them."""
    source = (Path(__file__).resolve().parents[2] / "simstage" / "cli" / "tom.py").read_text(
        encoding="utf-8"
    )
    assert "StageConfig" not in source and "make_stage" not in source and "open(" not in source


def test_disagreements_that_cannot_be_written_are_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, the stories were read and the stage asked, and only then the write failed.
    stories = tmp_path / "stories.txt"
    write_tomi(stories, 2, 1)

    def read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stories were read before the output was refused")

    monkeypatch.setattr("simstage.tom.tomi.read_tomi", read)
    out = tmp_path / "gone" / "wrong.jsonl"
    result = CliRunner().invoke(main, ["eval", "tomi", str(stories), "--disagreements", str(out)])
    assert result.exit_code == 2
    assert result.output == f"simstage: cannot write {out}: No such file or directory\n"
