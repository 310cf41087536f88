"""Command modules beyond the core ones in `simstage.cli`.

Each module here defines `register(main: click.Group) -> None` and imports
anything heavy (textual, networkx, the model) inside its commands only. The CLI
finds the modules itself, so adding a command never edits `cli.py`.
"""

from __future__ import annotations

import importlib
import pkgutil

import click


def register_all(main: click.Group) -> None:
    """Add every command module's commands to `main`."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(main)
