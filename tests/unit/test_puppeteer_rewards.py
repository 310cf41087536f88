"""Rewards (judge, tracker, plugins), puppeteer validation, metrics and `simstage compare`, on the scripted stage."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from importlib.metadata import EntryPoint

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.engine import Simulation
from simstage.events import TurnMetrics
from simstage.puppeteer import KINDS, rewards
from simstage.puppeteer.metrics import run_metrics, summarise, voice_collapse
from simstage.puppeteer.rewards import Candidate, RewardContext
from simstage.render import narrate
from simstage.run.log import read_runlog
from simstage.scenario import ScenarioError, load_scenario, parse_scenario
from simstage.scenario.models import ClaimAction
from simstage.stage.base import Message
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS, compare_json, say

LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<field>[\w.]+): (?P<message>.+)$"
)


class JudgeStage(ScriptedStage):
    """A scripted stage whose judge says Yes to lines that contain `agree_word`."""

    def __init__(self, agree_word: str = "right", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.agree_word = agree_word
        self.questions: list[str] = []

    def score(
        self, seq: int, messages: Sequence[Message], continuation: str, prefix: str = ""
    ) -> float:
        if messages[0].content.startswith("You judge"):
            question = messages[-1].content
            self.questions.append(question)
            replied = question.rsplit("replied:", 1)[-1]
            yes = self.agree_word in replied.lower()
            return math.log(0.9 if (continuation == "Yes") == yes else 0.1)
        # Persona fit: lines that mention the persona's word score higher under the persona prompt.
        persona = "loves her blue marble" in messages[0].content
        return -len(continuation) + (5.0 if persona and "marble" in continuation else 0.0)


def syc_sim(stage: ScriptedStage) -> Simulation:
    return Simulation(load_scenario(SCENARIOS / "sycophancy.yaml").scenario, stage)


def test_sycophancy_is_judged_against_the_targets_last_line() -> None:
    stage = JudgeStage()
    stage.enqueue([say("Admit it, Mia: the Wall is plain to see.")])
    sim = syc_sim(stage)
    sim.step()  # Victor's scripted claim, then his own line
    context = RewardContext(sim.scene(), "Mia")
    scores = rewards.sycophancy(
        context, [Candidate("", "You are right, uncle."), Candidate("", "No, it is too narrow.")]
    )
    assert scores[0] == pytest.approx(0.9) and scores[1] == pytest.approx(0.1)
    assert stage.questions and all('Victor said: "Admit it, Mia' in q for q in stage.questions)
    assert rewards.sycophancy(RewardContext(sim.scene(), "Victor"), [Candidate("", "x")]) == [None]


def test_deception_follows_the_tracker() -> None:
    fresh = parse_scenario(
        "title: t\nworld: {locations: [room, hall], containers: {box: {in: room}, bin: {in: room}},"
        " objects: {ball: {in: box}}}\n"
        "cast: [{name: A, persona: p, location: room}, {name: B, persona: q, location: hall}]\n"
        "timeline: [{at: 1, event: {type: enter, who: B, to: room}}]\n"
    ).scenario
    sim = Simulation(fresh, ScriptedStage())
    sim.step()  # B walks in; it has never seen the ball
    context = RewardContext(sim.scene(), "A")
    lie = Candidate("", "x", ClaimAction(type="claim", who="A", object="ball", container="bin"))
    honest = Candidate("", "x", ClaimAction(type="claim", who="A", object="ball", container="box"))
    assert rewards.deception(context, [Candidate("", "Hello."), lie, honest]) == [0.0, 1.0, 0.0]
    scenario = load_scenario(SCENARIOS / "false-claim.yaml").scenario
    sim = Simulation(scenario, ScriptedStage())
    context = RewardContext(sim.scene(), "Ben")
    for _ in range(3):  # Cara is out while Ben hides the keys: she now wrongly thinks "coat"
        sim.step()
    truth = Candidate(
        "", "x", ClaimAction(type="claim", who="Ben", object="keys", container="drawer")
    )
    keep = Candidate("", "x", ClaimAction(type="claim", who="Ben", object="keys", container="coat"))
    assert rewards.deception(context, [Candidate("", "Hello."), truth, keep]) == [0.5, 0.0, 0.5]


def shout(context: RewardContext, candidates: Sequence[Candidate]) -> list[float | None]:
    """A third-party reward, loaded through the entry point group."""
    return [float(c.say.isupper()) for c in candidates]


def test_plugin_rewards_come_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="shout", value=f"{__name__}:shout", group=rewards.ENTRY_POINT_GROUP)
    monkeypatch.setattr(rewards, "_entry_points", lambda: [point])
    assert "shout" in rewards.reward_names()
    assert rewards.load_reward("shout") is shout
    text = (SCENARIOS / "sycophancy.yaml").read_text().replace("{sycophancy: 1.0}", "{shout: 1.0}")
    scenario = parse_scenario(text).scenario
    stage = ScriptedStage([say("Victor speaks."), say("quiet"), say("LOUD"), say("meh"), say("no")])
    sim = Simulation(scenario, stage, max_turns=2)
    sim.run()
    assert [e.text for e in sim.events if getattr(e, "type", None) == "say"][-1] == "LOUD"
    with pytest.raises(KeyError, match="valid: deception, goal, persona, shout, sycophancy"):
        rewards.load_reward("nope")


def write(tmp_path, text: str):
    path = tmp_path / "scene.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "{sycophancy: 1.0}",
            "{flattery: 1.0}",
            "puppeteer.rewards.flattery",
            "unknown reward 'flattery' (valid: deception, goal, persona, sycophancy)",
        ),
        ("target: Victor", "target: Vic", "puppeteer.target", "unknown character 'Vic'"),
        (
            "optimize: [Mia]",
            "optimize: [Mia, Bob]",
            "puppeteer.optimize.1",
            "unknown character 'Bob'",
        ),
        ("kind: optimizer", "kind: puppet", "puppeteer.kind", "Input should be 'bare'"),
        (
            "kind: optimizer",
            "kind: scripted\n  order: [Mia, Zed]",
            "puppeteer.order.1",
            "unknown character 'Zed'",
        ),
        (
            "  candidates: 4\n",
            "  candidates: 4\n  temperature: 2\n",
            "puppeteer.temperature",
            "Extra inputs",
        ),
    ],
)
def test_bad_puppeteer_sections_fail_validate_located(tmp_path, old, new, field, message) -> None:
    text = (SCENARIOS / "sycophancy.yaml").read_text()
    assert old in text
    path = write(tmp_path, text.replace(old, new))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    lines = [LINE.match(line) for line in result.output.splitlines() if LINE.match(line)]
    assert lines, result.output
    first = lines[0]
    assert first["field"] == field and message in first["message"]
    line_text = text.replace(old, new).splitlines()[int(first["line"]) - 1]
    assert (
        field.split(".")[1 if field.count(".") else 0] in line_text
        or field.split(".")[-1] in line_text
    )
    if "kind" in field:
        assert all(f"'{kind}'" in first["message"] for kind in KINDS)


def test_optimizer_without_rewards_is_refused() -> None:
    text = (SCENARIOS / "sycophancy.yaml").read_text().replace("  rewards: {sycophancy: 1.0}\n", "")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    assert any("needs at least one reward" in p.message for p in caught.value.problems)


# -- metrics --------------------------------------------------------------------


def said(turn: int, who: str, text: str) -> object:
    from simstage.events import Said

    return Said(turn=turn, who=who, text=text, witnesses=(who,))


def test_voice_collapse_measures_shared_words_across_characters() -> None:
    assert voice_collapse([said(1, "A", "red fox"), said(2, "A", "blue owl")]) is None
    assert voice_collapse([said(1, "A", "red fox"), said(2, "B", "red fox")]) == 1.0
    assert voice_collapse([said(1, "A", "red fox"), said(2, "B", "blue owl")]) == 0.0
    half = voice_collapse([said(1, "A", "red fox"), said(2, "B", "red owl")])
    assert half == pytest.approx(1 / 3)


def test_summary_folds_turn_metrics() -> None:
    fits = [2.0, 1.0, -1.0, -2.0]
    events = [
        TurnMetrics(
            turn=i + 1,
            speaker="A",
            persona_fit=f,
            voice_collapse=0.5,
            rewards={"goal": i / 4},
            flip=(i == 2),
            reward_gain=1.0 if i else None,
        )
        for i, f in enumerate(fits)
    ]
    summary = summarise(events, "optimizer", 4)
    assert summary.persona_drift == {"A": pytest.approx(1.5 - (-1.5))}
    assert summary.persona_fit == {"A": pytest.approx(0.0)}
    assert summary.flips == {"A": 1}
    assert summary.rewards == {"goal": pytest.approx(0.375)}
    assert summary.reward_gain == pytest.approx(1.0) and summary.voice_collapse == 0.5


def test_metrics_per_turn_and_at_the_end(sally_anne) -> None:
    lines = [
        say("My marble!"),
        say("Hello."),
        say("Where is it?"),
        say("Shh."),
        say("Off."),
        say("Ok."),
    ]
    stage = JudgeStage(chooser=None)
    stage.enqueue(lines)
    sim = Simulation(sally_anne.scenario, stage, metrics=True)
    sim.run()
    per_turn = [e for e in sim.events if isinstance(e, TurnMetrics)]
    assert [e.turn for e in per_turn] == list(range(1, 7))
    sally = [e.persona_fit for e in per_turn if e.speaker == "Sally"]
    # "My marble!" fits Sally's persona (the fake stage rewards it); the later lines do not.
    assert sally[0] == pytest.approx(5.0 / 2) and sally[1] == pytest.approx(0.0)
    # The summary is a fold over the recorded per-turn metrics, never an event of its own.
    summary = run_metrics(sim.events, "round_robin")
    assert summary is not None and summary.persona_drift["Sally"] > 0
    assert "run_metrics" not in {e.type for e in sim.events}
    assert all(narrate(e) for e in per_turn)
    plain = Simulation(sally_anne.scenario, ScriptedStage())
    plain.run()
    assert not [e for e in plain.events if isinstance(e, TurnMetrics)]
    assert run_metrics(plain.events, "round_robin") is None


# -- compare --------------------------------------------------------------------


def test_compare_json_has_metrics_per_puppeteer() -> None:
    data = compare_json("sycophancy.yaml", "bare,director,optimizer", "1-2")
    assert data["seeds"] == [1, 2] and list(data["puppeteers"]) == ["bare", "director", "optimizer"]
    for kind, entry in data["puppeteers"].items():
        assert entry["runs"] == 2 and [r["seed"] for r in entry["per_seed"]] == [1, 2]
        assert entry["metrics"]["sycophancy"] is not None
        assert all(r["metrics"]["puppeteer"] == kind for r in entry["per_seed"])
    assert data["puppeteers"]["optimizer"]["metrics"]["reward_gain"] is not None
    assert data["puppeteers"]["bare"]["metrics"]["reward_gain"] is None


def test_compare_table_and_refusals() -> None:
    path = str(SCENARIOS / "sycophancy.yaml")
    table = CliRunner().invoke(
        main, ["compare", path, "--stage", "scripted", "--puppeteer", "bare", "--seeds", "1"]
    )
    assert table.exit_code == 0 and "sycophancy" in table.output and "bare" in table.output
    for kinds, message in (
        ("human", "cannot compare puppeteer 'human'"),
        ("scripted", "needs `puppeteer.order`"),
    ):
        result = CliRunner().invoke(
            main, ["compare", path, "--stage", "scripted", "--puppeteer", kinds]
        )
        assert result.exit_code == 2 and message in result.output


def test_runs_with_puppeteer_events_replay(tmp_path) -> None:
    out = tmp_path / "run.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "run",
            str(SCENARIOS / "sycophancy.yaml"),
            "--stage",
            "scripted",
            "--headless",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    types = {e.type for e in read_runlog(out).events}
    assert {"candidate", "candidate_chosen", "turn_metrics"} <= types and "run_metrics" not in types
    replay = runner.invoke(main, ["replay", str(out)])
    assert replay.exit_code == 0 and "run metrics (optimizer)" in replay.output
