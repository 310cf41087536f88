"""Hostile scenario YAML thrown at `simstage validate`: a clear message and exit 2 (or 0), never a traceback."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simstage.cli import main
from simstage.scenario import ScenarioError, load_scenario
from tests.conftest import SCENARIOS

BASES = [path.read_text(encoding="utf-8") for path in sorted(SCENARIOS.glob("*.yaml"))]
ODD = "\u202e\u200b\ufeff\u0000\u0085\u2028\ud7ff\U0001f600\u0301é\t\r\n"
HOSTILE_SCALARS = [
    "9" * 400,
    "-9" * 50,
    "1e999",
    "-.inf",
    ".nan",
    "0x7fffffffffffffff",
    "-1",
    "0",
    "~",
    "''",
    "[]",
    "{}",
    "&a [*a, *a]",
    "*undefined",
    "!!python/object/apply:os.system ['touch /tmp/simstage-pwned']",
    "!!python/name:os.system",
    "!!binary AAAA",
    "!!binary ===",
    "!!timestamp 2001-99-99",
    "!!set {a, b}",
    "[" * 300 + "]" * 300,
    "{a: " * 200 + "1" + "}" * 200,
    '"' + "x" * 100_000 + '"',
    "\u202eevil\u202c",
    "<<: *x",
    "? [a, b]\n: c",
    "|\n  block\n   text",
    "@reserved",
    "`tick`",
    "%YAML 9.9",
    "--- !!str",
]


def assert_clean(result, allowed: tuple[int, ...] = (0, 2)) -> None:
    """Exited with an allowed code through SystemExit (or normally), with no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in allowed, (result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output


def laughs(depth: int, width: int) -> str:
    """A "billion laughs" alias bomb: `width ** depth` nodes once expanded."""
    lines = ["a0: &a0 [lol]"]
    for level in range(1, depth + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + f"\ntitle: *a{depth}\n"


@st.composite
def hostile_yaml(draw: st.DrawFn) -> str | bytes:
    base = draw(st.sampled_from(BASES))
    kind = draw(st.sampled_from(["cut", "splice", "scalar", "value", "bomb", "bytes", "junk"]))
    if kind == "cut":
        return base[: draw(st.integers(0, len(base)))]
    if kind == "splice":
        i = draw(st.integers(0, len(base)))
        j = draw(st.integers(i, min(len(base), i + 40)))
        junk = draw(
            st.text(
                alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#%@`,? \n\t" + ODD + "abc1")),
                max_size=30,
            )
        )
        return base[:i] + junk + base[j:]
    if kind == "scalar":
        spots = [m.end() for m in re.finditer(r": ", base)]
        at = draw(st.sampled_from(spots))
        end = base.find("\n", at)
        end = len(base) if end < 0 else end
        return base[:at] + draw(st.sampled_from(HOSTILE_SCALARS)) + base[end:]
    if kind == "value":
        data = yaml.safe_load(base)
        values = st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(st.text(max_size=8), children, max_size=4)
            ),
            max_leaves=12,
        )
        target = data
        path = draw(
            st.lists(
                st.sampled_from(
                    [
                        "cast",
                        0,
                        "world",
                        "objects",
                        "probes",
                        "timeline",
                        "puppeteer",
                        "name",
                        "at",
                        "event",
                        "in",
                    ]
                ),
                max_size=3,
            )
        )
        for step in path:
            inner = (
                target.get(step)
                if isinstance(target, dict)
                else (
                    target[step]
                    if isinstance(target, list) and isinstance(step, int) and step < len(target)
                    else None
                )
            )
            if not isinstance(inner, dict | list):
                break
            target = inner
        if isinstance(target, dict) and target:
            target[draw(st.sampled_from(sorted(target, key=str)))] = draw(values)
        elif isinstance(target, list) and target:
            target[draw(st.integers(0, len(target) - 1))] = draw(values)
        return yaml.safe_dump(data, allow_unicode=draw(st.booleans()))
    if kind == "bomb":
        return laughs(draw(st.integers(1, 9)), draw(st.integers(2, 10))) + base
    if kind == "bytes":
        raw = bytearray(base.encode("utf-8"))
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        return bytes(raw)
    return draw(st.text(max_size=200)) if draw(st.booleans()) else draw(st.binary(max_size=200))


FOLDER = Path(tempfile.mkdtemp(prefix="simstage-hostile-yaml-"))


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile_yaml())
def test_validate_never_tracebacks(text: str | bytes) -> None:
    path = FOLDER / "scene.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert_clean(result)
    # The exit code agrees with the loader; every problem line is located FILE:LINE:COL.
    try:
        load_scenario(path)
        assert result.exit_code == 0
    except ScenarioError as exc:
        assert result.exit_code == 2
        assert all(problem.line >= 1 and problem.column >= 1 for problem in exc.problems)
        assert f"{path}:" in result.output
    assert not Path("/tmp/simstage-pwned").exists()


@pytest.mark.parametrize(("depth", "width"), [(9, 9), (30, 2), (12, 10)])
def test_alias_bombs_are_refused_with_a_located_error(depth: int, width: int) -> None:
    text = laughs(depth, width) + BASES[0]
    with pytest.raises(ScenarioError) as info:
        from simstage.scenario import parse_scenario

        parse_scenario(text, "bomb.yaml")
    [problem] = info.value.problems
    assert "alias bomb" in problem.message and problem.path == "bomb.yaml" and problem.line >= 1


def test_recursive_alias_is_refused() -> None:
    from simstage.scenario import parse_scenario

    with pytest.raises(ScenarioError, match="alias"):
        parse_scenario("title: &t [*t]\n" + "\n".join(BASES[0].splitlines()[1:]), "loop.yaml")


@pytest.mark.parametrize(
    "value", ["!!timestamp 2001-99-99", "!!timestamp 2001-13-01", "!!int 0xZZ"]
)
def test_a_tagged_value_yaml_cannot_build_is_located(tmp_path, value) -> None:
    # Found by the property test above: PyYAML raises plain errors (AttributeError,
    # ValueError) from its constructors for these.
    path = tmp_path / "bad.yaml"
    path.write_text(f"title: x\nseed: {value}\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert_clean(result, allowed=(2,))
    assert f"{path}:2:7: YAML: cannot read the value" in result.output


def test_a_line_number_is_never_read_as_an_emoji_code(tmp_path) -> None:
    # Found by the property test: rich turned "scene.yaml:100:3" into "scene.yaml💯3".
    path = tmp_path / "scene.yaml"
    path.write_text("title: x\n" + "#\n" * 98 + "world: {locations: 5}\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:100:" in result.output
