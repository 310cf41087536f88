"""Truncated, garbled and forged run logs thrown at `replay`, `export` and `report`.

Every case ends with exit 0 (the log happens to be usable, e.g. a cut last line)
or 2 with a clear message; never a traceback, never a partial output file.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simstage.cli import main
from simstage.engine import Simulation
from simstage.run.log import RunLogWriter
from simstage.run.open import make_header
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS, say
from tests.unit.test_hostile_scenario import HOSTILE_SCALARS, ODD, assert_clean

FOLDER = Path(tempfile.mkdtemp(prefix="simstage-hostile-log-"))


def _record(name: str, lines: list[str] = ()) -> bytes:
    loaded = load_scenario(SCENARIOS / name)
    stage = ScriptedStage(lines)
    path = FOLDER / f"base-{name}.jsonl"
    header = make_header(loaded, stage, loaded.scenario.seed, loaded.scenario.max_turns)
    with RunLogWriter(path, header, overwrite=True) as writer:
        Simulation(loaded.scenario, stage, sink=writer.append).run()
    return path.read_bytes()


BASES = [
    _record(
        "sally-anne.yaml",
        [
            say("<img src=x onerror=alert(1)> [bold]x[/]"),
            say("Psst.", {"type": "tell", "to": "Sally", "text": "</script>"}),
        ],
    ),
    _record("false-claim.yaml"),
    _record("sycophancy.yaml"),
]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def hostile_log(draw: st.DrawFn) -> bytes:
    base = draw(st.sampled_from(BASES))
    lines = base.split(b"\n")
    kind = draw(
        st.sampled_from(
            ["cut", "flip", "drop", "field", "line", "header", "scenario", "turn", "junk"]
        )
    )
    if kind == "cut":
        return base[: draw(st.integers(0, len(base)))]
    if kind == "flip":
        raw = bytearray(base)
        for _ in range(draw(st.integers(1, 6))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        return bytes(raw)
    if kind == "drop":
        del lines[draw(st.integers(0, len(lines) - 2))]
        return b"\n".join(lines)
    index = draw(st.integers(1, len(lines) - 2))
    if kind == "field":  # a whole event with one field set to anything
        event = json.loads(lines[index])
        event[draw(st.sampled_from(sorted(event)))] = draw(JSON_VALUES)
        lines[index] = json.dumps(event).encode()
    elif kind == "line":  # a line of anything JSON, or text with odd characters
        value = (
            draw(JSON_VALUES)
            if draw(st.booleans())
            else draw(st.text(alphabet=st.sampled_from(list(ODD + '{}[]":,x')), max_size=40))
        )
        lines.insert(
            index,
            json.dumps(value).encode()
            if not isinstance(value, str)
            else value.encode("utf-8", "surrogatepass"),
        )
    elif kind == "header":
        header = json.loads(lines[0])
        header[draw(st.sampled_from(sorted(header)))] = draw(JSON_VALUES)
        lines[0] = json.dumps(header).encode()
    elif kind == "scenario":  # the scenario text in the header made hostile
        header = json.loads(lines[0])
        text = header["scenario_text"]
        at = draw(st.integers(0, len(text)))
        header["scenario_text"] = (
            text[:at]
            + draw(
                st.sampled_from(
                    [*HOSTILE_SCALARS, "\ncast: [{card: /etc/passwd, location: room}]\n"]
                )
            )
            + text[at:]
        )
        lines[0] = json.dumps(header).encode()
    elif kind == "turn":  # forged names and turns in otherwise valid events
        event = json.loads(lines[index])
        for key in ("turn", "who", "to", "frm", "object", "container", "speaker", "ask", "about"):
            if key in event and draw(st.booleans()):
                event[key] = (
                    draw(st.sampled_from([10**12, 0, "Zed", "", "box", "room", "marble", "Sally"]))
                    if key != "turn"
                    else draw(st.integers(0, 10**15))
                )
        lines[index] = json.dumps(event).encode()
    else:
        return draw(st.binary(max_size=300))
    return b"\n".join(lines)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "run.jsonl")


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile_log(), st.sampled_from(["graphml", "gexf", "json", "dot", "mermaid"]))
def test_replay_export_report_never_traceback(data: bytes, fmt: str) -> None:
    folder = FOLDER / "case"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    run = folder / "run.jsonl"
    run.write_bytes(data)
    runner = CliRunner()
    replay = runner.invoke(main, ["replay", str(run)])
    assert_clean(replay)
    export = runner.invoke(
        main, ["export", str(run), "--format", fmt, "-o", str(folder / "graph.out")]
    )
    assert_clean(export)
    report = runner.invoke(main, ["report", str(run), "-o", str(folder / "report.html")])
    assert_clean(report)
    # The three agree on whether the log is usable, and say why when it is not.
    assert replay.exit_code == export.exit_code == report.exit_code, (
        replay.output,
        export.output,
        report.output,
    )
    if report.exit_code == 2:
        assert (
            "simstage:" in report.output and "simstage:" in export.output and replay.output.strip()
        )
        assert leftovers(folder) == []  # nothing written, no temporary file left behind
    else:
        assert leftovers(folder) == ["graph.out", "report.html"]
        html = (folder / "report.html").read_text(encoding="utf-8")
        # The page's own scripts only (the code, and the belief view's JSON data island): a
        # hostile "</script>" in the log never closes one early, "<img" never becomes a tag.
        assert "<img src=x" not in html
        assert html.count("<script") == html.count("</script") and html.count("<script") in (1, 2)
