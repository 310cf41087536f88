"""The world: locations, containers, objects, presence; actions and who witnessed them."""

from simstage.world.actions import Action, resolve
from simstage.world.state import WorldState, fold_world

__all__ = ["Action", "WorldState", "fold_world", "resolve"]
