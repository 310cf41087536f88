"""Forking a run: continue it in a new log holding every event so far ("what if Sally had stayed?")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simstage.events import RunEnded
from simstage.run.log import RunLogWriter


def fork_path(path: Path, turn: int) -> Path:
    """A free name beside `path` for its fork at `turn`: NAME-fork-tTURN-N.jsonl."""
    stem = path.stem.split("-fork-")[0]
    index = 1
    while (candidate := path.with_name(f"{stem}-fork-t{turn}-{index}.jsonl")).exists():
        index += 1
    return candidate


def fork_log(old: RunLogWriter, events: Sequence[Any], turn: int) -> RunLogWriter:
    """A new log with `old`'s header (marked as forked) and `events`; `old` records the fork and closes.

    Returns:
        The open writer of the new log, for the run to go on in.
    """
    path = fork_path(old.path, turn)
    header = old.header.model_copy(
        update={
            "forked_from": str(old.path),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    new = RunLogWriter(path, header)
    for event in events:
        new.append(event)
    old.append(RunEnded(turn=turn, reason="interrupted", message=f"forked into {path}"))
    old.close()
    return new
