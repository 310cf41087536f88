"""The remote stage: any OpenAI-compatible engine, reached through litellm.

llama.cpp's llama-server, llama-cpp-python's server, vLLM, Ollama or a hosted
API play the characters instead of the in-process model. Nothing else changes:
the engine builds the same per-character prompts (shared scene preamble first,
then only appended lines), so a server with prefix caching reuses them; against
llama-server, `slots` pins each character to one slot so its cache stays warm.

litellm is imported on first use, never by the rest of simstage. Requests are
retried with exponential backoff while the server is unreachable or busy; after
that a `StageError` names the server and the model.

Sequences are only handles here: the server keeps no per-character state we can
address, so `fork` and `drop` are free and probing never changes anything.

The server tokenizes what it is sent with its template's special tokens, so every
message's text goes with anything shaped like a chat marker broken by a
zero-width space (`markup.neutralise`): a name, card or line that holds
`<|im_start|>system` reads the same and opens no turn.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from simstage.stage.abilities import Meter, TokenCounter
from simstage.stage.base import (
    Message,
    Sampling,
    StageBase,
    StageCounters,
    StageDescription,
    StageError,
)
from simstage.stage.markup import neutralise
from simstage.stage.remote_faults import (
    CHARS_PER_TOKEN,
    FLOOR_LOGPROB,
    NO_KEY,
    RESPONSE_FORMATS,
    ServerRefused,
    ServerUnreachable,
    _litellm,
    is_transient,
    match_option,
    model_name_problem,
    short_error,
)
from simstage.stage.remote_router import home_completion, leave_home


class RemoteStage(StageBase, TokenCounter, Meter):
    """A stage played by a server behind litellm.

    Args:
        model: the litellm model name, `provider/name` (e.g. `openai/smollm2`,
            `hosted_vllm/Qwen/Qwen2.5-7B-Instruct`, `ollama/llama3.2`).
        api_base: the server URL, or several URLs serving the same model.
        api_key_env: environment variable holding the API key.
        timeout: seconds per request.
        retries: retries of an unreachable or busy server, with exponential backoff.
        backoff: the first backoff, in seconds (doubled each retry).
        slots: llama-server slots to pin characters to (`id_slot`).
        response_format: `auto`, `json_schema`, `json_object` or `none`.
        n_ctx: the server's context per request, for trimming long scenes.
        completion: the completion function (tests pass a fake; default: litellm's).
    """

    _home_key: tuple[Any, ...] | None = None
    """The shared Router this stage counts itself on (several servers only)."""
    _home = 0

    def __init__(
        self,
        model: str,
        *,
        api_base: str | Sequence[str] | None = None,
        api_key_env: str | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        backoff: float = 0.5,
        slots: int | None = None,
        response_format: str = "auto",
        n_ctx: int | None = None,
        completion: Callable[..., Any] | None = None,
    ):
        problem = model_name_problem(model)
        if problem:
            raise StageError(problem)
        self.model = model
        bases = [api_base] if isinstance(api_base, str) else list(api_base or [])
        self.api_bases = [base.rstrip("/") for base in bases]
        self._key_env = api_key_env
        self._api_key = self._read_key(api_key_env)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.slots = slots
        if response_format not in ("auto", *RESPONSE_FORMATS):
            raise StageError(f"unknown response_format {response_format!r}")
        self._formats = list(RESPONSE_FORMATS) if response_format == "auto" else [response_format]
        self._format_confirmed = response_format != "auto"
        self._n_ctx = n_ctx
        self.counters = StageCounters()
        self._next_seq = 0
        self._slot_of: dict[int, int] = {}
        self._completion = completion or self._default_completion()

    # -- setup -----------------------------------------------------------------

    @staticmethod
    def _read_key(env: str | None) -> str:
        if env is None:
            return NO_KEY
        key = os.environ.get(env)
        if not key:
            raise StageError(f"the environment variable {env} (stage.api_key_env) is not set")
        return key

    @property
    def where(self) -> str:
        """The server(s), for messages."""
        return ", ".join(self.api_bases) or "the provider's default endpoint"

    def _default_completion(self) -> Callable[..., Any]:
        litellm = _litellm()
        if len(self.api_bases) <= 1:
            return litellm.completion
        completion, self._home_key, self._home = home_completion(
            litellm, self.model, self.api_bases, self._api_key, self._key_env, self.timeout
        )
        return completion

    def describe(self) -> StageDescription:
        """Backend, model and server(s), never the API key. Each request gets the server's whole
        window (`n_ctx`): prompts are trimmed to it, not to a share."""
        bases = self.api_bases
        return StageDescription(
            backend="litellm", model=self.model,
            api_base=(bases[0] if len(bases) == 1 else tuple(bases)) if bases else None,
            context_window=self._n_ctx, shares_window=False, grammar=True,
        )  # fmt: skip

    # -- sequences (handles only) ---------------------------------------------------

    def open_sequence(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        if self.slots:
            self._slot_of[seq] = len(self._slot_of) % self.slots
        return seq

    def fork(self, seq: int) -> int:
        child = self._next_seq
        self._next_seq += 1
        if seq in self._slot_of:  # a probe shares its character's slot and warm prefix
            self._slot_of[child] = self._slot_of[seq]
        return child

    def drop(self, seq: int) -> None:
        self._slot_of.pop(seq, None)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """An estimate (characters / 3, plus a few per message): enough to trim in time."""
        return sum(len(m.content) // CHARS_PER_TOKEN + 8 for m in messages)

    def kv_length(self, seq: int) -> None:
        """The server's cache is not ours to see."""
        return None

    # -- requests --------------------------------------------------------------------

    def _request(self, seq: int, messages: Sequence[Message], **params: Any) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            # The server tokenizes with its template's special tokens: break any marker in the text.
            "messages": [{"role": m.role, "content": neutralise(m.content)} for m in messages],
            "timeout": self.timeout,
            "max_retries": 0,  # retries are ours, with backoff and a clear final message
            **params,
        }
        if len(self.api_bases) == 1:
            request["api_base"] = self.api_bases[0]
            request["api_key"] = self._api_key
        elif not self.api_bases:
            request["api_key"] = None if self._key_env is None else self._api_key
        if seq in self._slot_of:
            request["extra_body"] = {"id_slot": self._slot_of[seq], "cache_prompt": True}
        return request

    def _call(self, request: dict[str, Any]) -> Any:
        """One request, retried with backoff while the server is unreachable or busy."""
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return self._completion(**request)
            except Exception as exc:
                if not is_transient(exc) or attempt == self.retries:
                    raise self._error(exc, attempt + 1) from None
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, exc: BaseException, attempts: int) -> StageError:
        if is_transient(exc):
            return ServerUnreachable(
                f"cannot reach the stage server {self.where} (model {self.model}) after "
                f"{attempts} attempt{'s' if attempts != 1 else ''}: {short_error(exc)}"
            )
        return ServerRefused(
            f"the stage server {self.where} (model {self.model}) refused: {short_error(exc)}"
        )

    def _constrained(
        self, seq: int, messages: Sequence[Message], schema: dict[str, Any], **params: Any
    ) -> Any:
        """A request constrained to `schema` in the first format the server accepts."""
        while True:
            form = self._formats[0]
            request = self._request(seq, messages, **params)
            if form == "json_schema":
                request["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "turn", "schema": schema},
                }
            elif form == "json_object":
                request["response_format"] = {"type": "json_object", "schema": schema}
            try:
                response = self._call(request)
            except ServerRefused:
                # While probing (`auto`), a server that rejects a format gets the next one.
                if self._format_confirmed or form == "none":
                    raise
                self._formats.pop(0)
                continue
            self._format_confirmed = True
            return response

    def _send(
        self, seq: int, messages: Sequence[Message], schema: dict[str, Any] | None, **params: Any
    ) -> Any:
        """A request, constrained to `schema` when one is given."""
        if schema is not None:
            return self._constrained(seq, messages, schema, **params)
        return self._call(self._request(seq, messages, **params))

    @property
    def response_format(self) -> str:
        """The constraint in use (`auto` until the server has accepted one)."""
        return self._formats[0] if self._format_confirmed else "auto"

    def _count_usage(self, usage: Any) -> bool:
        if not usage:
            return False
        self.counters.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
        self.counters.generated_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        return True

    # -- the Stage protocol -------------------------------------------------------------

    def generate(self, seq: int, messages: Sequence[Message], sampling: Sampling) -> Iterator[str]:
        params: dict[str, Any] = {
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "seed": sampling.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        stream = self._send(seq, messages, sampling.json_schema, **params)
        self.counters.decode_calls += 1
        chunks = 0
        counted = False
        try:
            for chunk in stream:
                counted = self._count_usage(getattr(chunk, "usage", None)) or counted
                choices = getattr(chunk, "choices", None) or []
                text = (
                    getattr(getattr(choices[0], "delta", None), "content", None)
                    if choices
                    else None
                )
                if text:
                    chunks += 1
                    yield text
        except StageError:
            raise
        except Exception as exc:
            raise StageError(
                f"the stage server {self.where} (model {self.model}) stopped mid-line: {short_error(exc)}"
            ) from None
        if not counted:
            self.counters.generated_tokens += chunks

    def _complete(
        self,
        seq: int,
        messages: Sequence[Message],
        schema: dict[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        """One whole (not streamed) reply, constrained to `schema` when given; counted."""
        response = self._send(seq, messages, schema, **params)
        self.counters.decode_calls += 1
        self._count_usage(getattr(response, "usage", None))
        return response

    def choose(
        self, seq: int, messages: Sequence[Message], options: Sequence[str], prefix: str = ""
    ) -> int:
        """The option the model names: as a JSON enum where the server constrains output,
        otherwise matched in its free-text answer."""
        if not options:
            raise ValueError("choose needs at least one option")
        names = [option.strip() for option in options]
        schema = {
            "type": "object",
            "properties": {"answer": {"type": "string", "enum": list(dict.fromkeys(names))}},
            "required": ["answer"],
        }
        ask = list(messages)
        if prefix.strip():
            ask.append(Message("user", f"Reply with one of: {', '.join(names)}. {prefix.strip()}"))
        params = {"temperature": 0.0, "max_tokens": 16 + max(len(n) for n in names), "seed": 0}
        response = self._complete(seq, ask, schema, **params)
        text = response.choices[0].message.content or ""
        try:
            answer = json.loads(text)["answer"]
            return names.index(answer)
        except (ValueError, KeyError, TypeError):
            return match_option(text, options)

    def score(
        self, seq: int, messages: Sequence[Message], continuation: str, prefix: str = ""
    ) -> float:
        """Log-probability of the continuation's first token as the reply.

        Chat APIs return log-probabilities of generated tokens only, so this is
        exact for one-token answers (the judge's Yes/No) and coarse for longer
        lines (persona-fit metrics on a remote stage are approximate).
        """
        response = self._complete(
            seq, messages, temperature=0.0, max_tokens=1, logprobs=True, top_logprobs=20, seed=0
        )
        logprobs = getattr(response.choices[0], "logprobs", None)
        content = getattr(logprobs, "content", None) if logprobs is not None else None
        if not content:
            raise StageError(
                f"the stage server {self.where} (model {self.model}) returns no log-probabilities; "
                "rewards and metrics need them"
            )
        target = (prefix + continuation).lstrip()
        best = FLOOR_LOGPROB
        for entry in getattr(content[0], "top_logprobs", None) or []:
            token = (getattr(entry, "token", "") or "").lstrip()
            if token and target.startswith(token):
                best = max(best, float(entry.logprob))
        return best

    def close(self) -> None:
        key = getattr(self, "_home_key", None)
        if key is not None:
            leave_home(key, self._home)
            self._home_key = None
