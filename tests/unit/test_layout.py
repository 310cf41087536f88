"""The layout block in docs/design.md names every package and module of simstage/, and nothing else."""

from __future__ import annotations

import re

from tests.conftest import ROOT

PACKAGE = ROOT / "simstage"
KINDS = (".py", ".js", ".tcss")


def _block() -> list[str]:
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    after = text.split("### Layout", 1)[1]
    found = re.search(r"```\n(simstage/\n.*?)```", after, re.DOTALL)
    assert found, "docs/design.md: no layout block under ### Layout"
    return found.group(1).splitlines()[1:]


def _named(line: str) -> list[str]:
    """The file and folder names a line starts with (comma-separated, before the description)."""
    names = []
    for token in re.split(r",\s*", line.strip()):
        word = token.split()[0] if token.split() else ""
        if word.endswith("/") or word.endswith(KINDS):
            names.append(word)
        if len(token.split()) > 1:
            break
    return names


def documented() -> set[str]:
    """Paths under simstage/ that the block names: `cli/`, `cli/root.py`, `engine.py`, ..."""
    paths: set[str] = set()
    package = ""
    for line in _block():
        indent = len(line) - len(line.lstrip())
        if indent == 2:
            names = _named(line)
            package = names[0] if names and names[0].endswith("/") else ""
            paths.update(names)
        elif indent == 4 and package:
            paths.update(package + name for name in _named(line))
    return paths


def actual() -> set[str]:
    paths: set[str] = set()
    for path in PACKAGE.rglob("*"):
        if "__pycache__" in path.parts or (path.name == "__init__.py" and path.parent != PACKAGE):
            continue
        relative = path.relative_to(PACKAGE)
        if path.is_dir() and (path / "__init__.py").exists():
            paths.add(f"{relative.as_posix()}/")
        elif path.is_file() and path.suffix in KINDS:
            paths.add(relative.as_posix())
    return paths


def test_the_layout_block_matches_the_tree() -> None:
    missing = sorted(actual() - documented())
    stale = sorted(documented() - actual())
    assert not missing and not stale, (
        f"not in docs/design.md's layout: {missing}; no longer in the tree: {stale}"
    )


def test_the_parser_reads_indented_module_lists() -> None:
    assert (
        "cli/root.py" in documented()
        and "stage/llama.py" in documented()
        and "engine.py" in documented()
    )
