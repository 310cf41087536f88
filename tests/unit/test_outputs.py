"""`-o` never clobbers: device nodes, FIFOs and symlinks survive, and an output that is an input is refused."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.report.files import atomic_write_text, write_output
from tests.conftest import SCENARIOS
from tests.unit.test_report import write_run

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")


@pytest.fixture
def run_log(tmp_path: Path) -> Path:
    path = tmp_path / "run.jsonl"
    write_run(SCENARIOS / "sally-anne.yaml", path)
    return path


def cli(*args: str) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


HOWS = ("same", "hardlink", "symlink", "other-path")
"""The ways `another_name` reaches a file."""


def another_name(path: Path, how: str, folder: Path) -> Path:
    """`path` itself (`same`), a hard link or a symlink to it made in `folder`, or `path` through `sub/..`."""
    if how == "same":
        return path
    if how == "other-path":
        (path.parent / "sub").mkdir(exist_ok=True)
        return path.parent / "sub" / ".." / path.name
    out = folder / f"{'linked' if how == 'hardlink' else 'pointer'}{path.suffix}"
    if how == "hardlink":
        os.link(path, out)
    else:
        out.symlink_to(path)
    return out


def null_device(tmp_path: Path) -> Path:
    """A node equal to /dev/null (character device 1,3) inside the test's folder, never /dev/null itself."""
    node = tmp_path / "nulldev"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return node


@ROOT_ONLY
@pytest.mark.parametrize("command", [["export", "--format", "json"], ["report"]])
def test_a_character_device_is_written_through_not_replaced(
    tmp_path: Path, run_log: Path, command: list[str]
) -> None:
    node = null_device(tmp_path)
    result = cli(command[0], run_log, *command[1:], "-o", node)
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(node).st_mode), "the device node became a regular file"
    assert os.lstat(node).st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nulldev", "run.jsonl"]


@ROOT_ONLY
def test_a_full_device_is_one_line_and_exit_2(tmp_path: Path, run_log: Path) -> None:
    # A node of its own, equal to /dev/full: a regression must not replace the real one.
    full = tmp_path / "fulldev"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    result = cli("export", run_log, "--format", "json", "-o", full)
    assert result.exit_code == 2
    assert result.output == f"simstage: cannot write {full}: No space left on device\n"
    assert stat.S_ISCHR(os.lstat(full).st_mode)


@pytest.mark.parametrize(
    "command", [["export", "--format", "json"], ["export", "--format", "csv"], ["report"]]
)
@pytest.mark.parametrize("how", HOWS)
def test_an_output_that_is_the_input_is_refused(
    tmp_path: Path, run_log: Path, command: list[str], how: str
) -> None:
    before = run_log.read_bytes()
    out = another_name(run_log, how, tmp_path)
    result = cli(command[0], run_log, *command[1:], "-o", out)
    assert result.exit_code == 2, result.output
    assert "simstage:" in result.output and "is the input" in result.output
    assert run_log.read_bytes() == before
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_export_all_turns_never_writes_over_the_run_log(tmp_path: Path) -> None:
    run_log = tmp_path / "g-turn0.json"
    write_run(SCENARIOS / "sally-anne.yaml", run_log)
    before = run_log.read_bytes()
    result = cli("export", run_log, "--format", "json", "--all-turns", "-o", tmp_path / "g")
    assert result.exit_code == 2 and "is the input" in result.output
    assert run_log.read_bytes() == before


def test_sweep_report_never_writes_over_a_run_log(tmp_path: Path) -> None:
    folder = tmp_path / "sw"
    result = cli(
        "sweep",
        SCENARIOS / "sally-anne.yaml",
        "--seeds",
        "1",
        "--set",
        "stage.backend=scripted",
        "--out",
        folder,
    )
    assert result.exit_code == 0, result.output
    log = next(folder.glob("*.jsonl"))
    before = log.read_bytes()
    result = cli("report", folder, "-o", log)
    assert result.exit_code == 2 and "is the input" in result.output
    assert log.read_bytes() == before


def test_a_symlink_is_followed_and_kept(tmp_path: Path, run_log: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = cli("export", run_log, "--format", "json", "-o", link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8").startswith("{")


def test_a_fifo_is_written_through(tmp_path: Path, run_log: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = cli("export", run_log, "--format", "mermaid", "-o", fifo)
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].startswith(b"flowchart")


def test_dash_is_stdout(tmp_path: Path, run_log: Path) -> None:
    result = CliRunner().invoke(main, ["export", str(run_log), "--format", "mermaid", "-o", "-"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("flowchart")
    assert not (tmp_path / "-").exists()


def test_a_folder_is_refused(tmp_path: Path, run_log: Path) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    result = cli("export", run_log, "--format", "json", "-o", folder)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert folder.is_dir() and not any(folder.iterdir())


def test_atomic_write_never_replaces_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        atomic_write_text(fifo, "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    folder = tmp_path / "table.csv"
    folder.mkdir()
    with pytest.raises(IsADirectoryError):
        atomic_write_text(folder, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "table.csv"]


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a", encoding="utf-8")
    path.chmod(0o640)
    atomic_write_text(path, "b")
    assert path.read_text(encoding="utf-8") == "b" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_write_output_to_a_full_stdout_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from simstage.report.files import OutputError

    full = open("/dev/full", "w", encoding="utf-8")
    monkeypatch.setattr("sys.stdout", full)
    with pytest.raises(OutputError, match="standard output: No space left"):
        write_output("-", "x" * 10)
