"""`simstage latent dataset | fit | ablate`: a round trip, the plot, one-line errors, and light imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from tests.conftest import ROOT
from tests.unit.latent_runs import Plant, write_sweep


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_sweep(
        tmp_path_factory.mktemp("sweep"), 12, Plant("named_last", "box", layer=3, strength=4.0)
    )
    out = folder.parent / "latent.npz"
    result = CliRunner().invoke(main, ["latent", "dataset", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "36 probes from 12 runs, 3 layers × 16" in result.output
    return out


def test_dataset_then_fit_json(dataset: Path, tmp_path: Path) -> None:
    png = tmp_path / "fit.png"
    args = [
        "latent",
        "fit",
        str(dataset),
        "--target",
        "named_last",
        "--layers",
        "1,3",
        "--json",
        "--plot",
        str(png),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [entry["layer"] for entry in data["layers"]] == [1, 3]
    assert data["layers"][1]["logistic"]["estimate"] >= 0.9
    assert set(data["behaviour"]) == {"all", "direct", "indirect"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fit_and_ablate_print_tables(dataset: Path) -> None:
    result = CliRunner().invoke(main, ["latent", "fit", str(dataset), "--target", "named_last"])
    assert result.exit_code == 0, result.output
    assert (
        "split: seeded group 5-fold over runs" in result.output
        and "ccs: skipped: no contrast pairs" in result.output
    )
    assert "behaviour (indirect)" in result.output
    result = CliRunner().invoke(
        main, ["latent", "ablate", str(dataset), "--target", "named_last", "--json"]
    )
    assert result.exit_code == 0, result.output
    at3 = json.loads(result.output)["layers"][1]
    assert at3["before"]["estimate"] > 0.9 and at3["random"]["estimate"] > 0.9
    assert at3["after"]["estimate"] < 0.7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dataset", "{tmp}/nowhere", "-o", "{tmp}/x.npz"], "nowhere: no such file or folder"),
        (["fit", "{tmp}/nothing.npz"], "nothing.npz: no such file"),
        (["fit", "{ds}", "--layers", "42"], "layer 42 was not captured"),
        (["fit", "{ds}", "--layers", "one"], "give block numbers"),
        (["ablate", "{ds}", "--target", "container", "--layers", "3"], None),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    dataset: Path, tmp_path: Path, args: list[str], message: str | None
) -> None:
    argv = ["latent", *[a.format(tmp=tmp_path, ds=dataset) for a in args]]
    result = CliRunner().invoke(main, argv)
    if message is None:  # two containers: the believed container is binary, ablation runs
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_help_explains_each_command() -> None:
    helps = {
        c: CliRunner().invoke(main, ["latent", c, "--help"]).output
        for c in ("dataset", "fit", "ablate")
    }
    assert "named_last" in helps["dataset"] and "sweep folders" in helps["dataset"]
    assert "split by run" in helps["fit"] and "CCS" in helps["fit"] and "--plot" in helps["fit"]
    assert "random" in helps["ablate"] and "behavioural sense" in helps["ablate"]


def test_the_cli_and_the_latent_modules_import_no_sklearn_or_matplotlib() -> None:
    code = (
        "import simstage, simstage.cli, simstage.analysis.dataset, simstage.analysis.probes, "
        "simstage.analysis.ablate, simstage.analysis.plot, sys; "
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    assert not any(name.split(".")[0] in ("sklearn", "matplotlib", "scipy") for name in loaded)
