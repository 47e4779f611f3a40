"""How a deck's notes follow their earlier selves across builds: each card's lockfile entry, and
what changed about the notes' identity since the last build (cards gone, cards back, note types
changed), which :mod:`deckkit.pipeline.learner_safety` turns into problems and summaries.

A note is known to learners' Anki by its GUID; deckkit gives one from the deck and card ids
(``deckkit.model.note_guid``), or a card gives its own (``guid:``). So a card's earlier entry is
the one under its id in its deck; for a card with no such entry, a removed card's entry under the
same id (the card was restored), else the entry of a note with the same GUID (a card given its old
note's GUID under a new id, or in a deck with a new id). Its time then follows the usual rule
(:func:`deckkit.lockfile.next_entry`): unchanged content keeps its time, so a revert or a renamed
id changes nothing for learners, and changed content gets a time newer than the old one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property

from deckkit.lockfile import Entry, Lock, content_hash, legacy_note_hash, next_entry
from deckkit.model import Card, Deck, note_guid
from deckkit.notetypes import NOTE_TYPES, note_type_for, original_note_type, schema_hash

CardKey = tuple[str, str]  # (deck id, card id)


@dataclass(frozen=True)
class TypeChange:
    """A card whose note type differs from the one learners hold for its note."""

    deck_id: str
    card_id: str
    old_type: int
    new_type: int
    old_name: str
    new_name: str
    mergeable: bool  # whether Anki's "Merge note types" converts the note in place (see below)


@dataclass(frozen=True)
class DeckUpdate:
    """A deck's entries after a build, and what changed about its notes' identity."""

    entries: dict[str, Entry]
    leaving: dict[str, Entry]  # its cards gone from its source in this build, with their GUID
    taken: tuple[CardKey, ...]  # earlier entries (removed, or another id's) its cards took
    type_changes: tuple[TypeChange, ...]


def update_deck(lock: Lock, deck: Deck, now: int, earlier_name: str | None = None) -> DeckUpdate:
    """The deck's entries: changed notes get ``now`` (or their old time plus one), unchanged keep
    their time; see the module's docstring for which earlier entry is a card's. ``earlier_name``:
    the deck's name at its last build, when known (an older lockfile's hashes hold it)."""
    names = tuple(dict.fromkeys([earlier_name or deck.name, deck.name]))
    old = lock.notes.get(deck.id, {})
    removed = lock.removed.get(deck.id, {})
    entries: dict[str, Entry] = {}
    taken: list[CardKey] = []
    changes: list[TypeChange] = []
    guids = _GuidIndex(lock, deck)
    for card, fields in zip(deck.cards, deck.fields, strict=True):
        kind = note_type_for(card.type, card.note_type).id
        digest = content_hash(kind, card.tags, fields)
        guid = card.guid if card.guid_given else None
        previous = old.get(card.id)
        if (
            previous is not None
            and previous.hash == digest
            and previous.type == kind
            and previous.guid == guid
        ):
            entries[card.id] = previous  # the usual case, kept as it is (100,000 notes a build)
            continue
        fresh = Entry(digest, 0, type=kind, guid=guid)
        if previous is None:
            key, previous = _earlier(deck.id, card, removed, guids)
            if key is not None:
                taken.append(key)
        known_type = previous.type if previous is not None else None
        if previous is not None and known_type is None:
            # Written before entries held their note type, with the deck's name in the hash:
            # the same content keeps its time (the first build after an upgrade: every note).
            if any(previous.hash == legacy_note_hash(n, card, fields) for n in names):
                entries[card.id] = Entry(digest, previous.mod, ms=previous.ms, type=kind, guid=guid)
                continue
            was = _legacy_type(previous.hash, deck, names[0], card, fields, kind)
            if was is not None:
                changes.append(_type_change(lock, deck, card, was))
        elif known_type is not None and known_type != kind:
            changes.append(_type_change(lock, deck, card, known_type))
        entries[card.id] = next_entry(previous, fresh, now)
    taken_here = {card for deck_id, card in taken if deck_id == deck.id}
    leaving = {
        card_id: with_guid(deck.id, card_id, entry)
        for card_id, entry in old.items()
        if card_id not in entries and card_id not in taken_here
    }
    return DeckUpdate(entries, leaving, tuple(taken), tuple(changes))


def _legacy_type(
    digest: str, deck: Deck, name: str, card: Card, fields: tuple[str, ...], kind: int
) -> int | None:
    """For an entry of an older lockfile (no ``type``) that the card no longer matches: the other
    note type whose hash it would match with the same fields, tags and deck name (the card's
    type changed, deckkit Basic to its reversed kind say), or None."""
    others = [t.id for t in NOTE_TYPES.values()] + [t.id for t in deck.note_types]
    for other in dict.fromkeys(others):
        if other != kind and digest == legacy_note_hash(name, card, fields, other):
            return other
    return None


def with_guid(deck_id: str, card_id: str, entry: Entry) -> Entry:
    """A note's entry as a removed card's: with its GUID (the one its ids give, unless it has
    its own)."""
    return entry if entry.guid is not None else replace(entry, guid=note_guid(deck_id, card_id))


def _earlier(
    deck_id: str, card: Card, removed: dict[str, Entry], guids: _GuidIndex
) -> tuple[CardKey | None, Entry | None]:
    """The earlier entry of a card that has none under its id: the removed card's with its id
    (if its GUID is still that card's), else that of a note with the card's own GUID."""
    gone = removed.get(card.id)
    if gone is not None and gone.guid == card.guid:
        return (deck_id, card.id), gone
    if card.guid_given:
        found = guids.find(card.guid)
        if found is not None:
            return found
    return None, None


class _GuidIndex:
    """Earlier notes by GUID: removed cards', and every other card's that is not in the deck now
    (its own deck's gone cards, other decks' cards). Made only when a card with its own GUID
    has no entry under its id: each other entry's GUID is a hash to work out."""

    def __init__(self, lock: Lock, deck: Deck) -> None:
        self._lock = lock
        self._deck = deck

    def find(self, guid: str) -> tuple[CardKey, Entry] | None:
        return self._by_guid.get(guid)

    @cached_property
    def _by_guid(self) -> dict[str, tuple[CardKey, Entry]]:
        current = {card.id for card in self._deck.cards}
        found: dict[str, tuple[CardKey, Entry]] = {}
        for key, entry in self._earlier_entries(current):
            found.setdefault(entry.guid or note_guid(*key), (key, entry))
        return found

    def _earlier_entries(self, current: set[str]) -> Iterator[tuple[CardKey, Entry]]:
        for deck_id, cards in self._lock.removed.items():
            yield from (((deck_id, card_id), entry) for card_id, entry in cards.items())
        for deck_id, cards in self._lock.notes.items():
            for card_id, entry in cards.items():
                if deck_id != self._deck.id or card_id not in current:
                    yield (deck_id, card_id), entry


@dataclass(frozen=True)
class _Shape:
    name: str
    fields: tuple[str, ...]
    templates: tuple[str, ...]
    cloze: bool


def _type_change(lock: Lock, deck: Deck, card: Card, old_type: int) -> TypeChange:
    """A card's change of note type, and whether Anki's "Merge note types" carries it in place:
    only when the old note type's fields and templates are the new one's first ones, with the
    same names in the same order (deckkit Basic to its reversed kind, say). Anki merges the old
    note type into the new one in the learner's collection, adding to it whatever it lacks, which
    would change every other note of that note type (research14 FINDINGS section 2)."""
    new = note_type_for(card.type, card.note_type)
    old = _shape(lock, deck, old_type)
    mergeable = (
        old is not None
        and old.cloze == new.is_cloze
        and new.fields[: len(old.fields)] == old.fields
        and new.template_names[: len(old.templates)] == old.templates
    )
    old_name = old.name if old is not None else f"note type id {old_type}"
    return TypeChange(deck.id, card.id, old_type, new.id, old_name, new.name, mergeable)


def _shape(lock: Lock, deck: Deck, type_id: int) -> _Shape | None:
    """A note type's names: deckkit's own, one the deck declares, or what the lockfile keeps."""
    known = [*NOTE_TYPES.values(), *(original_note_type(d) for d in deck.note_types)]
    for note_type in known:
        if note_type.id == type_id:
            return _Shape(
                note_type.name, note_type.fields, note_type.template_names, note_type.is_cloze
            )
    entry = lock.note_types.get(str(type_id))
    if entry is None or entry.fields is None or entry.templates is None:
        return None
    cloze = entry.schema == schema_hash(entry.fields, entry.templates, cloze=True)
    return _Shape(f"note type id {type_id}", entry.fields, entry.templates, cloze)
