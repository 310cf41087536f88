"""The remote stage against a real server: llama-cpp-python's OpenAI-compatible server
(through `python -m simstage.serve`, which avoids the AMX crash) on 127.0.0.1,
serving the embedded model.

Also: the server killed mid-run (a clear error, the log intact) and the run
resumed once the server is back.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.engine import EventCallback
from simstage.events import TurnEnded
from simstage.run.log import read_runlog
from simstage.run.open import open_run
from simstage.stage.base import StageError
from simstage.stage.models import resolve_model
from tests.conftest import SCENARIOS

pytestmark = pytest.mark.model

pytest.importorskip(
    "llama_cpp.server.app", reason="needs the server extra: pip install 'llama-cpp-python[server]'"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`python -m simstage.serve` (llama_cpp.server, CPU-safe) with the embedded model, on loopback."""

    def __init__(self, port: int, log: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v1"
        self._log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        command = [
            sys.executable,
            "-m",
            "simstage.serve",
            "--model",
            str(resolve_model("default")),
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_threads",
            "2",
            "--n_ctx",
            "4096",
        ]
        self.process = subprocess.Popen(
            command, stdout=open(self._log, "ab"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited: {self._log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        pytest.fail("the server did not come up in 120 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def server(tmp_path):
    running = Server(free_port(), tmp_path / "server.log").start()
    yield running
    running.kill()


def remote_scenario(tmp_path: Path, url: str, **stage: object) -> Path:
    """Sally–Anne, played by the server, with an API key read from the environment."""
    text = (SCENARIOS / "sally-anne.yaml").read_text()
    settings = {
        "backend": "litellm",
        "model": "openai/smollm2",
        "api_base": url,
        "api_key_env": "SIMSTAGE_TEST_KEY",
        "temperature": 0.7,
        "max_tokens": 100,
        "retries": 1,
        **stage,
    }
    lines = [
        f"stage: {json.dumps(settings)}" if line.startswith("stage:") else line
        for line in text.splitlines()
    ]
    path = tmp_path / "sally-remote.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_scene_plays_through_the_server(tmp_path, server, monkeypatch) -> None:
    monkeypatch.setenv("SIMSTAGE_TEST_KEY", "sk-test-secret-7781")
    out = tmp_path / "run.jsonl"
    result = CliRunner().invoke(
        main, ["run", str(remote_scenario(tmp_path, server.url)), "--headless", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    log = read_runlog(out)
    assert log.header.stage.backend == "litellm" and log.header.stage.model == "openai/smollm2"
    assert log.events[-1].type == "run_ended" and log.events[-1].reason == "completed"
    ended = [e for e in log.events if e.type == "turn_ended"]
    assert len(ended) == log.header.max_turns and all(e.raw for e in ended)
    # The server constrains turns to the JSON schema (llama-cpp-python takes json_object + schema).
    assert sum(1 for e in log.events if e.type == "parse_failed") <= 1
    assert [e.answer for e in log.events if e.type == "probe"]
    assert "sk-test-secret-7781" not in out.read_text()


def test_server_killed_mid_run_then_resumed(tmp_path, server) -> None:
    # The shipped scenario, sent to the server from the command line's overrides;
    # the log's header records the server, so --resume finds it again.
    out = tmp_path / "run.jsonl"

    def kill_after_turn_3(event) -> None:
        if isinstance(event, TurnEnded) and event.turn == 3:
            server.kill()

    with open_run(
        SCENARIOS / "sally-anne.yaml",
        out,
        backend="litellm",
        model="openai/smollm2",
        api_base=server.url,
    ) as session:
        session.simulation.subscribe(EventCallback(kill_after_turn_3))
        with pytest.raises(StageError) as caught:
            session.simulation.run()
    assert server.url in str(caught.value) and "openai/smollm2" in str(caught.value)
    failed = read_runlog(out)
    assert failed.header.stage.api_base == server.url
    assert not failed.warnings
    assert [e.turn for e in failed.events if e.type == "turn_ended"] == [1, 2, 3]
    assert failed.events[-1].type == "run_ended" and failed.events[-1].reason == "error"
    kept = out.read_text().splitlines()

    # While the server is down, --resume fails the same clear way and loses nothing.
    down = CliRunner().invoke(main, ["run", "--resume", str(out)])
    assert down.exit_code == 2 and "cannot reach" in down.output and "Traceback" not in down.output

    server.start()
    resumed = CliRunner().invoke(main, ["run", "--resume", str(out)])
    assert resumed.exit_code == 0, resumed.output
    log = read_runlog(out)
    assert log.events[-1].type == "run_ended" and log.events[-1].reason == "completed"
    assert [e.turn for e in log.events if e.type == "turn_ended"] == list(
        range(1, log.header.max_turns + 1)
    )
    assert out.read_text().splitlines()[:4] == kept[:4]
    assert os.path.exists(str(out) + ".before-resume-1")
