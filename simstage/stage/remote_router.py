"""Several servers serving one model: one litellm Router per process, shared by every remote stage.

Each server is its own deployment, falling back to the others when it fails. Each
stage calls one server its home, the one with the fewest stages on it, so the runs
of a sweep spread evenly and each character's prompt cache stays on one server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

_ROUTERS: dict[tuple[Any, ...], Any] = {}
_HOMES: dict[tuple[Any, ...], list[int]] = {}
"""Per shared Router: how many live stages call each server their home."""
_ROUTERS_LOCK = threading.Lock()


def home_completion(
    litellm: Any,
    model: str,
    api_bases: Sequence[str],
    api_key: str,
    key_env: str | None,
    timeout: float,
) -> tuple[Callable[..., Any], tuple[Any, ...], int]:
    """A stage's completion function: its home server, through the Router shared by every stage.

    Args:
        litellm: the litellm module.
        model: the litellm model name.
        api_bases: the servers' URLs (two or more).
        api_key: the API key sent to each server.
        key_env: the environment variable the key was read from (None: no key).
        timeout: seconds per request.

    Returns:
        The completion function, the shared Router's key, and the home server's index
        (both for `leave_home`).
    """
    key = (model, tuple(api_bases), key_env)
    with _ROUTERS_LOCK:
        router = _ROUTERS.get(key)
        if router is None:
            names = [f"simstage-{index}" for index in range(len(api_bases))]
            router = litellm.Router(
                model_list=[
                    {
                        "model_name": name,
                        "litellm_params": {"model": model, "api_base": base, "api_key": api_key},
                    }
                    for name, base in zip(names, api_bases, strict=True)
                ],
                fallbacks=[{name: [other for other in names if other != name]} for name in names],
                num_retries=0,
                timeout=timeout,
            )
            _ROUTERS[key] = router
            _HOMES[key] = [0] * len(api_bases)
        homes = _HOMES[key]
        home = min(range(len(homes)), key=homes.__getitem__)
        homes[home] += 1
    name = f"simstage-{home}"
    return lambda **kwargs: router.completion(**{**kwargs, "model": name}), key, home


def leave_home(key: tuple[Any, ...], home: int) -> None:
    """A closed stage no longer counts on its home server."""
    with _ROUTERS_LOCK:
        _HOMES[key][home] -= 1
