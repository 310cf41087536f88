"""The one error type of card reading."""

from __future__ import annotations


class CardError(ValueError):
    """A character card that cannot be used; the message names the file and the problem."""
