"""`deckkit import`: existing decks (Anki .apkg/.colpkg, Anki CSV, Quizlet text) to YAML sources."""

from __future__ import annotations

import click


@click.command("import")
def import_command() -> None:
    """Turn an existing deck into deckkit sources (being written)."""
    raise click.UsageError("deckkit import is not available yet")
