"""`simstage card import CARD`: a character card (PNG or JSON) as a scenario cast entry."""

from __future__ import annotations

import click

from simstage.cli.errors import fail


@click.group(name="card")
def card_group() -> None:
    """Character cards (SillyTavern/TavernAI, spec V2 and V3) as cast members."""


@card_group.command(name="import")
@click.argument("card", type=click.Path(dir_okay=False))
@click.option(
    "--location",
    default="room",
    show_default=True,
    help="Where the character stands when the scene opens.",
)
def import_card(card: str, location: str) -> None:
    """Print CARD (.png or .json) as a cast entry (YAML) to paste under `cast:`.

    \b
    persona     the card's description and personality
    first_line  its greeting (first_mes), said at the start of turn 1
    style       its example messages (mes_example)
    secrets     its lorebook entries, as what only this character knows
    A scenario can also name the card itself: `cast: - {card: CARD, location: room}`.
    """
    import yaml

    from simstage.cards import CardError, card_cast_entry, read_card

    try:
        entry = card_cast_entry(read_card(card), location)
    except CardError as exc:
        fail(str(exc))
        return
    click.echo(yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100), nl=False)
