"""A generated scene as a file: its header of comments, then the scenario in a fixed YAML layout.

The header says in words how to make the file again and what each probe's
intended answer is, and ends with one machine-readable line,
`# simstage-generate: {...}` (a `SceneHeader` as JSON) that `read_header` reads
back. The YAML is written by hand, not by a dumper, so the same scene is the
same bytes whatever the YAML library's version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import ValidationError

from simstage.generate.core import (
    CastMember,
    GenerateError,
    IntendedProbe,
    SceneHeader,
    Story,
    fact_label,
)

HEADER_TAG = "# simstage-generate: "
"""The start of the header's machine-readable line."""

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?: [A-Za-z0-9_-]+)*")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
_FLOW_ITEMS = ("timeline", "probes")
"""Lists whose items are written one per line, in flow style."""


def scalar(value: Any) -> str:
    """A YAML scalar: a plain word where that reads back the same, else a JSON string (valid YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def flow(value: Any) -> str:
    """A value in YAML flow style (`{a: b, c: [d, e]}`)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    return scalar(value)


def _block(key: str, value: Any) -> Iterator[str]:
    if isinstance(value, list) and key in _FLOW_ITEMS:
        yield f"{key}:"
        yield from (f"  - {flow(item)}" for item in value)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        yield f"{key}:"
        for item in value:
            lead = "  - "
            for field, inner in item.items():
                yield f"{lead}{scalar(field)}: {flow(inner)}"
                lead = "    "
    elif isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values()):
        yield f"{key}:"
        yield from (f"  {scalar(k)}: {flow(v)}" for k, v in value.items())
    else:
        yield f"{key}: {flow(value)}"


def scenario_yaml(data: dict[str, Any]) -> str:
    """The scenario's YAML text."""
    return "".join(f"{line}\n" for key, value in data.items() for line in _block(key, value))


def regenerate_command(header: SceneHeader) -> str:
    """The command that writes this scene again (as the last file of its set)."""
    flags = []
    for name, value in header.options.items():
        flag = name.replace("_", "-")
        flags.append(
            f"--{flag}"
            if value is True
            else f"--no-{flag}"
            if value is False
            else f"--{flag} {value}"
        )
    return f"simstage generate {header.family} --seed {header.seed} --n {header.index + 1} {' '.join(flags)} -o DIR"


def _describe(number: int, probe: IntendedProbe) -> str:
    chain = " -> ".join([probe.ask, *probe.through])
    kind = (
        "false belief"
        if probe.false_belief
        else "no belief"
        if probe.kind == "fact" and probe.answer == fact_label(None)
        else "true belief"
    )
    named = f"; names {probe.named[0]}, then {probe.named[1]}" if probe.named else ""
    asked = {"object": probe.style, "fact": f"is it true: {probe.about}"}.get(
        probe.kind, f"who knows: {probe.about}"
    )
    option = f"; option {probe.position + 1}" if probe.options else ""
    return (
        f"#   probe {number}: {chain} (order {probe.order}, {asked}, {kind}): {probe.answer}"
        f" (really {probe.reality}; one order down {probe.lower}{option}{named})"
    )


def scene_text(header: SceneHeader, data: dict[str, Any]) -> str:
    """The whole file: the header of comments, then the scenario."""
    lines = [
        (
            f"# A generated {header.family} scene: scene {header.index} of seed {header.seed}"
            f" (simstage generate, generator version {header.version})."
        ),
        f"# Written again, as the last file, by: {regenerate_command(header)}",
        "# The answers the generator intends (the ToM tracker's too: the tests hold them equal):",
        *(_describe(number, probe) for number, probe in enumerate(header.probes, 1)),
        HEADER_TAG + header.model_dump_json(),
    ]
    return "\n".join(lines) + "\n" + scenario_yaml(data)


def read_header(text: str, where: str = "<string>") -> SceneHeader:
    """The `# simstage-generate:` line of a generated scene, read back.

    Args:
        text: the file's text.
        where: the file's name, for messages.

    Raises:
        GenerateError: no such line, or one that is not a header.
    """
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith(HEADER_TAG):
            continue
        try:
            return SceneHeader.model_validate_json(line[len(HEADER_TAG) :])
        except ValidationError as exc:
            first = exc.errors()[0]
            place = ".".join(str(step) for step in first["loc"])
            raise GenerateError(
                f"{where}:{number}: a bad simstage-generate header ({place}: {first['msg']})"
            ) from None
    raise GenerateError(f"{where}: no '{HEADER_TAG.strip()}' line: not a generated scene")


def scenario_data(
    story: Story, order: list[str], probes: Sequence[IntendedProbe], seed: int
) -> dict[str, Any]:
    """The scenario file's content, in the order it is written."""
    room = story.locations[0]
    data: dict[str, Any] = {
        "title": story.title,
        "description": story.description,
        "seed": seed,
        "world": {
            "locations": story.locations,
            "containers": {name: {"in": room} for name in order},
            "objects": {story.object: {"in": story.start}},
        },
        "cast": [member_entry(member, room) for member in story.cast],
        "puppeteer": story.puppeteer,
        "tom": {"order": max(2, max((p.order for p in probes), default=1))},
        "timeline": [{"at": turn, "event": event} for turn, event in story.timeline],
        "probes": [probe_entry(probe) for probe in probes],
        "max_turns": story.max_turns,
    }
    if story.trust is not None:
        data["tom"]["trust"] = story.trust
    return data


def member_entry(member: CastMember, room: str) -> dict[str, Any]:
    """A cast member as the scenario file writes it (starting in `room`)."""
    entry: dict[str, Any] = {"name": member.name, "persona": member.persona, "location": room}
    if member.goals:
        entry["goals"] = list(member.goals)
    if member.style:
        entry["style"] = member.style
    return entry


def probe_entry(probe: IntendedProbe) -> dict[str, Any]:
    """A probe as the scenario file writes it (a fact's and a who-knows probe's without a style)."""
    entry: dict[str, Any] = {"at": probe.at, "ask": probe.ask}
    entry["who_knows" if probe.kind == "who_knows" else "about"] = probe.about
    if probe.through:
        entry["through"] = probe.through
    if probe.kind == "object":
        entry["style"] = probe.style
    if probe.named:
        entry["named"] = probe.named
    return entry
