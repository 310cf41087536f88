"""`simstage eval hitom --stage` on the embedded model: real questions, real answers among the choices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main

pytestmark = pytest.mark.model

HITOM = Path(__file__).resolve().parents[2] / "tests" / "data" / "hitom" / "Hi-ToM_data.json"


def test_hitom_questions_asked_of_the_model(tmp_path: Path) -> None:
    records = json.loads(HITOM.read_text())
    records = records["data"] if isinstance(records, dict) else records
    wrong = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "hitom",
            str(HITOM),
            "--stage",
            "--threads",
            "2",
            "--limit",
            "10",
            "--json",
            "--disagreements",
            str(wrong),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    stage = summary["stage"]
    assert stage["n"] == 10 and stage["model"] == "default"
    assert 0.0 <= stage["accuracy"] <= 1.0
    assert sum(t["n"] for t in stage["by_type"].values()) == 10 and len(stage["by_type"]) == 10
    # Every answer the model got wrong is listed, and it is one of that record's choices.
    asked_wrong = [json.loads(line) for line in wrong.read_text().splitlines() if '"stage"' in line]
    assert len(asked_wrong) == round(10 * (1 - stage["accuracy"]))
    for row in asked_wrong:
        number = int(row["story"].split()[-1])
        assert row["stage"] in records[number]["choices"]
