"""No import cycles in simstage: every `import` of one module by another, lazy ones included.

Imports under `if TYPE_CHECKING:` count too: a circle through type hints is still a
circle a reader must untangle. A `from package import name` is an edge to the
submodule `package.name` when one exists, else to the package itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[2] / "simstage"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    """Module -> the simstage modules it imports."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph.add_edge(name, target)
    return graph


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert graph.has_edge("simstage.engine", "simstage.events")
    assert graph.has_edge("simstage.stage", "simstage.stage.base")


def test_no_import_cycles():
    cycles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(import_graph()))
    assert not cycles, "import cycles:\n" + "\n".join(cycles[:20])


def test_type_only_imports_are_edges_too():
    graph = import_graph()
    assert graph.has_edge("simstage.tom.beliefs", "simstage.tom.facts")


# The stage is the model side: it knows nothing of scenes, characters, beliefs or analysis.
STAGE_NEVER_IMPORTS = (
    "simstage.scenario",
    "simstage.cast",
    "simstage.tom",
    "simstage.analysis",
    "simstage.tui",
    "simstage.engine",
    "simstage.run",
    "simstage.puppeteer",
    "simstage.sweep",
    "simstage.report",
    "simstage.generate",
)


def test_the_stage_imports_no_floor_above_it():
    graph = import_graph()
    bad = sorted(
        f"{a} -> {b}"
        for a, b in graph.edges
        if (a == "simstage.stage" or a.startswith("simstage.stage."))
        and any(b == floor or b.startswith(floor + ".") for floor in STAGE_NEVER_IMPORTS)
    )
    assert not bad, "stage/ imports a floor above it:\n" + "\n".join(bad)
