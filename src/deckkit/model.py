"""The deck model: frozen values built from a validated source, with no I/O beyond hashing media.

Text here is final HTML: bare ``<``/``&`` escaped and media references rewritten to packed names,
so every exporter shows the same thing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import genanki

from deckkit.loader import LoadedSource
from deckkit.markup import escape_bare_markup
from deckkit.media import MediaFile, rewrite_references

CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")
CARD_TYPES = ("basic", "reversed", "cloze", "type_in", "multiple_choice", "open")
LETTERS = "ABCDEFGH"


@dataclass(frozen=True)
class Basic:
    front: str
    back: str


@dataclass(frozen=True)
class Reversed:
    front: str
    back: str


@dataclass(frozen=True)
class Cloze:
    text: str
    extra: str


@dataclass(frozen=True)
class TypeIn:
    front: str
    answer: str
    extra: str


@dataclass(frozen=True)
class MultipleChoice:
    question: str
    choices: tuple[str, ...]
    correct: tuple[str, ...]  # letters, in order
    explanation: str


@dataclass(frozen=True)
class Open:
    prompt: str
    hint: str
    concepts: tuple[str, ...]
    answer: str


Content = Basic | Reversed | Cloze | TypeIn | MultipleChoice | Open


@dataclass(frozen=True)
class Card:
    """One card source: a single Anki note (which may make several Anki cards)."""

    id: str
    type: str
    guid: str
    content: Content
    tags: tuple[str, ...]
    level: str | None


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


def anki_card_count(card: Card) -> int:
    """How many Anki cards a note makes: reversed 2, cloze one per deletion number, else 1."""
    if isinstance(card.content, Reversed):
        return 2
    if isinstance(card.content, Cloze):
        return len(set(CLOZE_NUMBER.findall(card.content.text)))
    return 1


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


_BASE91 = "".join(genanki.util.BASE91_TABLE)
_BASE91_SIZE = len(_BASE91)


def deck_from_source(source: LoadedSource) -> Deck:
    """Build the deck model from a source whose data passed validation."""
    data: dict[str, Any] = source.data
    source_dir = source.path.parent
    packed: dict[Path, MediaFile] = {}

    def html(value: Any) -> str:
        text = "" if value is None else str(value)
        return rewrite_references(escape_bare_markup(text), source_dir, packed)

    deck_tags = tuple(data.get("tags") or ())
    cards = tuple(_card(data["id"], raw, deck_tags, html) for raw in data["cards"])
    return Deck(
        id=data["id"],
        name=data["deck"],
        description=html(data.get("description")),
        anki_id=anki_deck_id(data["id"]),
        cards=cards,
        media=tuple(sorted(packed.values(), key=lambda m: m.packed_name)),
        source=source.path,
    )


def _card(deck_id: str, raw: dict[str, Any], deck_tags: tuple[str, ...], html: Any) -> Card:
    kind = raw.get("type", "basic")
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
