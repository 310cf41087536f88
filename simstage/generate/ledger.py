"""The generator's own account of one object in a story it writes: who saw it where, who believed whom.

A family writes its story beat by beat into a `Ledger`, and the ledger gives the
answer the generator intends for any chain of minds. It knows only the few beats
generated stories are made of (the object seen at the start, moved in front of
whoever is in its room, someone leaving that room, a claim about it), so it is
written from the story's side, not the tracker's; the tests hold the two to the
same answers on thousands of scenes.

- Seeing: whoever is in the object's room when it starts somewhere or is moved
  knows where it went, and they all know that each other know (closed
  containers: coming back into the room shows nothing).
- A claim is believed by a listener who trusts the speaker and left the object
  before the speaker last did (so the speaker may know better); everyone who
  heard it knows who believed it, and a believer also thinks the speaker
  believes what it said.
- "A thinks B thinks C thinks" is answered by the latest beat that A, B and C
  all witnessed and that sets C's belief as B and A see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Beat:
    """One moment of a story that can set a belief about the object."""

    container: str
    """Where the object is (seen), or where the speaker says it is (a claim)."""
    witnesses: frozenset[str]
    """Who was in the room."""
    speaker: str | None = None
    """A claim's speaker; None when the object was seen."""
    believers: frozenset[str] = frozenset()
    """A claim's listeners who believed it."""

    def sets(self, chain: Sequence[str]) -> bool:
        """Whether this beat is the one that sets the belief along `chain` (holder first)."""
        if not self.witnesses.issuperset(chain):
            return False
        if self.speaker is None:
            return True
        last = chain[-1]
        # The innermost mind believed it; or it is the speaker, thought by a believer to mean it.
        return last in self.believers or (
            last == self.speaker and len(chain) >= 2 and chain[-2] in self.believers
        )


class Ledger:
    """The beats of one object's story, oldest first.

    Args:
        container: where the object starts.
        present: who is in its room at the start (they see it there).
    """

    def __init__(self, container: str, present: Iterable[str]):
        self.beats: list[Beat] = []
        self.reality = container
        self._clock = 0
        self._with: dict[str, int] = {}
        """When each character was last with the object: saw it, or left its room."""
        self.seen(container, present)

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def seen(self, container: str, witnesses: Iterable[str]) -> None:
        """The object is (now) in `container`, in front of `witnesses`."""
        now, group = self._tick(), frozenset(witnesses)
        self.reality = container
        self.beats.append(Beat(container, group))
        for name in group:
            self._with[name] = now

    def left(self, who: str) -> None:
        """`who` leaves the object's room (it was with the object until now)."""
        self._with[who] = self._tick()

    def claim(
        self,
        speaker: str,
        container: str,
        listeners: Iterable[str],
        trusts: Callable[[str, str], bool],
    ) -> Beat:
        """`speaker` says, in front of `listeners`, that the object is in `container`.

        Args:
            speaker: who says it.
            container: where it says the object is.
            listeners: who hears it (the speaker among them or not).
            trusts: whether (listener, speaker) is trust.

        Returns:
            The beat, with who believed it.
        """
        self._tick()
        heard = frozenset(listeners) | {speaker}
        spoke = self._with.get(speaker, -1)
        believers = frozenset(
            name for name in heard
            if name != speaker and trusts(name, speaker) and self._with.get(name, -1) < spoke
        )  # fmt: skip
        beat = Beat(container, heard, speaker, believers)
        self.beats.append(beat)
        return beat

    def answer(self, chain: Sequence[str]) -> str:
        """Where `chain[0]` thinks `chain[1]` thinks ... the object is (everyone saw the start)."""
        for beat in reversed(self.beats):
            if beat.sets(chain):
                return beat.container
        raise ValueError(f"nobody in {list(chain)} ever saw the object")
