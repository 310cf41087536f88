"""The command palette: every action of the app, searchable (ctrl+p)."""

from __future__ import annotations

from functools import partial
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider


class PaletteSource(Protocol):
    """What the palette needs of the app: its commands (name, help, action) that make sense now."""

    def palette_commands(self) -> list[tuple[str, str, str]]: ...


class SimstageCommands(Provider):
    """Offers each of the app's actions that makes sense now (live or replay)."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app = cast(PaletteSource, self.app)
        return app.palette_commands()

    async def discover(self) -> Hits:
        app = self.app
        for name, help_text, action in self._commands():
            yield DiscoveryHit(name, partial(app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        for name, help_text, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(name), partial(app.run_action, action), help=help_text
                )
