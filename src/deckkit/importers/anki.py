"""Readers: Anki packages and Anki text/CSV exports, through Anki's own `anki` package.

- ``.apkg`` / ``.colpkg``: imported into a temporary collection with Anki's own importer, which
  reads every package version (legacy ``collection.anki2``, ``anki21`` and the zstd-compressed
  ``anki21b``), then read back from that collection.
  https://docs.ankiweb.net/importing/packaged-decks.html
- Anki text/CSV (``.csv``, ``.tsv``, or ``.txt`` with ``#`` header lines or lines of three columns
  or more): imported into a temporary collection with Anki's CSV importer, which honours the
  ``#separator``, ``#html``, ``#notetype``/``#deck``/``#tags``/``#guid column`` header lines.
  deckkit's own note types are added to that collection first, so deckkit's CSV exports come back
  with their card types.
  https://docs.ankiweb.net/importing/text-files.html

The `anki` package is optional (``deckkit[anki]``): it is imported only when such a file is read.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deckkit.atomic import scratch_folder
from deckkit.budgets import NOTES
from deckkit.errors import CannotImport, ImportTooLarge
from deckkit.importers.package import checked_copy, left_out_media
from deckkit.importers.reading import decode, read_bytes, read_start
from deckkit.importers.types import Collected, NoteTypeInfo, ReadOptions, Skipped, SourceNote
from deckkit.model import FIELD_OPTIONS, TEMPLATE_OPTIONS
from deckkit.notetypes import NOTE_TYPES

INSTALL_ANKI = "pip install 'deckkit[anki]'"
MISSING_NOTE_TYPE = "not in the file, and a text import cannot create note types: import the .apkg"

_HEADER_LINE = re.compile(r"^#([A-Za-z ]+):")
_MORE_THAN_TWO_COLUMNS = re.compile("\t[^\r\n\t]*\t")
# Anki's CsvMetadata.Delimiter values.
_DELIMITERS = {0: "\t", 1: "|", 2: ";", 3: ":", 4: ",", 5: " "}


@dataclass(frozen=True)
class AnkiPackageReader:
    """An Anki package (``.apkg``), or with ``collection`` a collection package (``.colpkg``)."""

    title: str
    suffix: str
    collection: bool = False

    def detect(self, path: Path) -> bool:
        return path.suffix.lower() == self.suffix

    @contextmanager
    def read(self, path: Path, options: ReadOptions) -> Iterator[Collected]:
        with _scratch() as scratch:
            yield read_anki_package(path, scratch, collection_package=self.collection)


@dataclass(frozen=True)
class AnkiTextReader:
    """An Anki text export: ``.csv``, ``.tsv``, or a ``.txt`` starting with ``#key:value`` header
    lines or with a line of three columns or more (see :meth:`detect`)."""

    title: str = "Anki text/CSV export"

    def detect(self, path: Path) -> bool:
        """Anki's own extensions; for a ``.txt``, what tells it from Quizlet's default export.

        Anki writes ``#separator:…``/``#html:…`` header lines first (every version since 2.1.55);
        older versions wrote none, but a tab between every field and, by default, the tags last.
        Quizlet writes two columns, term and definition, with a tab between them (its default):
        so a ``.txt`` without header lines is Anki's only when a line holds two tabs or more.
        """
        suffix = path.suffix.lower()
        if suffix in (".csv", ".tsv"):
            return True
        if suffix != ".txt":
            return False
        head = read_start(path, 65536)
        return bool(_HEADER_LINE.match(head)) or _MORE_THAN_TWO_COLUMNS.search(head) is not None

    def guessed(self, path: Path) -> bool:
        """Whether a file :meth:`detect` takes was taken by its columns alone, not by its
        extension or header lines: it may still be Quizlet's, with a tab inside a field."""
        return path.suffix.lower() == ".txt" and not _HEADER_LINE.match(read_start(path, 65536))

    @contextmanager
    def read(self, path: Path, options: ReadOptions) -> Iterator[Collected]:
        with _scratch() as scratch:
            yield read_anki_text(
                path, scratch, deck_name=options.deck_name, media_dir=options.media_dir
            )


@contextmanager
def _scratch() -> Iterator[Path]:
    """A temporary folder for the collection a file is read through (and its media); removed on
    the way out, or by the next import if this one was killed."""
    with scratch_folder("deckkit-import-") as scratch:
        yield scratch


def _anki() -> Any:
    try:
        import anki.collection
    except ImportError as error:
        raise CannotImport(
            "reading Anki files needs Anki's own `anki` package, which is not installed: "
            + INSTALL_ANKI
        ) from error
    return anki.collection


def read_anki_package(path: Path, scratch: Path, *, collection_package: bool = False) -> Collected:
    """Notes, decks and media of an .apkg (or .colpkg), via a temporary Anki collection.

    Anki reads a copy of the package that deckkit made and measured against its caps
    (:mod:`deckkit.importers.package`), never the file itself.
    """
    anki_collection = _anki()
    col_path = scratch / "collection.anki2"
    what = "an Anki collection package" if collection_package else "an Anki package"
    package = checked_copy(path, scratch, what=what)
    try:
        if collection_package:
            from anki._backend import RustBackend
            from anki.media import media_paths_from_col_path

            backend = RustBackend()
            media_folder, media_db = media_paths_from_col_path(str(col_path))
            backend.import_collection_package(
                col_path=str(col_path),
                backup_path=str(package),
                media_folder=media_folder,
                media_db=media_db,
            )
            col = anki_collection.Collection(str(col_path), backend=backend)
        else:
            from anki.import_export_pb2 import ImportAnkiPackageRequest

            col = anki_collection.Collection(str(col_path))
            try:
                _clear_note_types(col)
                options = col._backend.get_import_anki_package_presets()
                # With scheduling, a card in a filtered deck keeps its home deck (odid), which
                # is where it belongs; without, Anki makes the filtered deck a regular one and
                # leaves the card there. Nothing else of the scheduling is read.
                options.with_scheduling = True
                col.import_anki_package(
                    ImportAnkiPackageRequest(package_path=str(package), options=options)
                )
            except BaseException:
                col.close()
                raise
    except CannotImport:
        raise
    except Exception as error:  # the backend raises many kinds; each means "not readable"
        raise CannotImport(f"cannot read {path} as {what}: {_reason(error)}") from error
    try:
        notes = int(col.db.scalar("select count() from notes"))
        if notes > NOTES.cap():  # before reading them: each costs deckkit a few kilobytes
            raise ImportTooLarge(NOTES.refusal(str(path), found=notes))
        collected = _collected_from(col, deckkit_ids={t.id: kind for kind, t in NOTE_TYPES.items()})
        left_out = scratch / "left-out-media"
        left_out.mkdir()
        unused = left_out_media(package, Path(col.media.dir()), left_out)
        return replace(collected, note_types_are_original=True, unused_media=tuple(unused))
    finally:
        col.close()


def _clear_note_types(col: Any) -> None:
    """Out of the way, the package's note types keep their names ("Cloze", not "Cloze+"), as in
    the collection its notes came from. Anki keeps one note type: it gets a name no deck uses."""
    col.models.remove_all_notetypes()
    for model in col.models.all():
        model["name"] = f"deckkit placeholder {model['id']}"
        col.models.update_dict(model)


def read_anki_text(
    path: Path, scratch: Path, *, deck_name: str | None = None, media_dir: Path | None = None
) -> Collected:
    """Notes of an Anki text/CSV export, via Anki's own CSV importer in a temporary collection.

    Media cannot travel in a text file: references are looked up in ``media_dir`` (default: the
    file's folder).

    The file is read once, within the text export cap, and its rows counted against the notes
    cap; Anki reads that copy, never the file itself.
    """
    anki_collection = _anki()
    from anki.import_export_pb2 import CsvMetadata, ImportCsvRequest

    data = read_bytes(path)
    text = decode(path, data)
    _check_rows(path, text)
    copy = scratch / f"text-export{path.suffix.lower()}"
    copy.write_bytes(data)
    del data
    col = anki_collection.Collection(str(scratch / "collection.anki2"))
    try:
        deckkit_ids = _add_deckkit_note_types(col)
        headers = _header_keys(text)
        try:
            metadata = col.get_csv_metadata(str(copy), delimiter=None)
            if "deck" not in headers and "deck column" not in headers:
                metadata.deck_name = deck_name or path.stem
            # Every row is a note of its own: nothing in a fresh collection to update.
            metadata.dupe_resolution = CsvMetadata.DupeResolution.DUPLICATE
            response = col.import_csv(ImportCsvRequest(path=str(copy), metadata=metadata))
        except Exception as error:  # the backend raises many kinds; each means "not readable"
            raise CannotImport(
                f"cannot read {path} as an Anki text export: {_reason(error)}"
            ) from error
        col.models._clear_cache()
        notices = []
        skipped: tuple[Skipped, ...] = ()
        missing = len(response.log.missing_notetype)
        if missing:
            skipped = _missing_note_types(col, text, metadata, missing)
        if not metadata.guid_column:
            notices.append(
                f"{path.name} has no GUID column: the cards get new identities, so importing the "
                "built deck adds notes beside any existing copies"
            )
        collected = _collected_from(col, deckkit_ids=deckkit_ids)
        return Collected(
            notes=collected.notes,
            descriptions={},
            media_dir=media_dir or path.parent,
            guids_are_original=bool(metadata.guid_column),
            notices=tuple(notices),
            skipped=skipped,
        )
    finally:
        col.close()


def _check_rows(path: Path, text: str) -> None:
    """Refuse a file with more rows than the notes cap, before Anki reads them all: a note costs
    Anki and deckkit a few kilobytes whatever its size in the file. Every row starts a line that
    is neither blank nor a comment, so those lines are counted."""
    cap = NOTES.cap()
    if text.count("\n") + text.count("\r") < cap:
        return
    rows = 0
    for line in _lines(text):
        if line.strip() and not line.startswith("#"):
            rows += 1
            if rows > cap:
                raise ImportTooLarge(NOTES.refusal(f"{path}", verb="has rows for"))


def _lines(text: str) -> Iterator[str]:
    """The lines of a text, one at a time (a large file's lines are never all in memory)."""
    return iter(io.StringIO(text, newline=None))


def _missing_note_types(col: Any, text: str, metadata: Any, missing: int) -> tuple[Skipped, ...]:
    """Rows Anki skipped because their note type does not exist, counted by note type name."""
    column = int(metadata.notetype_column)
    if column:
        known = {entry.name for entry in col.models.all_names_and_ids()}
        known |= {str(entry.id) for entry in col.models.all_names_and_ids()}
        lines = (line for line in _lines(text) if not line.startswith("#"))
        names = Counter(
            row[column - 1]
            for row in csv.reader(lines, delimiter=_DELIMITERS.get(int(metadata.delimiter), ","))
            if len(row) >= column and row[column - 1] not in known
        )
        if sum(names.values()) == missing:
            return tuple(Skipped(name, count, MISSING_NOTE_TYPE) for name, count in names.items())
    return (Skipped("(unknown)", missing, MISSING_NOTE_TYPE),)


def _add_deckkit_note_types(col: Any) -> dict[int, str]:
    """Add deckkit's note types to a collection (new ids), so CSV rows naming them import."""
    models = col.models
    default = models.current(for_deck=False)  # Basic in a fresh collection
    ids: dict[int, str] = {}
    for kind, note_type in NOTE_TYPES.items():
        model = models.new(note_type.name)
        for name in note_type.fields:
            models.add_field(model, models.new_field(name))
        for name, front, back in note_type.templates:
            template = models.new_template(name)
            template["qfmt"], template["afmt"] = front, back
            models.add_template(model, template)
        model["type"] = 1 if note_type.is_cloze else 0
        models.add(model)
        ids[int(model["id"])] = kind
    # Adding makes a note type the current one, which a file without `#notetype` would get.
    models.set_current(default)
    return ids


def _header_keys(text: str) -> set[str]:
    keys = set()
    for line in _lines(text):
        match = _HEADER_LINE.match(line)
        if not match:
            break
        keys.add(match.group(1).strip().lower())
    return keys


def _collected_from(col: Any, *, deckkit_ids: dict[int, str]) -> Collected:
    """Every note of a collection, in creation order, with the deck of its first card and those
    of its other cards (a card in a filtered deck counts in its home deck, ``odid``)."""
    deck_names = {int(d.id): d.name for d in col.decks.all_names_and_ids()}
    first_deck: dict[int, int] = {}
    other_decks: dict[int, list[tuple[int, int]]] = {}
    ordinals: dict[int, list[int]] = {}
    for nid, ordinal, did, odid in col.db.all(
        "select nid, ord, did, odid from cards order by nid, ord"
    ):
        ordinals.setdefault(int(nid), []).append(int(ordinal))
        home = int(odid or did)
        first = first_deck.setdefault(int(nid), home)
        if home != first:
            other_decks.setdefault(int(nid), []).append((int(ordinal), home))
    note_types: dict[int, NoteTypeInfo] = {}
    notes = []
    used_decks: set[int] = set()
    for nid, guid, mid, mod, tags, flds in col.db.all(
        "select id, guid, mid, mod, tags, flds from notes order by id"
    ):
        mid = int(mid)
        if mid not in note_types:
            note_types[mid] = _note_type_info(col.models.get(mid), deckkit_ids)
        did = first_deck.get(int(nid), 1)
        used_decks.add(did)
        others = other_decks.get(int(nid), ())
        notes.append(
            SourceNote(
                guid=str(guid),
                note_type=note_types[mid],
                fields=tuple(str(flds).split("\x1f")),
                tags=tuple(col.tags.split(tags)),
                deck=deck_names.get(did, "Default"),
                mod=int(mod),
                card_decks=tuple((o, deck_names.get(d, "Default")) for o, d in others),
                ordinals=tuple(ordinals.get(int(nid), ())),
            )
        )
    descriptions = {}
    for did in used_decks:
        deck = col.decks.get(did, default=False)
        if deck and deck.get("desc"):
            descriptions[deck["name"]] = str(deck["desc"])
    return Collected(notes=tuple(notes), descriptions=descriptions, media_dir=Path(col.media.dir()))


def _note_type_info(model: dict[str, Any], deckkit_ids: dict[int, str]) -> NoteTypeInfo:
    ordered_fields = sorted(model["flds"], key=lambda f: f["ord"])
    ordered_templates = sorted(model["tmpls"], key=lambda t: t["ord"])
    fields = tuple(str(f["name"]) for f in ordered_fields)
    templates = tuple((str(t["qfmt"]), str(t["afmt"])) for t in ordered_templates)
    kind = deckkit_ids.get(int(model["id"]))
    # Only while the fields are still deckkit's: a note type edited in Anki is read by structure.
    if kind is not None and fields != NOTE_TYPES[kind].fields:
        kind = None
    return NoteTypeInfo(
        id=int(model["id"]),
        name=str(model["name"]),
        fields=fields,
        templates=templates,
        is_cloze=int(model.get("type", 0)) == 1,
        deckkit_kind=kind,
        mod=int(model.get("mod") or 0),
        template_names=tuple(str(t["name"]) for t in ordered_templates),
        css=str(model.get("css") or ""),
        field_options=tuple(
            tuple((key, f[key]) for key in FIELD_OPTIONS.values() if key in f)
            for f in ordered_fields
        ),
        template_options=tuple(
            tuple((key, t[key]) for key in TEMPLATE_OPTIONS.values() if key in t)
            for t in ordered_templates
        ),
        sort_field=int(model.get("sortf") or 0),
        latex=(
            _text_or_none(model.get("latexPre")),
            _text_or_none(model.get("latexPost")),
            bool(model.get("latexsvg")),
        ),
    )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
