"""A new sources folder: a commented example deck that validates and builds as it is, and the
JSON Schema beside it for editors (what ``deckkit init`` writes)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from deckkit.errors import UsageError
from deckkit.sources.schema import schema_text

EXAMPLE_NAME = "example.yaml"
SCHEMA_NAME = "deck.schema.json"


@dataclass(frozen=True)
class StarterFiles:
    """The two files a new sources folder starts with."""

    example: Path
    schema: Path


def write_starter(directory: Path) -> StarterFiles:
    """Create ``directory`` with an example deck and the schema; never overwrites an example."""
    files = StarterFiles(directory / EXAMPLE_NAME, directory / SCHEMA_NAME)
    if files.example.exists():
        raise UsageError(f"{files.example} already exists; not overwriting it")
    text = example_text()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # "x": not over an example that appeared since the check above either.
        with files.example.open("x", encoding="utf-8") as example:
            example.write(text)
        files.schema.write_text(schema_text(), encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write into {directory}: {error.strerror or error}") from error
    return files


def example_text() -> str:
    """The commented example deck a new sources folder starts with."""
    return resources.files("deckkit").joinpath("data", "init", EXAMPLE_NAME).read_text("utf-8")


__all__ = ["StarterFiles", "example_text", "write_starter"]
