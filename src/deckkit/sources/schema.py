"""The deck JSON Schema (package data) and its errors turned into positioned problems."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported only to explain problems (its import takes 50 ms)
    import jsonschema_rs
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

from deckkit.problems import Problem, shorten
from deckkit.schema_data import SCHEMA_RESOURCE as SCHEMA_RESOURCE
from deckkit.schema_data import deck_schema as deck_schema
from deckkit.schema_data import schema_text as schema_text
from deckkit.sources.loader import LoadedSource, Mark, PathKey
from deckkit.sources.schema_mistakes import (
    card_name,
    misspelling,
    one_problem_per_mistake,
    schema_names,
    unknown_keys,
)
from deckkit.suggest import Hints, meant


def _deck_level_schema() -> dict[str, Any]:
    """The schema without the per-card part: cards are checked one by one (see below)."""
    schema = copy.deepcopy(deck_schema())
    schema["properties"]["cards"].pop("items")
    return schema


def _card_schema() -> dict[str, Any]:
    schema = deck_schema()
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/card"}


@lru_cache(maxsize=1)
def _fast_validators() -> tuple[jsonschema_rs.Validator, jsonschema_rs.Validator] | None:
    """(deck, card) validators that answer "valid?" only, ~100x faster than jsonschema."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - the wheel is missing on an unusual platform
        return None
    return (
        jsonschema_rs.Draft202012Validator(deck_schema()),
        jsonschema_rs.Draft202012Validator(_card_schema()),
    )


@lru_cache(maxsize=1)
def _explaining_validators() -> tuple[Validator, Validator]:
    """(deck-level, card) validators that say what is wrong and where."""
    import jsonschema

    return (
        jsonschema.Draft202012Validator(_deck_level_schema()),
        jsonschema.Draft202012Validator(_card_schema()),
    )


def schema_problems(source: LoadedSource) -> list[Problem]:
    """Every schema violation in a loaded source, each pointing at the node at fault.

    A fast validator answers "valid?" for the whole file; only when it says no does the slower,
    explaining validator run, and then only on the deck level and on the cards that fail, so a
    mistake in a 100,000-card file is found in well under a second.
    """
    if source.data is None and source.problems:
        return []  # unreadable: the loader has said why
    fast = _fast_validators()
    data = source.data
    if fast is not None and _is_valid(fast[0], data):
        return []
    fast_card = fast[1] if fast is not None else None
    deck_level, card_validator = _explaining_validators()
    located: list[tuple[PathKey, ValidationError]] = [
        ((), error) for error in _leaf_errors(deck_level, data)
    ]
    cards = data.get("cards") if isinstance(data, dict) else None
    if isinstance(cards, list):
        for index, card in enumerate(cards):
            if fast_card is None or not _is_valid(fast_card, card):
                located += [(("cards", index), e) for e in _leaf_errors(card_validator, card)]
    if not located:
        # The two validators must agree (tests/test_schema_patterns.py); should they not, the
        # file is refused rather than passed as valid.
        return [
            source.problem(
                Mark(1, 1),
                "the fast schema validator refuses this file but the explaining one finds "
                "nothing wrong; this is a bug in deckkit: please report it with the file",
                "schema.disagreement",
            )
        ]
    # A refused alias was read as null; its schema error would blame what the user did not write.
    skipped = source.skipped_paths
    kept = [
        (prefix, error)
        for prefix, error in located
        if not any((*prefix, *error.absolute_path)[: len(skip)] == skip for skip in skipped)
    ]
    return one_problem_per_mistake(kept, source, _to_problems, _known_keys(), Hints())


@lru_cache(maxsize=1)
def _known_keys() -> frozenset[str]:
    """Every key the deck or some card has, wherever the schema names it."""
    found: set[str] = set()
    stack: list[Any] = [deck_schema()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(node.get("properties", {}))
            names = node.get("propertyNames", {})
            found.update(v for v in names.get("enum", ()) if isinstance(v, str))
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    return frozenset(found)


def _is_valid(validator: jsonschema_rs.Validator, data: Any) -> bool:
    try:
        return validator.is_valid(data)
    except ValueError:  # text Rust cannot hold (a lone surrogate): let jsonschema explain
        return False


def _leaf_errors(validator: Validator, data: Any) -> Iterator[ValidationError]:
    for error in validator.iter_errors(data):
        yield from _flatten(error)


def _flatten(error: ValidationError) -> Iterator[ValidationError]:
    """Descend into allOf/anyOf wrappers; any other error (a oneOf too) is reported as itself."""
    if error.validator in ("allOf", "anyOf") and error.context:
        for child in error.context:
            yield from _flatten(child)
    else:
        yield error


def _to_problems(
    error: ValidationError, source: LoadedSource, prefix: PathKey, hints: Hints
) -> list[Problem]:
    path: PathKey = (*prefix, *error.absolute_path)
    keyword = str(error.validator)
    unknown = unknown_keys(error)
    if unknown:
        where = ""
        if "propertyNames" in error.absolute_schema_path:
            where = f" for a {_card_type(source.data, path)} card"
        problems = []
        for key, allowed in unknown:
            hint = meant(misspelling(key, allowed, _known_keys(), hints))
            message = f"unknown key '{key}'{where}{hint}; allowed keys: {', '.join(allowed)}"
            mark = source.mark_of_key((*path, key))
            problems.append(source.problem(mark, message, "schema.unknown-key"))
        return problems
    message = _message(error, path, source.data, hints)
    return [source.problem(source.mark_of_value(path), message, f"schema.{keyword}")]


def _message(error: ValidationError, path: PathKey, data: Any, hints: Hints) -> str:
    keyword = error.validator
    where = _describe(path, data)
    if keyword == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return f"'{missing}' is required in {where}"
    if keyword == "pattern" and len(path) >= 2 and "tags" in path:
        tag = shorten(repr(error.instance))
        return f"tag {tag} contains {_unwanted(error.instance)}; Anki tags cannot (use '_' or '::')"
    if keyword == "pattern" and path[-1:] == ("guid",):
        guid = shorten(repr(error.instance))
        return f"{where} is {guid}, which contains {_unwanted(error.instance)}; a GUID cannot"
    if keyword == "pattern":
        return (
            f"{where} {shorten(repr(error.instance))} is not a valid id: use letters, digits, "
            "'-', '_' and '.', starting with a letter or digit, without '..'"
        )
    if keyword == "type":
        expected = error.validator_value
        shown = _shown(error.instance)
        if isinstance(error.instance, (dict, list)):
            shown = "a mapping" if isinstance(error.instance, dict) else "a list"
        if isinstance(expected, str) and expected == "string" and path[-1:] in (("id",),):
            if error.instance is None:
                return f"{where} must be text, not null"
            if isinstance(error.instance, bool):
                return f"{where} must be text, not {shown}: quote it"
            return f"{where} must be text, not {shown}: quote it ('{shorten(str(error.instance))}')"
        if expected == "string" and isinstance(error.instance, (dict, list)):
            # An unquoted value starting with '{' or '[' ({{c1::…}}, [citation needed]).
            return (
                f"{where} must be text, not {shown} (YAML reads an unquoted value starting with "
                "'{' or '[' as one): put the value in quotes"
            )
        if expected == "string" and isinstance(error.instance, (bool, int, float)):
            # YAML reads yes/no/on/off as booleans and 1.0 as a number.
            return f"{where} must be text, not {shown}: put it in quotes"
        return f"{where} must be {_type_name(expected)}, not {shown}"
    if keyword == "enum":
        options = ", ".join("null" if v is None else str(v) for v in _items(error.validator_value))
        instance = error.instance
        names = schema_names(error.validator_value)
        hint = hints(instance, names) if isinstance(instance, str) and names else ""
        return f"{where} is {_shown(error.instance)}{hint}; it must be one of: {options}"
    if keyword == "oneOf":  # only the multiple-choice answer offers alternatives
        shown = _shown(error.instance)
        return f"{where} must be a letter A..H or a list of letters, not {shown}"
    if keyword == "maximum" and error.validator_value == _ANKI_MAX_NUMBER:
        return (
            f"{where} is {_shown(error.instance)}; Anki stores numbers up to {_ANKI_MAX_NUMBER} "
            "(2**63 - 1)"
        )
    if keyword == "minItems":
        return f"{where} needs at least {error.validator_value} item(s)"
    if keyword == "maxItems":
        return f"{where} takes at most {error.validator_value} items"
    if keyword == "minLength":
        return f"{where} must not be empty"
    if keyword == "maxLength":
        return f"{where} is longer than {error.validator_value} characters"
    # Other keywords quote the value: keep the line short whatever its size.
    message = str(error.message)
    return f"{where}: {message if len(message) <= 200 else shorten(message)}"


_ANKI_MAX_NUMBER = 2**63 - 1  # Anki keeps ids and times as signed 64-bit integers (rslib)


def _unwanted(text: object) -> str:
    """What a tag or GUID holds that the schema refuses: whitespace or a control character."""
    for char in str(text):
        if (ord(char) < 0x20 and char not in "\t\n\v\f\r") or char == "\x7f":
            return f"the control character U+{ord(char):04X}"
        if char.isspace() or char == "\ufeff":
            return "whitespace"
    return "whitespace"  # pragma: no cover - the pattern refuses nothing else


def _shown(value: object) -> str:
    """A wrong value as JSON, cut short so that a problem stays one readable line."""
    return shorten(json.dumps(value, ensure_ascii=False))


def _type_name(expected: Any) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a number"}
    return names.get(str(expected), str(expected))


def _describe(path: PathKey, data: Any) -> str:
    if not path:
        return "the deck"
    if path[0] == "cards" and len(path) >= 2:
        card = card_name(data, int(path[1]), by_number=path[2:] == ("id",))
        return card if len(path) == 2 else f"'{'.'.join(str(p) for p in path[2:])}' of {card}"
    return "'" + ".".join(str(p) for p in path) + "'"


def _items(value: object) -> list[Any]:
    """A list's items or a mapping's keys, taken from an error's instance or keyword value."""
    return list(value) if isinstance(value, (list, tuple, Mapping)) else []


def _card_type(data: Any, path: PathKey) -> str:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return "basic"
    kind = node.get("type", "basic") if isinstance(node, dict) else "basic"
    return str(kind).replace("_", "-") if isinstance(kind, str) else "basic"
