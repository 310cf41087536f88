"""The Stage protocol stays small, every stage class is one, and abilities are asked for by type."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from typing_extensions import get_protocol_members

from simstage.analysis.behaviour import AblatingStage
from simstage.stage import ClosableStage, Stage, StageError
from simstage.stage.abilities import LatentReader, TokenCounter, batching
from simstage.stage.batch import LlamaLane
from simstage.stage.llama import LlamaStage
from simstage.stage.owner import OwnedStage
from simstage.stage.remote import RemoteStage
from simstage.stage.scripted import ScriptedStage

ROOT = Path(__file__).resolve().parents[2]
STAGES = [ScriptedStage, LlamaStage, LlamaLane, RemoteStage, OwnedStage]

if TYPE_CHECKING:  # mypy checks these (`test_every_stage_class_conforms_for_mypy`); never run

    def _opened(
        scripted: ScriptedStage,
        llama: LlamaStage,
        lane: LlamaLane,
        remote: RemoteStage,
        owned: OwnedStage,
    ) -> list[ClosableStage]:
        return [scripted, llama, lane, remote, owned]

    def _wrapped(ablating: AblatingStage) -> Stage:
        return ablating


def test_the_core_protocol_has_at_most_eight_members() -> None:
    core = get_protocol_members(Stage)
    assert len(core) <= 8, sorted(core)
    assert {"generate", "choose", "score", "open_sequence", "fork", "drop"} <= core
    assert get_protocol_members(ClosableStage) - core == {"close"}


@pytest.mark.parametrize("kind", [*STAGES, AblatingStage], ids=lambda kind: kind.__name__)
def test_every_stage_class_has_each_member_with_the_protocols_parameters(kind: type) -> None:
    members = get_protocol_members(ClosableStage if kind in STAGES else Stage)
    for name in members:
        wanted = inspect.signature(getattr(Stage if name != "close" else ClosableStage, name))
        found = inspect.signature(getattr(kind, name))
        params = list(found.parameters.values())
        for want in wanted.parameters.values():
            have = next((p for p in params if p.name == want.name), None)
            assert have is not None, f"{kind.__name__}.{name} lacks {want.name}"
            assert have.default == want.default, (
                f"{kind.__name__}.{name}({want.name}) defaults otherwise"
            )
        extra = [
            p
            for p in params
            if p.name not in wanted.parameters and p.default is inspect.Parameter.empty
        ]
        assert not extra, f"{kind.__name__}.{name} needs more than the protocol gives: {extra}"


def test_every_stage_class_conforms_for_mypy() -> None:
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-error-summary", __file__],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_stage_is_a_getattr_proxy_and_the_registry_needs_no_ignores() -> None:
    sources = [
        *sorted((ROOT / "simstage" / "stage").glob("*.py")),
        ROOT / "simstage" / "analysis" / "behaviour.py",
    ]
    proxies = [
        path.name for path in sources if "def __getattr__" in path.read_text(encoding="utf-8")
    ]
    assert not proxies
    assert "type: ignore" not in (ROOT / "simstage" / "stage" / "__init__.py").read_text(
        encoding="utf-8"
    )


def test_the_description_records_what_the_header_always_held() -> None:
    assert ScriptedStage().describe().recorded() == {"backend": "scripted", "model": "scripted"}
    remote = RemoteStage("openai/m", api_base="http://127.0.0.1:9/v1", completion=lambda **_: None)
    assert remote.describe().recorded() == {
        "backend": "litellm",
        "model": "openai/m",
        "api_base": "http://127.0.0.1:9/v1",
    }
    bases = ["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"]
    several = RemoteStage("openai/m", api_base=bases, completion=lambda **_: None).describe()
    assert json.dumps(several.recorded()) == json.dumps(
        {"backend": "litellm", "model": "openai/m", "api_base": bases}
    )
    assert not several.shares_window and several.grammar and not several.remembers_calls


def test_the_scripted_stage_traits_come_from_its_arguments() -> None:
    described = ScriptedStage(n_ctx=50, plays_screenplay=True).describe()
    assert (
        described.context_window == 50 and described.plays_screenplay and described.remembers_calls
    )
    assert ScriptedStage().describe().context_window is None


class _Steerable(ScriptedStage, LatentReader):
    """Answers the second option when steered; notes each call's steering."""

    def __init__(self) -> None:
        super().__init__()
        self.steers: list[object] = []

    @property
    def layers(self) -> tuple[int, ...]:
        return (3,)

    def choose_many_latent(self, jobs, contrast=None, steer=None):  # type: ignore[no-untyped-def]
        self.steers.append(steer)
        return [1 if steer else 0 for _ in jobs], [np.zeros((1, 4)) for _ in jobs]


def test_an_ablating_stage_reasks_each_latent_probe_under_every_steering() -> None:
    inner = _Steerable()
    direction, control = {3: np.ones(4) / 2}, {3: -np.ones(4) / 2}
    ablating = AblatingStage(inner, {"direction@3": direction, "random@3": control})
    reader = ablating.ability(LatentReader)
    assert reader is not None and reader.layers == (3,)
    answers, vectors = reader.choose_many_latent([(0, [], ["box", "basket"], "")])
    assert answers == [0] and len(vectors) == 1
    assert ablating.asked == {
        "baseline": ["box"],
        "direction@3": ["basket"],
        "random@3": ["basket"],
    }
    assert inner.steers == [None, direction, control]
    # Everything else is the stage's own.
    assert ablating.describe() is inner.describe() and ablating.ability(TokenCounter) is inner
    assert batching(ablating).choose_many([(0, [], ["a", "b"], "")]) == [0]


def test_behavioural_ablation_needs_a_stage_that_reads_activations() -> None:
    with pytest.raises(StageError, match="latent capture"):
        AblatingStage(ScriptedStage(), {})
