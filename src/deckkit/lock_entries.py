"""The lockfile's values: its entries and the lock they make, as :mod:`deckkit.lockfile` reads
and writes them (kept apart so that its reader, :mod:`deckkit.lock_reader`, can build them)."""

from __future__ import annotations

from dataclasses import dataclass, field

LOCK_VERSION = 1
DEFAULT_LOCKFILE = "deckkit.lock"  # here, not in deckkit.lockfile: the command's start needs it
# A time Anki can store and every program reading a package can hold exactly (a JavaScript
# number, as in Anki's own web views): whole seconds from 0 to 2**53.
MAX_MOD = 2**53


@dataclass(frozen=True)
class Entry:
    """A content hash and the time that content was first built.

    A note type's entry also holds its ``schema`` (:meth:`deckkit.notetypes.NoteType.schema`),
    so that a build can tell a change of fields or templates from a change of styling, and the
    field and template names that hash was made from, so that it can say which changed.

    A note imported from a deck whose tool stamped notes in milliseconds (``ms``): learners hold
    it with a time a thousand times larger than Anki's own seconds. Its entry keeps the original
    time in seconds, so that a rebuild of the unchanged note is older than both the learner's
    untouched copy and any edit the learner made; a change of it is stamped in milliseconds
    (:func:`next_entry`), so that it is newer than the learner's copy and reaches them.
    """

    hash: str
    mod: int
    schema: str | None = None
    fields: tuple[str, ...] | None = None  # with ``templates``, or neither (older lockfiles)
    templates: tuple[str, ...] | None = None
    ms: bool = False
    # A note's note type id (None in lockfiles written before it was kept): a card whose note
    # type changes is one Anki will not update (see deckkit.pipeline.learner_safety).
    type: int | None = None
    # A note's GUID when it is not the one its deck and card ids give (a card's ``guid:``), and
    # always in a removed card's entry: how learners' notes are found again.
    guid: str | None = None


@dataclass(frozen=True)
class Lock:
    """Entries for notes (by deck id, then card id) and note types (by note type id); each deck's
    name at its last build (by deck id); and the entries of cards that left the sources (by deck
    id, then card id), kept so that a card restored or given its old GUID gets its time back."""

    notes: dict[str, dict[str, Entry]] = field(default_factory=dict)
    note_types: dict[str, Entry] = field(default_factory=dict)
    decks: dict[str, str] = field(default_factory=dict)
    removed: dict[str, dict[str, Entry]] = field(default_factory=dict)
    # Each deck's source file at its last build, relative to the lockfile's folder: a build of
    # some sources only (`deckkit build sources/a.yaml`) must not take the decks of the others
    # for removed.
    sources: dict[str, str] = field(default_factory=dict)


# Note times from this on are milliseconds: 10**11 seconds is the year 5138, 10**11 ms is 1973.
MS_TIMES = 10**11
