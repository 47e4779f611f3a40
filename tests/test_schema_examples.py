"""The schema's examples and editor snippets (``examples``, ``defaultSnippets``) of a note type and
of a card are real: both schema validators accept them, and a deck made of them validates."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
import yaml

from conftest import REPO
from deckkit import validate

SCHEMA = json.loads((REPO / "src" / "deckkit" / "data" / "deck.schema.json").read_text("utf-8"))
DEFS = ("note_type", "card")
# A snippet's tab stop with its default text (${1:Vocab}), or without one ($1, ${1}).
PLACEHOLDER = re.compile(r"\$\{\d+:((?:\\.|[^}\\])*)\}|\$\{?\d+\}?")


def schema_of(definition: str) -> dict[str, Any]:
    return {"$schema": SCHEMA["$schema"], "$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{definition}"}


def filled(body: Any) -> Any:
    """A snippet's body as an editor inserts it when each tab stop keeps its default text."""
    if isinstance(body, dict):
        return {filled(key): filled(value) for key, value in body.items()}
    if isinstance(body, list):
        return [filled(item) for item in body]
    if isinstance(body, str):
        text = PLACEHOLDER.sub(lambda m: m.group(1) if m.group(1) is not None else "x", body)
        return re.sub(r"\\(.)", r"\1", text)  # "\}" is "}" inside a default text
    return body


def values(kind: str) -> list[tuple[str, str, Any]]:
    found = []
    for definition in DEFS:
        node = SCHEMA["$defs"][definition]
        if kind == "examples":
            found += [(definition, f"example {i}", v) for i, v in enumerate(node["examples"])]
        else:
            found += [(definition, s["label"], filled(s["body"])) for s in node["defaultSnippets"]]
    return found


def test_a_note_type_and_a_card_each_have_examples_and_snippets() -> None:
    for definition in DEFS:
        node = SCHEMA["$defs"][definition]
        assert node["examples"]
        assert all(s["label"] and s["description"] and s["body"] for s in node["defaultSnippets"])
    labels = {s["label"] for s in SCHEMA["$defs"]["card"]["defaultSnippets"]}
    assert "Card of a note type" in labels


@pytest.mark.parametrize(
    ("definition", "name", "value"), values("examples") + values("snippets"), ids=lambda v: str(v)
)
def test_both_validators_accept_each_example_and_snippet(
    definition: str, name: str, value: Any
) -> None:
    schema = schema_of(definition)
    assert jsonschema_rs.Draft202012Validator(schema).is_valid(value), name
    assert jsonschema.Draft202012Validator(schema).is_valid(value), name


def test_filled_snippets_keep_no_tab_stop() -> None:
    for _definition, name, value in values("snippets"):
        assert "$" not in json.dumps(value), name
        assert "\\" not in json.dumps(value), name  # nor an escape of one


def test_a_deck_of_the_examples_validates_without_a_problem(tmp_path: Path) -> None:
    note_types = SCHEMA["$defs"]["note_type"]["examples"]
    cards = SCHEMA["$defs"]["card"]["examples"]
    deck = {"deck": "Examples", "id": "examples", "note_types": note_types, "cards": cards}
    source = tmp_path / "examples.yaml"
    source.write_text(yaml.safe_dump(deck, allow_unicode=True), encoding="utf-8")
    assert validate([source]).problems == ()


def test_a_deck_of_the_snippets_validates_without_a_problem(tmp_path: Path) -> None:
    note_type = filled(SCHEMA["$defs"]["note_type"]["defaultSnippets"][0]["body"])
    card = filled(SCHEMA["$defs"]["card"]["defaultSnippets"][0]["body"])
    assert card["note_type"] == note_type["name"]
    deck = {"deck": "Snippets", "id": "snippets", "note_types": [note_type], "cards": [card]}
    source = tmp_path / "snippets.yaml"
    source.write_text(yaml.safe_dump(deck, allow_unicode=True), encoding="utf-8")
    assert validate([source]).problems == ()


def test_the_deck_snippet_with_a_card_of_every_type_validates_without_a_problem(
    tmp_path: Path,
) -> None:
    deck = filled(SCHEMA["defaultSnippets"][0]["body"])
    snippets = SCHEMA["$defs"]["card"]["defaultSnippets"]
    kinds = {filled(s["body"]).get("type", "basic") for s in snippets if "fields" not in s["body"]}
    assert kinds == {"basic", "reversed", "cloze", "type_in", "multiple_choice", "open"}
    cards = [filled(s["body"]) for s in snippets if "fields" not in s["body"]]
    deck["cards"] = [{**card, "id": f"card-{n}"} for n, card in enumerate(cards)]
    source = tmp_path / "deck.yaml"
    source.write_text(yaml.safe_dump(deck, allow_unicode=True), encoding="utf-8")
    assert validate([source]).problems == ()
