"""What the CPU asks of model loading: ggml's AMX buffer type is avoided by default.

On Intel CPUs with AMX (Sapphire Rapids and later), llama.cpp's AMX buffer type
crashes in `ggml_backend_amx_mul_mat` at the first decode of more than one token
(llama.cpp #20824). Loading the model with `use_extra_bufts = False` keeps the
weights in plain CPU buffers, which decode normally there. Every place that
loads a model goes through `model_param_overrides`, so the decision is made once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

AMX_FLAGS = ("amx_tile", "amx_int8", "amx_bf16")
"""`/proc/cpuinfo` flags that mean the CPU has AMX (any one is enough)."""


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The flags of the first processor listed in a `/proc/cpuinfo` text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """This machine's CPU flags (empty where `/proc/cpuinfo` cannot be read)."""
    try:
        return parse_cpu_flags(Path("/proc/cpuinfo").read_text(errors="replace"))
    except OSError:
        return frozenset()


def has_amx(flags: Collection[str]) -> bool:
    """Whether CPU flags include AMX."""
    return any(flag in flags for flag in AMX_FLAGS)


def model_param_overrides(flags: Collection[str], *, allow_amx: bool = False) -> dict[str, Any]:
    """The `llama_model_params` fields to change from llama.cpp's defaults on this CPU.

    Args:
        flags: the CPU's flags (`cpu_flags()`).
        allow_amx: use ggml's AMX buffer type anyway (the stage option `amx: true`),
            for a llama.cpp build where #20824 is fixed.

    Returns:
        `{"use_extra_bufts": False}` on a CPU with AMX unless allowed; else nothing.
    """
    if has_amx(flags) and not allow_amx:
        return {"use_extra_bufts": False}
    return {}


def apply_overrides(params: Any, overrides: dict[str, Any]) -> Any:
    """Set each override on a `llama_model_params` struct; returns it."""
    for name, value in overrides.items():
        setattr(params, name, value)
    return params


@contextlib.contextmanager
def cpu_safe_defaults(*, allow_amx: bool = False) -> Iterator[None]:
    """Make llama-cpp-python's high-level `Llama` (and its server) load models CPU-safely.

    `Llama.__init__` builds its params from `llama_model_default_params()` and loads
    at once, with no hook between; so for the duration, that function returns its
    defaults with `model_param_overrides` applied.
    """
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params
    overrides = model_param_overrides(cpu_flags(), allow_amx=allow_amx)
    if not overrides:
        yield
        return

    def safe_defaults() -> Any:
        return apply_overrides(original(), overrides)

    low.llama_model_default_params = safe_defaults
    try:
        yield
    finally:
        low.llama_model_default_params = original
