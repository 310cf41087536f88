"""The state of the world: who is where, what is in which container. A fold over events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from simstage.events import Entered, Exited, Moved
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

    def apply(self, event: object) -> None:
        """Advance the state by one event (events that move nothing are ignored)."""
        if isinstance(event, (Entered, Exited)):
            self.character_location[event.who] = event.to
        elif isinstance(event, Moved):
            self.object_container[event.object] = event.to


def fold_world(scenario: Scenario, events: Iterable[object]) -> WorldState:
    """The world after `events`, starting from the scenario's opening state."""
    state = WorldState.initial(scenario)
    for event in events:
        state.apply(event)
    return state
