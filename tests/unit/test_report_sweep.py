"""`simstage report SWEEP_DIR`: a sweep's page (plan, ToM per variant, runs) and, for captured runs, the latent probes per layer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.analysis.results import Skipped
from simstage.cli import main
from tests.conftest import SCENARIOS
from tests.unit.latent_runs import Plant, write_sweep


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scripted sweep of sally-anne (6 seeds), with 12 captured runs beside it in `latent/`."""
    folder = tmp_path_factory.mktemp("sweep") / "sally"
    played = CliRunner().invoke(
        main,
        [
            "sweep",
            str(SCENARIOS / "sally-anne.yaml"),
            "--seeds",
            "1-6",
            "--set",
            "stage.backend=scripted",
            "--out",
            str(folder),
        ],
    )
    assert played.exit_code == 0, played.output
    write_sweep(
        folder / "latent",
        12,
        Plant("named_last", "box", layer=3, strength=4.0),
        contrast=Plant("believed", None, layer=5, strength=3.0),
    )
    return folder


def test_a_sweep_report_shows_the_plan_the_variants_the_runs_and_the_latent_probes(
    sweep: Path,
) -> None:
    result = CliRunner().invoke(main, ["report", str(sweep)])
    assert result.exit_code == 0, result.output
    page = (sweep / "report.html").read_text(encoding="utf-8")
    assert "Sweep of sally-anne.yaml" in page and "6 of 6 runs finished" in page
    assert "Theory of mind per variant" in page and "tom_accuracy" in page
    assert page.count("<tr>") >= 1 + 6  # the runs table: a header and one row per run
    assert "Latent beliefs" in page and "36 captured probes from 12 runs" in page
    for target in ("container", "false_belief", "named_last"):
        assert f"<h3>{target}</h3>" in page
    assert page.count("<svg") == 3 and "CCS: 36 contrast pairs" in page
    assert "CCS not fitted: target false_belief is not a choice" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    # progress goes to stderr as the probes are fitted
    assert "fitting probes for named_last (3/3)" in result.output


def test_the_best_block_is_the_planted_one(sweep: Path) -> None:
    from simstage.analysis.results import FitResult
    from simstage.analysis.sweep_latent import latent_profile
    from simstage.report.sweep_page import best_table

    told: list[str] = []
    profile = latent_profile(sweep / "latent", told.append)
    assert profile is not None and not isinstance(profile.dataset, Skipped)
    assert (profile.dataset.probes, profile.dataset.runs, profile.dataset.layers) == (
        36,
        12,
        (1, 3, 5),
    )
    fits = dict(profile.targets)
    assert list(fits) == ["container", "false_belief", "named_last"]
    assert all(isinstance(result, FitResult) for result in fits.values())
    assert told[-1] == "latent: fitting probes for named_last (3/3)"
    named_last = fits["named_last"]
    assert isinstance(named_last, FitResult)
    table = best_table(named_last)
    rows = dict(
        re.findall(
            r"<td>(mean difference|logistic regression)</td><td class='num'>(\d+)</td>", table
        )
    )
    assert rows == {"mean difference": "3", "logistic regression": "3"}


def test_the_page_renders_a_latent_profile_it_is_given_and_fits_nothing(sweep: Path) -> None:
    """A hand-made profile: a target not fitted, and a dataset that could not be read, are shown as such."""
    from simstage.analysis.results import DatasetSummary
    from simstage.analysis.sweep_latent import SweepLatent
    from simstage.report.sweep_page import sweep_report_html

    reason = "target named_last: 36 rows with a label, 1 class(es); a probe needs two or more"
    profile = SweepLatent(DatasetSummary(36, 12, (1, 3, 5), 16), (("named_last", Skipped(reason)),))
    page, warnings = sweep_report_html(sweep, profile)
    assert "36 captured probes from 12 runs, blocks 1–5" in page and "<h3>named_last</h3>" in page
    assert "not fitted: target named_last: 36 rows" in page and "<svg" not in page and not warnings
    page, warnings = sweep_report_html(sweep, SweepLatent(Skipped("runs of two widths"), ()))
    assert "Latent beliefs" not in page and warnings == [
        "latent probes left out: runs of two widths"
    ]
    assert "Latent beliefs" not in sweep_report_html(sweep, None)[0]


def test_the_report_floor_imports_no_probe_fitting() -> None:
    """Every import in simstage/report, lazy ones too: of the analysis floor, only its results and their drawing."""
    import ast

    from tests.conftest import ROOT

    imported: set[str] = set()
    for path in (ROOT / "simstage" / "report").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    reached = {name for name in imported if name.startswith("simstage.analysis")}
    # profile_shape is a battery profile's typed results, as results is a fit's: nothing computed there.
    allowed = {
        "simstage.analysis.results",
        "simstage.analysis.sweep_latent",
        "simstage.analysis.plot",
    }
    assert reached == allowed | {"simstage.analysis.profile_shape"}


def test_a_folder_that_is_not_a_sweep_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (
        f"simstage: {tmp_path}: neither a sweep nor a battery folder (no sweep.json or battery.json)\n"
    )
    (tmp_path / "sweep.json").write_text("{broken", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "sweep.json: not JSON" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "report.html").exists()


def test_a_sweep_whose_scenario_moved_is_still_reported(sweep: Path, tmp_path: Path) -> None:
    import json
    import shutil

    copy = tmp_path / "moved"
    shutil.copytree(sweep, copy)
    plan = json.loads((copy / "sweep.json").read_text())
    plan["scenario"]["path"] = str(tmp_path / "gone.yaml")
    (copy / "sweep.json").write_text(json.dumps(plan))
    shutil.rmtree(copy / "latent")
    result = CliRunner().invoke(main, ["report", str(copy), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert "its chart is left out" in page and "Latent beliefs" not in page and "<img" not in page
    assert "Theory of mind per variant" in page and "6 of 6 runs finished" in page
    assert page.count("<tr>") >= 7


def test_a_damaged_row_file_is_warned_about_not_a_traceback(sweep: Path, tmp_path: Path) -> None:
    import json
    import shutil

    copy = tmp_path / "damaged"
    shutil.copytree(sweep, copy)
    shutil.rmtree(copy / "latent")
    row_file = sorted((copy / "rows").glob("*.json"))[0]
    row = json.loads(row_file.read_text())
    row.update(
        tom_by_style=[1, 2], tom_by_order={"1": 5}, rewards=7, settings="x", tom_accuracy="high"
    )
    row_file.write_text(json.dumps(row))
    result = CliRunner().invoke(main, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    for name in ("tom_by_style", "tom_by_order", "rewards", "settings"):
        assert f"{name} is not a table of the expected shape" in result.output
    assert "Theory of mind per variant" in (copy / "report.html").read_text()


def test_a_run_with_a_damaged_log_or_row_is_named_not_silently_left_out(tmp_path: Path) -> None:
    # Before, the page said "4 of 6 runs finished" and nothing said which, or why.
    folder = tmp_path / "sally"
    args = [
        "sweep",
        str(SCENARIOS / "sally-anne.yaml"),
        "--seeds",
        "1-3",
        "--set",
        "stage.backend=scripted",
    ]
    assert CliRunner().invoke(main, [*args, "--out", str(folder)]).exit_code == 0
    logs = sorted(folder.glob("*.jsonl"))
    lines = logs[0].read_text(encoding="utf-8").splitlines(keepends=True)
    lines[4] = "{not json at all\n"
    logs[0].write_text("".join(lines), encoding="utf-8")
    row = folder / "rows" / f"{logs[1].stem}.json"
    row.write_text("{bad", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 2, result.stderr
    assert f"{logs[0]}:5:" in warned[0] and warned[0].endswith("the run is left out")
    assert warned[1] == f"warning: {row}: not a readable result row; the run is left out"
    assert "1 of 3 runs finished" in (folder / "report.html").read_text(encoding="utf-8")
