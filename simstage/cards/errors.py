"""The one error type of card reading."""

from __future__ import annotations

from simstage.errors import SimstageError


class CardError(SimstageError, ValueError):
    """A character card that cannot be used; the message names the file and the problem."""
