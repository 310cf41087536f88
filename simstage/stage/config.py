"""A scenario's `stage:` section: one model per backend, told apart by `backend` (llama when absent).

The scenario file format imports these (`simstage/scenario/models.py`); the stage
package never imports the scenario. Every model forbids unknown fields, so an
option of another backend (`api_base` under `backend: llama`) is an error, not a
silent no-op. The scripted stage stands in for any backend (`--set
stage.backend=scripted`), so it accepts the others' options and ignores them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from simstage.stage.base import StageError

BACKENDS = ("llama", "litellm", "scripted")


class _Options(BaseModel):
    """Unknown fields are errors; field docstrings become the schema's descriptions."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class _Common(_Options):
    backend: str = "llama"
    """`llama`: in-process llama.cpp; `litellm`: a remote engine; `scripted`: canned lines for tests."""
    model: str = "default"
    """`default` (the embedded SmolLM2-135M-Instruct), `gemma3-270m` (embedded base model), or a GGUF
    path; for `litellm`, the litellm model name (`openai/NAME`, ...)."""
    n_ctx: int = Field(4096, ge=256, le=1_048_576)
    """Context window, in tokens, shared by all characters' sequences (`litellm`: the server's
    window per request)."""
    temperature: float = Field(0.7, ge=0.0, le=5.0)
    """Sampling temperature; 0 is greedy."""
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    max_tokens: int = Field(96, ge=8, le=4096)
    """Most tokens one character's line (its whole turn, as JSON) may take."""


class _LlamaOptions(_Options):
    n_threads: int | None = Field(None, ge=1, le=512)
    """CPU threads for llama.cpp; default: all cores."""
    n_gpu_layers: int = Field(0, ge=-1)
    """Layers to offload to a GPU on a CUDA build; -1 offloads all."""
    chat_template: str | None = None
    """How prompts are rendered. Unset: the GGUF's own `tokenizer.chat_template`
    (sandboxed), or a screenplay when it has none (a base model). `screenplay` plays a chat
    model as a base model; a llama.cpp built-in family (`llama3`, `chatml`, `mistral-v7`, ...)
    serves a GGUF that ships no template; a path ending in `.jinja` (relative to the
    scenario) uses that template."""
    amx: bool = False
    """Use ggml's AMX buffer type on Intel CPUs with AMX. Off by default, because
    it crashes at the first multi-token decode (llama.cpp #20824); turn it on only with a
    llama.cpp build where that is fixed. No effect on CPUs without AMX."""


class _LitellmOptions(_Options):
    api_base: str | list[str] | None = None
    """Server URL (e.g. http://127.0.0.1:8000/v1); a list of URLs serving the same model
    spreads requests over them (a litellm Router)."""
    api_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Name of the environment variable holding the API key (the key itself never goes in a file)."""
    timeout: float = Field(120.0, gt=0, le=3600)
    """Seconds to wait for one request."""
    retries: int = Field(3, ge=0, le=20)
    """Retries (with exponential backoff) when the server is unreachable or busy."""
    slots: int | None = Field(None, ge=1, le=1024)
    """Against llama.cpp's llama-server: pin each character to one of this many
    server slots (`id_slot`, `cache_prompt`) so its prompt cache stays warm."""
    response_format: Literal["auto", "json_schema", "json_object", "none"] = "auto"
    """How turns are constrained to JSON. `json_schema` (OpenAI, vLLM, llama-server),
    `json_object` with a schema (llama-cpp-python's server), `none` (parse free text);
    `auto` tries them in that order and keeps the first the server accepts."""


class LlamaStageConfig(_LlamaOptions, _Common):
    """The in-process llama.cpp stage (the default)."""

    backend: Literal["llama"] = "llama"
    """`llama`: in-process llama.cpp; `litellm`: a remote engine; `scripted`: canned lines for tests."""


class LitellmStageConfig(_LitellmOptions, _Common):
    """A remote engine reached through litellm (any OpenAI-compatible server)."""

    backend: Literal["litellm"]
    """`llama`: in-process llama.cpp; `litellm`: a remote engine; `scripted`: canned lines for tests."""


class ScriptedStageConfig(_LitellmOptions, _LlamaOptions, _Common):
    """Canned lines, for tests and demos: the other backends' options are accepted and ignored."""

    backend: Literal["scripted"]
    """`llama`: in-process llama.cpp; `litellm`: a remote engine; `scripted`: canned lines for tests."""


def _backend_of(value: object) -> str | None:
    """The union's tag: the section's `backend` (llama when it names none)."""
    backend = (
        value.get("backend", "llama")
        if isinstance(value, dict)
        else getattr(value, "backend", "llama")
    )
    return backend if isinstance(backend, str) else None


StageConfig = Annotated[
    Annotated[LlamaStageConfig, Tag("llama")]
    | Annotated[LitellmStageConfig, Tag("litellm")]
    | Annotated[ScriptedStageConfig, Tag("scripted")],
    Discriminator(
        _backend_of,
        custom_error_type="stage_backend",
        custom_error_message=f"Input should be {', '.join(repr(name) for name in BACKENDS[:-1])} or {BACKENDS[-1]!r}",
    ),
]
"""Which model plays the characters and how it samples: one model per backend."""

CONFIGS: dict[str, type[LlamaStageConfig | LitellmStageConfig | ScriptedStageConfig]] = {
    "llama": LlamaStageConfig,
    "litellm": LitellmStageConfig,
    "scripted": ScriptedStageConfig,
}


def config_for(config: StageConfig, backend: str | None = None, **changes: Any) -> StageConfig:
    """`config` for `backend` (the command line's `--stage`), with `changes` (None: kept as it is).

    The options `config` set that the other backend has are kept; the rest take that backend's defaults.

    Raises:
        StageError: an unknown backend, or a change that is not a valid value.
    """
    name = backend or config.backend
    kind = CONFIGS.get(name)
    if kind is None:
        raise StageError(f"unknown stage backend {name!r} (valid: {', '.join(BACKENDS)})")
    changes = {key: value for key, value in changes.items() if value is not None}
    if name == config.backend and not changes:
        return config
    kept = {
        key: getattr(config, key) for key in config.model_fields_set if key in kind.model_fields
    }
    try:
        return kind.model_validate({**kept, **changes, "backend": name})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        if first["type"] == "extra_forbidden":
            raise StageError(f"stage.{where}: not an option of the {name} stage") from None
        raise StageError(f"stage.{where}: {first['msg']}") from None
