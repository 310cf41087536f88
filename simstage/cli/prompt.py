"""`simstage prompt`: the exact text a character's sequence decodes at a turn."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from simstage.cli.errors import fail, friendly_errors
from simstage.cli.options import run_log_option, stage_options

if TYPE_CHECKING:
    from simstage.stage import ClosableStage, Stage


def events_before(scenario: Any, turn: int, log_events: list[Any] | None, seed: int | None) -> Any:
    """A simulation standing at the start of `turn`, its timeline for that turn applied.

    The earlier turns come from a run log when one is given, else from the
    scripted stage (canned lines, the scenario's own timeline and puppeteer).
    """
    from simstage.events import RunEnded
    from simstage.run.open import open_simulation
    from simstage.stage.scripted import ScriptedStage

    if log_events is not None:
        earlier = [e for e in log_events if e.turn < turn and not isinstance(e, RunEnded)]
        sim = open_simulation(
            scenario, ScriptedStage(), seed=seed, events=earlier, metrics=False
        ).simulation
        sim.turn = turn - 1
    else:
        turns = max(turn, scenario.max_turns)
        sim = open_simulation(
            scenario, ScriptedStage(), seed=seed, metrics=False, max_turns=turns
        ).simulation
        while sim.turn < turn - 1:
            sim.step()
    sim.begin_turn()
    return sim


def character_prompt(scenario: Any, sim: Any, name: str, screenplay: bool) -> list[Any]:
    """The messages `name` would get if given the floor now, as a chat or a screenplay."""
    from simstage.cast import screenplay as play
    from simstage.cast.prompt import character_messages
    from simstage.events import TurnStarted

    here = sim.world.character_location[name]
    started = TurnStarted(
        turn=sim.turn, speaker=name, location=here, present=sim.world.present(here)
    )
    events = [*sim.events, started]
    if screenplay:
        return play.turn_messages(scenario, name, events)
    return character_messages(scenario, name, events)


@click.command()
@click.argument("path", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.option(
    "--as", "name", required=True, metavar="NAME", help="The character whose prompt to show."
)
@click.option(
    "--turn",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="The turn at which NAME gets the floor.",
)
@stage_options(
    threads=False,
    model_help="Render with this model's chat template: 'default', an embedded model's name, or a GGUF path.",
)
@run_log_option(
    "--log", "log_path", "Take the earlier turns from a recorded run instead of the scripted stage."
)
@click.option(
    "--tokens", is_flag=True, help="Also print the token count (and the tokens, with --json)."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object: the text, messages, chat format and tokens.",
)
@friendly_errors
def prompt(
    path: str,
    name: str,
    turn: int,
    model: str | None,
    backend: str | None,
    log_path: str | None,
    tokens: bool,
    as_json: bool,
) -> None:
    """Print the exact text the stage decodes for NAME at a turn.

    \b
    The earlier turns are played on the scripted stage (canned lines), with the
    scenario's timeline applied up to and including --turn; or, with --log,
    taken from a recorded run. The text is rendered with the model's own chat
    template (the GGUF's tokenizer.chat_template, sandboxed), or as a
    screenplay for a base model without one. Only the tokenizer is loaded.
    With --stage litellm the server renders the template: the messages sent
    are printed instead.
    """
    from simstage.scenario import load_scenario

    loaded = load_scenario(path)
    scenario = loaded.scenario
    if name not in scenario.cast_names:
        fail(f"{path}: no character {name!r} (the cast: {', '.join(scenario.cast_names)})")
    log_events = None
    # Playing up to a turn takes as long as the turns: bound it, as the run is bound.
    bound, of = scenario.max_turns, f"{path}: --turn {turn} is past the scenario's"
    if log_path is not None:
        from simstage.run.log import read_runlog

        log = read_runlog(log_path)
        log_events = log.events
        bound, of = log.header.max_turns, f"{log_path}: --turn {turn} is past the run's"
    if turn > bound:
        fail(f"{of} max_turns ({bound})")
    stage: ClosableStage | None = None
    if (backend or scenario.stage.backend) == "llama":
        from simstage.run.open import build_stage

        stage = build_stage(loaded, backend="llama", model=model, vocab_only=True)
    try:
        sim = events_before(scenario, turn, log_events, seed=None)
        if name not in sim.world.character_location:
            fail(f"{path}: {name} is not in the scene at turn {turn}")
        on_screenplay = stage is not None and stage.describe().plays_screenplay
        messages = character_prompt(scenario, sim, name, screenplay=on_screenplay)
        if (
            backend or scenario.stage.backend
        ) == "litellm":  # as `RemoteStage` sends them: markers broken
            from simstage.stage.base import Message
            from simstage.stage.markup import neutralise

            messages = [Message(m.role, neutralise(m.content)) for m in messages]
        _print(stage, messages, name, turn, tokens, as_json, backend or scenario.stage.backend)
    finally:
        if stage is not None:
            stage.close()


def _print(
    stage: Stage | None,
    messages: list[Any],
    name: str,
    turn: int,
    tokens: bool,
    as_json: bool,
    backend: str,
) -> None:
    from simstage.stage.abilities import PromptRenderer

    report: dict[str, Any] = {"as": name, "turn": turn, "messages": [m.__dict__ for m in messages]}
    renderer = stage.ability(PromptRenderer) if stage is not None else None
    if stage is not None and renderer is not None:
        described = stage.describe()
        report["chat_format"] = described.chat_format
        report["template_source"] = described.template_source
        report["template_sha256"] = described.template_sha256
        report["text"] = renderer.prompt_text(messages)
        ids = renderer.prompt_tokens(messages)
        report["token_count"] = len(ids)
        if tokens:
            report["tokens"] = ids
    else:
        report["chat_format"] = None
        report["text"] = "\n".join(f"[{m.role}]\n{m.content}" for m in messages)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    click.echo(report["text"], nl=not report["text"].endswith("\n"))
    if renderer is not None:
        source = report["template_source"]
        line = f"— {name} at turn {turn}: {report['chat_format']} ({source})"
        if tokens:
            line += f", {report['token_count']} tokens"
        click.echo(line, err=True)
    elif tokens:
        click.echo(
            f"— {name} at turn {turn}: the {backend} stage has no tokenizer, so no token count "
            "(the messages are shown as they are)",
            err=True,
        )
