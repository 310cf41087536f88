"""The stage: the model that plays every character, behind a small protocol.

Backends are imported lazily through `make_stage`, so loading the llama stage
never imports litellm and the scripted stage imports neither.
"""

from __future__ import annotations

from simstage.stage.base import Message, Sampling, Stage, StageCounters, StageError

__all__ = ["BACKENDS", "Message", "Sampling", "Stage", "StageCounters", "StageError", "make_stage"]

BACKENDS = ("llama", "litellm", "scripted")


def make_stage(
    config: object,
    *,
    backend: str | None = None,
    model: str | None = None,
    base_dir: object = None,
    n_seq_max: int = 16,
    n_threads: int | None = None,
    vocab_only: bool = False,
    latent_layers: object = None,
) -> Stage:
    """Build the stage a scenario's `stage:` section (or the command line) names.

    Backends are imported only here, so choosing one never imports the others.

    Args:
        config: a `StageConfig`.
        backend: overrides `config.backend`.
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
    from pathlib import Path

    name = backend or config.backend  # type: ignore[attr-defined]
    if name == "scripted":
        from simstage.stage.scripted import ScriptedStage

        # Nothing reads a command-line run's prompts back; a long run would keep them all.
        return ScriptedStage(record_prompts=False)
    if name == "llama":
        from simstage.stage.llama import LlamaStage
        from simstage.stage.models import resolve_model
        from simstage.stage.owner import OwnedStage

        model_name = model or config.model  # type: ignore[attr-defined]
        path = resolve_model(model_name, Path(base_dir) if base_dir else None)
        from simstage.stage.chat import template_option

        template = template_option(config.chat_template, Path(base_dir) if base_dir else None)  # type: ignore[attr-defined]
        # One thread owns the llama.cpp context; the engine and the TUI reach it through a queue.
        return OwnedStage(LlamaStage(
            path,
            model_name=model_name,
            n_ctx=config.n_ctx,  # type: ignore[attr-defined]
            n_threads=n_threads or config.n_threads,  # type: ignore[attr-defined]
            n_gpu_layers=config.n_gpu_layers,  # type: ignore[attr-defined]
            n_seq_max=n_seq_max,
            allow_amx=config.amx,  # type: ignore[attr-defined]
            chat_template=template,
            vocab_only=vocab_only,
            latent_layers=latent_layers,  # type: ignore[arg-type]
        ))
    if name == "litellm":
        from simstage.stage.remote import RemoteStage

        return RemoteStage(
            model or config.model,  # type: ignore[attr-defined]
            api_base=config.api_base,  # type: ignore[attr-defined]
            api_key_env=config.api_key_env,  # type: ignore[attr-defined]
            timeout=config.timeout,  # type: ignore[attr-defined]
            retries=config.retries,  # type: ignore[attr-defined]
            slots=config.slots,  # type: ignore[attr-defined]
            response_format=config.response_format,  # type: ignore[attr-defined]
            n_ctx=config.n_ctx,  # type: ignore[attr-defined]
        )
    raise StageError(f"unknown stage backend {name!r} (valid: {', '.join(BACKENDS)})")
