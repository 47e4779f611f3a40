"""Mapping note types to card types, and a note's fields to a card's keys.

Note types are mapped by structure, never by (localised) name: deckkit's own note types by their
fixed ids; otherwise a cloze note type with one or two fields is ``cloze``, a single template
with ``{{type:X}}`` is ``type_in``, two fields and one template ``basic``, two fields and two
templates showing one field each on the front ``reversed`` (and Anki's "optional reversed card"
shape ``basic`` or ``reversed`` per note). Notes of any other note type cannot be mapped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from deckkit.cardtypes import CARD_TYPES, ROLE_CARD_TYPES
from deckkit.fieldtext.cloze import cloze_numbers
from deckkit.fieldtext.markup import is_blank
from deckkit.importers.escaping import readable_html
from deckkit.importers.rendered import read_choices, read_concepts
from deckkit.importers.types import NoteTypeInfo
from deckkit.notetypes import NOTE_TYPES

_TEMPLATE_REF = re.compile(r"\{\{([^{}]+?)\}\}")
_SPECIAL_FIELDS = {"FrontSide", "Tags", "Deck", "Subdeck", "Card", "CardFlag", "Type", "CardID"}


@dataclass(frozen=True)
class Roles:
    """How a note type's fields fill a card type: field index per role."""

    kind: str  # a card type, or "optional_reversed" (basic or reversed per note)
    roles: dict[str, int]
    switch: int | None = None  # optional_reversed: the field that asks for the reverse card


def roles_for(note_type: NoteTypeInfo) -> Roles | None:
    """The card type a note type maps to, by structure; None when it cannot be mapped."""
    fields = note_type.fields
    if note_type.deckkit_kind is not None:
        kind = note_type.deckkit_kind
        return Roles(kind, {role: i for i, role in enumerate(NOTE_TYPES[kind].keys)})
    index = {name: i for i, name in enumerate(fields)}
    templates = note_type.templates
    if not templates:
        return None
    if note_type.is_cloze:
        text = _cloze_field(templates[0][0])
        if text is None or text not in index or len(fields) > 2:
            return None
        roles = {"text": index[text]}
        others = [i for i in range(len(fields)) if i != index[text]]
        if others:
            roles["extra"] = others[0]
        return Roles("cloze", roles)
    fronts = [_shown_fields(front, index) for front, _back in templates]
    typed = _typed_field(templates[0][0])
    if len(templates) == 1 and typed in index and len(fields) in (2, 3):
        shown = [name for name in fronts[0] if name != typed]
        if len(shown) != 1:
            return None
        roles = {"front": index[shown[0]], "answer": index[str(typed)]}
        rest = [i for i in range(len(fields)) if i not in roles.values()]
        if rest:
            roles["extra"] = rest[0]
        return Roles("type_in", roles)
    if typed is not None:
        return None
    if len(fields) == 2 and len(templates) == 1 and len(fronts[0]) == 1:
        front = index[fronts[0][0]]
        return Roles("basic", {"front": front, "back": 1 - front})
    if (
        len(templates) == 2
        and len(fronts[0]) == 1
        and len(fronts[1]) == 1
        and fronts[0] != fronts[1]
    ):
        front, back = index[fronts[0][0]], index[fronts[1][0]]
        if len(fields) == 2:
            return Roles("reversed", {"front": front, "back": back})
        if len(fields) != 3:
            return None  # not looked at field by field: a stranger's note type may have thousands
        switches = [
            i
            for i in range(len(fields))
            if i not in (front, back) and _is_section(templates[1][0], fields[i])
        ]
        if len(switches) == 1:
            return Roles("optional_reversed", {"front": front, "back": back}, switch=switches[0])
    return None


def _shown_fields(template: str, fields: Collection[str]) -> list[str]:
    """The fields a template side displays (not just tests in a {{#section}}), in order.

    ``fields`` is looked up by name (a dict or set: a stranger's note type may have thousands of
    fields, and its templates may name them thousands of times).
    """
    shown: dict[str, None] = {}  # in order of first use
    for match in _TEMPLATE_REF.finditer(template):
        inner = match.group(1).strip()
        if inner[:1] in "#^/!":
            continue
        name = inner.split(":")[-1].strip()
        if name in fields and name not in _SPECIAL_FIELDS:
            shown.setdefault(name)
    return list(shown)


def _typed_field(template: str) -> str | None:
    match = re.search(r"\{\{type:(?:[a-z]+:)?([^{}]+?)\}\}", template)
    return match.group(1).strip() if match else None


def _cloze_field(template: str) -> str | None:
    match = re.search(r"\{\{(?:[^{}:]+:)*cloze:([^{}]+?)\}\}", template)
    return match.group(1).strip() if match else None


def _is_section(template: str, name: str) -> bool:
    return bool(re.search(r"\{\{#\s*" + re.escape(name) + r"\s*\}\}", template))


def card_content(
    roles: Roles, fields: Sequence[str], *, readable: bool = True
) -> tuple[str, dict[str, Any]] | str:
    """(card type, source keys) for one note, or why it cannot be imported.

    ``readable``: undo deckkit's escaping where that is exact (:func:`readable_html`); without
    it, the keys hold the fields' text as it is (a deck written ``exactly_as_written``).
    """
    kind = roles.kind
    if kind == "optional_reversed":
        assert roles.switch is not None
        kind = "reversed" if not is_blank(fields[roles.switch]) else "basic"
    read = _keys(kind, partial(_field, roles, fields), readable=readable)
    if isinstance(read, str):
        return read
    keys = {
        key: readable_html(value)
        if readable and isinstance(value, str) and not is_letters(kind, key)
        else value
        for key, value in read.items()
    }
    required = CARD_TYPES[kind].required
    for name in required:
        if isinstance(keys[name], str) and not is_letters(kind, name) and is_blank(keys[name]):
            return f"empty {name}"
    if kind == "multiple_choice" and any(is_blank(c) for c in keys["choices"]):
        return "an empty choice"
    # Optional keys are left out when empty: a rebuild fills them with "" all the same.
    return kind, {k: v for k, v in keys.items() if k in required or v not in ("", [])}


def _field(roles: Roles, fields: Sequence[str], role: str) -> str:
    """The text of the field a role names ("" when the note type has no such field)."""
    position = roles.roles.get(role)
    return fields[position] if position is not None and position < len(fields) else ""


def _keys(kind: str, get: Callable[[str], str], *, readable: bool) -> dict[str, Any] | str:
    """A card's keys from its note's fields, before un-escaping; or why they cannot be read."""
    as_read = readable_html if readable else str
    if kind in ROLE_CARD_TYPES:  # each key is one field's text, as it is
        keys = {role: get(role) for role in CARD_TYPES[kind].roles}
        if kind == "cloze" and not cloze_numbers(keys["text"]):
            return "no cloze deletion in its text"
        return keys
    if kind == "multiple_choice":
        parsed = read_choices(get("marked"), get("choices"), get("correct"))
        if parsed is None:
            return "its choices could not be read"
        choices, correct = parsed
        return {
            "question": get("question"),
            "choices": [as_read(choice) for choice in choices],
            "answer": correct[0] if len(correct) == 1 else list(correct),
            "explanation": get("explanation"),
        }
    if kind == "open":
        concepts = read_concepts(get("concepts"))
        if concepts is None:
            return "its concepts could not be read"
        return {
            "prompt": get("prompt"),
            "hint": get("hint"),
            "concepts": [as_read(c) for c in concepts],
            "answer": get("answer"),
        }
    raise ValueError(kind)  # pragma: no cover - roles_for only makes the kinds above


def is_letters(kind: str, key: str) -> bool:
    """A key holding neither field text nor a list of it: a multiple-choice answer's letters."""
    card_type = CARD_TYPES[kind]
    return key not in card_type.text_keys and key not in card_type.list_keys
