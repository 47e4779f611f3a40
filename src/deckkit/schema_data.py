"""The deck JSON Schema as shipped (package data), apart from its checks: reading the build cache
needs the schema's id rule without loading YAML or the validators."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

SCHEMA_RESOURCE = "deck.schema.json"


def schema_text() -> str:
    """The schema exactly as shipped, for `deckkit schema` and editors."""
    return resources.files("deckkit").joinpath("data", SCHEMA_RESOURCE).read_text("utf-8")


@lru_cache(maxsize=1)
def deck_schema() -> dict[str, Any]:
    """The parsed deck schema."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema
