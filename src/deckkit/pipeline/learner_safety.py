"""What an author's change does to learners who re-import every build, said by the build: a deck
renamed (a warning), a card's note type changed or a card's content under a new id (refused, with
the ways through), cards removed (listed in the summary).

What Anki 26.9.3's importer does in each case was measured with the ``anki`` package (see
``tests/test_learner_safety.py``, and ``rslib/src/import_export/package/apkg/import/``):

- Decks are found by name, never by id, and a card already in a learner's collection is never
  moved: after a rename, learners' existing cards stay in the old deck and only new cards go to a
  deck with the new name (``decks.rs`` ``import_deck``, ``cards.rs``).
- A note whose note type differs from the learner's copy is skipped as "conflicting", on every
  import, whatever the options say about updating notes; only "Merge note types" changes the
  learner's note to the package's note type, by merging the old note type into the new one in the
  learner's collection (``notes.rs``: ``maybe_update_existing_note``,
  ``resolve_notetype_conflicts``).
- A note is found by its GUID: a card under a new id (or in a deck with a new id) is a new note,
  a duplicate of the old one without its reviews.
- No import ever deletes a note: learners keep a removed card's note, with its reviews.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import Path

from deckkit.lockfile import Entry, Lock
from deckkit.pipeline.note_identity import CardKey, DeckUpdate, TypeChange, with_guid
from deckkit.problems import Problem, display_path, shorten
from deckkit.sources.loader import LoadedSource, load_source

ACCEPT_TYPE_OPTION = "--accept-type-change"
ACCEPT_IDS_OPTION = "--accept-new-ids"
MERGE_OPTION = '"Merge note types"'  # the import option's name in Anki
CODE_TYPE = "lock.note-type-changed"


def _quoted(text: str) -> str:
    return f"'{shorten(text, 60)}'"


def deck_rename_warning(
    source: LoadedSource, old_name: str | None, new_name: str, lockfile: str
) -> list[Problem]:
    """A warning at the deck's name when it differs from its name at the last build."""
    deck_id = source.data.get("id") if isinstance(source.data, dict) else None
    if old_name is None or old_name == new_name:
        return []
    old, new = _quoted(old_name), _quoted(new_name)
    message = (
        f"deck {_quoted(str(deck_id))} was named {old} at the last build ({lockfile}): Anki finds "
        f"decks by name and never moves a learner's cards, so learners' existing cards stay in "
        f"{old} and only new cards go to a new deck {new}. No note changes: learners' reviews "
        f"and edits are kept. Tell learners to rename their deck {old} to {new} in Anki before "
        f"importing this build (then it is one deck), or afterwards to move the cards (Browse, "
        f"select the cards of {old}, Change Deck to {new}) and delete the empty {old}"
    )
    return [_at(source, ("deck",), message, "lock.deck-renamed", "warning")]


def type_change_problems(
    source: LoadedSource,
    changes: Iterable[TypeChange],
    accepted: Collection[str],
    lockfile: str,
) -> tuple[list[Problem], list[TypeChange]]:
    """A problem at each card whose note type changed, but for those ``accepted`` (patterns of
    card ids or ``deck/card``, ``*`` for any text): those are returned, to be carried."""
    problems: list[Problem] = []
    carried: list[TypeChange] = []
    for change in changes:
        if _accepted(change, accepted):
            carried.append(change)
            continue
        message = _type_refusal(change, lockfile=lockfile)
        problems.append(_at_card(source, change.card_id, message, CODE_TYPE, ("note_type", "type")))
    return problems, carried


def _accepted(change: TypeChange, accepted: Collection[str]) -> bool:
    names = (change.card_id, f"{change.deck_id}/{change.card_id}")
    return any(fnmatchcase(name, pattern) for pattern in accepted for name in names)


def _type_refusal(change: TypeChange, *, lockfile: str) -> str:
    card = _quoted(change.card_id)
    said = (
        f"card {card} changed note type since the last build ({lockfile}): "
        f"{_quoted(change.old_name)} → {_quoted(change.new_name)}. Anki keeps a note's note type "
        f"on import: unless {MERGE_OPTION} is ticked it skips this note as conflicting, now and "
        "on every later import, so this change and every later change of the card never reach "
        "learners (nor do media only it uses). Ways through: keep the card's type; or give the "
        "card a new id (learners keep the old note with its reviews and get a new note beside "
        f"it, without reviews); or build with {ACCEPT_TYPE_OPTION} "
        f"{change.deck_id}/{change.card_id} and have every learner "
    )
    if change.mergeable:
        return said + (
            f"import the rebuilt deck once with {MERGE_OPTION} ticked (then untick it), which "
            "changes their note in place, keeping its reviews (the build says so)"
        )
    return said + (
        "change the note's type in Anki once (Browse, Notes > Change Note Type), which keeps its "
        "reviews; until then Anki skips the note, and this build's text of it arrives with the "
        f"card's next change (the build says so; {MERGE_OPTION} cannot carry this change: it "
        "would add the old note type's fields and templates to the learner's new one and change "
        "its other notes)"
    )


@dataclass(frozen=True)
class AcceptedTypeChange:
    """Cards' change of note type (one deck's, from one note type to another) that the build was
    told to carry, and the package that carries it."""

    deck_id: str
    cards: tuple[str, ...]
    old_name: str
    new_name: str
    mergeable: bool
    package: str

    def instructions(self) -> str:
        """What every learner who has the deck must do, once."""
        cards = ", ".join(f"{self.deck_id}/{card}" for card in self.cards)
        said = (
            f"card(s) {cards}: note type {_quoted(self.old_name)} → {_quoted(self.new_name)} "
            "(accepted). Every learner who already has the deck must "
        )
        if self.mergeable:
            return said + (
                f"import {self.package} once with {MERGE_OPTION} ticked among Anki's import "
                "options, then untick it (Anki remembers import options, and merging on every "
                "import would change other note types): Anki changes their note to the new note "
                "type in place, keeping its reviews (and makes its new cards), and asks for a "
                "one-way sync. Imported without it, Anki skips the note as conflicting, on every "
                f"import until one with {MERGE_OPTION} ticked. New learners need do nothing."
            )
        return said + (
            f"import {self.package}, then change the note's type once: Browse, select the note, "
            f"Notes > Change Note Type…, to {_quoted(self.new_name)} (Anki keeps its cards and "
            "reviews and asks for a one-way sync). Until then Anki skips the note as conflicting "
            "on every import; afterwards imports update it, and this build's text of it arrives "
            "with the card's next change (the learner's changed note is newer than this build). "
            "New learners need do nothing."
        )


def accepted_type_changes(
    changes: Iterable[TypeChange], output_dir: Path, formats: Collection[str]
) -> tuple[AcceptedTypeChange, ...]:
    """The type changes a build carried, grouped by deck and by old and new note type, with the
    package of each deck."""
    groups: dict[tuple[str, str, str, bool], list[str]] = {}
    for change in changes:
        key = (change.deck_id, change.old_name, change.new_name, change.mergeable)
        groups.setdefault(key, []).append(change.card_id)
    found = []
    for (deck_id, old, new, mergeable), cards in sorted(groups.items()):
        package = output_dir / f"{deck_id}.apkg"
        shown = display_path(package) if "apkg" in formats else f"the .apkg of deck {deck_id}"
        found.append(AcceptedTypeChange(deck_id, tuple(cards), old, new, mergeable, shown))
    return tuple(found)


@dataclass(frozen=True)
class Departures:
    """Every card that leaves the sources in this build: from decks still built, and from decks
    gone (their sources removed, or their ids changed), less those another card took back."""

    leaving: dict[CardKey, Entry]
    gone_decks: frozenset[str]


def departures(
    lock: Lock, updates: Mapping[str, DeckUpdate], present: Collection[str]
) -> Departures:
    """What leaves, given each rebuilt deck's update (by deck id) and every deck id built now."""
    leaving: dict[CardKey, Entry] = {}
    for deck_id, update in updates.items():
        leaving.update(((deck_id, card), entry) for card, entry in update.leaving.items())
    gone = frozenset(deck_id for deck_id in lock.notes if deck_id not in present)
    for deck_id in gone:
        leaving.update(
            ((deck_id, card), with_guid(deck_id, card, entry))
            for card, entry in lock.notes[deck_id].items()
        )
    for update in updates.values():
        for key in update.taken:
            leaving.pop(key, None)
    return Departures(leaving, gone)


def removed_after(
    lock: Lock, updates: Iterable[DeckUpdate], found: Departures
) -> dict[str, dict[str, Entry]]:
    """The lockfile's removed cards after the build: the earlier ones and those leaving now, less
    those taken back."""
    removed = {deck_id: dict(cards) for deck_id, cards in lock.removed.items()}
    for (deck_id, card), entry in found.leaving.items():
        removed.setdefault(deck_id, {})[card] = entry
    for update in updates:
        for deck_id, card in update.taken:
            removed.get(deck_id, {}).pop(card, None)
    return {deck_id: cards for deck_id, cards in removed.items() if cards}


@dataclass(frozen=True)
class Renamed:
    """Cards of a deck whose content is that of cards leaving in this build."""

    deck_id: str
    path: Path
    id_anchor: tuple[str, int, int] | None  # the deck's `id`, for a deck whose id is new
    pairs: tuple[tuple[str, CardKey, str], ...]  # (new card id, old card, old note's GUID)


def renamed_cards(
    lock: Lock, updates: Mapping[str, DeckUpdate], paths: Mapping[str, Path], found: Departures
) -> list[Renamed]:
    """Each rebuilt deck's new cards (with no earlier entry) whose content (hash: note type,
    tags, fields) is that of a card leaving."""
    by_hash = {entry.hash: (key, entry) for key, entry in found.leaving.items() if entry.type}
    if not by_hash:
        return []
    taken = {key for update in updates.values() for key in update.taken}
    renamed = []
    for deck_id, update in updates.items():
        old = lock.notes.get(deck_id, {})
        pairs = []
        for card, entry in update.entries.items():
            if card in old or (deck_id, card) in taken or entry.hash not in by_hash:
                continue
            key, gone = by_hash[entry.hash]
            pairs.append((card, key, gone.guid or ""))
        if pairs:
            renamed.append(Renamed(deck_id, paths[deck_id], None, tuple(pairs)))
    return renamed


def renamed_problems(
    renamed: Sequence[Renamed],
    lock: Lock,
    anchors: Mapping[str, tuple[str, int, int]],
    gone: Collection[str],
    *,
    accepted: bool = False,
) -> list[Problem]:
    """A refusal for each deck whose id replaces a gone deck's, else at each renamed card; with
    ``accepted`` (``--accept-new-ids``), a warning saying what learners get instead."""
    problems = []
    for found in renamed:
        old_decks = sorted({key[0] for _, key, _ in found.pairs})
        if (
            found.deck_id not in lock.notes
            and set(old_decks) <= set(gone)
            and found.deck_id in anchors
        ):
            problems.append(_deck_id_refusal(found, old_decks, anchors[found.deck_id]))
            continue
        source = load_source(found.path)
        for card, (old_deck, old_card), guid in found.pairs:
            message = _card_id_refusal(found.deck_id, card, old_deck, old_card, guid)
            problems.append(_at_card(source, card, message, "lock.renamed-card"))
    if accepted:
        return [
            replace(problem, severity="warning", message=problem.message + _ACCEPTED_IDS)
            for problem in problems
        ]
    return problems


_ACCEPTED_IDS = (
    f" (built with {ACCEPT_IDS_OPTION}: learners get the new notes beside their old ones, which "
    "keep their reviews; tell them which old notes to delete)"
)


def _card_id_refusal(deck_id: str, card: str, old_deck: str, old_card: str, guid: str) -> str:
    where = (
        _quoted(old_card)
        if old_deck == deck_id
        else f"{_quoted(old_card)} of deck {_quoted(old_deck)}"
    )
    return (
        f"card {_quoted(card)} has the content of card {where}, which leaves the sources in this "
        "build: learners' Anki finds notes by GUID, so it would keep the old note (with its "
        "reviews and the learner's edits) and add this card as a new note beside it, a duplicate "
        f"without reviews. Ways through: keep the id {_quoted(old_card)}"
        + (" (and the deck)" if old_deck != deck_id else "")
        + f"; or give this card the old note's GUID, guid: {_yaml_scalar(guid)} (Anki then "
        "updates that note in place, keeping its reviews); or build with "
        f"{ACCEPT_IDS_OPTION}, knowing that learners get duplicates"
    )


def _deck_id_refusal(found: Renamed, old_decks: list[str], anchor: tuple[str, int, int]) -> Problem:
    olds = " and ".join(_quoted(d) for d in old_decks)
    card, (_, old_card), guid = found.pairs[0]
    message = (
        f"deck id {_quoted(found.deck_id)} is new and deck {olds} leaves the sources in this "
        f"build, with {len(found.pairs)} card(s) of the same content here: learners' Anki finds "
        "notes by GUID (made from the deck and card ids), so it would keep the old notes (with "
        "their reviews and the learner's edits) and add these cards as new notes, duplicates "
        f"without reviews. Ways through: keep the deck id {olds}; or give each card its old "
        f"note's GUID (card {_quoted(card)}: guid: {_yaml_scalar(guid)}, the GUID of card "
        f"{_quoted(old_card)}; and so on), so that Anki updates those notes in place; or build "
        f"with {ACCEPT_IDS_OPTION}, knowing that learners get duplicates"
    )
    return Problem(*anchor, message, "lock.renamed-deck")


def _yaml_scalar(text: str) -> str:
    """A GUID as a YAML value: single-quoted, so that `#`, `:` or `[` in it stay text."""
    return "'" + text.replace("'", "''") + "'"


def _at_card(
    source: LoadedSource, card_id: str, message: str, code: str, keys: tuple[str, ...] = ()
) -> Problem:
    """A problem at the first of ``keys`` a card has, else at its ``id``."""
    where = source if source.all_positions else load_source(source.path)
    cards = where.data.get("cards") if isinstance(where.data, dict) else None
    for index, raw in enumerate(cards if isinstance(cards, list) else []):
        if isinstance(raw, dict) and raw.get("id") == card_id:
            key = next((k for k in keys if k in raw), "id")
            return _at(where, ("cards", index, key), message, code)
    return _at(where, ("id",), message, code)


def _at(
    source: LoadedSource,
    path: tuple[str | int, ...],
    message: str,
    code: str,
    severity: str = "error",
) -> Problem:
    where = source if source.all_positions else load_source(source.path)
    return where.problem(where.mark_of_value(path), message, code, severity)
