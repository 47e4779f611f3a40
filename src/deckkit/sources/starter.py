"""A new sources folder: a commented example deck that validates and builds as it is, and the
JSON Schema beside it for editors (written by :mod:`deckkit.project_starter`, ``deckkit init``)."""

from __future__ import annotations

from importlib import resources

EXAMPLE_NAME = "example.yaml"
SCHEMA_NAME = "deck.schema.json"


def example_text() -> str:
    """The commented example deck a new sources folder starts with."""
    return resources.files("deckkit").joinpath("data", "init", EXAMPLE_NAME).read_text("utf-8")


__all__ = ["EXAMPLE_NAME", "SCHEMA_NAME", "example_text"]
