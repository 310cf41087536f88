"""Benchmark stories (ToMi, Hi-ToM) as simstage scenes: a Scenario built in code plus events.

A reader parses a story into `StoryStep`s; `StoryBuilder` finds the world the
story needs (locations, containers, objects, who starts where) and replays the
steps as the engine would, so each event names exactly who witnessed it. The
tracker then answers the story's questions from those events alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from simstage.errors import SimstageError
from simstage.events import Act, Claimed, Entered, Exited, Moved
from simstage.scenario.models import Scenario
from simstage.tom.benchmark import Benchmark, Scored, label_conflicts, summarise
from simstage.tom.tracker import BeliefState, BeliefTracker
from simstage.world.state import WorldState

# The scores (`simstage.tom.benchmark`) are imported from here too.
__all__ = [
    "Answered",
    "Benchmark",
    "Question",
    "Scored",
    "StepKind",
    "StoryBuilder",
    "StoryError",
    "StoryStep",
    "label_conflicts",
    "summarise",
]


class StoryError(SimstageError, ValueError):
    """A story line that cannot be read; the message names the file and line."""


StepKind = Literal["enter", "exit", "move", "see", "peek", "claim", "place", "question"]


@dataclass(frozen=True)
class Question:
    """A question about the story so far."""

    kind: Literal["reality", "memory", "belief"]
    object: str
    holder: str | None = None
    chain: tuple[str, ...] = ()
    text: str = ""

    @property
    def order(self) -> int:
        """0 for reality and memory, 1 for "A thinks", 2 for "A thinks B thinks"..."""
        return 0 if self.holder is None else len(self.chain) + 1


@dataclass(frozen=True)
class StoryStep:
    """One line of a story, read.

    `enter`/`exit`/`place`: `who` and `location` (`place`: the character is
    there, as if since the story began); `move`: `who`, `object`, `container`;
    `see`: `object`, `container` (everyone present sees it); `peek`: `who` and
    `container` (everyone present sees what is in it); `claim`: `who`, `object`,
    `container` (empty: where the object really is, a truthful tell), and
    `listener` when private; `question`: `question`.
    """

    kind: StepKind
    line: int
    who: str = ""
    location: str = ""
    object: str = ""
    container: str = ""
    listener: str | None = None
    question: Question | None = None


@dataclass
class Answered:
    """A question with the tracker's answer."""

    question: Question
    line: int
    answer: str | None


@dataclass
class StoryBuilder:
    """Builds the scene for a story and answers its questions with the tracker.

    Args:
        name: the story's name (the scenario title).
        start: where characters are before they enter anywhere (and where they go on exit).
        open_containers: whether an entering character sees inside containers.
        order: belief order the tracker keeps.
        rules: the tracker's rule set (`default`, `tomi`, `hitom`).
        container_rooms: where containers stand, when the reader knows (else: where first seen).
    """

    name: str
    start: str = "elsewhere"
    open_containers: bool = False
    order: int = 4
    rules: str = "default"
    container_rooms: dict[str, str] = field(default_factory=dict)
    steps: list[StoryStep] = field(default_factory=list)

    def add(self, step: StoryStep) -> None:
        """Append a step."""
        self.steps.append(step)

    def _world(self, source: str) -> tuple[list[str], dict[str, str], dict[str, str], list[str]]:
        """Locations, container -> location, object -> first container, cast, in order of appearance."""
        locations: list[str] = [self.start]
        containers: dict[str, str] = dict(self.container_rooms)
        for room in self.container_rooms.values():
            if room not in locations:
                locations.append(room)
        objects: dict[str, str] = {}
        cast: list[str] = []
        where: dict[str, str] = {}
        scene = self.start

        def person(name: str) -> None:
            if name and name not in cast:
                cast.append(name)
                where[name] = self.start

        def place(location: str) -> None:
            if location not in locations:
                locations.append(location)

        for step in self.steps:
            person(step.who)
            if step.listener:
                person(step.listener)
            if step.kind in ("enter", "place"):
                place(step.location)
                where[step.who] = step.location
                scene = step.location
            elif step.kind == "exit":
                where[step.who] = self.start
            elif step.kind == "move":
                here = where[step.who]
                containers.setdefault(step.container, here)
                objects.setdefault(step.object, step.container)
            elif step.kind == "see":
                if step.location:
                    place(step.location)
                    containers.setdefault(step.container, step.location)
                containers.setdefault(step.container, scene)
                objects.setdefault(step.object, step.container)
            elif step.kind == "peek":
                containers.setdefault(step.container, where[step.who])
            elif step.kind == "claim" and step.container:
                objects.setdefault(step.object, step.container)
                containers.setdefault(step.container, scene)
            elif step.kind == "question":
                assert step.question is not None
                person(step.question.holder or "")
                for name in step.question.chain:
                    person(name)
        if not cast:
            raise StoryError(f"{source}: the story has no characters")
        return locations, containers, objects, cast

    def scenario(self, source: str = "story") -> Scenario:
        """The scene the story takes place in.

        Raises:
            StoryError: the story's world is not a valid scene (too many characters, ...).
        """
        locations, containers, objects, cast = self._world(source)
        try:
            return self._validate(locations, containers, objects, cast)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            raise StoryError(
                f"{source}: the story is not a valid scene: {where}: {first.get('msg', exc)}"
            ) from None

    def _validate(
        self,
        locations: list[str],
        containers: dict[str, str],
        objects: dict[str, str],
        cast: list[str],
    ) -> Scenario:
        return Scenario.model_validate(
            {
                "title": self.name[:200] or "story",
                "world": {
                    "locations": locations,
                    "containers": {
                        c: {"in": loc, "open": self.open_containers}
                        for c, loc in containers.items()
                    },
                    "objects": {o: {"in": c} for o, c in objects.items()},
                },
                "cast": [{"name": n, "persona": n, "location": self.start} for n in cast],
                "tom": {"order": self.order},
                "max_turns": max(1, len(self.steps)),
            }
        )

    def play(self, source: str = "story") -> tuple[Scenario, list[Any], list[Answered]]:
        """The scene, its events, and the tracker's answer to every question.

        Raises:
            StoryError: the story contradicts itself (naming `source` and the line).
        """
        scenario = self.scenario(source)
        world = WorldState.initial(scenario)
        tracker = BeliefTracker(scenario, order=self.order, rules=self.rules)
        start = WorldState.initial(scenario)
        events: list[Any] = []
        answers: list[Answered] = []
        for turn, step in enumerate(self.steps, start=1):
            for event in self._events(step, world, turn, source):
                events.append(event)
                tracker.apply(event)
                world.apply(event)
            if step.kind == "question":
                assert step.question is not None
                answers.append(
                    Answered(
                        step.question, step.line, _answer(step.question, tracker.state(), start)
                    )
                )
        return scenario, events, answers

    def _events(self, step: StoryStep, world: WorldState, turn: int, source: str) -> Iterator[Any]:
        here = world.character_location.get(step.who, "")
        act: Act = {"turn": turn, "origin": "timeline", "who": step.who}
        if step.kind in ("enter", "place"):
            if here == step.location:
                return
            sees = world.visible_objects(step.location)
            witnesses = (*world.present(step.location), step.who)
            yield Entered(
                **act,
                to=step.location,
                frm=here,
                sees=sees,
                witnesses=witnesses,
            )
        elif step.kind == "exit":
            if here == self.start:
                return
            yield Exited(
                **act,
                to=self.start,
                frm=here,
                witnesses=world.present(here),
            )
        elif step.kind == "move":
            frm = world.object_container[step.object]
            if world.container_location[step.container] != here:
                raise StoryError(
                    f"{source}:{step.line}: {step.who} is not where the {step.container} is"
                )
            if frm != step.container:
                yield Moved(
                    **act,
                    object=step.object,
                    frm=frm,
                    to=step.container,
                    witnesses=world.present(here),
                )
        elif step.kind == "see":
            if world.object_container[step.object] != step.container:
                raise StoryError(
                    f"{source}:{step.line}: the {step.object} is in the {world.object_container[step.object]}, "
                    f"not the {step.container}"
                )
            location = world.container_location[step.container]
            present = world.present(location)
            if present:
                # A statement of where something is: those present look and see it.
                yield Entered(
                    turn=turn,
                    origin="timeline",
                    who=present[-1],
                    to=location,
                    frm=location,
                    sees={**world.visible_objects(location), step.object: step.container},
                    witnesses=present,
                )
        elif step.kind == "peek":
            if world.container_location[step.container] != here:
                raise StoryError(
                    f"{source}:{step.line}: {step.who} is not where the {step.container} is"
                )
            inside = {o: c for o, c in world.object_container.items() if c == step.container}
            yield Entered(
                **act,
                to=here,
                frm=here,
                sees={**world.visible_objects(here), **inside},
                witnesses=world.present(here),
            )
        elif step.kind == "claim":
            if step.object not in world.object_container:
                raise StoryError(
                    f"{source}:{step.line}: the story never says where the {step.object} is"
                )
            witnesses = (step.who, step.listener) if step.listener else world.present(here)
            container = step.container or world.object_container[step.object]
            yield Claimed(
                **act,
                object=step.object,
                container=container,
                text=f"The {step.object} is in the {container}.",
                true=world.object_container[step.object] == container,
                witnesses=witnesses,
            )


def _answer(question: Question, state: BeliefState, start: WorldState) -> str | None:
    if question.kind == "reality":
        return state.reality.get(question.object)
    if question.kind == "memory":
        return start.object_container.get(question.object)
    assert question.holder is not None
    belief = state.where(question.holder, question.object, question.chain)
    return None if belief is None else belief.container
