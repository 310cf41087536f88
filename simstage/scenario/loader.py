"""Load a scenario file: safe YAML, pydantic validation, errors located by line and column."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simstage.errors import SimstageError
from simstage.inputs import read_input
from simstage.scenario.checks import Loc, check_references
from simstage.scenario.models import Scenario
from simstage.stage.config import BACKENDS

MAX_SCENARIO_BYTES = 1_000_000
MAX_YAML_NODES = 200_000
"""Most YAML nodes a scenario may expand to, aliases counted at each use (a guard against
alias bombs such as "billion laughs", which are small on disk and huge once expanded)."""


@dataclass(frozen=True)
class LocatedProblem:
    """A problem with its place in the file."""

    path: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return f"{self.path}:{self.line}:{self.column}:{field} {self.message}"


class ScenarioError(SimstageError):
    """A scenario file that cannot be used; carries every problem found."""

    def __init__(self, problems: list[LocatedProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class LoadedScenario:
    """A valid scenario with the text it came from."""

    scenario: Scenario
    text: str
    path: str

    @property
    def sha256(self) -> str:
        """Digest of the file's text, recorded in run logs."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def _node_at(root: yaml.Node | None, loc: Loc) -> tuple[yaml.Node | None, bool]:
    """The deepest YAML node along `loc`, and whether the walk reached the end of `loc` (a key
    not in the file is stepped over; a list item that is not there, or a scalar, stops it)."""
    node = root
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(step):
                    node = value_node
                    break
            # Else a discriminated union's tag in the path, or a missing field, which is not
            # in the file: skip the step, keep the parent.
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if not 0 <= step < len(node.value):
                return node, False
            node = node.value[step]
        else:
            return node, False
    return node, True


def _key_node(root: yaml.Node | None, loc: Loc) -> yaml.Node | None:
    """The key node for the last step of `loc`, when it names a mapping key (so that every
    problem with a field points at its key, whatever union tags its path holds)."""
    if not loc:
        return None
    parent, whole = _node_at(root, loc[:-1])
    if not whole or not isinstance(parent, yaml.MappingNode):
        return None
    for key_node, _ in parent.value:
        if str(key_node.value) == str(loc[-1]):
            return key_node
    return None


def _locate(path: str, root: yaml.Node | None, loc: Loc, message: str) -> LocatedProblem:
    node = _key_node(root, loc) if loc else None
    if node is None:
        node, _ = _node_at(root, loc)
    line, column = (
        (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)
    )
    field = ".".join(str(step) for step in loc)
    return LocatedProblem(path, line, column, field, message)


def _pydantic_loc(error: Mapping[str, Any]) -> Loc:
    loc = tuple(error["loc"])
    # The stage section's union puts the backend it chose in the path (stage.llama.n_ctx); drop it.
    if len(loc) > 1 and loc[0] == "stage" and loc[1] in BACKENDS:
        loc = loc[:1] + loc[2:]
    if error["type"] == "stage_backend":  # an unknown backend: point at it
        loc = (*loc, "backend")
    # Function-validator wrappers put their names in the path; drop them.
    return tuple(
        step for step in loc if not (isinstance(step, str) and step.startswith("function-"))
    )


def _at(path: str, node: yaml.Node, message: str) -> LocatedProblem:
    """A problem at the start of `node`."""
    mark = node.start_mark
    return LocatedProblem(path, mark.line + 1, mark.column + 1, "", message)


def _unreadable_value(path: str, text: str, exc: BaseException) -> LocatedProblem:
    """Where a value PyYAML could not construct is, or the whole file when it cannot tell."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except Exception:
        root = None
    stack: list[yaml.Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except Exception:
                kind = node.tag.rsplit(":", 1)[-1]
                return _at(path, node, f"YAML: cannot read the value {node.value[:40]!r} as {kind}")
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                stack.extend((value, key))
    return LocatedProblem(path, 1, 1, "", f"YAML: {str(exc)[:200]}")


def _expansion_problem(path: str, root: yaml.Node | None) -> LocatedProblem | None:
    """A located problem when the document expands past MAX_YAML_NODES (aliases counted per use)."""
    count = 0
    stack: list[yaml.Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_YAML_NODES:
            return _at(
                path,
                node,
                f"YAML expands to more than {MAX_YAML_NODES} nodes (too many aliases: an alias bomb?)",
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                stack.append(key_node)
                stack.append(value_node)
    return None


PYYAML_FAILURES = (
    yaml.YAMLError,
    RecursionError,
    ValueError,
    AttributeError,
    TypeError,
    OverflowError,
)
"""What loading YAML may raise: PyYAML's own errors, and the plain ones its constructors raise
on a bad tagged value (`!!timestamp 2001-99-99`)."""


def read_mapping(
    text: str, path: str, kind: str, error: Callable[[list[LocatedProblem]], SimstageError]
) -> tuple[dict[str, Any], yaml.Node | None]:
    """Load YAML text that must hold one mapping (a `kind` file), refusing alias bombs.

    Returns:
        The mapping, and the document's root node to locate later problems with.

    Raises:
        SimstageError: `error(problems)`, located: a syntax error, a value PyYAML cannot read,
            too many nodes once aliases are expanded, or a document that is not a mapping.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        bomb = _expansion_problem(path, root)
        if bomb is not None:
            raise error([bomb])
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        raise error([LocatedProblem(path, line, column, "", f"YAML syntax: {reason}")]) from None
    except PYYAML_FAILURES as exc:
        # Name the bad value's place when we can find it.
        raise error([_unreadable_value(path, text, exc)]) from None
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {type(data).__name__}"
        message = f"a {kind} must be a YAML mapping, this file is {what}"
        raise error([LocatedProblem(path, 1, 1, "", message)])
    return data, root


def parse_scenario(
    text: str, path: str = "<string>", *, base_dir: Path | None = None
) -> LoadedScenario:
    """Validate scenario text.

    Args:
        text: the YAML text.
        path: the name used in error messages.
        base_dir: the folder that card entries (`cast: - {card: ...}`) are relative to; None
            (text not from a file, e.g. a run log's header) refuses card entries.

    Returns:
        The validated scenario. When it had card entries, its `text` is the scenario with the
        cards resolved (YAML), so that a run log's header replays without the card files.

    Raises:
        ScenarioError: YAML syntax errors, field errors and unknown names, each located.
    """
    data, root = read_mapping(text, path, "scenario", ScenarioError)
    from simstage.cards.scenario import resolve_card_entries

    data, card_problems, has_cards = resolve_card_entries(data, base_dir)
    if card_problems:
        raise ScenarioError([_locate(path, root, p.loc, p.message) for p in card_problems])
    if has_cards:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [
            _locate(path, root, _pydantic_loc(error), error["msg"]) for error in exc.errors()
        ]
        raise ScenarioError(problems) from None
    except RecursionError:
        raise ScenarioError([LocatedProblem(path, 1, 1, "", "nesting too deep")]) from None
    problems = [_locate(path, root, p.loc, p.message) for p in check_references(scenario)]
    if problems:
        raise ScenarioError(problems)
    return LoadedScenario(scenario=scenario, text=text, path=path)


def read_text(
    path: str | Path, limit: int, error: Callable[[list[LocatedProblem]], SimstageError]
) -> str:
    """The text of a file of at most `limit` bytes of UTF-8.

    Raises:
        SimstageError: `error(problems)`: the file is unreadable (or not a regular file), larger
            than `limit`, or not UTF-8.
    """
    name = str(path)
    try:
        raw = read_input(path, limit)
    except OSError as exc:
        raise error([LocatedProblem(name, 1, 1, "", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > limit:
        raise error([LocatedProblem(name, 1, 1, "", f"file is larger than {limit} bytes")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error([LocatedProblem(name, 1, 1, "", f"not UTF-8 text: {exc.reason}")]) from None


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: the file is unreadable, too large, or invalid.
    """
    text = read_text(path, MAX_SCENARIO_BYTES, ScenarioError)
    return parse_scenario(text, str(path), base_dir=Path(path).parent)


def scenario_json_schema() -> dict:
    """The JSON schema of scenario files (a cast item is a character or a card entry)."""
    from simstage.scenario.models import CardCastEntry

    # The model holds resolved characters only; the file may also hold card entries.
    schema = Scenario.model_json_schema(by_alias=True)
    schema.setdefault("$defs", {})["CardCastEntry"] = CardCastEntry.model_json_schema(by_alias=True)
    schema["properties"]["cast"]["items"] = {
        "anyOf": [{"$ref": "#/$defs/CharacterConfig"}, {"$ref": "#/$defs/CardCastEntry"}]
    }
    return schema
