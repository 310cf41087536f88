"""The stage: the model that plays every character, behind a small protocol.

Backends are imported lazily through `make_stage`, so loading the llama stage
never imports litellm and the scripted stage imports neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from simstage.stage.base import (
    ClosableStage,
    Message,
    Sampling,
    Stage,
    StageCounters,
    StageDescription,
    StageError,
)  # fmt: skip
from simstage.stage.config import (
    BACKENDS,
    LitellmStageConfig,
    LlamaStageConfig,
    ScriptedStageConfig,
    StageConfig,
    config_for,
)  # fmt: skip

__all__ = [
    "BACKENDS", "ClosableStage", "LitellmStageConfig", "LlamaStageConfig", "Message", "Sampling",
    "ScriptedStageConfig", "Stage", "StageConfig", "StageCounters", "StageDescription", "StageError",
    "config_for", "make_stage",
]  # fmt: skip


def make_stage(
    config: StageConfig,
    *,
    backend: str | None = None,
    model: str | None = None,
    base_dir: Path | str | None = None,
    n_seq_max: int = 16,
    n_threads: int | None = None,
    vocab_only: bool = False,
    latent_layers: Sequence[int] | str | None = None,
) -> ClosableStage:
    """Build the stage a scenario's `stage:` section (or the command line) names.

    Backends are imported only here, so choosing one never imports the others.

    Args:
        config: the scenario's stage section.
        backend: overrides `config.backend` (`config_for`: the options both share are kept).
        model: overrides `config.model`.
        base_dir: the scenario's folder, where a relative model path is looked up.
        n_seq_max: sequences the llama stage keeps (cast + spares for forks).
        n_threads: overrides `config.n_threads`.
        vocab_only: the llama stage loads only the tokenizer and the chat template (no context):
            enough to render and count a prompt (`simstage prompt`).
        latent_layers: the llama stage reads these blocks (or `all`) at probes (`simstage/stage/capture.py`).

    Raises:
        StageError: unknown backend, missing model, or a model that cannot load.
    """
    config = config_for(config, backend, model=model)
    folder = Path(base_dir) if base_dir is not None else None
    if isinstance(config, ScriptedStageConfig):
        from simstage.stage.scripted import ScriptedStage

        # Nothing reads a command-line run's prompts back; a long run would keep them all.
        return ScriptedStage(record_prompts=False)
    if isinstance(config, LlamaStageConfig):
        from simstage.stage.chat import template_option
        from simstage.stage.llama import LlamaStage
        from simstage.stage.models import resolve_model
        from simstage.stage.owner import OwnedStage

        # One thread owns the llama.cpp context; the engine and the TUI reach it through a queue.
        return OwnedStage(LlamaStage(
            resolve_model(config.model, folder),
            model_name=config.model,
            n_ctx=config.n_ctx,
            n_threads=n_threads or config.n_threads,
            n_gpu_layers=config.n_gpu_layers,
            n_seq_max=n_seq_max,
            allow_amx=config.amx,
            chat_template=template_option(config.chat_template, folder),
            vocab_only=vocab_only,
            latent_layers=latent_layers,
        ))  # fmt: skip
    from simstage.stage.remote import RemoteStage

    return RemoteStage(
        config.model,
        api_base=config.api_base,
        api_key_env=config.api_key_env,
        timeout=config.timeout,
        retries=config.retries,
        slots=config.slots,
        response_format=config.response_format,
        n_ctx=config.n_ctx,
    )
