"""The state of the world: who is where, what is in which container, who watches or is distracted.

A fold over events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from simstage.events import Distracted, Entered, Exited, Moved, Peeked, PeekStopped
from simstage.scenario.models import Scenario


@dataclass
class WorldState:
    """Positions of characters and objects; containers and locations are fixed by the scenario."""

    locations: tuple[str, ...]
    container_location: dict[str, str]
    container_open: dict[str, bool]
    character_location: dict[str, str] = field(default_factory=dict)
    object_container: dict[str, str] = field(default_factory=dict)
    plural: frozenset[str] = frozenset()
    """Objects whose names are plural (`plural: true` in the scenario)."""
    facts: dict[str, bool] = field(default_factory=dict)
    """Whether each fact holds (fixed by the scenario)."""
    fact_text: dict[str, str] = field(default_factory=dict)
    """The sentence stating each fact."""
    watching: dict[str, str] = field(default_factory=dict)
    """Secret watchers: character -> the location it watches."""
    distracted_until: dict[str, int] = field(default_factory=dict)
    """Distracted characters: character -> the last turn it pays no attention."""

    @classmethod
    def initial(cls, scenario: Scenario) -> WorldState:
        """The world as the scene opens."""
        world = scenario.world
        return cls(
            locations=tuple(world.locations),
            container_location={name: c.in_ for name, c in world.containers.items()},
            container_open={name: c.open for name, c in world.containers.items()},
            character_location={member.name: member.location for member in scenario.cast},
            object_container={name: o.in_ for name, o in world.objects.items()},
            plural=frozenset(name for name, o in world.objects.items() if o.plural),
            facts={name: f.true for name, f in world.facts.items()},
            fact_text={name: f.text for name, f in world.facts.items()},
        )

    def copy(self) -> WorldState:
        """An independent copy."""
        return WorldState(
            locations=self.locations,
            container_location=self.container_location,
            container_open=self.container_open,
            character_location=dict(self.character_location),
            object_container=dict(self.object_container),
            plural=self.plural,
            facts=self.facts,
            fact_text=self.fact_text,
            watching=dict(self.watching),
            distracted_until=dict(self.distracted_until),
        )

    def be(self, obj: str) -> str:
        """'are' for a plural object, 'is' for the rest."""
        return "are" if obj in self.plural else "is"

    def present(self, location: str) -> tuple[str, ...]:
        """Characters in `location`, in cast order."""
        return tuple(who for who, where in self.character_location.items() if where == location)

    def object_location(self, obj: str) -> str:
        """The location of the container holding `obj`."""
        return self.container_location[self.object_container[obj]]

    def containers_in(self, location: str) -> tuple[str, ...]:
        """Containers standing in `location`."""
        return tuple(c for c, where in self.container_location.items() if where == location)

    def visible_objects(self, location: str) -> dict[str, str]:
        """Objects in open containers of `location`: object -> container."""
        return {
            obj: container
            for obj, container in self.object_container.items()
            if self.container_location[container] == location and self.container_open[container]
        }

    def is_distracted(self, who: str, turn: int) -> bool:
        """Whether `who` pays no attention during `turn`."""
        return turn <= self.distracted_until.get(who, -1)

    def watchers_of(self, location: str) -> tuple[str, ...]:
        """Characters secretly watching `location`, in cast order."""
        return tuple(who for who in self.character_location if self.watching.get(who) == location)

    def apply(self, event: object) -> None:
        """Advance the state by one event (events that change nothing are ignored)."""
        if isinstance(event, (Entered, Exited)):
            self.character_location[event.who] = event.to
            self.watching.pop(event.who, None)  # a watcher who moves stops watching
        elif isinstance(event, Moved):
            self.object_container[event.object] = event.to
        elif isinstance(event, Peeked):
            self.watching[event.who] = event.into
        elif isinstance(event, PeekStopped):
            self.watching.pop(event.who, None)
        elif isinstance(event, Distracted):
            self.distracted_until[event.who] = event.until


def fold_world(scenario: Scenario, events: Iterable[object]) -> WorldState:
    """The world after `events`, starting from the scenario's opening state."""
    state = WorldState.initial(scenario)
    for event in events:
        state.apply(event)
    return state
