"""Messages the stage thread posts to the app: small, and token chunks coalesce."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class EventRecorded(Message):
    """An event was recorded by the simulation (run log first, then here)."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class Streaming(Message):
    """The words a character is speaking so far, and its action once parsed (cumulative, so a
    newer one replaces a queued one)."""

    def __init__(self, speaker: str, text: str, action: str | None = None) -> None:
        super().__init__()
        self.speaker = speaker
        self.text = text
        """The `say` words decoded so far (not the raw JSON of the turn)."""
        self.action = action
        """The action as a short phrase, once the whole of it has been generated."""

    def can_replace(self, message: Message) -> bool:
        """A queued partial line is superseded by a later one from the same speaker."""
        return isinstance(message, Streaming) and message.speaker == self.speaker


class StageBusy(Message):
    """The stage thread started (`busy`) or finished a job."""

    def __init__(self, busy: bool, label: str = "") -> None:
        super().__init__()
        self.busy = busy
        self.label = label


class StageStats(Message):
    """Measurements taken on the stage thread after a job (tokens/s, KV use per character)."""

    def __init__(self, tokens_per_s: float | None, kv: dict[str, int]) -> None:
        super().__init__()
        self.tokens_per_s = tokens_per_s
        self.kv = kv


class RunStateChanged(Message):
    """Running, paused, finished, or forked into a new log."""

    def __init__(self, state: str, log_path: str | None = None) -> None:
        super().__init__()
        self.state = state
        self.log_path = log_path


class StageFailed(Message):
    """A job on the stage thread raised; the run goes on (or ends, if the stage is gone)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
