"""Reading a lockfile's text, strictly (see :mod:`deckkit.lockfile`): anything that is not a
lockfile deckkit writes, or an older one, is a :class:`~deckkit.errors.LockfileError` naming
what is wrong."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from deckkit.errors import LockfileError
from deckkit.lock_entries import LOCK_VERSION, MAX_MOD, Entry, Lock
from deckkit.schema_data import deck_schema

_HASH = re.compile(r"[0-9a-f]{1,64}")
_NOTE_TYPE_ID = re.compile(r"[0-9]{1,18}")  # deckkit's note type ids, as text: below 2**63
_TYPE_IDS = 10**18  # a note's note type id, as a number: below this, as in ``note_types``


def _type_id_ok(value: Any) -> bool:
    """Whether a note's ``type`` is a note type id (a whole number, not ``true``)."""
    return type(value) is int and 0 <= value < _TYPE_IDS


def lock_from_text(text: str) -> Lock:
    """Parse a lockfile; raises LockfileError with a reason when it is not one.

    Strict: a JSON object with ``version`` 1, ``note_types`` (note type id → entry) and
    ``notes`` (deck id → card id → entry), each entry ``{"hash": hex, "mod": 0..2**53}``; a note
    type's entry may add ``"schema": hex``, and with it ``"fields"`` and ``"templates"``: the
    lists of names that schema is the hash of. A note's entry may add ``"type"`` (a note type
    id), ``"guid"`` (a GUID as a card's ``guid:`` may be) and ``"ms": true``. Optional
    ``decks`` (deck id → its name, a non-empty string), ``sources`` (deck id → its source file,
    relative to the lockfile's folder) and ``removed`` (deck id → card id → a
    note's entry, with its ``guid``).
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
    unknown = sorted(set(data) - {"version", "decks", "sources", "note_types", "notes", "removed"})
    if unknown:
        raise LockfileError(f"unknown key {_shown(unknown[0])} in the lockfile")
    note_types = _entries(
        data.get("note_types"), "note_types", _NOTE_TYPE_ID.fullmatch, optional="schema"
    )
    return Lock(
        notes=_decks(data.get("notes"), "notes"),
        note_types=note_types,
        decks=_deck_names(data.get("decks", {})),
        removed=_decks(data.get("removed", {}), "removed"),
        sources=_deck_sources(data.get("sources", {})),
    )


def _decks(value: Any, where: str) -> dict[str, dict[str, Entry]]:
    """Notes' entries by deck id, then card id (``notes``, or ``removed`` whose entries have a
    GUID)."""
    decks: dict[str, dict[str, Entry]] = {}
    for deck_id, cards in _object(value, where).items():
        if not is_slug(deck_id):
            raise LockfileError(f"deck id {_shown(deck_id)} is not an id ({SLUG_RULE})")
        decks[deck_id] = _entries(cards, f"{where}.{deck_id}", is_slug, optional=where)
    return decks


def _deck_names(value: Any) -> dict[str, str]:
    names = {}
    for deck_id, name in _object(value, "decks").items():
        if not is_slug(deck_id):
            raise LockfileError(f"deck id {_shown(deck_id)} in decks is not an id ({SLUG_RULE})")
        if type(name) is not str or not name:
            raise LockfileError(f"the name of deck {deck_id} is not a deck name: {_shown(name)}")
        names[deck_id] = name
    return names


def _deck_sources(value: Any) -> dict[str, str]:
    """Each deck's source file (a relative path with '/', as the build wrote it)."""
    paths = {}
    for deck_id, path in _object(value, "sources").items():
        if not is_slug(deck_id):
            raise LockfileError(f"deck id {_shown(deck_id)} in sources is not an id ({SLUG_RULE})")
        if (
            type(path) is not str
            or not path
            or len(path) > 4096
            or any(ord(c) < 32 for c in path)
            or path.startswith("/")
        ):
            raise LockfileError(
                f"the source of deck {deck_id} is not a relative path: {_shown(path)}"
            )
        paths[deck_id] = path
    return paths


def _note_extras(entry: dict[str, Any], digest: str, mod: int, *, removed: bool) -> Entry | None:
    """A note's entry with what it may hold besides its hash and time (its note type, GUID,
    ``ms``), or None if any of it is wrong. A removed card's entry must have its GUID."""
    kind, guid, ms = entry.get("type"), entry.get("guid"), entry.get("ms")
    if len(entry) != 2 + (kind is not None) + (guid is not None) + (ms is not None):
        return None
    if kind is not None and not _type_id_ok(kind):
        return None
    if guid is None and removed:
        return None
    if guid is not None and not (type(guid) is str and _GUID.fullmatch(guid)):
        return None
    if ms is not None and ms is not True:
        return None
    return Entry(digest, mod, type=kind, guid=guid, ms=ms is True)


# A GUID as a card's `guid:` may give it: 1 to 100 characters, no spaces or control characters.
_GUID = re.compile(
    r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]{1,100}"
)


def _entries(
    value: Any, where: str, key_ok: Callable[[str], object], *, optional: str
) -> dict[str, Entry]:
    """The entries of one JSON object, each checked; the first wrong one raises LockfileError.

    Besides ``hash`` and ``mod``, a note type's entry (``optional`` "schema") may hold its
    ``schema`` (a hexadecimal string) and names; a note's (``optional`` "notes" or "removed")
    its ``type``, ``guid`` and ``ms`` (see :func:`_note_extras`)."""
    entries: dict[str, Entry] = {}
    hash_ok = _HASH.fullmatch
    for key, entry in _object(value, where).items():
        # The usual case in a few type checks: a 100,000-card lock is read in a tenth of a second.
        if type(entry) is dict and key_ok(key):
            digest, mod = entry.get("hash"), entry.get("mod")
            if type(digest) is str and hash_ok(digest) and type(mod) is int and 0 <= mod <= MAX_MOD:
                if len(entry) == 2 and optional != "removed":
                    entries[key] = Entry(digest, mod)
                    continue
                kind = entry.get("type")  # a note's usual third key
                if optional == "notes" and len(entry) == 3 and _type_id_ok(kind):
                    entries[key] = Entry(digest, mod, type=kind)
                    continue
                if optional != "schema":
                    found = _note_extras(entry, digest, mod, removed=optional == "removed")
                    if found is not None:
                        entries[key] = found
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
    from deckkit.notetypes import schema_hash  # here: reading a cache must not load genanki

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
    allowed = _SHAPE_KEYS if optional == "schema" else ("type", "guid", "ms")
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
    if optional != "schema":
        return _wrong_note_extra(place, entry, removed=optional == "removed")
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


def _wrong_note_extra(place: str, entry: dict[str, Any], *, removed: bool) -> str:
    """What is wrong with a note's ``type``, ``guid`` or ``ms``."""
    if "type" in entry:
        kind = entry["type"]
        if not _type_id_ok(kind):
            return f"the type of {place} is not a note type id: {_shown(kind)}"
    if "guid" not in entry and removed:
        return f"{place} has no guid (a removed card's entry keeps its note's GUID)"
    if "guid" in entry:
        guid = entry["guid"]
        if not (type(guid) is str and _GUID.fullmatch(guid)):
            return f"the guid of {place} is not a GUID: {_shown(guid)}"
    return f"the ms of {place} is not true: {_shown(entry.get('ms'))}"


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
