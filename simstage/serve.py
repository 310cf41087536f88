"""`python -m simstage.serve`: llama-cpp-python's OpenAI-compatible server, CPU-safe.

It takes the same arguments as `python -m llama_cpp.server` and loads models the
way the in-process stage does: on a CPU with AMX, without ggml's AMX buffer type
(llama.cpp #20824), unless `SIMSTAGE_AMX=1` is set. Needs the `server` extra.
"""

from __future__ import annotations

import os
import runpy
import sys


def main() -> None:
    """Run `llama_cpp.server` as `__main__`, with CPU-safe model defaults."""
    try:
        import llama_cpp.server  # noqa: F401 - only whether the server extra is installed
    except ImportError:
        sys.exit("simstage: the server needs the server extra: pip install 'simstage[server]'")
    from simstage.stage.cpu import cpu_safe_defaults

    with cpu_safe_defaults(allow_amx=os.environ.get("SIMSTAGE_AMX") == "1"):
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
