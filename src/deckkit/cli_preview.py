"""`deckkit preview`: a static HTML page showing every card as Anki renders it."""

from __future__ import annotations

import click


@click.command("preview")
def preview_command() -> None:
    """Write a static HTML preview of every card (being written)."""
    raise click.UsageError("deckkit preview is not available yet")
