"""A full disk or a read-only file system under `sweep` and `run --resume`: one line, exit 2, nothing lost or left behind.

The faults are simulated where the code writes: `os.write` and `os.open` (run logs,
temporaries), `Path.write_text` / `write_bytes` (tables, backups) and pyarrow's
`write_table`; a file being written on a full disk is created, then the write fails.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.run.log import read_runlog
from tests.conftest import SCENARIOS
from tests.unit.test_resume import failing_run

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def fill_disk(
    monkeypatch: pytest.MonkeyPatch, hit: Callable[[str], bool] = lambda name: True
) -> None:
    """Writes to files whose name `hit` accepts fail with ENOSPC (after the file is created)."""
    write_text, write_bytes = Path.write_text, Path.write_bytes

    def full(original: Callable[..., int]) -> Callable[..., int]:
        def write(self: Path, data: object, *args: object, **kwargs: object) -> int:
            if not hit(self.name):
                return original(self, data, *args, **kwargs)
            self.touch()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

        return write

    monkeypatch.setattr(Path, "write_text", full(write_text))
    monkeypatch.setattr(Path, "write_bytes", full(write_bytes))


def fill_disk_for_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """`os.write` to any file fails with ENOSPC: the run log's own writes."""
    write = os.write

    def full(fd: int, data: bytes) -> int:
        if fd <= 2:
            return write(fd, data)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)


def make_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a file for writing fails with EROFS (chmod would not stop root)."""
    open_ = os.open

    def refuse(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & WRITING:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return open_(path, flags, *args, **kwargs)

    def refuse_write(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(os, "open", refuse)
    monkeypatch.setattr(Path, "write_text", refuse_write)
    monkeypatch.setattr(Path, "write_bytes", refuse_write)


def invoke(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result: object) -> str:
    """The single `simstage:` line of a failed command (exit 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.output.splitlines() if line.startswith("simstage:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith((".tmp", ".resuming")))


# --- run --resume ---


@pytest.fixture
def failed_run(tmp_path: Path) -> Path:
    out = tmp_path / "run.jsonl"
    failing_run(out, fail_on_call=4)
    return out


def test_resume_on_a_full_disk_leaves_the_log_and_no_empty_backup(
    failed_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = failed_run.read_bytes()
    fill_disk(monkeypatch)
    fill_disk_for_logs(monkeypatch)
    line = one_line_error(invoke("run", "--resume", failed_run))
    assert str(failed_run) in line and "No space left on device" in line
    assert failed_run.read_bytes() == before
    assert sorted(p.name for p in failed_run.parent.iterdir()) == [failed_run.name]


def test_resume_on_a_read_only_file_system_changes_nothing(
    failed_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = failed_run.read_bytes()
    make_read_only(monkeypatch)
    line = one_line_error(invoke("run", "--resume", failed_run))
    assert str(failed_run) in line and "Read-only file system" in line
    assert failed_run.read_bytes() == before
    assert sorted(p.name for p in failed_run.parent.iterdir()) == [failed_run.name]


def test_resume_whose_appends_fill_the_disk_counts_the_events_the_log_keeps(
    failed_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = failed_run.read_bytes()
    fill_disk_for_logs(
        monkeypatch
    )  # the backup and the rewrite fit; the resumed run's first event does not
    line = one_line_error(invoke("run", "--resume", failed_run))
    monkeypatch.undo()
    kept = len(read_runlog(failed_run).events)
    assert kept > 1
    assert f"keeps the {kept} events before" in line, line
    backup = failed_run.with_name(failed_run.name + ".before-resume-1")
    assert backup.read_bytes() == before and backup.name in line
    assert leftovers(failed_run.parent) == []


# --- sweep ---


def scripted_sweep(out: Path, seeds: str = "1-2") -> object:
    return invoke(
        "sweep",
        SCENARIOS / "sally-anne.yaml",
        "--seeds",
        seeds,
        "--set",
        "stage.backend=scripted",
        "--out",
        out,
    )


@pytest.mark.parametrize(
    "written",
    [".summary.csv.", ".results.csv.", ".sweep.json.", ".stage.backend=scripted__seed1.json."],
)
def test_a_sweep_into_a_full_disk_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    """The disk fills as the sweep writes its plan, a run's row, or a table (their temporaries)."""
    out = tmp_path / "sweep"
    fill_disk(monkeypatch, lambda name: name.startswith(written))
    line = one_line_error(scripted_sweep(out))
    assert written.strip(".") in line and "No space left on device" in line
    assert leftovers(tmp_path) == []


def test_a_sweep_whose_run_logs_fill_the_disk_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sweep"
    fill_disk_for_logs(monkeypatch)
    line = one_line_error(scripted_sweep(out))
    assert "No space left on device" in line or "cannot write" in line
    assert leftovers(tmp_path) == []


def test_a_sweep_whose_parquet_fills_the_disk_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parquet = pytest.importorskip("pyarrow.parquet")

    def full(table: object, where: object, *args: object, **kwargs: object) -> None:
        Path(str(where)).touch()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(parquet, "write_table", full)
    out = tmp_path / "sweep"
    line = one_line_error(scripted_sweep(out))
    assert "results.parquet" in line and "No space left on device" in line
    assert leftovers(tmp_path) == []
    assert len(list((out / "rows").glob("*.json"))) == 2  # the finished runs' rows are kept


def test_a_sweep_whose_results_csv_is_a_folder_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    assert scripted_sweep(out).exit_code == 0
    (out / "results.csv").unlink()
    (out / "results.csv").mkdir()
    line = one_line_error(scripted_sweep(out))
    assert "results.csv" in line and "folder" in line
    assert (out / "results.csv").is_dir() and leftovers(tmp_path) == []
