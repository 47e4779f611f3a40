"""Which note type an imported card ends up with: the one it had, or deckkit's.

Notes keep their GUID (so a rebuilt deck updates the learner's notes), but Anki only updates a
note in place when its note type is the same. So cards from a package's own note types keep
them: each such note type is written under the deck's ``note_types`` (id, modification time,
fields with the card key that fills each, templates, CSS) and named by the card's ``note_type``,
and the rebuilt deck updates the very notes it came from. Where that cannot be expressed (a text
export, whose note types are not the collection's; an "optional reversed card" note asking for
its reverse, whose switch field no card key can fill) the card gets deckkit's note type and a
:class:`~deckkit.importers.types.Conversion` says how to change the learner's notes to it once
in Anki.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deckkit.importers.mapping import Roles
from deckkit.importers.types import Conversion, NoteTypeInfo
from deckkit.importers.yaml_writer import FlowMap
from deckkit.notetypes import NOTE_TYPES


@dataclass(frozen=True)
class Kept:
    """An original note type cards keep, with the card type it carries and each field's role."""

    info: NoteTypeInfo
    kind: str
    roles: tuple[str | None, ...]  # per field: the card key that fills it, or None


_DECKKIT_IDS = frozenset(note_type.id for note_type in NOTE_TYPES.values())


def kept_note_type(note_type: NoteTypeInfo, roles: Roles, kind: str) -> Kept | None:
    """The original note type a card of ``kind`` keeps, or None when it cannot keep it.

    An "optional reversed card" note type keeps only the notes that do not ask for the reverse
    card: for the others its switch field would have to stay filled, and no card key holds that.
    """
    if note_type.deckkit_kind is not None or note_type.id in _DECKKIT_IDS:
        return None
    if roles.kind == "optional_reversed" and kind != "basic":
        return None
    by_field: list[str | None] = [None] * len(note_type.fields)
    for role, index in roles.roles.items():
        by_field[index] = role
    return Kept(note_type, kind, tuple(by_field))


def declaration(kept: Kept, name: str) -> dict[str, Any]:
    """The entry of a kept note type under the deck's ``note_types``: Anki's text, as it is."""
    info = kept.info
    names = info.template_names or tuple(f"Card {i}" for i in range(1, len(info.templates) + 1))
    return {
        "name": name,
        "id": info.id,
        "mod": info.mod,
        "kind": kept.kind,
        "cloze": info.is_cloze,
        "fields": [
            FlowMap({"name": field, "role": role})
            for field, role in zip(info.fields, kept.roles, strict=True)
        ],
        "templates": [
            {"name": template_name, "front": front, "back": back}
            for template_name, (front, back) in zip(names, info.templates, strict=True)
        ],
        "css": info.css,
    }


def conversion(note_type: NoteTypeInfo, roles: Roles, kind: str) -> Conversion:
    """How to change a note type to deckkit's in Anki so that rebuilt notes update these notes."""
    target = NOTE_TYPES[kind]
    fields = tuple(
        (note_type.fields[roles.roles[role]], target_field)
        for role, target_field in zip(target.keys, target.fields, strict=True)
        if role in roles.roles
    )
    only = ""
    if roles.kind == "optional_reversed" and roles.switch is not None:
        switch = note_type.fields[roles.switch]
        only = f"'{switch}' filled in" if kind == "reversed" else f"'{switch}' empty"
    return Conversion(note_type.name, target.name, 0, fields, only)
