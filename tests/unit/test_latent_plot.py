"""`latent fit --plot` as every other output: never the dataset, never `-`, written atomically under its own name."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from simstage.analysis.dataset import build_dataset, load_dataset
from simstage.analysis.probes import fit
from simstage.analysis.results import FitResult
from simstage.cli import main
from tests.unit.latent_runs import write_sweep
from tests.unit.test_disk_faults import one_line_error
from tests.unit.test_latent_output import temporaries, write_fault
from tests.unit.test_outputs import HOWS, ROOT_ONLY, another_name, null_device

TARGET = "named_last"
OLD = b"an old plot, kept whole"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plot")
    out = folder / "latent.npz"
    build_dataset([write_sweep(folder / "sweep", runs=3)]).save(out)
    return out


@pytest.fixture(scope="module")
def fitted(dataset: Path) -> FitResult:
    return fit(load_dataset(dataset), None, TARGET)


@pytest.fixture
def quick(fitted: FitResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """`fit` answers the module's one result: these tests are about the plot, not the probes."""
    monkeypatch.setattr("simstage.analysis.probes.fit", lambda *args, **kwargs: fitted)


def invoke(dataset: Path, plot: object) -> Any:
    return CliRunner().invoke(
        main, ["latent", "fit", str(dataset), "--target", TARGET, "--plot", str(plot)]
    )


def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the dataset or fitting fails the test: a refusal must come before any work."""

    def worked(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dataset was read before the plot was refused")

    monkeypatch.setattr("simstage.analysis.dataset.load_dataset", worked)
    monkeypatch.setattr("simstage.analysis.probes.fit", worked)


def cut_off(error: BaseException) -> Any:
    """A `Figure.savefig` that writes the start of a PNG, then fails with `error`."""

    def savefig(self: object, target: Any, **kwargs: object) -> None:
        # An open file here; a name before, when savefig opened the plot itself.
        handle = target if hasattr(target, "write") else open(target, "wb")
        handle.write(PNG + b" half a plot")
        handle.flush()
        raise error

    return savefig


@pytest.mark.parametrize("how", HOWS)
def test_a_plot_that_is_the_dataset_is_refused_before_any_work(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    before = dataset.read_bytes()
    out = another_name(dataset, how, tmp_path)
    no_work(monkeypatch)
    line = one_line_error(invoke(dataset, out))
    assert f"{out}: is the input {dataset}" in line and "choose another --plot" in line
    assert dataset.read_bytes() == before
    assert temporaries(tmp_path) == [] and temporaries(dataset.parent) == []


def test_dash_is_refused_a_plot_is_binary(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, `--plot -` drew to a file named `-.png` in the current folder.
    monkeypatch.chdir(tmp_path)
    no_work(monkeypatch)
    line = one_line_error(invoke(dataset, "-"))
    assert line.startswith("simstage: --plot -:") and "binary" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("missing folder", "No such file or directory"),
        ("read-only", "Read-only file system"),
        ("full disk", "No space left on device"),
        ("ends in /", "names a folder (it ends in /), not a file"),
    ],
)
@pytest.mark.usefixtures("quick")
def test_a_failed_write_is_one_line_naming_the_plot_and_keeps_the_old_file(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str, reason: str
) -> None:
    out: object = tmp_path / "fit.png"
    if fault == "missing folder":
        out = tmp_path / "gone" / "fit.png"
    elif fault == "ends in /":
        out = f"{tmp_path / 'new'}/"
    else:
        (tmp_path / "fit.png").write_bytes(OLD)
    write_fault(monkeypatch, fault, "matplotlib.figure.Figure.savefig", cut_off)
    assert one_line_error(invoke(dataset, out)) == f"simstage: cannot write {out}: {reason}"
    if fault in ("read-only", "full disk"):
        assert (tmp_path / "fit.png").read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["fit.png"] if fault in ("read-only", "full disk") else []
    )


@pytest.mark.usefixtures("quick")
def test_ctrl_c_while_drawing_leaves_the_old_plot_and_no_temporary(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "fit.png"
    out.write_bytes(OLD)
    monkeypatch.setattr("matplotlib.figure.Figure.savefig", cut_off(KeyboardInterrupt()))
    result = invoke(dataset, out)
    assert result.exit_code != 0
    assert out.read_bytes() == OLD
    assert temporaries(tmp_path) == []


@pytest.mark.usefixtures("quick")
def test_the_plot_is_written_under_the_name_given_in_the_format_its_suffix_names(
    dataset: Path, tmp_path: Path
) -> None:
    # matplotlib appended `.png` to a name without a suffix, and failed on a suffix it did not know.
    (tmp_path / "fit").write_bytes(OLD)
    starts = {"fit": PNG, "fit.data": PNG, "fit.svg": b"<?xml", "fit.PDF": b"%PDF"}
    for name in starts:
        result = invoke(dataset, tmp_path / name)
        assert result.exit_code == 0, result.output
        assert f"plot: {tmp_path / name}" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(starts)
    for name, start in starts.items():
        assert (tmp_path / name).read_bytes().startswith(start), name


@ROOT_ONLY
@pytest.mark.usefixtures("quick")
def test_a_character_device_is_written_through_not_replaced(dataset: Path, tmp_path: Path) -> None:
    # Before, `--plot /dev/null` wrote a new file `/dev/null.png`.
    node = null_device(tmp_path)
    result = invoke(dataset, node)
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(node).st_mode) and os.lstat(node).st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [node.name]


@ROOT_ONLY
@pytest.mark.usefixtures("quick")
def test_a_full_device_is_one_line_and_stays_a_device(dataset: Path, tmp_path: Path) -> None:
    full = tmp_path / "fulldev"  # a node of its own, equal to /dev/full
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    line = one_line_error(invoke(dataset, full))
    assert line == f"simstage: cannot write {full}: No space left on device"
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == [full.name]


@pytest.mark.usefixtures("quick")
def test_a_plot_that_cannot_be_written_keeps_the_fit_printed(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk is found only by the write, after the fit.
    write_fault(monkeypatch, "full disk", "matplotlib.figure.Figure.savefig", cut_off)
    result = invoke(dataset, tmp_path / "fit.png")
    assert result.exit_code == 2
    assert "layer" in result.output and "behaviour" in result.output  # the figures came first


def test_without_matplotlib_plot_is_one_line_before_any_work(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_work(monkeypatch)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the sweep extra were not installed
    line = one_line_error(invoke(dataset, tmp_path / "fit.png"))
    assert line == "simstage: --plot needs matplotlib: pip install 'simstage[sweep]'"


def test_a_plot_whose_folder_is_missing_is_refused_before_any_work(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, the probes were fitted (minutes on a real sweep) and only then the plot failed.
    out = tmp_path / "gone" / "fit.png"
    no_work(monkeypatch)
    line = one_line_error(invoke(dataset, out))
    assert line == f"simstage: cannot write {out}: No such file or directory"
    assert list(tmp_path.iterdir()) == []
