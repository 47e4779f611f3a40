"""`deckkit init` and `deckkit schema`: starting a sources folder, and the schema for editors."""

from __future__ import annotations

from pathlib import Path

import click

from deckkit.cli.advice import library_errors
from deckkit.cli.terminal import echo, echo_lines
from deckkit.sources.schema import schema_text
from deckkit.sources.starter import write_starter


@click.command("init")
@click.argument("directory", default="sources", type=click.Path(path_type=Path))
def init_command(directory: Path) -> None:
    """Create a sources folder with a commented example deck and the schema for editors.

    \b
    Example:
      deckkit init            # creates sources/example.yaml and sources/deck.schema.json
      deckkit init decks/
    """
    with library_errors():
        files = write_starter(directory)
    echo_lines(
        [
            f"created {files.example} and {files.schema}",
            f"next: deckkit validate {directory} && deckkit build {directory}",
        ]
    )


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of card sources (point your editor at it).

    \b
    Example:
      deckkit schema > deck.schema.json
    """
    echo(schema_text(), nl=False)
