"""The journey of a real deck through deckkit, measured with Anki's own `anki` package (issue 13).

A learner has a deck in Anki: studied some cards, edited a note. Its author then moves it into
git: ``deckkit import D.apkg -o sources``, ``deckkit build sources``, and the learner imports the
rebuilt deck with Anki desktop's default options. This module runs that journey and takes
snapshots of what Anki holds at each step, so tests and benchmarks can say what changed:

- :func:`learner_collection`: a fresh collection holding the original deck, studied and edited;
- :func:`convert`: the command line, ``deckkit import`` then ``deckkit build``;
- :func:`reimport`: Anki's importer with the desktop defaults, and its log in counts;
- :func:`snapshot` / :func:`package_snapshot` / :func:`package_media` and :func:`compare`;
- :func:`measure`: the whole journey as one row of the issue's closing table; it reports a
  refusal or a failure as a row too, never raises for what deckkit does.

No tests here: ``tests/test_real_deck_roundtrip.py`` asserts on it, and ``python
tests/anki_journey.py [PACKAGE…]`` prints the table (for ``bench/``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from anki.collection import Collection
from anki.import_export_pb2 import (
    ImportAnkiPackageRequest,
    ImportResponse,
    MediaEntries,
    PackageMetadata,
)

from conftest import default_import_options  # the tests' folder is on the path (bench adds it)

REPO = Path(__file__).resolve().parent.parent
ANKI_MADE = Path(__file__).resolve().parent / "fixtures" / "anki_made"
# Appended to one field of one note by the learner, before the author converts the deck.
LEARNER_EDIT = " <i>(my mnemonic: learner's edit)</i>"
# Anki's field options (the keys of a note type's "flds" entries) that a round trip must keep.
FIELD_OPTIONS = (
    "font", "size", "rtl", "description", "sticky", "plainText", "collapsed", "excludeFromSearch",
)  # fmt: skip


# --- collections and Anki's importer ---------------------------------------------------------


def open_collection(folder: Path) -> Collection:
    """A new, empty collection in `folder` (its media beside it, as in a profile)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))


def import_package(col: Collection, package: Path, *, with_scheduling: bool = False) -> Any:
    """File > Import of an .apkg with Anki desktop's default options; returns Anki's log.

    ``with_scheduling``: the dialog's "Import any learning progress", off by default; a learner
    restoring their own deck ticks it."""
    options = default_import_options(col)
    options.with_scheduling = with_scheduling
    response = col.import_anki_package(
        ImportAnkiPackageRequest(package_path=str(package), options=options)
    )
    col.models._clear_cache()  # the Python side caches note types across raw backend calls
    return response.log


@dataclass(frozen=True)
class ImportCounts:
    """Anki's ImportResponse.Log in numbers (anki/import_export.proto):

    - new: notes added; updated: existing notes (same GUID) whose fields were replaced, because
      the incoming note was newer (``should_update``: existing mtime < incoming mtime);
    - duplicate: same GUID, not newer: left as they were ("unchanged" in the dialog);
    - conflicting: same GUID but another note type whose schema differs: skipped;
    - first_field_match, missing_notetype, missing_deck, empty_first_field: CSV imports only
      (kept for completeness; an .apkg import leaves them empty).
    """

    new: int = 0
    updated: int = 0
    duplicate: int = 0
    conflicting: int = 0
    first_field_match: int = 0
    missing_notetype: int = 0
    missing_deck: int = 0
    empty_first_field: int = 0
    updated_note_ids: tuple[int, ...] = ()

    def __add__(self, other: ImportCounts) -> ImportCounts:
        numbers = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name != "updated_note_ids"
        }
        return ImportCounts(
            **numbers, updated_note_ids=self.updated_note_ids + other.updated_note_ids
        )


def counts_of(log: Any) -> ImportCounts:
    """The numbers of one ImportResponse.Log."""
    assert isinstance(log, ImportResponse.Log)
    return ImportCounts(
        new=len(log.new),
        updated=len(log.updated),
        duplicate=len(log.duplicate),
        conflicting=len(log.conflicting),
        first_field_match=len(log.first_field_match),
        missing_notetype=len(log.missing_notetype),
        missing_deck=len(log.missing_deck),
        empty_first_field=len(log.empty_first_field),
        updated_note_ids=tuple(note.id.nid for note in log.updated),
    )


def reimport(col: Collection, packages: Path | Iterable[Path]) -> ImportCounts:
    """Import one or more built packages with the desktop defaults; the logs summed."""
    paths = [packages] if isinstance(packages, Path) else list(packages)
    total = ImportCounts()
    for path in paths:
        total = total + counts_of(import_package(col, path))
    return total


def restore_collection_package(colpkg: Path, folder: Path) -> Collection:
    """File > Import of a .colpkg: it replaces the profile's collection (the learner's own)."""
    from anki._backend import RustBackend

    folder.mkdir(parents=True, exist_ok=True)
    media = folder / "collection.media"
    RustBackend().import_collection_package(
        col_path=str(folder / "collection.anki2"),
        backup_path=str(colpkg),
        media_folder=str(media),
        media_db=str(folder / "collection.media.db2"),
    )
    return Collection(str(folder / "collection.anki2"))


# --- the learner -----------------------------------------------------------------------------


def top_decks(col: Collection) -> list[str]:
    """Top-level decks holding cards, by name."""
    names = {col.decks.name(col.get_card(cid).did).split("::")[0] for cid in col.find_cards("")}
    return sorted(names)


def study(col: Collection, deck: str, count: int) -> int:
    """Answer the scheduler's next `count` cards of a deck with "Good"; returns how many."""
    col.decks.select(col.decks.id(deck))
    answered = 0
    for _ in range(count):
        card = col.sched.getCard()
        if card is None:
            break
        card.start_timer()
        col.sched.answerCard(card, 3)
        answered += 1
    return answered


def wait_past(second: int) -> None:
    """Sleep until the clock is past `second` (at most a second). Anki keeps times in whole
    seconds and updates a note only from a strictly newer one: a conversion in the very second
    of the learner's edit would hide what a real one, days later, does."""
    while time.time() < second + 1:
        time.sleep(min(0.05, max(0.0, second + 1 - time.time())))


def edited_note_guid(col: Collection) -> str:
    """The note the learner edits: the first by GUID (the fixtures' GUIDs are fixed), so the
    same note every run."""
    guids = sorted(col.get_note(nid).guid for nid in col.find_notes(""))
    return guids[0]


def make_learner_edit(col: Collection, guid: str) -> str:
    """The learner's own words appended to the note's first field, saved as the editor saves
    (col.update_note: the note's mod becomes now). Returns the new field text."""
    note = col.get_note(note_id_of(col, guid))
    note.fields[0] += LEARNER_EDIT
    col.update_note(note)
    return note.fields[0]


def note_id_of(col: Collection, guid: str) -> int:
    found = [nid for nid in col.find_notes("") if col.get_note(nid).guid == guid]
    assert len(found) == 1, (guid, found)
    return found[0]


@dataclass
class Learner:
    col: Collection  # closed by run_journey; reopen with Collection(learner.path)
    path: str
    edited_guid: str
    edited_text: str  # the first field after the learner's edit
    edited_at: int  # the second of the edit (the note's mod)
    studied: int


def learner_collection(tmp: Path, original: Path, *, with_scheduling: bool = False) -> Learner:
    """A learner's collection before the conversion: the original deck imported with the
    desktop defaults (a .colpkg restored as the whole collection), two cards of each of its
    decks studied, and one note edited by the learner. The caller closes ``learner.col``."""
    if original.suffix == ".colpkg":
        col = restore_collection_package(original, tmp / "learner")
    else:
        col = open_collection(tmp / "learner")
        import_package(col, original, with_scheduling=with_scheduling)
    studied = sum(study(col, deck, 2) for deck in top_decks(col))
    guid = edited_note_guid(col)
    text = make_learner_edit(col, guid)
    return Learner(col, col.path, guid, text, edited_at=int(time.time()), studied=studied)


# --- deckkit, through its command line -------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One command: its arguments, exit status and output."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        """The command and what it said, for an assertion message."""
        said = "\n".join(part for part in (self.stdout.strip(), self.stderr.strip()) if part)
        return f"$ deckkit {' '.join(self.args)}  (exit {self.returncode})\n{said}"


def deckkit(args: Sequence[str], cwd: Path, *, timeout: float = 300) -> Run:
    """`python -m deckkit ARGS` in `cwd`, the deckkit of this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO / "src"), env.get("PYTHONPATH", "")) if part
    )
    env.setdefault("NO_COLOR", "1")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "deckkit", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    return Run(
        tuple(args), done.returncode, done.stdout, done.stderr, time.perf_counter() - started
    )


@dataclass(frozen=True)
class Conversion:
    workdir: Path
    imported: Run
    built: Run | None  # None: the import wrote no sources, nothing to build
    packages: tuple[Path, ...]  # the built .apkg files

    @property
    def sources(self) -> Path:
        return self.workdir / "sources"

    @property
    def lockfile(self) -> Path:
        return self.workdir / "deckkit.lock"

    @property
    def ok(self) -> bool:
        return self.imported.ok and self.built is not None and self.built.ok and bool(self.packages)

    def skipped(self) -> list[str]:
        """deckkit's "skipped: …" lines: notes the import left out although it wrote others."""
        said = (self.imported.stdout + "\n" + self.imported.stderr).splitlines()
        return [line.strip() for line in said if line.strip().startswith("skipped:")]

    def failure(self) -> str | None:
        """Why no deck came out, in deckkit's words; None when it did."""
        if not self.imported.ok:
            written = self.built is not None
            return ("import reported errors: " if written else "import refused: ") + _gist(
                self.imported
            )
        if self.built is None or not self.built.ok:
            return "build failed: " + (_gist(self.built) if self.built else "not run")
        if not self.packages:
            return "build wrote no .apkg"
        return None


def _gist(run: Run, count: int = 4) -> str:
    """The lines that say what went wrong: the errors, else the last lines."""
    lines = [line.strip() for line in (run.stdout + "\n" + run.stderr).splitlines()]
    errors = [line for line in lines if "error" in line.lower()]
    chosen = errors[:count] if errors else [line for line in lines if line][-count:]
    more = f" (+{len(errors) - count} more errors)" if len(errors) > count else ""
    return " | ".join(chosen) + more


def build_sources(workdir: Path) -> tuple[Run, tuple[Path, ...]]:
    """`deckkit build sources -o build --lockfile deckkit.lock` (only .apkg: the journey is
    Anki's; one process, the machine is shared). Returns the run and the packages written."""
    run = deckkit(
        ["build", "sources", "-o", "build", "--lockfile", "deckkit.lock", "--format", "apkg",
         "-j", "1"],
        workdir,
    )  # fmt: skip
    return run, tuple(sorted((workdir / "build").glob("*.apkg")))


def convert(original: Path, workdir: Path) -> Conversion:
    """`deckkit import ORIGINAL -o sources`, then the build, both in `workdir`. The build runs
    whenever the import wrote sources, also when it reported errors in them (exit 1): the
    build's own errors are then part of what the journey reports."""
    workdir.mkdir(parents=True, exist_ok=True)
    imported = deckkit(["import", str(original.resolve()), "-o", "sources"], workdir)
    if not any((workdir / "sources").glob("*.y*ml")):
        return Conversion(workdir, imported, None, ())
    built, packages = build_sources(workdir)
    return Conversion(workdir, imported, built, packages)


def author_edit(
    conversion: Conversion, old: str, new: str, workdir: Path
) -> tuple[Run, tuple[Path, ...]]:
    """The author changes one piece of text in the sources, wherever the source format keeps it
    (it must occur exactly once), and builds again with the same lockfile. Done in a copy of
    the conversion's folder, so the conversion stays as it was."""
    shutil.copytree(conversion.workdir, workdir)
    shutil.rmtree(workdir / "build", ignore_errors=True)
    texts = [path for path in sorted((workdir / "sources").rglob("*")) if path.is_file()]
    found = [(path, path.read_text("utf-8", errors="replace").count(old)) for path in texts]
    hits = [(path, count) for path, count in found if count]
    assert [count for _path, count in hits] == [1], f"{old!r} in the sources: {hits}"
    path = hits[0][0]
    path.write_text(path.read_text("utf-8").replace(old, new), "utf-8")
    return build_sources(workdir)


# --- snapshots -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteState:
    note_type: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    mod: int


@dataclass(frozen=True)
class CardState:
    deck: str
    due: int
    ivl: int
    reps: int
    queue: int


@dataclass(frozen=True)
class NoteTypeState:
    id: int
    cloze: bool
    fields: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]  # (name, field options)
    templates: tuple[tuple[str, str, str, str, str], ...]  # name, front, back, browser q/a
    css: str
    latex_pre: str
    latex_post: str
    latex_svg: bool
    sort_field: int
    mod: int


@dataclass(frozen=True)
class Snapshot:
    """What Anki holds, keyed so two collections compare: notes by GUID, cards by (GUID, card
    ordinal), note types by name, media by file name (content sha1)."""

    notes: dict[str, NoteState]
    note_types: dict[str, NoteTypeState]
    cards: dict[tuple[str, int], CardState]
    decks: frozenset[str]
    media: dict[str, str]
    revlog: int

    @property
    def card_counts(self) -> Counter[str]:
        """Cards per note type."""
        return Counter(self.notes[guid].note_type for guid, _ord in self.cards)


def note_type_state(model: dict[str, Any]) -> NoteTypeState:
    return NoteTypeState(
        id=model["id"],
        cloze=model["type"] == 1,
        fields=tuple(
            (f["name"], tuple((key, f.get(key)) for key in FIELD_OPTIONS)) for f in model["flds"]
        ),
        templates=tuple(
            (t["name"], t["qfmt"], t["afmt"], t.get("bqfmt", ""), t.get("bafmt", ""))
            for t in model["tmpls"]
        ),
        css=model["css"],
        latex_pre=model.get("latexPre", ""),
        latex_post=model.get("latexPost", ""),
        latex_svg=bool(model.get("latexsvg", False)),
        sort_field=model["sortf"],
        mod=model["mod"],
    )


def media_folder(col: Collection) -> dict[str, str]:
    """The collection's media folder: file name -> sha1 of its content."""
    folder = Path(col.media.dir())
    return {
        path.name: hashlib.sha1(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file()
    }


def snapshot(col: Collection) -> Snapshot:
    """Everything of a collection a round trip must keep (the Default deck and unused stock
    note types left out: every new collection has them)."""
    # Read from the database, not through Note objects: the backend hands a note's mtime to
    # Python as a 32-bit number, which cuts off millisecond times (1795678849326 -> 382519598).
    notes: dict[str, NoteState] = {}
    names: dict[int, str] = {}
    for guid, mid, flds, tags, mod in col.db.all("select guid, mid, flds, tags, mod from notes"):
        if mid not in names:
            model = col.models.get(mid)
            names[mid] = model["name"] if model else f"<missing note type {mid}>"
        notes[guid] = NoteState(
            names[mid], tuple(flds.split("\x1f")), tuple(sorted(tags.split())), mod
        )
    cards: dict[tuple[str, int], CardState] = {}
    decks = set()
    query = (
        "select n.guid, c.ord, c.did, c.due, c.ivl, c.reps, c.queue"
        " from cards c join notes n on n.id = c.nid"
    )
    for guid, ordinal, did, due, ivl, reps, queue in col.db.all(query):
        deck = col.decks.name(did)
        decks.add(deck)
        cards[(guid, ordinal)] = CardState(deck, due, ivl, reps, queue)
    used_types = set(names)
    note_types = {
        model["name"]: note_type_state(model)
        for model in col.models.all()
        if model["id"] in used_types
    }
    return Snapshot(
        notes=notes,
        note_types=note_types,
        cards=cards,
        decks=frozenset(decks),
        media=media_folder(col),
        revlog=col.db.scalar("select count() from revlog") or 0,
    )


def package_snapshot(packages: Path | Iterable[Path], folder: Path) -> Snapshot:
    """A package (or the several a build writes) as Anki sees it: imported with the desktop
    defaults into a new, empty collection (a .colpkg restored), then snapshotted."""
    paths = [packages] if isinstance(packages, Path) else list(packages)
    if len(paths) == 1 and paths[0].suffix == ".colpkg":
        col = restore_collection_package(paths[0], folder)
    else:
        col = open_collection(folder)
        for path in paths:
            import_package(col, path)
    try:
        return snapshot(col)
    finally:
        col.close()


def _zstd() -> Any:
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef]
    return zstd


def package_media(package: Path) -> dict[str, str]:
    """The media files a package carries, read from the package itself (Anki's importer drops
    unreferenced files, so a collection cannot show them): name -> sha1 of the content.

    Latest packages (``meta`` says VERSION_LATEST): a zstd protobuf MediaEntries list, files
    zstd-compressed, named by their index. Older ones (genanki's, Anki's legacy export): a
    JSON map {"0": "name"}, files stored as they are."""
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        latest = False
        if "meta" in names:
            meta = PackageMetadata()
            meta.ParseFromString(archive.read("meta"))
            latest = meta.version == PackageMetadata.VERSION_LATEST
        if "media" not in names:
            return {}
        if latest:
            zstd = _zstd()
            entries = MediaEntries()
            entries.ParseFromString(zstd.decompress(archive.read("media")))
            return {
                entry.name: hashlib.sha1(
                    zstd.decompress(archive.read(entry.legacy_zip_filename or str(index)))
                ).hexdigest()
                for index, entry in enumerate(entries.entries)
            }
        mapping = json.loads(archive.read("media").decode("utf-8") or "{}")
        return {
            name: hashlib.sha1(archive.read(number)).hexdigest() for number, name in mapping.items()
        }


def package_note_type_times(package: Path) -> dict[int, int]:
    """Each note type's modification time as the package itself stores it: note type id ->
    mod. (A fresh collection is no witness: importing an older-format package, such as
    genanki's, stamps the added note types with the time of the import.)"""
    with zipfile.ZipFile(package) as archive, tempfile.TemporaryDirectory() as scratch:
        names = set(archive.namelist())
        copy = Path(scratch) / "collection"
        if "collection.anki21b" in names:
            copy.write_bytes(_zstd().decompress(archive.read("collection.anki21b")))
        else:
            legacy = "collection.anki21" if "collection.anki21" in names else "collection.anki2"
            copy.write_bytes(archive.read(legacy))
        db = sqlite3.connect(copy)
        try:
            if db.execute("select 1 from sqlite_master where name = 'notetypes'").fetchone():
                return dict(db.execute("select id, mtime_secs from notetypes").fetchall())
            (models,) = db.execute("select models from col").fetchone()
            return {int(model["id"]): model["mod"] for model in json.loads(models).values()}
        finally:
            db.close()


# --- differences -----------------------------------------------------------------------------


def _short(value: Any, limit: int = 90) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _keyed(what: str, before: dict[Any, Any], after: dict[Any, Any], describe: Any) -> list[str]:
    """Missing, added and changed entries of two mappings."""
    out = [f"{what} {_short(key)} missing" for key in sorted(before.keys() - after.keys(), key=str)]
    out += [f"{what} {_short(key)} added" for key in sorted(after.keys() - before.keys(), key=str)]
    for key in sorted(before.keys() & after.keys(), key=str):
        if before[key] != after[key]:
            out += describe(key, before[key], after[key])
    return out


def _note_changes(guid: str, old: NoteState, new: NoteState, names: Sequence[str]) -> list[str]:
    out = []
    if old.note_type != new.note_type:
        out.append(f"note {guid}: note type {old.note_type!r} -> {new.note_type!r}")
    for index in range(max(len(old.fields), len(new.fields))):
        a = old.fields[index] if index < len(old.fields) else None
        b = new.fields[index] if index < len(new.fields) else None
        if a != b:
            name = names[index] if index < len(names) else f"#{index}"
            out.append(f"note {guid} field {name!r}: {_short(a)} -> {_short(b)}")
    if old.tags != new.tags:
        out.append(f"note {guid}: tags {list(old.tags)} -> {list(new.tags)}")
    if old.mod != new.mod:
        out.append(f"note {guid}: mod {old.mod} -> {new.mod}")
    return out


def _note_type_changes(name: str, old: NoteTypeState, new: NoteTypeState) -> list[str]:
    """Field by field and template by template, so a message names the option that changed."""
    out = []
    for f in fields(old):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a == b:
            continue
        if f.name == "fields" and [x[0] for x in a] == [y[0] for y in b]:
            out += [
                f"note type {name!r} field {field_name!r} {key}: {_short(x)} -> {_short(y)}"
                for (field_name, mine), (_same, theirs) in zip(a, b, strict=True)
                for (key, x), (_key, y) in zip(mine, theirs, strict=True)
                if x != y
            ]
        elif f.name == "templates" and [x[0] for x in a] == [y[0] for y in b]:
            sides = ("front", "back", "browser front", "browser back")
            out += [
                f"note type {name!r} template {mine[0]!r} {side}: {_short(x)} -> {_short(y)}"
                for mine, theirs in zip(a, b, strict=True)
                for side, x, y in zip(sides, mine[1:], theirs[1:], strict=True)
                if x != y
            ]
        else:
            out.append(f"note type {name!r} {f.name}: {_short(a)} -> {_short(b)}")
    return out


# Parts of a snapshot a comparison may look at.
CONTENT = ("notes", "note_types", "decks", "cards.deck", "media")
SCHEDULING = ("cards.schedule", "revlog")
EVERYTHING = CONTENT + SCHEDULING


def compare(
    before: Snapshot,
    after: Snapshot,
    parts: Sequence[str] = EVERYTHING,
    *,
    ignore: Sequence[str] = (),
) -> list[str]:
    """Human-readable differences between two snapshots, in the given parts.

    ``ignore``: attributes to leave out: "mod" (of notes), "note_type.mod", "note_type.id"
    (two collections made apart from each other)."""
    out: list[str] = []
    field_names = {name: [f[0] for f in nt.fields] for name, nt in before.note_types.items()}

    if "notes" in parts:

        def note(guid: str, old: NoteState, new: NoteState) -> list[str]:
            if "mod" in ignore:
                old, new = replace(old, mod=0), replace(new, mod=0)
            return _note_changes(guid, old, new, field_names.get(old.note_type, []))

        out += _keyed("note", before.notes, after.notes, note)
    if "note_types" in parts:

        def note_type(name: str, old: NoteTypeState, new: NoteTypeState) -> list[str]:
            if "note_type.mod" in ignore:
                old, new = replace(old, mod=0), replace(new, mod=0)
            if "note_type.id" in ignore:
                old, new = replace(old, id=0), replace(new, id=0)
            return _note_type_changes(name, old, new)

        out += _keyed("note type", before.note_types, after.note_types, note_type)
    if "decks" in parts and before.decks != after.decks:
        out.append(f"decks {sorted(before.decks)} -> {sorted(after.decks)}")
    if "cards.deck" in parts or "cards.schedule" in parts:

        def card(key: tuple[str, int], old: CardState, new: CardState) -> list[str]:
            changes = []
            if "cards.deck" in parts and old.deck != new.deck:
                changes.append(f"card {key}: deck {old.deck!r} -> {new.deck!r}")
            schedule = ("due", "ivl", "reps", "queue")
            if "cards.schedule" in parts:
                changes += [
                    f"card {key}: {name} {getattr(old, name)} -> {getattr(new, name)}"
                    for name in schedule
                    if getattr(old, name) != getattr(new, name)
                ]
            return changes

        out += _keyed("card", before.cards, after.cards, card)
    if "media" in parts:
        out += _keyed(
            "media file",
            before.media,
            after.media,
            lambda name, a, b: [f"media file {name!r}: content {a[:10]} -> {b[:10]}"],
        )
    if "revlog" in parts and before.revlog != after.revlog:
        out.append(f"revlog entries {before.revlog} -> {after.revlog}")
    return out


def notes_with_changed_fields(before: Snapshot, after: Snapshot) -> list[str]:
    """GUIDs of notes present in both whose field text differs (byte for byte)."""
    return sorted(
        guid
        for guid in before.notes.keys() & after.notes.keys()
        if before.notes[guid].fields != after.notes[guid].fields
    )


def changed_media(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Files of `before` that `after` lacks under the same name with the same content."""
    return sorted(name for name, sha1 in before.items() if after.get(name) != sha1)


# --- the whole journey -----------------------------------------------------------------------


@dataclass
class Journey:
    """Every step's result, for tests to assert on."""

    original: Path
    original_media: dict[str, str]  # what the original package carries
    original_view: Snapshot  # the original as a fresh collection sees it
    learner_before: Snapshot  # the learner's collection just before the re-import
    learner: Learner
    conversion: Conversion
    rebuilt_media: dict[str, str] = field(default_factory=dict)  # every built package's files
    rebuilt_view: Snapshot | None = None
    counts: ImportCounts | None = None
    learner_after: Snapshot | None = None
    error: str | None = None  # a failure of a step after the conversion (Anki refused, …)

    @property
    def refusal(self) -> str | None:
        return self.conversion.failure() or self.error


def run_journey(original: Path, tmp: Path, *, with_scheduling: bool | None = None) -> Journey:
    """Learner's collection, conversion, fresh views of both packages, re-import. The learner's
    collection is closed on return. ``with_scheduling`` None: ticked for packages named
    ``*-reviewed.apkg`` (the learner's own deck with its progress)."""
    if with_scheduling is None:
        with_scheduling = original.stem.endswith("-reviewed")
    original_media = package_media(original)
    original_view = package_snapshot(original, tmp / "original-view")
    learner = learner_collection(tmp, original, with_scheduling=with_scheduling)
    try:
        before = snapshot(learner.col)
        wait_past(learner.edited_at)
        conversion = convert(original, tmp / "work")
        journey = Journey(original, original_media, original_view, before, learner, conversion)
        if not conversion.ok:
            return journey
        try:
            for package in conversion.packages:
                journey.rebuilt_media.update(package_media(package))
            journey.rebuilt_view = package_snapshot(conversion.packages, tmp / "rebuilt-view")
            journey.counts = reimport(learner.col, conversion.packages)
            journey.learner_after = snapshot(learner.col)
        except Exception as error:  # Anki refusing a built package is a result, not a crash
            journey.error = f"{type(error).__name__}: {error}"
        return journey
    finally:
        learner.col.close()


@dataclass
class Row:
    """One deck in the issue's closing table."""

    deck: str
    notes: int
    note_types: int
    fields: str  # fields per note type, e.g. "9, 2"
    media: int  # files in the original package
    refused: str | None = None
    skipped: str | None = None  # notes the import left out of a deck it did write
    new: int | None = None
    updated: int | None = None
    duplicates: int | None = None
    conflicting: int | None = None
    notes_lost: int | None = None
    fields_changed: int | None = None
    media_changed: int | None = None
    learner_edit_kept: bool | None = None
    reviews_kept: bool | None = None
    seconds: float = 0.0

    HEADER = (
        "| deck | notes | note types | fields | media | new | updated | duplicates | notes lost | "
        "fields changed | media changed | learner edit kept | reviews kept | result |"
    )

    def markdown(self) -> str:
        def cell(value: Any) -> str:
            if value is None:
                return "–"
            if isinstance(value, bool):
                return "yes" if value else "**no**"
            return str(value)

        result = self.refused or (
            f"partial ({self.skipped})" if self.skipped else f"ok ({self.seconds:.1f} s)"
        )
        values = (
            self.deck, self.notes, self.note_types, self.fields, self.media, self.new,
            self.updated, self.duplicates, self.notes_lost, self.fields_changed, self.media_changed,
            self.learner_edit_kept, self.reviews_kept, result.replace("|", "/"),
        )  # fmt: skip
        return "| " + " | ".join(cell(value) for value in values) + " |"


def learner_edit_kept(journey: Journey) -> bool:
    after = journey.learner_after
    guid = journey.learner.edited_guid
    return (
        after is not None
        and guid in after.notes
        and (after.notes[guid].fields[0] == journey.learner.edited_text)
    )


def reviews_kept(journey: Journey) -> bool:
    after = journey.learner_after
    return after is not None and not compare(journey.learner_before, after, SCHEDULING)


def row_of(journey: Journey, seconds: float) -> Row:
    view = journey.original_view
    row = Row(
        deck=journey.original.name,
        notes=len(view.notes),
        note_types=len(view.note_types),
        fields=", ".join(str(len(nt.fields)) for nt in view.note_types.values()),
        media=len(journey.original_media),
        refused=journey.refusal,
        skipped="; ".join(journey.conversion.skipped()) or None,
        seconds=seconds,
    )
    if journey.counts is None or journey.rebuilt_view is None:
        return row
    rebuilt = journey.rebuilt_view
    row.new, row.updated = journey.counts.new, journey.counts.updated
    row.duplicates, row.conflicting = journey.counts.duplicate, journey.counts.conflicting
    row.notes_lost = len(view.notes.keys() - rebuilt.notes.keys())
    row.fields_changed = len(notes_with_changed_fields(view, rebuilt))
    row.media_changed = len(changed_media(journey.original_media, journey.rebuilt_media))
    row.learner_edit_kept = learner_edit_kept(journey)
    row.reviews_kept = reviews_kept(journey)
    return row


def measure(original_apkg: Path, tmp: Path) -> Row:
    """The whole journey of one package as a row; any failure (deckkit refusing the deck, Anki
    refusing the build) is reported in the row's ``refused``."""
    started = time.perf_counter()
    try:
        journey = run_journey(original_apkg, tmp)
    except Exception as error:
        return Row(original_apkg.name, 0, 0, "", 0, refused=f"{type(error).__name__}: {error}")
    return row_of(journey, time.perf_counter() - started)


def main(argv: Sequence[str]) -> int:
    """Print the table for the given packages (default: every fixture made with Anki)."""
    packages = [Path(arg) for arg in argv] or sorted(
        [*ANKI_MADE.glob("*.apkg"), *ANKI_MADE.glob("*.colpkg")]
    )
    print(Row.HEADER)
    print("|" + "---|" * (Row.HEADER.count("|") - 1))
    for package in packages:
        with tempfile.TemporaryDirectory(prefix="dk13-journey-") as tmp:
            print(measure(package, Path(tmp)).markdown(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
