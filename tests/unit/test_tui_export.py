"""The TUI's belief-graph export: written atomically, never over the run log; a failure is one line naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simstage.report.files import OutputError
from simstage.scenario import load_scenario
from simstage.tui.export import export_beliefs
from tests.conftest import SCENARIOS
from tests.unit.test_disk_faults import fill_disk, make_read_only
from tests.unit.test_report import write_run

OLD = "<graphml>an older export, kept whole</graphml>"


@pytest.fixture
def run(tmp_path: Path) -> tuple[Any, list[Any], Path]:
    scene = SCENARIOS / "sally-anne.yaml"
    log = tmp_path / "run.jsonl"
    events = write_run(scene, log)
    return load_scenario(scene).scenario, events, log


def target(log: Path) -> Path:
    return log.with_name("run.beliefs-turn2.graphml")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_the_graph_is_written_beside_the_log(run: tuple[Any, list[Any], Path]) -> None:
    scenario, events, log = run
    target(log).write_text(OLD, encoding="utf-8")
    assert export_beliefs(scenario, events, log, 2) == f"belief graph written to {target(log)}"
    assert "<graphml" in target(log).read_text(encoding="utf-8") != OLD
    assert leftovers(log.parent) == []


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("read-only", "Read-only file system"),
        ("full disk", "No space left on device"),
        ("folder", "is a folder, not a file"),
    ],
)
def test_a_failure_is_one_line_naming_the_file_and_keeps_what_was_there(
    run: tuple[Any, list[Any], Path], monkeypatch: pytest.MonkeyPatch, fault: str, reason: str
) -> None:
    scenario, events, log = run
    out = target(log)
    if fault == "folder":
        out.mkdir()
    else:
        out.write_text(OLD, encoding="utf-8")
    if fault == "read-only":
        make_read_only(monkeypatch)
    elif fault == "full disk":
        fill_disk(monkeypatch)
    with pytest.raises(OutputError) as caught:
        export_beliefs(scenario, events, log, 2)
    assert str(caught.value) == f"cannot write {out}: {reason}"
    assert out.is_dir() if fault == "folder" else out.read_text(encoding="utf-8") == OLD
    assert leftovers(log.parent) == []


def test_a_graph_file_that_links_to_the_run_log_is_refused(
    run: tuple[Any, list[Any], Path],
) -> None:
    scenario, events, log = run
    before = log.read_bytes()
    target(log).symlink_to(log)
    with pytest.raises(OutputError, match="is the input") as refused:
        export_beliefs(scenario, events, log, 2)
    assert "choose another" not in str(refused.value)  # the TUI has no -o to choose
    assert log.read_bytes() == before
