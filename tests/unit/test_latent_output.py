"""`latent dataset -o` as every other `-o`: never an input, never `-`, written atomically, one line when it fails."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from simstage.analysis.dataset import build_dataset, load_dataset
from simstage.cli import main
from simstage.latent.store import sidecar_path
from tests.unit.latent_runs import write_sweep
from tests.unit.test_disk_faults import make_read_only, one_line_error
from tests.unit.test_outputs import ROOT_ONLY, null_device

OLD = b"an old dataset, kept whole"


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    return write_sweep(tmp_path / "sweep", runs=2)


def invoke(*args: object) -> Any:
    return CliRunner().invoke(main, ["latent", "dataset", *(str(a) for a in args)])


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the dataset fails the test: a refusal must come before any work."""

    def built(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dataset was built before the output was refused")

    monkeypatch.setattr("simstage.analysis.dataset.build_dataset", built)


def cut_off(error: BaseException) -> Any:
    """A `np.savez_compressed` that writes the start of a zip, then fails with `error`."""

    def write(handle: Any, **arrays: object) -> None:
        handle.write(b"PK\x03\x04 half a dataset")
        handle.flush()
        raise error

    return write


def write_fault(
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    writer: str,
    cut_off: Callable[[BaseException], Any],
) -> None:
    """Make writing fail as `fault` says: `read-only` (nothing opens for writing) or `full disk`
    (`writer`, the dotted name of what fills the file, replaced by `cut_off`, runs out of space)."""
    if fault == "read-only":
        make_read_only(monkeypatch)
    elif fault == "full disk":
        monkeypatch.setattr(writer, cut_off(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))


@pytest.mark.parametrize("how", ["same", "hardlink", "symlink", "other-path", "sidecar"])
def test_an_output_that_is_an_input_is_refused_before_any_work(
    sweep: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    log = sweep / "run-001.jsonl"
    before = {p: p.read_bytes() for p in sweep.iterdir() if p.is_file()}
    if how == "same":
        out = log
    elif how == "hardlink":
        out = sweep.parent / "linked.npz"
        os.link(log, out)
    elif how == "symlink":
        out = sweep.parent / "pointer.npz"
        out.symlink_to(log)
    elif how == "other-path":
        out = sweep / "rows" / ".." / log.name
    else:
        out = sidecar_path(log)
    no_work(monkeypatch)
    line = one_line_error(invoke(sweep, "-o", out))
    assert f"{out}: is the input" in line
    assert {p: p.read_bytes() for p in before} == before
    assert temporaries(sweep.parent) == []


def test_dash_is_refused_a_dataset_is_binary(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    no_work(monkeypatch)
    line = one_line_error(invoke(sweep, "-o", "-"))
    assert "binary" in line and "-o" in line
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("missing folder", "No such file or directory"),
        ("read-only", "Read-only file system"),
        ("full disk", "No space left on device"),
    ],
)
def test_a_failed_write_is_one_line_naming_the_output_and_keeps_the_old_file(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str, reason: str
) -> None:
    out = tmp_path / "latent.npz"
    if fault == "missing folder":
        out = tmp_path / "gone" / "latent.npz"
    else:
        out.write_bytes(OLD)
    write_fault(monkeypatch, fault, "numpy.savez_compressed", cut_off)
    assert one_line_error(invoke(sweep, "-o", out)) == f"simstage: cannot write {out}: {reason}"
    if fault == "missing folder":
        assert not out.parent.exists()
    else:
        assert out.read_bytes() == OLD
    assert temporaries(tmp_path) == []


def test_a_folder_is_refused_in_one_line_before_any_work(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Click's `dir_okay=False` refused a folder before this change too: this test guards it.
    folder = tmp_path / "here.npz"
    folder.mkdir()
    no_work(monkeypatch)
    result = invoke(sweep, "-o", folder)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{folder}' is a directory" in result.output
    assert folder.is_dir() and not any(folder.iterdir())


def test_ctrl_c_while_saving_leaves_the_old_dataset_and_no_temporary(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = build_dataset([sweep])
    out = tmp_path / "latent.npz"
    out.write_bytes(OLD)
    monkeypatch.setattr("numpy.savez_compressed", cut_off(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        dataset.save(out)
    assert out.read_bytes() == OLD
    assert temporaries(tmp_path) == []


def test_the_dataset_is_written_under_the_name_given_and_replaces_the_old_one(
    sweep: Path, tmp_path: Path
) -> None:
    # numpy appends `.npz` to a name it opens itself; a file handle keeps the name (a guard).
    out = tmp_path / "latent.data"
    out.write_bytes(OLD)
    result = invoke(sweep, "-o", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latent.data", "sweep"]
    assert len(load_dataset(out)) == len(build_dataset([sweep]))


@ROOT_ONLY
def test_a_character_device_is_written_through_not_replaced(sweep: Path, tmp_path: Path) -> None:
    # `-o /dev/null` wrote through before this change; an atomic write must not replace it.
    node = null_device(tmp_path)
    result = invoke(sweep, "-o", node)
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(node).st_mode) and os.lstat(node).st_rdev == os.makedev(1, 3)
    assert temporaries(tmp_path) == []


@ROOT_ONLY
def test_a_full_device_is_one_line_and_stays_a_device(sweep: Path, tmp_path: Path) -> None:
    full = tmp_path / "fulldev"  # a node of its own, equal to /dev/full
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    line = one_line_error(invoke(sweep, "-o", full))
    assert line == f"simstage: cannot write {full}: No space left on device"
    assert stat.S_ISCHR(os.lstat(full).st_mode)


@pytest.mark.parametrize("ending", ["/", "/."])
@pytest.mark.parametrize("command", [["latent", "dataset", "{sweep}"], ["export", "{log}"]])
def test_an_output_ending_in_a_slash_names_a_folder_not_a_file(
    sweep: Path, tmp_path: Path, command: list[str], ending: str
) -> None:
    # The path is normalised away by pathlib; the rename must not turn `new/` into a file `new`.
    out = f"{tmp_path / 'new'}{ending}"
    argv = [a.format(sweep=sweep, log=sweep / "run-000.jsonl") for a in command]
    line = one_line_error(CliRunner().invoke(main, [*argv, "-o", out]))
    assert line == f"simstage: cannot write {out}: names a folder (it ends in {ending}), not a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep"]


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("missing folder", "No such file or directory"),
        ("ends in /", "names a folder (it ends in /), not a file"),
        ("under a file", "Not a directory"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, reason: str
) -> None:
    # Before, the whole dataset was built first and only the write failed.
    out: object
    if where == "missing folder":
        out = tmp_path / "gone" / "latent.npz"
    elif where == "ends in /":
        out = f"{tmp_path / 'new'}/"
    else:
        (tmp_path / "plain").write_bytes(OLD)
        out = tmp_path / "plain" / "latent.npz"
    no_work(monkeypatch)
    assert one_line_error(invoke(sweep, "-o", out)) == f"simstage: cannot write {out}: {reason}"
    assert not (tmp_path / "gone").exists() and not (tmp_path / "new").exists()
    assert temporaries(tmp_path) == []


def test_a_dataset_named_as_a_run_log_is_refused_before_any_work(
    sweep: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, `-o SWEEP/rows.jsonl` put an npz in the sweep folder that every later command
    # reading the folder took for a broken run log.
    out = sweep / "rows.jsonl"
    no_work(monkeypatch)
    line = one_line_error(invoke(sweep, "-o", out))
    assert line.startswith(f"simstage: {out}:") and ".jsonl" in line and ".npz" in line
    assert not out.exists()
