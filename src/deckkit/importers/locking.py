"""The lockfile entries an import writes, so that the first build changes nothing for learners.

Anki updates a note from a package only when the package's note is newer than the learner's
(``mod``), and a note type likewise. A build takes each note's time from ``deckkit.lock``
(:mod:`deckkit.lockfile`): without an entry, a note gets the build's time, and Anki replaces the
learner's own edits of every note of the deck. So the import records, for each note it wrote,
the hash of that note as the build makes it (the written source read back by the build's own
loader and model) with the note's time in the package, and for each note type it declared its
fingerprint, schema and time in the package. A note edited in the sources afterwards gets a new
hash, and the build gives it a newer time: only that note reaches learners.

Some tools write note times in milliseconds, which learners then hold. Such a note's entry keeps
its time in seconds, marked ``ms`` (:class:`deckkit.lockfile.Entry`): the unchanged note is older
than the learner's copy and than any edit the learner made, and a change of it is stamped in
milliseconds, newer than both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from deckkit.atomic import replace_text
from deckkit.errors import CannotImport
from deckkit.importers.plan import DeckOut
from deckkit.importers.types import LockWritten
from deckkit.lockfile import (
    MAX_MOD,
    MS_TIMES,
    Entry,
    Lock,
    lock_to_text,
    note_entry,
    note_type_entry,
    read_lockfile,
)
from deckkit.model import Deck, deck_from_source
from deckkit.notetypes import original_note_type
from deckkit.problems import Problem
from deckkit.sources.loader import LoadedSource


def record_times(
    lockfile: Path,
    decks: Sequence[DeckOut],
    sources: Sequence[LoadedSource],
    problems: Sequence[Problem],
) -> LockWritten:
    """Merge into ``lockfile`` the entries of every deck written (``decks``, read back as
    ``sources``) that has no error among ``problems``; the other entries stay as they are.

    Written atomically: a reader sees the old lockfile or the new one.
    """
    with_errors = {problem.path for problem in problems if problem.severity == "error"}
    by_name = {source.path.name: source for source in sources}
    lock = read_lockfile(lockfile)
    notes = {deck_id: dict(cards) for deck_id, cards in lock.notes.items()}
    note_types = dict(lock.note_types)
    names = dict(lock.decks)
    counted = [0, 0]  # notes, notes in milliseconds
    declared_ids: set[str] = set()
    left_out = []
    for planned in decks:
        source = by_name.get(planned.file_name)
        if source is None or source.display in with_errors or source.data is None:
            left_out.append(planned.name)
            continue
        deck = deck_from_source(source)
        entries = note_entries(deck, planned.mods)
        notes.setdefault(deck.id, {}).update(entries)
        names[deck.id] = deck.name
        declared = note_type_entries(deck, planned.note_type_mods)
        note_types.update(declared)
        declared_ids.update(declared)
        counted[0] += len(entries)
        counted[1] += sum(1 for entry in entries.values() if entry.ms)
    try:
        lock = Lock(notes=notes, note_types=note_types, decks=names, removed=lock.removed)
        replace_text(lockfile, lock_to_text(lock))
    except OSError as error:
        raise CannotImport(f"cannot write {lockfile}: {error.strerror or error}") from error
    return LockWritten(lockfile, counted[0], len(declared_ids), counted[1], tuple(left_out))


def note_entries(deck: Deck, mods: Mapping[str, int]) -> dict[str, Entry]:
    """Each note's entry as the build makes it (:func:`deckkit.lockfile.note_entry`), at its time
    in the package (in seconds, marked ``ms``, for a time in milliseconds)."""
    entries = {}
    for card, fields in zip(deck.cards, deck.fields, strict=True):
        mod = mods.get(card.id, 0)
        if mod >= MS_TIMES:
            entries[card.id] = note_entry(card, fields, _storable(mod // 1000), ms=True)
        else:
            entries[card.id] = note_entry(card, fields, _storable(mod))
    return entries


def note_type_entries(deck: Deck, mods: Mapping[int, int]) -> dict[str, Entry]:
    """Each declared note type's entry: fingerprint, schema and time in the package."""
    entries = {}
    for declared in deck.note_types:
        if declared.id in mods:
            note_type = original_note_type(declared)
            entries[str(note_type.id)] = note_type_entry(note_type, _storable(mods[declared.id]))
    return entries


def _storable(mod: int) -> int:
    """A time as a lockfile holds it (0 to 2**53: Anki's and every reader's whole numbers)."""
    return min(max(mod, 0), MAX_MOD)
