"""Pilot tests of a live run on the scripted stage: control, speak as, inject, probe, fork, quit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from simstage.run.log import read_runlog
from simstage.scenario.models import MoveAction
from simstage.stage.scripted import ScriptedStage
from simstage.tui.messages import EventRecorded, Streaming
from simstage.tui.screens import HelpScreen, InjectScreen, SpeakScreen
from tests.tui.helpers import needs_tracker, wait_for, wait_idle


async def test_step_plays_one_turn_at_a_time(live_app):
    app = live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.turn == 0 and app.state == "paused"
        await pilot.press("n")
        await wait_idle(pilot)
        assert app.turn == 1
        await pilot.press("n")
        await wait_idle(pilot)
        assert app.turn == 2
        assert "Sally: Line 1." in app.query_one("#transcript").plain


async def test_run_then_pause_stops_the_turns(live_app):
    app = live_app(stage=ScriptedStage(delay=0.05))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        assert app.state == "running"
        await wait_for(pilot, lambda: app.turn >= 2)
        await pilot.press("space")
        assert app.state == "paused"
        await wait_idle(pilot)
        paused_at = app.turn
        await pilot.pause(0.3)
        assert app.turn == paused_at < app.max_turns
        await pilot.press("space")
        await wait_for(pilot, lambda: app.state == "finished")
        assert app.turn == app.max_turns


async def test_messages_stream_tokens_then_record_events(live_app):
    messages = []
    app = live_app(stage=ScriptedStage(chunk=3))
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.press("n")
        await wait_idle(pilot)
    streamed = [m for m in messages if isinstance(m, Streaming)]
    recorded = [m.event.type for m in messages if isinstance(m, EventRecorded)]
    assert streamed and streamed[-1].speaker == "Sally"
    assert recorded[:3] == ["turn_started", "turn_ended", "say"]


async def test_the_streaming_line_shows_the_words_then_the_action_not_the_json(live_app):
    messages = []
    say = 'The "marble" is mine.\nMine!'
    line = json.dumps({"say": say, "action": {"type": "move", "object": "marble", "to": "box"}})
    app = live_app(stage=ScriptedStage([line], chunk=3, delay=0.01))  # slow enough not to coalesce
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await pilot.press("n")
        await wait_idle(pilot)
        app.query_one("#transcript").stream("Sally", "The car", "move marble → box")
        shown = app.query_one("#transcript").query_one("#streaming").render().plain
    assert shown == "Sally … The car  [move marble → box]"
    streamed = [m for m in messages if isinstance(m, Streaming)]
    assert len(streamed) > 3 and all(say.startswith(m.text) for m in streamed)
    assert streamed[-1].text == say and not any("{" in m.text for m in streamed)
    with_action = [m.action for m in streamed if m.action]
    assert (
        with_action
        and set(with_action) == {"move marble → box"}
        and streamed[-1].action == with_action[0]
    )
    assert streamed[-2].action is None


async def test_speak_as_puts_the_line_in_transcript_and_log(live_app, tmp_path):
    app = live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await wait_idle(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SpeakScreen))
        app.screen.query_one("#who").value = "Anne"
        await pilot.press(*"Where is it?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SpeakScreen))
        await wait_idle(pilot)
        assert "Anne: Where is it?" in app.query_one("#transcript").plain
    said = [e for e in read_runlog(tmp_path / "run.jsonl").events if e.type == "say"]
    assert said[-1].who == "Anne" and said[-1].text == "Where is it?"
    raw = [e for e in read_runlog(tmp_path / "run.jsonl").events if e.type == "turn_ended"][-1].raw
    assert json.loads(raw) == {"say": "Where is it?", "action": None}


async def _inject_exit(pilot) -> None:
    app = pilot.app
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, InjectScreen))
    screen = app.screen
    assert screen.query_one("#kind").value == "exit"
    assert screen.query_one("#who").value == "Sally"
    screen.query_one("#to").value = "hallway"
    await pilot.click("#ok")
    await wait_for(pilot, lambda: not isinstance(app.screen, InjectScreen))
    await wait_idle(pilot)


async def test_inject_exit_moves_the_character(live_app, tmp_path):
    app = live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _inject_exit(pilot)
        exited = [e for e in app.events if e.type == "exit"]
        assert exited and exited[0].who == "Sally" and exited[0].origin == "human"
        assert "Sally in the hallway" in str(app.query_one("#cast").render())
    logged = [e for e in read_runlog(tmp_path / "run.jsonl").events if e.type == "exit"]
    assert logged[0].to == "hallway"


@needs_tracker
async def test_false_belief_shows_after_exit_then_move(live_app):
    app = live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _inject_exit(pilot)
        app.inject(MoveAction(type="move", who="Anne", object="marble", to="box"))
        await pilot.press("n")  # the next turn starts, so the belief change is marked
        await wait_idle(pilot)
        assert app.selected == "Sally"
        leaves = app.query_one("#beliefs").plain
        own = [leaf for leaf in leaves if leaf.startswith("Sally believes |")]
        assert own and "marble: basket (false)" in own[0]
        await pilot.press("right_square_bracket")
        assert app.selected == "Anne"
        anne = app.query_one("#beliefs").plain
        assert any(leaf.startswith("Anne believes |") and "marble: box" in leaf for leaf in anne)
        assert any(
            leaf.startswith("Anne thinks Sally believes |") and "basket (false)" in leaf
            for leaf in anne
        )


async def test_probe_now_asks_the_selected_character(live_app):
    app = live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await wait_idle(pilot)
        await pilot.press("p")
        await wait_idle(pilot)
        probes = [e for e in app.events if e.type == "probe"]
        assert [(p.ask, p.about) for p in probes] == [("Sally", "marble")]


async def test_fork_continues_in_a_new_log(live_app, tmp_path):
    app = live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(2):
            await pilot.press("n")
            await wait_idle(pilot)
        await pilot.press("f")
        await wait_idle(pilot)
        await wait_for(pilot, lambda: "fork" in app.log_path)
        await pilot.press("n")
        await wait_idle(pilot)
    old = read_runlog(tmp_path / "run.jsonl")
    new = read_runlog(app.log_path)
    assert old.events[-1].type == "run_ended" and "forked into" in old.events[-1].message
    assert new.header.forked_from == str(tmp_path / "run.jsonl")
    assert max(e.turn for e in new.events) == 3
    assert [e.model_dump() for e in new.events[: len(old.events) - 1]] == [
        e.model_dump() for e in old.events[:-1]
    ]


async def test_quit_records_the_interruption(live_app, tmp_path):
    app = live_app(stage=ScriptedStage(delay=0.1))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await wait_for(pilot, lambda: app.turn >= 1)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_value is not None or not app.is_running, timeout=5)
    assert app.return_value == "interrupted"
    app.live.close(timeout=5)
    log = read_runlog(tmp_path / "run.jsonl")
    assert log.events[-1].type == "run_ended" and log.events[-1].reason == "interrupted"
    assert not log.warnings


async def test_key_is_handled_within_100ms_while_a_line_is_generated(live_app):
    line = json.dumps({"say": "word " * 600, "action": None})
    stage = ScriptedStage([line], chunk=2, delay=0.02)  # ~30 s of generation; q cuts it short
    app = live_app(stage=stage)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await wait_for(
            pilot,
            lambda: (
                app.live.busy
                and app.query_one("#transcript").query_one("#streaming").render().plain
            ),
        )
        latencies = []
        for _ in range(5):
            before = app.selected
            started = time.perf_counter()
            # Pilot.press waits for the app to go idle, which it never does while streaming;
            # so press in a task and time the effect itself.
            press = asyncio.create_task(pilot.press("right_square_bracket"))
            while app.selected == before and time.perf_counter() - started < 2:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - started)
            press.cancel()  # the key is handled; skip the pilot's wait for an idle app
            with contextlib.suppress(asyncio.CancelledError):
                await press
        assert app.live.busy, "the line should still be generating"
        print(f"key latency while generating: max {max(latencies) * 1000:.1f} ms, all {latencies}")
        assert max(latencies) < 0.1
        await pilot.press("q")


async def test_help_and_palette_list_every_action(live_app):
    app = live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        names = {name for name, _help, _action in app.palette_commands()}
        for wanted in (
            "Run / pause",
            "Step one turn",
            "Speak as a character",
            "Inject a world event",
            "Probe the selected character",
            "Fork the run here",
            "Export the belief graph",
            "Help",
            "Quit",
        ):
            assert wanted in names
