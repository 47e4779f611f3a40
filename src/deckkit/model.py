"""The deck model: frozen values built from a validated source, with no I/O beyond hashing media.

Text here is final HTML: bare ``<``/``&`` escaped and media references rewritten to packed names,
so every exporter shows the same thing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from deckkit.cardtypes import (
    DEFAULT_CARD_TYPE,
    Basic,
    Cloze,
    Content,
    MultipleChoice,
    Open,
    Reversed,
    TypeIn,
)
from deckkit.fieldtext.markup import escape_bare_markup
from deckkit.fieldtext.media import MediaFile, MediaPacker
from deckkit.notetypes import AnkiNoteType, card_fields, card_ordinals, note_type_for
from deckkit.sources.loader import LoadedSource


@dataclass(frozen=True)
class Card:
    """One card source: a single Anki note (which may make several Anki cards)."""

    id: str
    type: str
    guid: str
    content: Content
    tags: tuple[str, ...]
    level: str | None
    note_type: AnkiNoteType | None = None  # None: deckkit's own note type for the card type


@dataclass(frozen=True)
class Deck:
    """One source file's deck, ready to export."""

    id: str
    name: str
    description: str
    anki_id: int
    cards: tuple[Card, ...]
    media: tuple[MediaFile, ...]
    source: Path
    note_types: tuple[AnkiNoteType, ...] = ()  # original note types its cards keep

    @cached_property
    def fields(self) -> tuple[tuple[str, ...], ...]:
        """Each card's field values, in the order of the note type it is exported with.

        Worked out once: the lockfile and every exporter need them (an exporter in a forked
        process inherits them already made).
        """
        return tuple(card_fields(card.content, card.note_type) for card in self.cards)

    @cached_property
    def card_ordinals(self) -> tuple[list[int], ...]:
        """For each card, the ordinals of the Anki cards its note makes (see
        ``notetypes.card_ordinals``): worked out once for the .apkg, the summary and the preview."""
        return tuple(
            card_ordinals(note_type_for(card.type, card.note_type), fields)
            for card, fields in zip(self.cards, self.fields, strict=True)
        )


def anki_deck_id(deck_id: str) -> int:
    """A stable Anki deck id from the deck slug (in the range Anki's own ids use)."""
    digest = hashlib.sha256(f"deckkit-deck:{deck_id}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def note_guid(deck_id: str, card_id: str) -> str:
    """The note GUID: from the deck and card ids only, never from the text, so edits update.

    The same value as ``genanki.guid_for(deck_id, card_id)`` (a test pins it), computed without
    genanki's bit-by-bit loop: the first 8 bytes of a SHA-256, written in Anki's base 91.
    """
    number = int.from_bytes(hashlib.sha256(f"{deck_id}__{card_id}".encode()).digest()[:8], "big")
    digits: list[str] = []
    while number:
        number, digit = divmod(number, _BASE91_SIZE)
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


# Anki's base 91 (anki/utils.py, base91): these characters in this order.
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
_BASE91_SIZE = len(_BASE91)


def deck_from_source(source: LoadedSource) -> Deck:
    """Build the deck model from a source whose data passed validation."""
    data: dict[str, Any] = source.data
    source_dir = source.path.parent
    packer = MediaPacker(source_dir)

    def html(value: Any) -> str:
        text = "" if value is None else str(value)
        return packer.pack(escape_bare_markup(text))

    deck_tags = tuple(data.get("tags") or ())
    note_types = tuple(_note_type(raw) for raw in data.get("note_types") or ())
    by_name = {note_type.name: note_type for note_type in note_types}
    cards = tuple(_card(data["id"], raw, deck_tags, html, by_name) for raw in data["cards"])
    return Deck(
        id=data["id"],
        name=data["deck"],
        description=html(data.get("description")),
        anki_id=anki_deck_id(data["id"]),
        cards=cards,
        media=packer.files(),
        source=source.path,
        note_types=note_types,
    )


def _note_type(raw: dict[str, Any]) -> AnkiNoteType:
    """An original note type as declared: its text exactly as written."""
    return AnkiNoteType(
        name=raw["name"],
        id=int(raw["id"]),
        mod=int(raw["mod"]),
        kind=raw["kind"],
        fields=tuple((field["name"], field.get("role")) for field in raw["fields"]),
        templates=tuple((t["name"], t["front"], t["back"]) for t in raw["templates"]),
        css=raw.get("css") or "",
        cloze=bool(raw.get("cloze", raw["kind"] == "cloze")),
    )


def _card(
    deck_id: str,
    raw: dict[str, Any],
    deck_tags: tuple[str, ...],
    html: Any,
    note_types: dict[str, AnkiNoteType],
) -> Card:
    kind = raw.get("type", DEFAULT_CARD_TYPE)
    level = raw.get("level")
    tags = [*deck_tags, *(raw.get("tags") or ())]
    if level:
        tags.append(f"level::{level}")
    return Card(
        id=raw["id"],
        type=kind,
        guid=raw.get("guid") or note_guid(deck_id, raw["id"]),
        content=_content(kind, raw, html),
        tags=tuple(dict.fromkeys(tags)),
        level=level,
        note_type=note_types[raw["note_type"]] if "note_type" in raw else None,
    )


def _content(kind: str, raw: dict[str, Any], html: Any) -> Content:
    if kind == "basic":
        return Basic(html(raw["front"]), html(raw["back"]))
    if kind == "reversed":
        return Reversed(html(raw["front"]), html(raw["back"]))
    if kind == "cloze":
        return Cloze(html(raw["text"]), html(raw.get("extra")))
    if kind == "type_in":
        return TypeIn(html(raw["front"]), html(raw["answer"]), html(raw.get("extra")))
    if kind == "multiple_choice":
        answer = raw["answer"]
        letters = [answer] if isinstance(answer, str) else list(answer)
        return MultipleChoice(
            question=html(raw["question"]),
            choices=tuple(html(choice) for choice in raw["choices"]),
            correct=tuple(sorted(letters)),
            explanation=html(raw.get("explanation")),
        )
    if kind == "open":
        return Open(
            prompt=html(raw["prompt"]),
            hint=html(raw.get("hint")),
            concepts=tuple(html(c) for c in raw.get("concepts") or ()),
            answer=html(raw.get("answer")),
        )
    raise ValueError(f"unknown card type {kind!r}")  # unreachable after validation
