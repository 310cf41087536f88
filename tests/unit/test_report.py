"""`simstage report`: one self-contained HTML page, escaped, atomic; the turn slider checked in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.engine import Simulation
from simstage.run.log import RunLogWriter
from simstage.run.open import make_header
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS, say

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


def write_run(scenario_file: Path, path: Path, lines: list[str] = ()) -> list:
    loaded = load_scenario(scenario_file)
    stage = ScriptedStage(lines)
    header = make_header(loaded, stage, loaded.scenario.seed, loaded.scenario.max_turns)
    with RunLogWriter(path, header) as writer:
        sim = Simulation(loaded.scenario, stage, sink=writer.append)
        sim.run()
    return sim.events


def report(run: Path, out: Path) -> CliRunner:
    result = CliRunner().invoke(main, ["report", str(run), "-o", str(out)])
    return result


def belief_data(html: str) -> dict:
    """The data the page's script draws the belief graph and matrix from."""
    found = re.search(
        r'<script type="application/json" id="belief-data">(.*?)</script>', html, re.DOTALL
    )
    assert found is not None
    return json.loads(found.group(1))


def test_report_of_a_finished_run_is_self_contained(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    write_run(
        SCENARIOS / "sally-anne.yaml", run, [say("<script>alert('x')</script> & <b>bold</b>")]
    )
    out = tmp_path / "report.html"
    result = report(run, out)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    # Self-contained: nothing loaded from anywhere.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "<link" not in html and "@import" not in html
    # Model text is escaped, never markup.
    assert (
        "<script>alert" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    )
    assert "<b>bold</b>" not in html
    # The beliefs of every turn 0..6; Anne moves the marble at turn 3: Sally's belief turns false.
    data = belief_data(html)
    assert data["turns"] == list(range(7))
    sally = next(i for i, row in enumerate(data["rows"]) if row[0] == "Sally" and not row[1])
    marble = data["objects"].index("marble")
    believed = [data["cells"][t][marble][sally * 6] for t in range(7)]
    assert (
        believed[2] == believed[3] != data["reality"][3][marble]
        and data["reality"][2][marble] == believed[2]
    )
    # Probe accuracy by order and style, each with its 95% Wilson interval (3/3 agreed: 44%–100%).
    assert "order 1" in html and "order 2" in html and "style indirect" in html
    assert (
        "<th>95% Wilson</th>" in html and "<td>3/3 (100%)</td><td>44%–100%</td><td>3</td>" in html
    )
    assert "Puppeteer metrics" not in html  # round robin without metrics: the section is skipped
    assert not list(tmp_path.glob(".report.html.*"))


def test_private_lines_are_marked(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    write_run(
        SCENARIOS / "sally-anne.yaml",
        run,
        [say("Psst.", {"type": "tell", "to": "Anne", "text": "I have a plan."})],
    )
    assert report(run, tmp_path / "r.html").exit_code == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert re.search(r'class="row tell private"[^>]*><span class="tag">private</span>', html)


def test_puppeteer_metrics_are_charted_when_present(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    events = write_run(SCENARIOS / "sycophancy.yaml", run)
    assert any(getattr(e, "type", "") == "turn_metrics" for e in events)
    out = tmp_path / "r.html"
    assert report(run, out).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "Puppeteer metrics" in html and "<figcaption>persona_fit</figcaption>" in html
    assert "Run metrics" in html


def test_cut_log_is_reported_up_to_its_last_whole_event(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    write_run(SCENARIOS / "sally-anne.yaml", run)
    data = run.read_bytes()
    run.write_bytes(data[: len(data) - 25])
    out = tmp_path / "r.html"
    result = report(run, out)
    assert result.exit_code == 0, result.output
    assert "last line is incomplete" in result.output
    html = out.read_text(encoding="utf-8")
    assert "last line is incomplete" in html and "did not record its end" in html


def test_bad_input_leaves_no_file(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    run.write_text('{"type": "header"}\n', encoding="utf-8")
    out = tmp_path / "r.html"
    result = report(run, out)
    assert result.exit_code == 2 and "simstage:" in result.output
    assert list(tmp_path.iterdir()) == [run]
    result = report(tmp_path / "missing.jsonl", out)
    assert result.exit_code == 2 and not out.exists()
    write_run(SCENARIOS / "sally-anne.yaml", run := tmp_path / "ok.jsonl")
    result = report(run, tmp_path / "no-such-folder" / "r.html")
    assert result.exit_code == 2 and "cannot write" in result.output


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_slider_turn_changes_the_drawn_graph_in_chromium(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    write_run(SCENARIOS / "sally-anne.yaml", run)
    out = tmp_path / "report.html"
    assert report(run, out).exit_code == 0
    shots: dict[int, bytes] = {}
    for turn in (2, 3):
        url = f"{out.as_uri()}#turn={turn}"
        dom = chromium(["--dump-dom", url], tmp_path / f"profile-dom-{turn}")
        assert dom.returncode == 0, dom.stderr[-2000:]
        text = dom.stdout.decode("utf-8")
        # The script ran and drew the asked turn: at turn 3 Sally's belief is false (a red arrow).
        assert f'data-shown-turn="{turn}"' in text
        falses = len(re.findall(r'<g class="belief false', text))
        assert (falses > 0) == (turn == 3), falses
        png = tmp_path / f"turn{turn}.png"
        shot = chromium(
            [f"--screenshot={png}", "--window-size=1280,900", url], tmp_path / f"profile-{turn}"
        )
        assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
        shots[turn] = png.read_bytes()
        assert shots[turn].startswith(b"\x89PNG")
    assert shots[2] != shots[3]


def test_an_output_whose_folder_is_missing_is_refused_before_the_report_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, the page was built (a sweep's probes fitted, minutes) and only the write failed.
    write_run(SCENARIOS / "sally-anne.yaml", run := tmp_path / "ok.jsonl")

    def built(*args: object, **kwargs: object) -> None:
        raise AssertionError("the report was built before its output was refused")

    monkeypatch.setattr("simstage.report.report_html", built)
    out = tmp_path / "no-such-folder" / "r.html"
    result = report(run, out)
    assert result.exit_code == 2
    assert result.output == f"simstage: cannot write {out}: No such file or directory\n"
