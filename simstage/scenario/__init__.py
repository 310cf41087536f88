"""Scenario files: models, loading with located errors, JSON schema."""

from simstage.scenario.loader import (
    LoadedScenario,
    LocatedProblem,
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
)
from simstage.scenario.models import CharacterConfig, Scenario, StageConfig

__all__ = [
    "CharacterConfig",
    "LoadedScenario",
    "LocatedProblem",
    "Scenario",
    "ScenarioError",
    "StageConfig",
    "load_scenario",
    "parse_scenario",
    "scenario_json_schema",
]
