"""Where things a note does not hold go: the decks of its cards, and each file of a package no
field refers to, so that every file is kept.

Anki keeps a deck on each card. A note's source is the file of its first card's deck; the decks of
its other cards go under the card's ``card_decks``, by the card's name in Anki's browser (its
template's, or for a cloze note "Cloze 2": :mod:`deckkit.card_names`).

Anki keeps the files whose names start with ``_`` for the templates and CSS that load them
(scripts, stylesheets, fonts) and makes ``latex-<sha1>.png`` images from the LaTeX in fields;
neither is referred to from a field. A ``_`` file goes under the ``media`` of the note types
whose templates or CSS name it (every deck declaring one packs it); every other such file (LaTeX
images, one no note type names, one the package carried for nothing) under the top-level
``media`` of one deck: the first of the least nested ones, the parent of the others. References
to files the package lacks go under each deck's ``missing_media``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deckkit.card_names import card_names
from deckkit.cardtypes import FIELDS_CARD_TYPE
from deckkit.importers.flat_media import FlatMedia, template_media
from deckkit.importers.kept import Kept, template_names
from deckkit.importers.shapes import note_type_name
from deckkit.importers.types import NoteTypeInfo, SourceNote
from deckkit.notetypes import NOTE_TYPES, NOTE_TYPES_BY_NAME, NoteType, card_ordinals

# Anki's Check Media keeps files whose names start with this, for templates to load.
TEMPLATE_FILE_PREFIX = "_"


def place_media(
    flat: FlatMedia | None, decks: Sequence[dict[str, Any]], kept: Sequence[Sequence[Kept]]
) -> dict[NoteTypeInfo, list[str]]:
    """List every unreferenced file and every missing one in the decks' data (``decks``, in
    order, with the note types each declares in ``kept``); the media of each kept note type."""
    if flat is None or not decks:
        return {}
    unreferenced = flat.unreferenced()
    for_templates = {name for name in unreferenced if name.startswith(TEMPLATE_FILE_PREFIX)}
    by_note_type: dict[NoteTypeInfo, list[str]] = {}
    named: set[str] = set()
    for info in dict.fromkeys(k.info for declared in kept for k in declared):
        texts = [*(side for template in info.templates for side in template), info.css]
        loaded = template_media(texts, for_templates)
        if loaded:
            by_note_type[info] = [flat.relative(name) for name in loaded]
            named.update(loaded)
    rest = [flat.relative(name) for name in unreferenced if name not in named]
    if rest:
        home = min(range(len(decks)), key=lambda i: str(decks[i]["deck"]).count("::"))
        decks[home]["media"] = rest
    for data in decks:
        missing = flat.missing.get(str(data["deck"]))
        if missing:
            data["missing_media"] = list(missing)
    return by_note_type


def cards_kept(note: SourceNote) -> list[str] | None:
    """A note's ``cards`` when its Anki cards are not those its templates make (a card Anki kept
    after the note stopped asking for it, a note without cards), by name; None when they are,
    for deckkit's own note types, or when a card cannot be named."""
    info = note.note_type
    if note.ordinals is None or info.deckkit_kind is not None:
        return None
    templates = tuple(
        (name, front, back)
        for name, (front, back) in zip(template_names(info), info.templates, strict=True)
    )
    made = card_ordinals(
        NoteType(
            id=info.id,
            name=info.name,
            fields=info.fields,
            templates=templates,
            is_cloze=info.is_cloze,
            roles=tuple(None for _ in info.fields),
        ),
        note.fields,
        tagged=bool(note.tags),
    )
    if sorted(made) == sorted(note.ordinals):
        return None
    names = card_names([name for name, _f, _b in templates], cloze=info.is_cloze)
    named = [names.name(ordinal) for ordinal in sorted(note.ordinals)]
    return None if any(name is None for name in named) else [n for n in named if n]


def card_decks(note: SourceNote, kind: str, kept: Kept | None) -> dict[str, str] | None:
    """The ``card_decks`` of a note's card: the deck of each of its cards in another deck than
    its first card's, by the card's name; None when a card has no name there (a template the
    note type the card is written with lacks)."""
    if kept is not None:
        templates, cloze = template_names(kept.info), kept.info.is_cloze
    else:
        builtin = (
            NOTE_TYPES_BY_NAME.get(note_type_name(note.note_type))
            if kind == FIELDS_CARD_TYPE
            else NOTE_TYPES.get(kind)
        )
        if builtin is None:
            return None
        templates, cloze = tuple(t[0] for t in builtin.templates), builtin.is_cloze
    names = card_names(templates, cloze=cloze)
    placed = {}
    for ordinal, deck in note.card_decks:
        name = names.name(ordinal)
        if name is None:
            return None
        placed[name] = deck
    return placed
