"""Talking to a server through litellm: its errors, which of them pass, and reading a free-text choice."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from typing import Any

from simstage.stage.base import StageError

RESPONSE_FORMATS = ("json_schema", "json_object", "none")
"""How a turn is constrained to JSON, best first (`auto` tries them in this order)."""

NO_KEY = "sk-no-key-needed"
"""Sent when no `api_key_env` is set: local servers ignore the key, the client needs one."""

FLOOR_LOGPROB = -50.0
"""`score` for a continuation whose first token is not among the server's top log-probabilities."""

CHARS_PER_TOKEN = 3
"""A conservative estimate for `count_tokens` (no tokenizer on this side)."""

_TRANSIENT_NAMES = ("Connect", "Timeout", "ServiceUnavailable", "RateLimit", "RemoteProtocol")
_TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 502, 503, 504})


class ServerUnreachable(StageError):
    """The server did not answer (connection refused, timeouts), even after retries."""


class ServerRefused(StageError):
    """The server answered with an error (a bad request, an unknown model, a bad key)."""


def _litellm() -> Any:
    # Without this litellm fetches its model price list from the internet at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


def model_name_problem(model: str) -> str | None:
    """Why `model` cannot name a litellm model (a local model's name or file), or None."""
    if not model or model == "default" or model.endswith(".gguf"):
        return f"the litellm backend needs a litellm model name such as openai/NAME, not {model!r}"
    return None


def short_error(exc: BaseException) -> str:
    """litellm's message without its class-name prefixes, on one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text.split(" Original exception:")[0]
    text = re.sub(r"\b(litellm\.)?\w*(Error|Exception)\b:?\s*(-\s*)?", "", text).strip(" :-")
    return (text or type(exc).__name__)[:300]


def is_transient(exc: BaseException) -> bool:
    """Whether retrying might help: connection trouble, timeouts, an overloaded server."""
    # litellm reports a refused connection on a streaming call as a 500 "Connection error.",
    # so look at the exception chain and the message, not only the status.
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for link in chain:
        names = [cls.__name__ for cls in type(link).__mro__]
        if any(word in name for name in names for word in _TRANSIENT_NAMES):
            return True
    if any(
        phrase in str(exc).lower()
        for phrase in ("connection error", "connection refused", "timed out")
    ):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and status in _TRANSIENT_STATUS


def match_option(text: str, options: Sequence[str]) -> int:
    """The option a free-text answer names: the earliest mentioned, else the closest."""
    lowered = text.lower()
    found = [
        (lowered.find(option.strip().lower()), index)
        for index, option in enumerate(options)
        if option.strip() and option.strip().lower() in lowered
    ]
    if found:
        return min(found)[1]
    ratios = [
        difflib.SequenceMatcher(None, lowered.strip(), option.strip().lower()).ratio()
        for option in options
    ]
    return max(range(len(options)), key=ratios.__getitem__)
