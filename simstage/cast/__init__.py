"""The cast: each character's prompt from its own observations, and its turns."""

from simstage.cast.probes import ANSWER_PREFIX, probe_question
from simstage.cast.prompt import character_messages, system_message
from simstage.cast.turn import Turn, TurnParseError, parse_turn, turn_schema

__all__ = [
    "ANSWER_PREFIX",
    "Turn",
    "TurnParseError",
    "character_messages",
    "parse_turn",
    "probe_question",
    "system_message",
    "turn_schema",
]
