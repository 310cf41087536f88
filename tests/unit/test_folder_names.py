"""A name that can only be a folder (`new/`, `new/.`) is never written as a file, and
`export --all-turns -o DIR/` writes inside DIR."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.report.files import names_folder

SCENE = Path(__file__).parents[2] / "scenarios" / "sally-anne.yaml"


@pytest.mark.parametrize(
    ("path", "folder"),
    [
        ("new/", True),
        ("new/.", True),
        ("a/..", True),
        (".", True),
        ("new", False),
        ("a/b.png", False),
    ],
)
def test_names_folder(path: str, folder: bool) -> None:
    assert names_folder(path) is folder


@pytest.mark.parametrize("ending", ["/", "/."])
def test_a_run_log_named_as_a_folder_is_refused_before_the_run(tmp_path: Path, ending: str) -> None:
    out = f"{tmp_path / 'newrun'}{ending}"
    result = CliRunner().invoke(
        main, ["run", str(SCENE), "--headless", "--stage", "scripted", "--out", out]
    )
    assert result.exit_code == 2
    assert "names a folder, not a file" in result.output
    assert list(tmp_path.iterdir()) == []


def test_export_all_turns_into_a_folder_names_each_graph_after_the_run_log(tmp_path: Path) -> None:
    log = tmp_path / "played.jsonl"
    ran = CliRunner().invoke(
        main, ["run", str(SCENE), "--headless", "--stage", "scripted", "--out", str(log)]
    )
    assert ran.exit_code == 0, ran.output
    result = CliRunner().invoke(
        main,
        ["export", str(log), "--format", "graphml", "--all-turns", "-o", f"{tmp_path / 'graphs'}/"],
    )
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in (tmp_path / "graphs").iterdir())
    assert made and all(
        name.startswith("played-turn") and name.endswith(".graphml") for name in made
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graphs", "played.jsonl"]
