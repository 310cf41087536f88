"""Shared fixtures: scenarios, the scripted stage, and the real embedded model (session-wide)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage

# The property suites (hostile input) run the same examples every time, so CI is not
# a lottery; HYPOTHESIS_PROFILE=explore draws new ones (that is how bugs are found).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def compare_json(scenario: str, puppeteers: str, seeds: str) -> dict:
    """`simstage compare SCENARIO --stage scripted --json` for those puppeteers and seeds, parsed."""
    from click.testing import CliRunner

    from simstage.cli import main

    args = [
        "compare",
        str(SCENARIOS / scenario),
        "--stage",
        "scripted",
        "--puppeteer",
        puppeteers,
        "--seeds",
        seeds,
        "--json",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def say(text: str, action: dict | None = None) -> str:
    """A scripted turn as the stage would produce it."""
    return json.dumps({"say": text, "action": action})


@pytest.fixture
def sally_anne():
    return load_scenario(SCENARIOS / "sally-anne.yaml")


@pytest.fixture
def scripted_stage() -> ScriptedStage:
    return ScriptedStage()


@pytest.fixture(scope="session")
def llama_stage():
    """The real embedded model, loaded once for the session, 2 threads."""
    from simstage.stage.llama import LlamaStage
    from simstage.stage.models import resolve_model

    stage = LlamaStage(
        resolve_model("default"), model_name="default", n_ctx=4096, n_threads=2, n_seq_max=32
    )
    yield stage
    stage.close()
