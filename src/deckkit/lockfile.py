"""The lockfile: the modification time Anki sees for each note and note type, kept in git.

Anki updates a note on import only when the incoming note is newer. So a note's ``mod`` must move
forward exactly when its exported content changes, and stay put otherwise, or a rebuild would
either overwrite a learner's own edits of untouched notes or silently skip real changes. That
needs memory across builds which must not live in ``build/`` (a fresh clone has none), so it is a
small JSON file committed beside ``sources/``: for every note a hash of its content and the time
that content was first built, and the same for every note type (deckkit's and those the sources
declare, whose entries also hold the hash of their fields' and templates' names, and the names:
a build refuses a change of them that Anki would not carry to learners, and says what changed).

Lockfiles are edited and merged by people, so one is read strictly (:func:`lock_from_text`): deck
and card ids must be ids as the schema defines them (one becomes a file name when ``deckkit
import`` reads the lockfile), hashes hexadecimal, times whole numbers Anki can store; anything
else makes the whole file a :class:`LockfileError` naming what is wrong. It is written only
through JSON's own string encoder, so no text in it can end a string early.

Since issue 14 a note's entry also holds its note type (``type``), the lock each deck's name at
its last build (``decks``) and the entries of cards that left the sources (``removed``): what a
build needs to keep every author action safe for learners, or to refuse it (see
:mod:`deckkit.pipeline.learner_safety`). Lockfiles written before are read as they are, and
upgraded by the next build without a time changing.

Its values live in :mod:`deckkit.lock_entries`, its strict reader in :mod:`deckkit.lock_reader`.
Everything here but ``read_lockfile`` is pure: writing the file is the caller's business.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from json.encoder import encode_basestring
from pathlib import Path

from deckkit.budgets import LOCKFILE, read_capped
from deckkit.errors import LockfileError, LockfileTooLarge
from deckkit.lock_entries import DEFAULT_LOCKFILE as DEFAULT_LOCKFILE
from deckkit.lock_entries import LOCK_VERSION as LOCK_VERSION
from deckkit.lock_entries import MAX_MOD as MAX_MOD
from deckkit.lock_entries import MS_TIMES as MS_TIMES
from deckkit.lock_entries import Entry as Entry
from deckkit.lock_entries import Lock as Lock
from deckkit.lock_reader import SLUG_RULE as SLUG_RULE
from deckkit.lock_reader import is_slug as is_slug
from deckkit.lock_reader import lock_from_text as lock_from_text
from deckkit.model import Card, Deck
from deckkit.notetypes import NOTE_TYPES, NoteType, note_type_for, original_note_type
from deckkit.stamps import Stamps


def note_hash(card: Card, fields: Iterable[str]) -> str:
    """A hash of everything Anki stores for the note: ``fields``, tags and note type.

    Not the deck: a card's deck is not part of its note, and Anki never moves a learner's
    existing cards to another deck, so renaming a deck must not make its notes look changed."""
    return content_hash(note_type_for(card.type, card.note_type).id, card.tags, fields)


def content_hash(note_type_id: int, tags: Iterable[str], fields: Iterable[str]) -> str:
    """:func:`note_hash` from the note type's id, the tags and the fields."""
    # Unit and record separators cannot occur in YAML text, so the joined parts are unambiguous.
    payload = "\x1e".join([str(note_type_id), "\x1f".join(tags), *fields])
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def legacy_note_hash(
    deck_name: str, card: Card, fields: Iterable[str], note_type_id: int | None = None
) -> str:
    """The note hash of lockfiles written before entries held their note type (it included the
    deck's name): an entry whose hash is this one is unchanged, and keeps its time. With another
    ``note_type_id`` than the card's: what the hash was if the card had that note type."""
    if note_type_id is None:
        note_type_id = note_type_for(card.type, card.note_type).id
    payload = "\x1e".join([str(note_type_id), deck_name, "\x1f".join(card.tags), *fields])
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def note_entry(card: Card, fields: Iterable[str], mod: int = 0, *, ms: bool = False) -> Entry:
    """A note's entry at time ``mod``: its hash, its note type, its GUID when the card gives one
    (the one place that says what a note's entry holds: builds and ``deckkit import`` use it)."""
    return Entry(
        note_hash(card, fields),
        mod,
        ms=ms,
        type=note_type_for(card.type, card.note_type).id,
        guid=card.guid if card.guid_given else None,
    )


def next_entry(old: Entry | None, fresh: Entry, now: int) -> Entry:
    """``fresh`` (whose own ``mod`` is not used) at the old time when its hash is the old one,
    else at a newer time."""
    if old is not None and old.hash == fresh.hash:
        if (old.schema, old.fields, old.templates, old.type, old.guid) == (
            fresh.schema,
            fresh.fields,
            fresh.templates,
            fresh.type,
            fresh.guid,
        ):
            return old  # the usual case: one comparison, no new entry (100,000 notes a build)
        return replace(fresh, mod=old.mod, ms=old.ms)
    if old is None:
        return replace(fresh, mod=now)
    # Never go back in time, even if the clock did: the new content must look newer than the old.
    # (Up to the largest time a lockfile may hold, so that the file written can be read back.)
    # A note learners hold with a time in milliseconds is only updated by a larger time.
    later = now * 1000 if old.ms else now
    return replace(fresh, mod=min(max(later, old.mod + 1), MAX_MOD), ms=old.ms)


_next = next_entry  # its name in earlier code and tests


def note_type_entries(lock: Lock, now: int) -> dict[str, Entry]:
    """The note types' entries: a changed template or styling gets ``now``."""
    return {
        str(note_type.id): next_entry(
            lock.note_types.get(str(note_type.id)), Entry(note_type.fingerprint(), 0), now
        )
        for note_type in NOTE_TYPES.values()
    }


def declared_note_type_entries(lock: Lock, deck: Deck, now: int) -> dict[str, Entry]:
    """The entries of the note types a deck declares: kept while the note type is unchanged,
    a newer time when its templates, styling or options change (so that Anki updates the
    learner's copy in place). A declaration's own ``mod`` (written by older imports) stands
    for an entry the lockfile does not have yet."""
    entries = {}
    for declared in deck.note_types:
        note_type = original_note_type(declared)
        key = str(note_type.id)
        old = lock.note_types.get(key)
        if old is None and declared.mod is not None:
            old = note_type_entry(note_type, declared.mod)
        entries[key] = next_entry(old, note_type_entry(note_type, 0), now)
    return entries


def newest_time(lock: Lock) -> int:
    """The newest time, in seconds, of any note or note type in the lock (0 for none). A note
    type too may have a time in milliseconds (``deckkit import`` keeps it as the package has it:
    its learners hold it so, and a change of it gets that time plus one)."""
    times = [e.mod // 1000 if e.mod >= MS_TIMES else e.mod for e in lock.note_types.values()]
    # Removed cards' times too: learners still hold those notes.
    for entries in (*lock.notes.values(), *lock.removed.values()):
        times += [e.mod // 1000 if e.mod >= MS_TIMES else e.mod for e in entries.values()]
    return max(times, default=0)


def note_type_entry(note_type: NoteType, mod: int) -> Entry:
    """A declared note type's entry at time ``mod``: its fingerprint, its schema and the field
    and template names that make it (what ``deckkit import`` writes for the note types it keeps,
    so that the first build finds the lockfile as it would write it)."""
    return Entry(
        note_type.fingerprint(),
        mod,
        note_type.schema(),
        note_type.fields,
        note_type.template_names,
    )


def stale_notes(lock: Lock, fresh: Lock) -> list[str]:
    """What the build would change in the lockfile, for people: `deck/card` names whose entry is
    new, edited or removed, note types, deck names, removed cards. Not a pure format upgrade: an
    entry of an older lockfile that only gains its note type (or GUID), or a deck's first name."""
    changed: list[str] = []
    for deck_id in sorted(set(lock.notes) | set(fresh.notes)):
        old, new = lock.notes.get(deck_id, {}), fresh.notes.get(deck_id, {})
        changed += [
            f"{deck_id}/{card_id}"
            for card_id in sorted(set(old) | set(new))
            if not _same_but_upgraded(old.get(card_id), new.get(card_id))
        ]
    changed += [
        f"note type {NOTE_TYPES_BY_ID[int(i)].name if int(i) in NOTE_TYPES_BY_ID else i}"
        for i in sorted(fresh.note_types)
        if lock.note_types.get(i) != fresh.note_types[i]
    ]
    changed += [
        f"deck {deck_id} renamed"
        for deck_id, name in sorted(fresh.decks.items())
        if lock.decks.get(deck_id, name) != name
    ]
    for deck_id in sorted(set(lock.removed) | set(fresh.removed)):
        old, new = lock.removed.get(deck_id, {}), fresh.removed.get(deck_id, {})
        changed += [
            f"removed {deck_id}/{card_id}"
            for card_id in sorted(set(old) | set(new))
            if old.get(card_id) != new.get(card_id)
        ]
    return changed


def _same_but_upgraded(old: Entry | None, new: Entry | None) -> bool:
    """Whether two entries of a note are equal, or the new one only adds what older lockfiles
    did not keep (the note type, the GUID) with the same time."""
    if old == new:
        return True
    if old is None or new is None or old.type is not None:
        return False
    return (old.mod, old.ms) == (new.mod, new.ms)


NOTE_TYPES_BY_ID: dict[int, NoteType] = {t.id: t for t in NOTE_TYPES.values()}


def stamps_from(
    entries: dict[str, Entry], note_types_entries: dict[str, Entry], deck: Deck
) -> Stamps:
    """Stamps from a deck's entries and the note types' entries (deckkit's and the deck's
    declared ones: see :func:`declared_note_type_entries`)."""
    notes = {card.guid: entries[card.id].mod for card in deck.cards if card.id in entries}
    note_types = {int(i): entry.mod for i, entry in note_types_entries.items()}
    latest = max([*notes.values(), *note_types.values(), 0])
    return Stamps(notes=notes, note_types=note_types, default=latest)


def declared_note_type_mods(deck: Deck, default: int) -> dict[int, int]:
    """Without a lockfile: each declared note type's own ``mod``, else ``default``."""
    return {
        note_type.id: default if note_type.mod is None else note_type.mod
        for note_type in deck.note_types
    }


def lock_to_text(lock: Lock, made: Mapping[str, list[str]] | None = None) -> str:
    """The lockfile's text: sorted, one entry per line, so that git diffs stay readable.

    ``made`` maps deck ids to ``deck_lines(lock.notes[deck_id])`` that the caller has already
    made (for a large deck that takes a tenth of a second): they are used as they are.
    """
    made = made or {}
    lines = ["{", f'  "version": {LOCK_VERSION},']
    if lock.decks:
        names = [
            f"    {encode_basestring(key)}: {encode_basestring(lock.decks[key])},"
            for key in sorted(lock.decks)
        ]
        lines += ['  "decks": {', *names[:-1], names[-1][:-1], "  },"]
    if lock.sources:
        paths = [
            f"    {encode_basestring(key)}: {encode_basestring(lock.sources[key])},"
            for key in sorted(lock.sources)
        ]
        lines += ['  "sources": {', *paths[:-1], paths[-1][:-1], "  },"]
    lines.append('  "note_types": {')
    lines += _entry_lines(lock.note_types, indent=4)
    lines += ["  },", '  "notes": {']
    lines += _decks_lines(lock.notes, made)
    if lock.removed:
        lines += ["  },", '  "removed": {']
        lines += _decks_lines(lock.removed, {})
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def _decks_lines(decks: dict[str, dict[str, Entry]], made: Mapping[str, list[str]]) -> list[str]:
    lines = []
    deck_ids = sorted(decks)
    for position, deck_id in enumerate(deck_ids):
        lines.append(f"    {json.dumps(deck_id)}: {{")
        lines += made[deck_id] if deck_id in made else deck_lines(decks[deck_id])
        lines.append("    }" + ("," if position < len(deck_ids) - 1 else ""))
    return lines


def _entry_lines(entries: dict[str, Entry], *, indent: int) -> list[str]:
    # encode_basestring is what json.dumps(text, ensure_ascii=False) calls, without its overhead:
    # every string goes through it, every number through int's own format ('d' refuses a float).
    space = " " * indent
    quote = encode_basestring
    lines = [
        f'{space}{quote(key)}: {{"hash": {quote(entry.hash)}, "mod": {entry.mod:d}'
        f"{_extra(entry)}}},"
        for key, entry in ((key, entries[key]) for key in sorted(entries))
    ]
    if lines:
        lines[-1] = lines[-1][:-1]  # no comma after the last entry
    return lines


def _extra(entry: Entry) -> str:
    """What an entry holds besides its hash and time, as lockfile text."""
    if entry.schema is not None:
        return _shape_text(entry)
    text = "" if entry.type is None else f', "type": {entry.type:d}'
    if entry.guid is not None:
        text += f', "guid": {encode_basestring(entry.guid)}'
    return (text + ', "ms": true') if entry.ms else text


def _shape_text(entry: Entry) -> str:
    """A note type entry's schema, and the names it was made from when the entry has them."""
    text = f', "schema": {encode_basestring(str(entry.schema))}'
    if entry.fields is not None and entry.templates is not None:
        fields = ", ".join(map(encode_basestring, entry.fields))
        templates = ", ".join(map(encode_basestring, entry.templates))
        text += f', "fields": [{fields}], "templates": [{templates}]'
    return text


def deck_lines(entries: dict[str, Entry]) -> list[str]:
    """A deck's entries as lines of the lockfile, whatever their order in ``entries``."""
    return _entry_lines(entries, indent=6)


def read_lockfile(path: Path) -> Lock:
    """The lock in ``path``; an empty lock when the file does not exist yet.

    Only a regular file is read, and only up to the lockfile cap (:data:`deckkit.budgets.LOCKFILE`).
    """
    if not path.exists():
        return Lock()

    def refuse(reason: str) -> LockfileError:
        return LockfileError(f"cannot use lockfile {path}: it {reason}")

    data = read_capped(path, LOCKFILE, refuse, too_large=LockfileTooLarge)
    try:
        return lock_from_text(data.decode("utf-8"))
    except (LockfileError, UnicodeDecodeError) as error:
        raise LockfileError(f"cannot use lockfile {path}: {error}") from error
