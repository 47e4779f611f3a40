"""The two schema validators agree on every value (issue 12).

deckkit asks jsonschema-rs "valid?" and, only when it says no, asks jsonschema what is wrong
(deckkit.sources.schema). Where they disagree a source is wrongly passed: an id ending in a line
break was refused by the first (JavaScript's and Rust's '$' end the text) but found fine by the
second (Python's '$' also matches before a final line break), so validate reported nothing and the
build wrote a file name with a line break in it; a tag holding U+001F was the other way round.
Every ``pattern`` of the shipped schema, and every number range, is thrown random values here
through both validators, which must say the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from anki.collection import Collection
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, import_apkg
from deckkit import build, validate
from deckkit.cli import main

SCHEMA = json.loads((REPO / "src" / "deckkit" / "data" / "deck.schema.json").read_text("utf-8"))


def subschemas(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema inside the deck schema, with where it is."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from subschemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from subschemas(value, f"{where}/{index}")


STRING_SCHEMAS = {
    where: {k: v for k, v in schema.items() if k in ("type", "pattern", "minLength", "maxLength")}
    for where, schema in subschemas(SCHEMA)
    if isinstance(schema.get("pattern"), str)
}
NUMBER_SCHEMAS = {
    where: {k: v for k, v in schema.items() if k in ("type", "minimum", "maximum")}
    for where, schema in subschemas(SCHEMA)
    if schema.get("type") == "integer"
}


def test_the_schema_has_the_patterns_and_ranges_tested_here() -> None:
    assert len(STRING_SCHEMAS) == 3  # slug (deck and card ids), tag, guid
    assert len(NUMBER_SCHEMAS) == 4  # a note type's id and mod, a field's and a template's size


# Characters the regex dialects read differently (line breaks, Python-only and JavaScript-only
# white space, controls), ones the patterns are about, and any other character.
SPECIAL = (
    "\n\r\t\x0b\x0c\x00\x1c\x1d\x1e\x1f\x7f\x85\xa0\u1680\u2000\u200a\u200b\u2028\u2029"
    "\u202f\u205f\u3000\ufeff\u180e\ufffe"
)
characters = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from("aZ09._-:/ "),
    st.characters(exclude_categories=("Cs",)),  # jsonschema-rs takes text Rust can hold
)
strings = st.one_of(
    st.text(characters, max_size=8),
    st.text(characters, max_size=4).map(lambda text: "a" + text + "\n"),  # a final line break
    st.text(characters, min_size=95, max_size=205),  # about the length limits
)


def verdicts(schema: dict[str, Any], value: object) -> tuple[bool, bool]:
    return (
        jsonschema_rs.Draft202012Validator(schema).is_valid(value),
        jsonschema.Draft202012Validator(schema).is_valid(value),
    )


@pytest.mark.parametrize("where", sorted(STRING_SCHEMAS))
@settings(max_examples=1500, deadline=None)
@given(value=strings)
def test_both_validators_give_each_pattern_the_same_verdict(where: str, value: str) -> None:
    fast, explaining = verdicts(STRING_SCHEMAS[where], value)
    assert fast == explaining, (where, value)


numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 3, max_value=2**63 + 3),
    st.integers(min_value=-(2**64), max_value=2**65),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([2.0**63, 9.2e18, 1.0, 0.0, -0.0]),
)


@pytest.mark.parametrize("where", sorted(NUMBER_SCHEMAS))
@settings(max_examples=1500, deadline=None)
@given(value=numbers)
def test_both_validators_give_each_number_range_the_same_verdict(where: str, value: float) -> None:
    fast, explaining = verdicts(NUMBER_SCHEMAS[where], value)
    assert fast == explaining, (where, value)


# --- what a source sees ---------------------------------------------------------------------

DECK = """\
deck: Patterns
id: {deck_id}
tags: [{tag}]
cards:
  - id: a
    front: f
    back: b
"""


def run_validate(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


@pytest.mark.parametrize(
    ("deck_id", "tag", "message"),
    [
        ('"geo\\n"', "x", "'id' 'geo\\n' is not a valid id"),
        ("geo", '"a\\x1fb"', "tag 'a\\x1fb' contains the control character U+001F"),
        ("geo", '"a\\x85b"', "tag 'a\\x85b' contains whitespace"),
        ("geo", '"a\\ufeffb"', "tag 'a\\ufeffb' contains whitespace"),
    ],
)
def test_values_the_validators_once_disagreed_on_are_refused(
    deck_id: str, tag: str, message: str, tmp_path: Path
) -> None:
    source = tmp_path / "deck.yaml"
    source.write_text(DECK.format(deck_id=deck_id, tag=tag), encoding="utf-8")
    code, stdout = run_validate(source)
    assert code == 1
    assert message in stdout
    assert not validate([source]).ok


NOTE_TYPE = """\
deck: Numbers
id: numbers
cards:
  - {{id: a, note_type: Theirs, front: f, back: b}}
note_types:
  - name: Theirs
    id: {id}
    mod: {mod}
    kind: basic
    fields: [{{name: Front, role: front}}, {{name: Back, role: back}}]
    templates: [{{name: Card 1, front: "{{{{Front}}}}", back: "{{{{Back}}}}"}}]
"""


@pytest.mark.parametrize(
    ("anki_id", "mod", "message"),
    [
        (2**63, 0, "'note_types.0.id' is 9223372036854775808; Anki stores numbers up to"),
        (1, 2**64, "'note_types.0.mod' is 18446744073709551616; Anki stores numbers up to"),
        (1, "9" * 5000, "'note_types.0.mod' must be a number, not \"999"),
    ],
)
def test_numbers_anki_cannot_store_are_refused_before_the_build(
    anki_id: object, mod: object, message: str, tmp_path: Path
) -> None:
    """Beyond 2**63 - 1 the build crashed writing the package (and Python refuses to read more
    than 4,300 digits at all: a traceback in the loader)."""
    source = tmp_path / "deck.yaml"
    source.write_text(NOTE_TYPE.format(id=anki_id, mod=mod), encoding="utf-8")
    code, stdout = run_validate(source)
    assert code == 1
    assert message in stdout
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_the_largest_numbers_anki_stores_build_and_import_into_anki(
    tmp_path: Path, collection: Collection
) -> None:
    source = tmp_path / "deck.yaml"
    source.write_text(NOTE_TYPE.format(id=2**63 - 1, mod=2**63 - 1), encoding="utf-8")
    assert validate([source]).ok
    built = build([source], tmp_path / "out", formats=["apkg"], lockfile=tmp_path / "lock")
    import_apkg(collection, built.written[0])
    kept = {(m["id"], m["mod"]) for m in collection.models.all() if m["name"] == "Theirs"}
    assert kept == {(2**63 - 1, 2**63 - 1)}
