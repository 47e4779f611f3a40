"""Sending built decks into a running Anki through AnkiConnect, and saying what changed.

Each package goes in with the add-on's ``importPackage`` action, which hands it to Anki's own
importer (``anki.importing.AnkiPackageImporter``; in Anki 26.9 a shim over the backend's
``import_anki_package``): Anki applies its update rules, so a learner's reviews stay, and a note
is updated only when the package's copy is newer. The action answers only ``true``, so what
changed is worked out by asking before and after:

- the notes in the package's decks: ``findNotes`` with ``deck:"name" -deck:"name::*"`` for each
  deck its cards are in (the package's notes have GUIDs, which Anki's search cannot look up),
- and what each holds: ``notesInfo``'s note type, tags and fields.

Then a note found only after the import is *new*; one whose note type, tags or fields differ is
*updated*; the package's other notes are *unchanged*: Anki skipped them, or (not looked at) a
learner had moved them to a deck of their own. Notes a learner added to these decks
are neither new nor updated, and are not counted.

``importPackage`` is given the package's absolute path: the add-on passes it to the importer as
it is (its README says a relative path is read from the media folder, but Anki has not made that
folder the working one since 2.1.50), so deckkit and Anki must share the file system.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckkit.anki_connect import (
    NO_COLLECTION,
    AnkiConnect,
    AnkiConnectError,
    AnkiNotRunning,
    KeyRejected,
)

# notesInfo in slices of this many notes: one request per slice keeps each answer moderate.
NOTES_PER_REQUEST = 2000

NoteState = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class PackageContents:
    """What an .apkg holds that a push counts: the decks its cards go to, and its notes."""

    deck_names: tuple[str, ...]
    notes: int


@dataclass(frozen=True)
class PushedDeck:
    """One package sent into Anki, and what the import did to its notes."""

    package: Path
    deck_names: tuple[str, ...]
    new: int
    updated: int
    unchanged: int


def package_contents(package: Path) -> PackageContents:
    """The decks that the cards of ``package`` go to, and how many notes it holds."""
    with zipfile.ZipFile(package) as archive, tempfile.TemporaryDirectory() as scratch:
        collection = Path(scratch) / "collection.anki2"
        collection.write_bytes(archive.read("collection.anki2"))
        connection = sqlite3.connect(collection)
        try:
            (decks_json,) = connection.execute("SELECT decks FROM col").fetchone()
            used = {did for (did,) in connection.execute("SELECT DISTINCT did FROM cards")}
            (notes,) = connection.execute("SELECT count(*) FROM notes").fetchone()
        finally:
            connection.close()
    decks = json.loads(decks_json)
    names = sorted(str(deck["name"]) for deck in decks.values() if deck["id"] in used)
    return PackageContents(deck_names=tuple(names), notes=int(notes))


def deck_search(names: Iterable[str]) -> str:
    """An Anki search for the notes with a card in one of the decks ``names``, subdecks left out
    (they may hold notes of other packages)."""
    terms = [
        f'(deck:"{_escaped(name)}" -deck:"{_escaped(name)}::*")' for name in map(_as_stored, names)
    ]
    return " OR ".join(terms)


def _as_stored(deck_name: str) -> str:
    """A deck name as Anki stores it on import, without ASCII control characters (a tab, a line
    break: rslib's decks/name.rs drops them), which its search would otherwise look for; the rest
    of its changes (spaces around '::', NFC) its search makes to the name it is given too."""
    return "".join(c for c in deck_name if c >= " " and c != "\x7f")


def _escaped(deck_name: str) -> str:
    """A deck name as Anki's search reads it literally inside quotes: its wildcards (``*``,
    ``_``), quotes and backslashes escaped."""
    return "".join("\\" + c if c in '\\"*_' else c for c in deck_name)


def notes_in(client: AnkiConnect, search: str) -> dict[int, NoteState]:
    """The notes ``search`` finds in Anki: note id → note type, tags and fields."""
    ids = client.invoke("findNotes", query=search)
    if not isinstance(ids, list):
        raise AnkiConnectError(f"AnkiConnect at {client.url} answered findNotes with {ids!r}")
    states: dict[int, NoteState] = {}
    for start in range(0, len(ids), NOTES_PER_REQUEST):
        chunk = [int(i) for i in ids[start : start + NOTES_PER_REQUEST]]
        for info in client.invoke("notesInfo", notes=chunk):
            if info:  # {} for a note deleted meanwhile
                states[int(info["noteId"])] = _state(info)
    return states


def _state(info: dict[str, Any]) -> NoteState:
    fields = info.get("fields", {})
    values = tuple(sorted((name, str(field.get("value", ""))) for name, field in fields.items()))
    return (str(info.get("modelName", "")), tuple(sorted(info.get("tags", []))), values)


def push_package(client: AnkiConnect, package: Path) -> PushedDeck:
    """Import ``package`` into Anki with AnkiConnect's ``importPackage``; what changed."""
    contents = package_contents(package)
    search = deck_search(contents.deck_names)
    before = notes_in(client, search) if search else {}
    path = str(package.resolve())
    try:
        imported = client.invoke("importPackage", path=path)
    except AnkiConnectError as error:
        if NO_COLLECTION in str(error) or isinstance(error, (AnkiNotRunning, KeyRejected)):
            raise
        # Anki opens the file itself, where it runs.
        raise AnkiConnectError(
            f"{error} (Anki reads {path} itself: it must run on this computer)"
        ) from None
    if imported is not True:
        raise AnkiConnectError(
            f"AnkiConnect at {client.url} did not import {path}: open your profile in Anki"
        )
    after = notes_in(client, search) if search else {}
    new = len(after.keys() - before.keys())
    updated = sum(1 for nid, state in after.items() if nid in before and before[nid] != state)
    return PushedDeck(
        package=package,
        deck_names=contents.deck_names,
        new=new,
        updated=updated,
        unchanged=max(contents.notes - new - updated, 0),
    )


def push(
    client: AnkiConnect,
    packages: Sequence[Path],
    *,
    on_deck: Callable[[PushedDeck], None] | None = None,
) -> tuple[PushedDeck, ...]:
    """Check that AnkiConnect answers with protocol version 6, then push each package in turn."""
    client.check_version()
    pushed = []
    for package in packages:
        deck = push_package(client, package)
        if on_deck is not None:
            on_deck(deck)
        pushed.append(deck)
    return tuple(pushed)


__all__ = [
    "PackageContents",
    "PushedDeck",
    "deck_search",
    "notes_in",
    "package_contents",
    "push",
    "push_package",
]
