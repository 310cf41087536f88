"""The run report scores who-knows probes and shows the tracker's set beside the model's."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from simstage.cli import main
from tests.conftest import SCENARIOS


def test_the_report_counts_who_knows_probes_and_shows_the_trackers_set(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    played = CliRunner().invoke(
        main,
        [
            "run",
            str(SCENARIOS / "dinner-party.yaml"),
            "--stage",
            "scripted",
            "--headless",
            "--out",
            str(run),
        ],
    )
    assert played.exit_code == 0, played.output
    out = tmp_path / "report.html"
    made = CliRunner().invoke(main, ["report", str(run), "-o", str(out)])
    assert made.exit_code == 0, made.output
    page = out.read_text(encoding="utf-8")
    assert "who knows (exact set)" in page
    assert "narrator is asked who knows whether debt holds" in page
    assert "(tracker: " in page.split("narrator is asked who knows whether debt holds", 1)[1][:200]
