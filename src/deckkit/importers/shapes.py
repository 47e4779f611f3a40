"""The shape each note of a package is written in when the deck is kept exactly as Anki had it.

A note type keeps one of deckkit's card shapes (``front``/``back``, ``text``...: see
:mod:`.mapping`) only when that is exactly lossless: every one of its notes maps to a card whose
rebuilt fields are the note's fields, byte for byte, by the build's own rule
(:func:`deckkit.notetypes.note_fields`). Any other note type, whatever its fields and templates,
is written as it is: its cards give every field by name (``note_type`` + ``fields``). So no note
type is refused, and an "optional reversed card" note asking for its reverse keeps its note type.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from deckkit.cardtypes import FIELDS_CARD_TYPE
from deckkit.importers.kept import Kept, kept_note_type
from deckkit.importers.mapping import card_content, roles_for
from deckkit.importers.types import NoteTypeInfo, SourceNote
from deckkit.model import content_as_written
from deckkit.notetypes import NOTE_TYPES, NoteType, note_fields

# One note as a card: its card type, its source keys and the note type it keeps; or why not.
Shape = tuple[str, dict[str, Any], Kept | None]

_DECKKIT_IDS = frozenset(note_type.id for note_type in NOTE_TYPES.values())
CHANGED_DECKKIT_TYPE = (
    "a changed copy of one of deckkit's note types, which a deck cannot declare; change its "
    "notes back to that note type in Anki, or to one of your own, and export again"
)


def exact_shapes(notes: Sequence[SourceNote]) -> list[Shape | str]:
    """Each note's shape, in order: a card shape where its note type's notes all fit one exactly,
    else its fields by name; a reason only for a changed copy of deckkit's own note type."""
    by_type: dict[NoteTypeInfo, list[int]] = {}
    for position, note in enumerate(notes):
        by_type.setdefault(note.note_type, []).append(position)
    shapes: list[Shape | str] = [""] * len(notes)
    for info, positions in by_type.items():
        if info.deckkit_kind is None and info.id in _DECKKIT_IDS:
            for position in positions:
                shapes[position] = CHANGED_DECKKIT_TYPE
            continue
        fitted = _card_shapes(info, [notes[p] for p in positions])
        for position, shape in zip(positions, fitted, strict=True):
            shapes[position] = shape
    return shapes


def _card_shapes(info: NoteTypeInfo, notes: list[SourceNote]) -> list[Shape]:
    """The notes of one note type as cards of one of deckkit's shapes, or field by field."""
    roles = roles_for(info)
    shaped: list[Shape] = []
    if roles is not None:
        for note in notes:
            shape = _in_card_shape(info, roles, note)
            if shape is None:
                break
            shaped.append(shape)
        else:
            return shaped
    kept = None if info.deckkit_kind is not None else Kept(info, None)
    return [(FIELDS_CARD_TYPE, {"fields": given_fields(info, note)}, kept) for note in notes]


def _in_card_shape(info: NoteTypeInfo, roles: Any, note: SourceNote) -> Shape | None:
    content = card_content(roles, note.fields, readable=False)
    if isinstance(content, str):
        return None
    kind, keys = content
    kept = None
    if info.deckkit_kind is None:
        kept = kept_note_type(info, roles, kind)
        if kept is None:  # an "optional reversed card" note asking for its reverse
            return None
    if _rebuilt(kind, keys, kept) != tuple(note.fields):
        return None
    return kind, keys, kept


def _rebuilt(kind: str, keys: dict[str, Any], kept: Kept | None) -> tuple[str, ...]:
    """The fields the build makes of a card with these keys (the build's own rule)."""
    content = content_as_written(kind, keys)
    return note_fields(content, None if kept is None else _with_roles(kept.info, kept.roles))


@lru_cache(maxsize=256)
def _with_roles(info: NoteTypeInfo, roles: tuple[str | None, ...]) -> NoteType:
    """Just enough of a kept note type for :func:`note_fields`: its fields and their roles."""
    return NoteType(id=info.id, name=info.name, fields=info.fields, templates=(), roles=roles)


def given_fields(info: NoteTypeInfo, note: SourceNote) -> dict[str, str]:
    """A note's fields by name, those that are not empty (a field left out is empty)."""
    return {name: text for name, text in zip(info.fields, note.fields, strict=False) if text != ""}


def note_type_name(info: NoteTypeInfo) -> str:
    """The name a card gives for a note type by its fields: deckkit's own by deckkit's name."""
    if info.deckkit_kind is not None:
        return NOTE_TYPES[info.deckkit_kind].name
    return info.name
