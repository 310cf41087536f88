"""The sandbox a model's chat template runs in: no escapes, no files, bounded in time and size.

jinja2's immutable sandbox stops a template from reaching Python's internals, but
not from looping for hours (`range(99999)` inside `range(99999)`) or writing
gigabytes. Here every render has a budget (`RenderBudget`): a deadline checked at
each step of every loop and at every call, attribute, item, operator and join,
and a size that no output, buffered block or intermediate value may pass. The
growth that happens inside one Python call (`'x' * 10**10`, a `center` width, a
`replace` that multiplies) is refused before it allocates. Transformers'
`{% generation %}` tag (it marks the assistant's span for training masks)
renders its body, and `tojson` writes plain JSON with transformers' options, as
transformers does.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from jinja2 import BaseLoader, nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer


@dataclass(frozen=True)
class RenderBudget:
    """How long one render may take, and how large it and anything it builds may grow."""

    seconds: float = 2.0
    """Wall-clock seconds per render (a real template takes milliseconds)."""
    chars: int = 1 << 22
    """Characters (or items) in the output and in any string or list the template builds."""


class Forbidden(SecurityError):
    """A sandbox escape attempt, worded for the user."""


class OverBudget(Exception):
    """A render ran past its time or size budget: the template is unusable, whatever the conversation."""


class _NoFiles(BaseLoader):
    """Refuses `{% include %}`, `{% import %}` and `{% extends %}`: a template reads no files."""

    def get_source(self, environment: Any, template: str) -> NoReturn:
        raise Forbidden(f"tried to load {template!r}, which the sandbox forbids")


class GenerationTag(Extension):
    """`{% generation %}...{% endgeneration %}`: renders the body, as transformers does."""

    tags = {"generation"}  # noqa: RUF012 - jinja2 declares it a plain set on Extension

    def parse(self, parser: Any) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


class _Bounded(NodeTransformer):
    """Routes every loop's iterable and every `~` through the sandbox's budget checks."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)  # in place
        node.iter = _env_call("bounded_iter", [node.iter], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)  # in place
        return _env_call("bounded_join", [nodes.List(node.nodes, lineno=node.lineno)], node.lineno)


def _env_call(name: str, args: list[Any], lineno: int) -> nodes.Call:
    return nodes.Call(
        nodes.EnvironmentAttribute(name, lineno=lineno), args, [], None, None, lineno=lineno
    )


# The widths and precisions of printf (`%9s`) and str.format (`{:>9}`) specs.
_WIDTHS = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d+))?|\{[^{}]*?:[^{}\d]*(\d+)(?:\.(\d+))?")


def _weight(value: Any, depth: int = 0) -> int:
    """Characters and items a value holds (nested containers counted a few levels deep)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return len(value) + (sum(_weight(v, depth + 1) for v in value) if depth < 3 else 0)
    return 0


TOJSON_INDENT = 256
"""The widest indent `tojson` takes (real templates use 2 or 4)."""


def _indentation(value: Any, width: int, limit: int) -> int:
    """The characters `json.dumps` spends indenting `value` by `width` (each item's line starts
    with its depth times the indent), counted up to just past `limit`."""
    total, stack = 0, [(value, 1)]
    while stack and total <= limit:
        node, depth = stack.pop()
        items = node.values() if isinstance(node, dict) else node
        if isinstance(node, (dict, list, tuple)):
            for item in items:
                total += depth * width + 1
                stack.append((item, depth + 1))
    return total


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | str | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
    *,
    limit: int,
) -> str:
    """Transformers' `tojson`: JSON as `json.dumps` writes it, keys in their order, no HTML escapes
    (jinja2's own escapes `<`, `>`, `&` and `'`, sorts keys, and takes no `separators`). What the
    indent would add is counted against `limit` before anything is written."""
    width = len(indent) if isinstance(indent, str) else (indent or 0)
    parts = separators or ()
    if width > TOJSON_INDENT or sum(len(str(part)) for part in parts) > TOJSON_INDENT:
        raise OverBudget(
            f"asked tojson for an indent or separators over {TOJSON_INDENT} characters"
        )
    if indent is not None and _indentation(value, width, limit) > limit:
        raise OverBudget(f"grew past {limit} characters rendering a prompt")
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _owner(method: Any) -> Any:
    """The object a bound method belongs to (through the sandbox's `str.format` wrapper)."""
    return getattr(
        method, "__self__", getattr(getattr(method, "__wrapped__", None), "__self__", None)
    )


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """The stock immutable sandbox, stricter: an unsafe attribute stops the render, and so does a budget."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, budget: RenderBudget) -> None:
        super().__init__(
            trim_blocks=True,
            lstrip_blocks=True,
            loader=_NoFiles(),
            extensions=[GenerationTag, loopcontrols],
        )
        self.budget = budget
        self._render = threading.local()
        self.filters["tojson"] = functools.partial(_tojson, limit=budget.chars)
        self.filters = {name: self._bounded_filter(name, f) for name, f in self.filters.items()}

    # -- the budget ---------------------------------------------------------------

    def begin(self) -> None:
        """Start a render's clock."""
        self._render.deadline = time.monotonic() + self.budget.seconds

    def check(self) -> None:
        """Stop a render that ran out of time."""
        if time.monotonic() > getattr(self._render, "deadline", float("inf")):
            raise OverBudget(
                f"ran past its time budget ({self.budget.seconds:g} s) rendering a prompt"
            )

    def sized(self, size: int) -> None:
        """Stop a render about to build something over the size budget."""
        self.check()
        if size > self.budget.chars:
            raise OverBudget(f"grew past {self.budget.chars} characters rendering a prompt")

    def bounded_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """A loop's iterable, checking the deadline at each step."""
        for item in iterable:
            self.check()
            yield item

    def bounded_join(self, parts: Iterable[Any]) -> str:
        """`a ~ b`, refused when it would be too long."""
        texts = [str(p) for p in parts]
        self.sized(sum(map(len, texts)))
        return "".join(texts)

    def concat(self, parts: Iterable[str]) -> str:  # type: ignore[override]
        """The output and every buffered block, counted as they stream."""
        texts, total = [], 0
        for text in parts:
            total += len(text)
            self.sized(total)
            texts.append(text)
        return "".join(texts)

    # -- the hooks ---------------------------------------------------------------

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        # jinja2 has no public hook between parsing and code generation.
        tree = _Bounded().visit(super()._parse(source, name, filename))
        tree.set_environment(self)
        return tree

    def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
        raise Forbidden(f"tried to reach {attribute!r}, which the sandbox forbids")

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.check()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.check()
        return super().getitem(obj, argument)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        self._before(getattr(obj, "__name__", ""), _owner(obj), args, kwargs)
        result = super().call(context, obj, *args, **kwargs)
        self.sized(_weight(result))
        return result

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.check()
        if operator == "*" and isinstance(left, int) and not isinstance(right, int):
            left, right = right, left
        if operator == "*" and isinstance(right, int) and isinstance(left, (str, list, tuple)):
            self.sized(_weight(left) * right)
        elif (
            operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1
        ):
            self.sized(abs(left).bit_length() * right // 8)
        elif operator == "%" and isinstance(left, str):
            self._before("format", left, right if isinstance(right, tuple) else (right,), {})
        result = self.binop_table[operator](left, right)
        self.sized(_weight(result))
        return result

    def _before(self, name: str, owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Refuse a call that would build too much before it runs: widths, counts, fills, joins."""
        self.check()
        limit = self.budget.chars
        numbers = [
            v for v in (*args, *kwargs.values()) if isinstance(v, int) and not isinstance(v, bool)
        ]
        if isinstance(owner, str):
            if name in ("format", "format_map"):
                numbers += [
                    int(w) if len(w) < 12 else limit + 1
                    for m in _WIDTHS.finditer(owner)
                    for w in m.groups()
                    if w
                ]
            elif name == "replace" and len(args) >= 2:
                self._before_replace(owner, args[0], args[1])
            elif name == "join" and args and isinstance(args[0], (list, tuple)):
                self.sized(_weight(args[0]) + len(owner) * len(args[0]))
        if any(n > limit for n in numbers):
            self.sized(limit + 1)

    def _before_replace(self, text: Any, old: Any, new: Any) -> None:
        if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
            hits = text.count(old) if old else len(text) + 1
            self.sized(len(text) + hits * len(new))

    def _bounded_filter(self, name: str, f: Callable[..., Any]) -> Callable[..., Any]:
        # A filter marked `pass_context` (and the like) gets that object first; jinja2 reads the mark
        # from the function, so the wrapper carries it.
        skip = 1 if hasattr(f, "jinja_pass_arg") else 0

        def bounded(*args: Any, **kwargs: Any) -> Any:
            head, value, rest = (
                args[:skip],
                args[skip] if len(args) > skip else None,
                args[skip + 1 :],
            )
            if name == "join" and not isinstance(value, (str, list, tuple)) and value is not None:
                value = list(value)  # an iterator is read once: count what the join will hold
            if name == "join" and isinstance(value, (list, tuple)):
                self.sized(sum(len(str(v)) for v in value))
            if name == "replace" and len(rest) >= 2:
                self._before_replace(value, rest[0], rest[1])
            self._before(name, value if name == "format" else None, rest, kwargs)
            result = f(*head, value, *rest, **kwargs) if len(args) > skip else f(*args, **kwargs)
            self.sized(_weight(result))
            return result

        if skip:
            bounded.jinja_pass_arg = f.jinja_pass_arg  # type: ignore[attr-defined]
        return bounded
