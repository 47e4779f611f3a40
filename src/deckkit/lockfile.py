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

Everything here but ``read_lockfile`` is pure: writing the file is the caller's business.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from deckkit.budgets import LOCKFILE, read_capped
from deckkit.errors import LockfileError, LockfileTooLarge
from deckkit.model import Card, Deck
from deckkit.notetypes import (
    NOTE_TYPES,
    NoteType,
    note_type_for,
    original_note_type,
    schema_hash,
)
from deckkit.sources.schema import deck_schema
from deckkit.stamps import Stamps

LOCK_VERSION = 1
DEFAULT_LOCKFILE = "deckkit.lock"
# A time Anki can store and every program reading a package can hold exactly (a JavaScript
# number, as in Anki's own web views): whole seconds from 0 to 2**53.
MAX_MOD = 2**53

_HASH = re.compile(r"[0-9a-f]{1,64}")
_NOTE_TYPE_ID = re.compile(r"[0-9]{1,18}")  # deckkit's note type ids, as text: below 2**63


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
    (:func:`_next`), so that it is newer than the learner's copy and reaches them.
    """

    hash: str
    mod: int
    schema: str | None = None
    fields: tuple[str, ...] | None = None  # with ``templates``, or neither (older lockfiles)
    templates: tuple[str, ...] | None = None
    ms: bool = False


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


def _next(old: Entry | None, fresh: Entry, now: int) -> Entry:
    """``fresh`` (whose own ``mod`` is not used) at the old time when its hash is the old one,
    else at a newer time."""
    if old is not None and old.hash == fresh.hash:
        if (old.schema, old.fields, old.templates) == (fresh.schema, fresh.fields, fresh.templates):
            return old  # the usual case: one comparison, no new entry (100,000 notes a build)
        return replace(fresh, mod=old.mod, ms=old.ms)
    if old is None:
        return replace(fresh, mod=now)
    # Never go back in time, even if the clock did: the new content must look newer than the old.
    # (Up to the largest time a lockfile may hold, so that the file written can be read back.)
    # A note learners hold with a time in milliseconds is only updated by a larger time.
    later = now * 1000 if old.ms else now
    return replace(fresh, mod=min(max(later, old.mod + 1), MAX_MOD), ms=old.ms)


# Note times from this on are milliseconds: 10**11 seconds is the year 5138, 10**11 ms is 1973.
MS_TIMES = 10**11


def deck_entries(old: dict[str, Entry], deck: Deck, now: int) -> dict[str, Entry]:
    """A deck's entries after building it: changed notes get ``now``, unchanged keep their time."""
    return {
        card.id: _next(old.get(card.id), Entry(note_hash(deck, card, fields), 0), now)
        for card, fields in zip(deck.cards, deck.fields, strict=True)
    }


def note_type_entries(lock: Lock, now: int) -> dict[str, Entry]:
    """The note types' entries: a changed template or styling gets ``now``."""
    return {
        str(note_type.id): _next(
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
        entries[key] = _next(old, note_type_entry(note_type, 0), now)
    return entries


def newest_time(lock: Lock) -> int:
    """The newest time, in seconds, of any note or note type in the lock (0 for none). A note
    type too may have a time in milliseconds (``deckkit import`` keeps it as the package has it:
    its learners hold it so, and a change of it gets that time plus one)."""
    times = [e.mod // 1000 if e.mod >= MS_TIMES else e.mod for e in lock.note_types.values()]
    for entries in lock.notes.values():
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
        f"note type {NOTE_TYPES_BY_ID[int(i)].name if int(i) in NOTE_TYPES_BY_ID else i}"
        for i in sorted(fresh.note_types)
        if lock.note_types.get(i) != fresh.note_types[i]
    ]
    return changed


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
    return ', "ms": true' if entry.ms else ""


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


def lock_from_text(text: str) -> Lock:
    """Parse a lockfile; raises LockfileError with a reason when it is not one.

    Strict: a JSON object with ``version`` 1, ``note_types`` (note type id → entry) and
    ``notes`` (deck id → card id → entry), each entry ``{"hash": hex, "mod": 0..2**53}``; a note
    type's entry may add ``"schema": hex``, and with it ``"fields"`` and ``"templates"``: the
    lists of names that schema is the hash of.
    """
    try:
        data: Any = json.loads(text, parse_constant=_no_constant)
    except RecursionError as error:
        raise LockfileError("not a deckkit lockfile (nested too deeply)") from error
    except ValueError as error:  # JSONDecodeError, an integer of more than 4,300 digits
        raise LockfileError(f"not a deckkit lockfile ({error})") from error
    if not isinstance(data, dict):
        raise LockfileError("not a deckkit lockfile (not a JSON object)")
    if data.get("version") != LOCK_VERSION:
        raise LockfileError(f"unsupported lockfile version {_shown(data.get('version'))}")
    unknown = sorted(set(data) - {"version", "note_types", "notes"})
    if unknown:
        raise LockfileError(f"unknown key {_shown(unknown[0])} in the lockfile")
    note_types = _entries(
        data.get("note_types"), "note_types", _NOTE_TYPE_ID.fullmatch, optional="schema"
    )
    notes = _object(data.get("notes"), "notes")
    decks: dict[str, dict[str, Entry]] = {}
    for deck_id, cards in notes.items():
        if not is_slug(deck_id):
            raise LockfileError(f"deck id {_shown(deck_id)} is not an id ({SLUG_RULE})")
        decks[deck_id] = _entries(cards, f"notes.{deck_id}", is_slug, optional="ms")
    return Lock(notes=decks, note_types=note_types)


def _entries(
    value: Any, where: str, key_ok: Callable[[str], object], *, optional: str
) -> dict[str, Entry]:
    """The entries of one JSON object, each checked; the first wrong one raises LockfileError.

    Besides ``hash`` and ``mod``, an entry may hold one ``optional`` key: a note type's
    ``schema`` (a hexadecimal string), a note's ``ms`` (true)."""
    entries: dict[str, Entry] = {}
    hash_ok = _HASH.fullmatch
    for key, entry in _object(value, where).items():
        # The usual case in a few type checks: a 100,000-card lock is read in a tenth of a second.
        if type(entry) is dict and key_ok(key):
            digest, mod = entry.get("hash"), entry.get("mod")
            if type(digest) is str and hash_ok(digest) and type(mod) is int and 0 <= mod <= MAX_MOD:
                if len(entry) == 2:
                    entries[key] = Entry(digest, mod)
                    continue
                if optional == "ms" and len(entry) == 3 and entry.get("ms") is True:
                    entries[key] = Entry(digest, mod, ms=True)
                    continue
            if optional == "schema" and len(entry) in (3, 5):
                found = _note_type_entry(entry)
                if found is not None:
                    entries[key] = found
                    continue
        raise LockfileError(_wrong_entry(where, key, entry, key_ok, optional=optional))
    return entries


def _note_type_entry(entry: dict[str, Any]) -> Entry | None:
    """A note type's entry with its schema (and the names it was made from), or None if wrong."""
    digest, mod, shape = entry.get("hash"), entry.get("mod"), entry.get("schema")
    if not (
        type(digest) is str
        and _HASH.fullmatch(digest)
        and type(mod) is int
        and 0 <= mod <= MAX_MOD
        and type(shape) is str
        and _HASH.fullmatch(shape)
    ):
        return None
    if len(entry) == 3:
        return Entry(digest, mod, shape)
    fields, templates = _names(entry.get("fields")), _names(entry.get("templates"))
    if fields is None or templates is None or not _made_from(shape, fields, templates):
        return None
    return Entry(digest, mod, shape, fields, templates)


def _names(value: Any) -> tuple[str, ...] | None:
    """A list of field or template names (non-empty strings, at least one), or None."""
    if type(value) is not list or not value:
        return None
    if not all(type(name) is str and name for name in value):
        return None
    return tuple(value)


def _made_from(shape: str, fields: tuple[str, ...], templates: tuple[str, ...]) -> bool:
    """Whether a schema is the hash of these names (of a standard or of a cloze note type): a
    hand edit or a bad merge of the names must not make a build misreport what changed."""
    return shape in (schema_hash(fields, templates, cloze=c) for c in (False, True))


def _wrong_entry(
    where: str, key: str, entry: Any, key_ok: Callable[[str], object], *, optional: str
) -> str:
    """What is wrong with an entry that the quick check refused."""
    place = f"{where}.{key}" if key_ok(key) else where
    if not key_ok(key):
        rule = SLUG_RULE if key_ok is is_slug else "a number"
        return f"{_shown(key)} in {where} is not an id ({rule})"
    if type(entry) is not dict:
        return f"{place} is not an object with a hash and a mod"
    allowed = _SHAPE_KEYS if optional == "schema" else ("ms",)
    unknown = sorted(set(entry) - {"hash", "mod", *allowed})
    if unknown:
        return f"unknown key {_shown(unknown[0])} in {place}"
    digest, mod = entry.get("hash"), entry.get("mod")
    if type(digest) is not str or not _HASH.fullmatch(digest):
        return f"the hash of {place} is not a hexadecimal string: {_shown(digest)}"
    if type(mod) is not int or not 0 <= mod <= MAX_MOD:
        return f"the mod of {place} is not a whole number from 0 to 2**53: {_shown(mod)}"
    if "mod" not in entry or "hash" not in entry:
        return f"{place} is not an object with a hash and a mod"
    if optional == "ms":
        return f"the ms of {place} is not true: {_shown(entry.get('ms'))}"
    shape = entry.get("schema")
    if "schema" not in entry:
        return f"{place} has names of fields and templates but no schema"
    if type(shape) is not str or not _HASH.fullmatch(shape):
        return f"the schema of {place} is not a hexadecimal string: {_shown(shape)}"
    for key in ("fields", "templates"):
        if key not in entry:
            other = "templates" if key == "fields" else "fields"
            return f"{place} has {other} but no {key}: give both, or neither"
        if _names(entry[key]) is None:
            return f"the {key} of {place} are not a list of names: {_shown(entry[key])}"
    return (
        f"the fields and templates of {place} are not the names its schema was made from "
        "(remove both to have the next build write them again)"
    )


_SHAPE_KEYS = ("schema", "fields", "templates")  # what a note type's entry may add


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LockfileError(f"{where} is not a JSON object")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a lockfile holds")


def _shown(value: Any) -> str:
    """A value from the file, quoted, control characters escaped, and kept short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


SLUG_RULE = "letters, digits, '-', '_' and '.', starting with a letter or digit, without '..'"


@lru_cache(maxsize=1)
def _slug_check() -> tuple[re.Pattern[str], int]:
    slug = deck_schema()["$defs"]["slug"]
    return re.compile(slug["pattern"]), int(slug["maxLength"])


def is_slug(text: str) -> bool:
    """Whether ``text`` is a deck or card id as the schema defines them (the whole text)."""
    pattern, longest = _slug_check()
    return len(text) <= longest and pattern.fullmatch(text) is not None


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
