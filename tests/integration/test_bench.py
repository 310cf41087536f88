"""`simstage bench` end to end on the embedded model: a short scene, the report's shape and counts.

No timing is asserted (speed targets live in the bench's own ratios); only what
must hold whatever the machine: the keys, the fixed amount of generated work,
and that the multi-sequence path evaluates fewer prompt tokens than the naive one.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from simstage.cli import main

pytestmark = pytest.mark.model


def test_bench_json_report() -> None:
    turns, characters, line_tokens = 8, 3, 6
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--turns",
            str(turns),
            "--characters",
            str(characters),
            "--line-tokens",
            str(line_tokens),
            "--threads",
            "2",
            "--n-ctx",
            "4096",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for path in ("naive", "simstage"):
        row = report[path]
        assert set(row) >= {
            "prompt_tokens_evaluated",
            "generated_tokens",
            "wall_s",
            "turn_p50_s",
            "turn_p95_s",
        }
        assert row["generated_tokens"] == turns * line_tokens
        assert 0 < row["turn_p50_s"] <= row["turn_p95_s"]
    naive, ours = report["naive"], report["simstage"]
    # Every speaker change makes the naive path re-read most of the transcript.
    assert ours["prompt_tokens_evaluated"] < naive["prompt_tokens_evaluated"]
    assert report["prompt_tokens_ratio"] == pytest.approx(
        naive["prompt_tokens_evaluated"] / ours["prompt_tokens_evaluated"], rel=1e-3
    )
    # simstage decodes little beyond what is new to each character.
    assert 0 < report["prompt_overhead"] < 2.0
    for key in ("wall_ratio", "probe_batch_speedup", "probe_batch_ceiling", "efficiency"):
        assert report[key] > 0, key
    assert report["ceiling"]["pp_tps"] > 0 and report["ceiling"]["tg_tps"] > 0
    latent = report["latent_capture_overhead"]
    assert latent["probe_ratio"] > 0 and latent["token_ratio"] > 0
    assert latent["contrast_ratio"] > 0 and latent["contrast_probe_s"] > 0
    assert latent["latent_probe_s"] > 0 and latent["plain_probe_s"] > 0
