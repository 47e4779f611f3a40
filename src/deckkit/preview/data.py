"""The preview's cards as data inside the page: a compact index that the page's script filters and
searches, and each card's two sides, in chunks that it reads only when it shows their cards.

Why data and not one ``<article>`` per card: a browser builds and lays out every element it is
given, which took headless Chromium 38 s for 25,000 cards; the page now builds only the cards of
the page being looked at (:file:`data/preview/preview.js`). Why JSON inside the page, in
``<script type="application/json">`` elements, and not in files beside it: a page opened from
disk cannot ``fetch()`` its neighbours, and a ``<script src>`` of a data file would need the
Content-Security-Policy to let run more than deckkit's own two scripts. A script element that is
not JavaScript is never run, is read by the HTML parser as plain text (no elements are built from
it) and is parsed once with ``JSON.parse``, the fastest reader a browser has.

The JSON is ASCII only (other characters as ``\\uXXXX``): Chromium reads ASCII text as 8-bit
characters, and read 80 MB of the cards' JSON two to three times as fast so (1 s against 2.5 s).
``</`` is written ``<\\/`` and ``<!`` as ``\\u003c!``, so that no ``</script>`` and no ``<!--``
(after which ``<script`` would change how the element ends) can appear in it.

The index (``id="dk-index"``) holds tables of the decks' ids, the decks' names, the card types,
levels, tags and kept note types, and one row per card: ``[deck, deck name, card id, ordinal
(from 1), type, level, [tags], note type, template name, search text]``, the table columns as
positions in their tables (``-1`` for no level or no kept note type); the template name is
empty when the note makes one card. The search text is the text of both sides, lower case. The
sides of cards ``k * CHUNK`` to ``(k + 1) * CHUNK - 1`` are in ``id="dk-sides-k"``, one row per
card: ``[front, shared, rest of the back]``, where the back is the front's first ``shared``
UTF-16 units (JavaScript's string length) followed by its rest, since most backs repeat the
front.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

from deckkit.cardtypes import LEVELS
from deckkit.model import Card, Deck
from deckkit.notetypes import AnkiNoteType
from deckkit.preview.cards import PreviewCard
from deckkit.preview.sanitise import safe_html
from deckkit.preview.templates import strip_html

CHUNK = 1000  # cards per element of sides: the first page's are read before the rest arrive
# `deckkit watch` writes the page again after each save, where nearly every card is as before:
# what is worked out from a card's sides alone (its search text, its row of sides) is kept for
# this many sides, as the sanitised sides are (deckkit.preview.sanitise).
KEPT = 150_000
INDEX_ID = "dk-index"
SIDES_ID = "dk-sides-{}"


@dataclass(frozen=True)
class CardIndex:
    """What the page filters by: the values of each filter, and each card's row."""

    decks: tuple[Deck, ...]
    types: tuple[str, ...]
    levels: tuple[str, ...]
    tags: tuple[str, ...]
    note_types: tuple[str, ...]  # keys of the kept note types, as note_type_key() makes them
    rows: tuple[tuple[object, ...], ...]
    deck_names: tuple[str, ...] = ()  # the Anki deck names the rows number (a card's own deck)

    def as_json(self) -> str:
        """The index as the page's JSON."""
        return json_for_html(
            {
                "chunk": CHUNK,
                "decks": [deck.id for deck in self.decks],
                "deckNames": self.deck_names,
                "types": self.types,
                "levels": self.levels,
                "tags": self.tags,
                "noteTypes": self.note_types,
                "cards": self.rows,
            }
        )


def shown_tags(card: Card) -> tuple[str, ...]:
    """The card's tags without the level tag deckkit adds (the level is shown on its own)."""
    return _shown_tags(card.tags, card.level)


@lru_cache(maxsize=1024)  # a deck has few sets of tags
def _shown_tags(tags: tuple[str, ...], level: str | None) -> tuple[str, ...]:
    level_tag = f"level::{level}" if level else None
    return tuple(tag for tag in tags if tag != level_tag)


def note_type_key(note_type: AnkiNoteType) -> str:
    """A short name for an original note type on the page: its id and a hash of its styling."""
    digest = hashlib.blake2b(note_type.css.encode(), digest_size=4).hexdigest()
    return f"{note_type.id}-{digest}"


def safe_sides(cards: Sequence[PreviewCard], media: Collection[str]) -> list[tuple[str, str]]:
    """Each card's front and back as the page may show them (:mod:`deckkit.preview.sanitise`)."""
    return [(safe_html(card.front, media), safe_html(card.back, media)) for card in cards]


def card_index(
    decks: Sequence[Deck], cards: Sequence[PreviewCard], sides: Sequence[tuple[str, str]]
) -> CardIndex:
    """The index of ``cards`` (those of ``decks``), its search text read from their ``sides``
    (as :func:`safe_sides` makes them: what is shown)."""
    tags = sorted({t for c in cards for t in shown_tags(c.card)}, key=str.casefold)
    levels = [lv for lv in LEVELS if any(c.card.level == lv for c in cards)]
    levels += sorted({c.card.level for c in cards if c.card.level and c.card.level not in LEVELS})
    types = list(dict.fromkeys(c.card.kind for c in cards))
    keys = list(dict.fromkeys(note_type_key(c.card.note_type) for c in cards if c.card.note_type))
    deck_numbers = {id(deck): number for number, deck in enumerate(decks)}
    deck_names: dict[str, int] = {}
    numbers = [
        {value: number for number, value in enumerate(table)} for table in (types, levels, tags)
    ]
    type_number, level_number, tag_number = numbers
    key_number = {key: number for number, key in enumerate(keys)}
    rows = []
    for preview, (front, back) in zip(cards, sides, strict=True):
        card = preview.card
        shown = shown_tags(card)
        rows.append(
            (
                deck_numbers[id(preview.deck)],
                deck_names.setdefault(preview.deck_name, len(deck_names)),
                card.id,
                preview.ordinal + 1,
                type_number[card.kind],
                level_number[card.level] if card.level else -1,
                [tag_number[t] for t in shown],
                key_number[note_type_key(card.note_type)] if card.note_type else -1,
                preview.template_name if preview.count > 1 else "",
                search_text(front, back),
            )
        )
    return CardIndex(
        tuple(decks),
        tuple(types),
        tuple(levels),
        tuple(tags),
        tuple(keys),
        tuple(rows),
        tuple(deck_names),  # in the order of their numbers
    )


@lru_cache(maxsize=KEPT)
def search_text(front_html: str, back_html: str) -> str:
    """The words of both sides, lower case; a back that repeats the front adds only its rest."""
    front, back = _words(front_html), _words(back_html)
    if back.startswith(front):
        back = back[len(front) :]
    return f"{front} {back}".strip().lower()


def _words(html: str) -> str:
    return " ".join(strip_html(html).split())


def side_chunks(sides: Sequence[tuple[str, str]]) -> list[str]:
    """The cards' ``sides`` (as :func:`safe_sides` makes them), as the JSON of each chunk of
    CHUNK cards."""
    return [
        _chunk_json(tuple(_row(*pair) for pair in sides[start : start + CHUNK]))
        for start in range(0, len(sides), CHUNK)
    ]


@lru_cache(maxsize=KEPT // CHUNK)  # after an edit, the other chunks are as before
def _chunk_json(rows: tuple[tuple[str, int, str], ...]) -> str:
    return json_for_html(rows)


@lru_cache(maxsize=KEPT)
def _row(front: str, back: str) -> tuple[str, int, str]:
    shared = _shared_prefix(front, back)
    # JavaScript counts UTF-16 units: a character beyond the BMP is two of them.
    units = len(front[:shared].encode("utf-16-le")) // 2
    return front, units, back[shared:]


def _shared_prefix(first: str, second: str) -> int:
    """How many characters ``second`` begins with of ``first`` (slices are compared in C)."""
    if second.startswith(first):
        return len(first)
    low, high = 0, min(len(first), len(second))
    while low < high:
        middle = (low + high + 1) // 2
        if first[:middle] == second[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def json_for_html(value: object) -> str:
    """``value`` as JSON that can stand inside a ``<script type="application/json">``."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!", "\\u003c!")
