"""The lockfile: the modification time Anki sees for each note and note type, kept in git.

Anki updates a note on import only when the incoming note is newer. So a note's ``mod`` must move
forward exactly when its exported content changes, and stay put otherwise, or a rebuild would
either overwrite a learner's own edits of untouched notes or silently skip real changes. That
needs memory across builds which must not live in ``build/`` (a fresh clone has none), so it is a
small JSON file committed beside ``sources/``: for every note a hash of its content and the time
that content was first built, and the same for deckkit's note types. (The original note types an
imported deck keeps are not in it: their time is the ``mod`` their source declares.)

Everything here but ``read_lockfile`` is pure: writing the file is the caller's business.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from deckkit.errors import LockfileError
from deckkit.model import Card, Deck
from deckkit.notetypes import NOTE_TYPES, NoteType, note_type_for
from deckkit.stamps import Stamps

LOCK_VERSION = 1
DEFAULT_LOCKFILE = "deckkit.lock"


@dataclass(frozen=True)
class Entry:
    """A content hash and the time that content was first built."""

    hash: str
    mod: int


@dataclass(frozen=True)
class Lock:
    """Entries for notes (by deck id, then card id) and note types (by note type id)."""

    notes: dict[str, dict[str, Entry]] = field(default_factory=dict)
    note_types: dict[str, Entry] = field(default_factory=dict)


def note_hash(deck: Deck, card: Card, fields: Iterable[str]) -> str:
    """A hash of everything Anki stores for the note: ``fields``, tags, note type and deck."""
    # Unit and record separators cannot occur in YAML text, so the joined parts are unambiguous.
    payload = "\x1e".join(
        [
            str(note_type_for(card.type, card.note_type).id),
            deck.name,
            "\x1f".join(card.tags),
            *fields,
        ]
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _next(old: Entry | None, new_hash: str, now: int) -> Entry:
    if old is not None and old.hash == new_hash:
        return old
    # Never go back in time, even if the clock did: the new content must look newer than the old.
    mod = now if old is None else max(now, old.mod + 1)
    return Entry(new_hash, mod)


def deck_entries(old: dict[str, Entry], deck: Deck, now: int) -> dict[str, Entry]:
    """A deck's entries after building it: changed notes get ``now``, unchanged keep their time."""
    return {
        card.id: _next(old.get(card.id), note_hash(deck, card, fields), now)
        for card, fields in zip(deck.cards, deck.fields, strict=True)
    }


def note_type_entries(lock: Lock, now: int) -> dict[str, Entry]:
    """The note types' entries: a changed template or styling gets ``now``."""
    return {
        str(note_type.id): _next(
            lock.note_types.get(str(note_type.id)), note_type.fingerprint(), now
        )
        for note_type in NOTE_TYPES.values()
    }


def stale_notes(lock: Lock, fresh: Lock) -> list[str]:
    """`deck/card` names whose entry the build would change (new, edited or removed)."""
    changed: list[str] = []
    for deck_id in sorted(set(lock.notes) | set(fresh.notes)):
        old, new = lock.notes.get(deck_id, {}), fresh.notes.get(deck_id, {})
        changed += [
            f"{deck_id}/{card_id}"
            for card_id in sorted(set(old) | set(new))
            if old.get(card_id) != new.get(card_id)
        ]
    changed += [
        f"note type {NOTE_TYPES_BY_ID[int(i)].name}"
        for i in sorted(fresh.note_types)
        if lock.note_types.get(i) != fresh.note_types[i]
    ]
    return changed


NOTE_TYPES_BY_ID: dict[int, NoteType] = {t.id: t for t in NOTE_TYPES.values()}


def stamps_from(
    entries: dict[str, Entry], note_types_entries: dict[str, Entry], deck: Deck
) -> Stamps:
    """Stamps from a deck's entries and the note types' entries.

    A deck's original note types (kept by ``deckkit import``) carry their own ``mod``: the time of
    the note type in the learner's collection, so that Anki leaves that note type as it is.
    """
    notes = {card.guid: entries[card.id].mod for card in deck.cards if card.id in entries}
    note_types = {int(i): entry.mod for i, entry in note_types_entries.items()}
    note_types.update(original_note_type_mods(deck))
    latest = max([*notes.values(), *note_types.values(), 0])
    return Stamps(notes=notes, note_types=note_types, default=latest)


def original_note_type_mods(deck: Deck) -> dict[int, int]:
    """The declared modification time of each original note type of a deck, by id."""
    return {note_type.id: note_type.mod for note_type in deck.note_types}


def lock_to_text(lock: Lock, made: Mapping[str, list[str]] | None = None) -> str:
    """The lockfile's text: sorted, one entry per line, so that git diffs stay readable.

    ``made`` maps deck ids to ``deck_lines(lock.notes[deck_id])`` that the caller has already
    made (for a large deck that takes a tenth of a second): they are used as they are.
    """
    made = made or {}
    lines = ["{", f'  "version": {LOCK_VERSION},', '  "note_types": {']
    lines += _entry_lines(lock.note_types, indent=4)
    lines += ["  },", '  "notes": {']
    deck_ids = sorted(lock.notes)
    for position, deck_id in enumerate(deck_ids):
        lines.append(f"    {json.dumps(deck_id)}: {{")
        lines += made[deck_id] if deck_id in made else deck_lines(lock.notes[deck_id])
        lines.append("    }" + ("," if position < len(deck_ids) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def _entry_lines(entries: dict[str, Entry], *, indent: int) -> list[str]:
    # encode_basestring is what json.dumps(key, ensure_ascii=False) calls, without its overhead.
    space = " " * indent
    lines = [
        f'{space}{encode_basestring(key)}: {{"hash": "{entry.hash}", "mod": {entry.mod}}},'
        for key, entry in ((key, entries[key]) for key in sorted(entries))
    ]
    if lines:
        lines[-1] = lines[-1][:-1]  # no comma after the last entry
    return lines


def deck_lines(entries: dict[str, Entry]) -> list[str]:
    """A deck's entries as lines of the lockfile, whatever their order in ``entries``."""
    return _entry_lines(entries, indent=6)


def lock_from_text(text: str) -> Lock:
    """Parse a lockfile; raises LockfileError with a reason when it is not one."""
    try:
        data: Any = json.loads(text)
        if data.get("version") != LOCK_VERSION:
            raise LockfileError(f"unsupported lockfile version {data.get('version')!r}")
        return Lock(
            notes={
                deck: {card: Entry(str(e["hash"]), int(e["mod"])) for card, e in cards.items()}
                for deck, cards in data["notes"].items()
            },
            note_types={
                key: Entry(str(e["hash"]), int(e["mod"])) for key, e in data["note_types"].items()
            },
        )
    except LockfileError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise LockfileError(f"not a deckkit lockfile ({error})") from error


def read_lockfile(path: Path) -> Lock:
    """The lock in ``path``; an empty lock when the file does not exist yet."""
    if not path.exists():
        return Lock()
    try:
        return lock_from_text(path.read_text(encoding="utf-8"))
    except (LockfileError, UnicodeDecodeError, OSError) as error:
        raise LockfileError(f"cannot use lockfile {path}: {error}") from error
