"""Existing decks to deckkit sources: Anki packages, Anki text/CSV exports and Quizlet exports.

Readers (chosen by :func:`detect_format`):
- ``.apkg`` / ``.colpkg``: imported into a temporary collection with Anki's own importer (the
  optional ``anki`` package), which reads every package version (legacy ``collection.anki2``,
  ``anki21`` and the zstd-compressed ``anki21b``), then read back from that collection.
  https://docs.ankiweb.net/importing/packaged-decks.html
- Anki text/CSV (``.csv``, ``.tsv``, or ``.txt`` with ``#`` header lines or tabs): imported into a
  temporary collection with Anki's CSV importer, which honours the ``#separator``, ``#html``,
  ``#notetype``/``#deck``/``#tags``/``#guid column`` header lines. deckkit's own note types are
  added to that collection first, so deckkit's CSV exports come back with their card types.
  https://docs.ankiweb.net/importing/text-files.html
- Quizlet export text: term and definition per card, separated as in Quizlet's export dialog
  (Tab / Comma / custom between term and definition, New line / Semicolon / custom between
  cards). Plain text, no quoting. https://help.quizlet.com/hc/en-us/articles/360034345672

Note types are mapped by structure, never by (localised) name: deckkit's own note types by their
fixed ids; otherwise a cloze note type with one or two fields is ``cloze``, a single template
with ``{{type:X}}`` is ``type_in``, two fields and one template ``basic``, two fields and two
templates showing one field each on the front ``reversed`` (and Anki's "optional reversed card"
shape ``basic`` or ``reversed`` per note). Notes of any other note type are counted and reported
by note type name.

Notes keep their GUID in the card key ``guid`` (so a rebuilt deck updates the learner's notes),
except notes whose GUID is the one deckkit itself derives from a lockfile entry's deck and card
ids: those get back exactly those ids. Anki only updates a note in place when its note type is
the same, so cards from a package's other note types keep theirs: each such note type is written
under the deck's ``note_types`` (id, modification time, fields with the card key that fills each,
templates, CSS) and named by the card's ``note_type``, and the rebuilt deck updates the very notes
it came from. Where that cannot be expressed (a text export, whose note types are not the
collection's; an "optional reversed card" note asking for its reverse, whose switch field no card
key can fill) the card gets deckkit's note type and a :class:`Conversion` says how to change the
learner's notes to it once in Anki.

Everything here returns values; nothing prints, exits or imports Click.
"""

from __future__ import annotations

import csv
import hashlib
import html
import os
import re
import shutil
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from deckkit.cardtypes import LETTERS, MultipleChoice
from deckkit.errors import UsageError
from deckkit.fieldtext.cloze import cloze_numbers
from deckkit.fieldtext.markup import ENTITY as _ENTITY
from deckkit.fieldtext.markup import KNOWN_TAGS, escape_bare_markup, is_blank, to_plain_text
from deckkit.fieldtext.media import is_url
from deckkit.lockfile import read_lockfile
from deckkit.model import note_guid
from deckkit.notetypes import NOTE_TYPES, choices_html, concepts_html
from deckkit.problems import Problem
from deckkit.sources.loader import load_source
from deckkit.sources.schema import schema_text
from deckkit.sources.validation import validate

FORMATS = ("apkg", "colpkg", "csv", "quizlet")
FORMAT_NAMES = {
    "apkg": "Anki package",
    "colpkg": "Anki collection package",
    "csv": "Anki text/CSV export",
    "quizlet": "Quizlet export",
}
SCHEMA_FILE = "deck.schema.json"
MEDIA_DIR = "media"
INSTALL_ANKI = "pip install 'deckkit[anki]'"
# Separator names as Quizlet's export dialog words them.
SEPARATOR_NAMES = {"tab": "\t", "comma": ",", "newline": "\n", "new line": "\n", "semicolon": ";"}

_LEVEL_TAG = re.compile(r"^level::(beginner|intermediate|advanced)$", re.IGNORECASE)
_PACKED_NAME = re.compile(r"^(?P<stem>[A-Za-z0-9_-]+)-(?P<hash>[0-9a-f]{10})(?P<ext>\.[a-z0-9]+)?$")
_SAFE_MEDIA_NAME = re.compile(r"[^\w.()+,=@~-]+")
_SRC = re.compile(
    r"""(?P<head><(?:img|audio|video|source)\b[^>]*?\bsrc\s*=\s*)"""
    r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^"'\s>]+))""",
    re.IGNORECASE,
)
_SOUND = re.compile(r"\[sound:(?P<ref>[^\]]+)\]")
_TEMPLATE_REF = re.compile(r"\{\{([^{}]+?)\}\}")
_CLOZE_MARKUP = re.compile(r"\{\{c[\d,]+::(.*?)(?:::.*?)?\}\}", re.DOTALL)
# What deckkit's escape_bare_markup keeps: a known tag's start, a comment, an entity.
_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])")
_ESCAPE = re.compile(r"&(lt|amp);")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_HEADER_LINE = re.compile(r"^#([A-Za-z ]+):")


class ImportUsageError(UsageError):
    """The input cannot be imported as asked (exit code 2): unreadable, unknown, or no `anki`."""


# --- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteTypeInfo:
    """A note type as the importer sees it: its fields and templates."""

    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[tuple[str, str], ...]  # (front, back) per card template, in order
    is_cloze: bool = False
    deckkit_kind: str | None = None  # set for deckkit's own note types
    mod: int = 0  # Anki's modification time of the note type
    template_names: tuple[str, ...] = ()
    css: str = ""


@dataclass(frozen=True)
class SourceNote:
    """One note read from the input, before mapping."""

    guid: str | None
    note_type: NoteTypeInfo
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str


@dataclass(frozen=True)
class Collected:
    """Everything read from one input: notes in order, deck descriptions, the media folder."""

    notes: tuple[SourceNote, ...]
    descriptions: dict[str, str] = field(default_factory=dict)
    media_dir: Path | None = None
    guids_are_original: bool = True  # False when the reader had to make GUIDs up
    # True when the note types are those of the collection the notes came from (an Anki package),
    # False when the reader made them up (a text export names note types, Quizlet none).
    note_types_are_original: bool = False
    notices: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()  # what the reader itself could not read


@dataclass(frozen=True)
class Skipped:
    """Notes that were not imported, by note type and reason."""

    note_type: str
    count: int
    reason: str

    def describe(self) -> str:
        """The summary line: ``skipped: 2 notes of note type 'X' (cannot be mapped)``."""
        notes = "note" if self.count == 1 else "notes"
        return f"skipped: {self.count} {notes} of note type '{self.note_type}' ({self.reason})"


@dataclass(frozen=True)
class Conversion:
    """A note type whose notes get a deckkit note type, and must be changed to it once in Anki.

    Only for notes that cannot keep their original note type (see the module's docstring). Anki
    updates a note from a package only when both have the same note type; its Browse > Notes >
    Change Note Type keeps the notes, their cards and review history.
    """

    note_type: str
    target: str
    count: int
    fields: tuple[tuple[str, str], ...]  # (field of note_type, field of target)
    only: str = ""  # which of the notes, when a note type's notes go to two deckkit types

    def describe(self) -> str:
        """``'Basic (type in the answer)' (3 notes) → 'deckkit Type-in': Front → Front, ...``."""
        notes = "note" if self.count == 1 else "notes"
        which = f", those with {self.only}" if self.only else ""
        mapping = ", ".join(f"{mine} → {theirs}" for mine, theirs in self.fields)
        return f"'{self.note_type}' ({self.count} {notes}{which}) → '{self.target}': {mapping}"


@dataclass(frozen=True)
class ImportedDeck:
    """One source file written by an import."""

    path: Path
    id: str
    name: str
    cards_by_type: dict[str, int]

    @property
    def cards(self) -> int:
        return sum(self.cards_by_type.values())


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote and what it could not bring over."""

    source: Path
    format: str
    output_dir: Path
    decks: tuple[ImportedDeck, ...]
    media: tuple[Path, ...]
    schema: Path | None
    skipped: tuple[Skipped, ...]
    notices: tuple[str, ...]
    problems: tuple[Problem, ...]
    conversions: tuple[Conversion, ...] = ()
    kept: tuple[tuple[str, int], ...] = ()  # original note types kept: (name, notes)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def written(self) -> tuple[Path, ...]:
        extra = (self.schema,) if self.schema else ()
        return (*(deck.path for deck in self.decks), *extra, *self.media)

    def cards_by_type(self) -> Counter[str]:
        """How many cards of each type the written sources hold."""
        total: Counter[str] = Counter()
        for deck in self.decks:
            total.update(deck.cards_by_type)
        return total


# --- the whole import --------------------------------------------------------------------------


def detect_format(path: Path) -> str:
    """The reader for a file, by extension (and, for .txt, by its first line).

    ``.apkg`` and ``.colpkg`` are Anki packages; ``.csv`` and ``.tsv`` Anki text exports; a
    ``.txt`` is an Anki text export when it starts with a ``#key:value`` header line or holds a
    tab, otherwise a Quizlet export. Anything else raises :class:`ImportUsageError`.
    """
    suffix = path.suffix.lower()
    if suffix in (".apkg", ".colpkg"):
        return suffix[1:]
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix == ".txt":
        head = _read_text(path)[:65536]
        if _HEADER_LINE.match(head) or "\t" in head:
            return "csv"
        return "quizlet"
    raise ImportUsageError(
        f"cannot tell what kind of export {path.name} is from its extension; "
        "use --from apkg, colpkg, csv or quizlet"
    )


def import_file(
    path: Path,
    output_dir: Path,
    *,
    fmt: str = "auto",
    lockfile: Path | None = None,
    force: bool = False,
    term_separator: str | None = None,
    card_separator: str | None = None,
    deck_name: str | None = None,
    media_dir: Path | None = None,
) -> ImportResult:
    """Read ``path`` and write deckkit sources, media and the schema into ``output_dir``.

    ``fmt`` "auto" goes by :func:`detect_format`, except that giving a Quizlet separator means a
    Quizlet export (whose defaults are Tab and New line). Raises :class:`ImportUsageError` when
    the input cannot be read or a file would be overwritten without ``force``; notes that cannot
    be mapped are reported, not raised.
    """
    if not path.is_file():
        raise ImportUsageError(f"no such file: {path}")
    if output_dir.exists() and not output_dir.is_dir():
        raise ImportUsageError(f"output folder {output_dir} is a file")
    if fmt == "auto":
        quizlet = term_separator is not None or card_separator is not None
        chosen = "quizlet" if quizlet else detect_format(path)
    else:
        chosen = fmt
    if chosen not in FORMATS:
        raise ImportUsageError(f"unknown input format {fmt!r}; choose from {', '.join(FORMATS)}")
    lock_ids = _lock_ids(lockfile) if lockfile is not None else {}
    reserved = _existing_deck_ids(output_dir)
    separators = (term_separator or "\t", card_separator or "\n")
    with _reader(chosen, path, *separators, deck_name, media_dir) as collected:
        plan = plan_import(collected, lock_ids=lock_ids, reserved_ids=reserved, origin=path.name)
        written = write_plan(plan, output_dir, force=force)
    problems = validate([deck.path for deck in written.decks]).problems if written.decks else ()
    return ImportResult(
        source=path,
        format=chosen,
        output_dir=output_dir,
        decks=written.decks,
        media=written.media,
        schema=written.schema,
        skipped=plan.skipped,
        notices=(*collected.notices, *plan.notices),
        problems=tuple(problems),
        conversions=plan.conversions,
        kept=plan.kept,
    )


@contextmanager
def _reader(
    fmt: str,
    path: Path,
    term_separator: str,
    card_separator: str,
    deck_name: str | None,
    media_dir: Path | None,
) -> Iterator[Collected]:
    if fmt == "quizlet":
        yield read_quizlet(
            path, term_separator=term_separator, card_separator=card_separator, deck_name=deck_name
        )
        return
    with tempfile.TemporaryDirectory(prefix="deckkit-import-") as scratch:
        if fmt == "csv":
            yield read_anki_text(path, Path(scratch), deck_name=deck_name, media_dir=media_dir)
        else:
            yield read_anki_package(path, Path(scratch), collection_package=fmt == "colpkg")


# --- readers: Anki (through the `anki` package) ------------------------------------------------


def _anki() -> Any:
    try:
        import anki.collection
    except ImportError as error:
        raise ImportUsageError(
            "reading Anki files needs Anki's own `anki` package, which is not installed: "
            + INSTALL_ANKI
        ) from error
    return anki.collection


def read_anki_package(path: Path, scratch: Path, *, collection_package: bool = False) -> Collected:
    """Notes, decks and media of an .apkg (or .colpkg), via a temporary Anki collection."""
    anki_collection = _anki()
    col_path = scratch / "collection.anki2"
    what = "an Anki collection package" if collection_package else "an Anki package"
    try:
        if collection_package:
            from anki._backend import RustBackend
            from anki.media import media_paths_from_col_path

            backend = RustBackend()
            media_folder, media_db = media_paths_from_col_path(str(col_path))
            backend.import_collection_package(
                col_path=str(col_path),
                backup_path=str(path.resolve()),
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
                options.with_scheduling = False
                col.import_anki_package(
                    ImportAnkiPackageRequest(package_path=str(path.resolve()), options=options)
                )
            except BaseException:
                col.close()
                raise
    except ImportUsageError:
        raise
    except Exception as error:  # the backend raises many kinds; each means "not readable"
        raise ImportUsageError(f"cannot read {path} as {what}: {_reason(error)}") from error
    try:
        collected = _collected_from(col, deckkit_ids={t.id: kind for kind, t in NOTE_TYPES.items()})
        return replace(collected, note_types_are_original=True)
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
    """
    anki_collection = _anki()
    from anki.import_export_pb2 import CsvMetadata, ImportCsvRequest

    col = anki_collection.Collection(str(scratch / "collection.anki2"))
    try:
        deckkit_ids = _add_deckkit_note_types(col)
        headers = _header_keys(path)
        try:
            metadata = col.get_csv_metadata(str(path.resolve()), delimiter=None)
            if "deck" not in headers and "deck column" not in headers:
                metadata.deck_name = deck_name or path.stem
            # Every row is a note of its own: nothing in a fresh collection to update.
            metadata.dupe_resolution = CsvMetadata.DupeResolution.DUPLICATE
            response = col.import_csv(ImportCsvRequest(path=str(path.resolve()), metadata=metadata))
        except Exception as error:  # the backend raises many kinds; each means "not readable"
            raise ImportUsageError(
                f"cannot read {path} as an Anki text export: {_reason(error)}"
            ) from error
        col.models._clear_cache()
        notices = []
        skipped: tuple[Skipped, ...] = ()
        missing = len(response.log.missing_notetype)
        if missing:
            skipped = _missing_note_types(col, path, metadata, missing)
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


_DELIMITERS = {0: "\t", 1: "|", 2: ";", 3: ":", 4: ",", 5: " "}
MISSING_NOTE_TYPE = "not in the file, and a text import cannot create note types: import the .apkg"


def _missing_note_types(col: Any, path: Path, metadata: Any, missing: int) -> tuple[Skipped, ...]:
    """Rows Anki skipped because their note type does not exist, counted by note type name."""
    column = int(metadata.notetype_column)
    if column:
        known = {entry.name for entry in col.models.all_names_and_ids()}
        known |= {str(entry.id) for entry in col.models.all_names_and_ids()}
        lines = [line for line in _read_text(path).splitlines() if not line.startswith("#")]
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


def _header_keys(path: Path) -> set[str]:
    keys = set()
    for line in _read_text(path).splitlines():
        match = _HEADER_LINE.match(line)
        if not match:
            break
        keys.add(match.group(1).strip().lower())
    return keys


def _collected_from(col: Any, *, deckkit_ids: dict[int, str]) -> Collected:
    """Every note of a collection, in creation order, with the deck of its first card."""
    deck_names = {int(d.id): d.name for d in col.decks.all_names_and_ids()}
    first_deck: dict[int, int] = {}
    for nid, did, odid in col.db.all("select nid, did, odid from cards order by nid, ord"):
        first_deck.setdefault(int(nid), int(odid or did))
    note_types: dict[int, NoteTypeInfo] = {}
    notes = []
    used_decks: set[int] = set()
    for nid, guid, mid, tags, flds in col.db.all(
        "select id, guid, mid, tags, flds from notes order by id"
    ):
        mid = int(mid)
        if mid not in note_types:
            note_types[mid] = _note_type_info(col.models.get(mid), deckkit_ids)
        did = first_deck.get(int(nid), 1)
        used_decks.add(did)
        notes.append(
            SourceNote(
                guid=str(guid),
                note_type=note_types[mid],
                fields=tuple(str(flds).split("\x1f")),
                tags=tuple(col.tags.split(tags)),
                deck=deck_names.get(did, "Default"),
            )
        )
    descriptions = {}
    for did in used_decks:
        deck = col.decks.get(did, default=False)
        if deck and deck.get("desc"):
            descriptions[deck["name"]] = str(deck["desc"])
    return Collected(notes=tuple(notes), descriptions=descriptions, media_dir=Path(col.media.dir()))


def _note_type_info(model: dict[str, Any], deckkit_ids: dict[int, str]) -> NoteTypeInfo:
    fields = tuple(str(f["name"]) for f in sorted(model["flds"], key=lambda f: f["ord"]))
    templates = tuple(
        (str(t["qfmt"]), str(t["afmt"])) for t in sorted(model["tmpls"], key=lambda t: t["ord"])
    )
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
        template_names=tuple(
            str(t["name"]) for t in sorted(model["tmpls"], key=lambda t: t["ord"])
        ),
        css=str(model.get("css") or ""),
    )


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


# --- reader: Quizlet ---------------------------------------------------------------------------

QUIZLET_NOTE_TYPE = NoteTypeInfo(
    id=0,
    name="Quizlet term/definition",
    fields=("Term", "Definition"),
    templates=(),
    deckkit_kind="basic",
)


def parse_separator(value: str) -> str:
    """A separator from the command line: a name from Quizlet's dialog, or text with \\t, \\n."""
    named = SEPARATOR_NAMES.get(value.strip().lower())
    if named is not None:
        return named
    text = value.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
    if not text:
        raise ImportUsageError("a separator cannot be empty")
    return text


def read_quizlet(
    path: Path,
    *,
    term_separator: str = "\t",
    card_separator: str = "\n",
    deck_name: str | None = None,
) -> Collected:
    """Term/definition pairs of a Quizlet export, each a basic card (plain text made HTML)."""
    text = _read_text(path).replace("\r\n", "\n")
    chunks = text.split(card_separator)
    notes = []
    unsplit = 0
    name = deck_name or path.stem
    for chunk in chunks:
        if not chunk.strip():
            continue
        if term_separator not in chunk:
            unsplit += 1
            continue
        term, definition = chunk.split(term_separator, 1)
        notes.append(
            SourceNote(
                guid=None,
                note_type=QUIZLET_NOTE_TYPE,
                fields=(_plain_to_html(term), _plain_to_html(definition)),
                tags=(),
                deck=name,
            )
        )
    notices = []
    if unsplit:
        sep = "Tab" if term_separator == "\t" else repr(term_separator)
        notices.append(
            f"{unsplit} card(s) of {path.name} hold no term/definition separator ({sep}) and were "
            "left out; pass the separators chosen in Quizlet's export dialog "
            "(--term-separator, --card-separator)"
        )
    return Collected(notes=tuple(notes), notices=tuple(notices), guids_are_original=False)


def _plain_to_html(text: str) -> str:
    """Quizlet text is plain: escape only the `<` and `&` that HTML would read as markup.

    The others stay as written (deckkit escapes them on export), so `2 < 3` stays readable while
    `<b>` stays text.
    """
    plain = text.strip()
    out = []
    for position, char in enumerate(plain):
        if char == "<" and _would_stay_markup(plain[position:]):
            out.append("&lt;")
        elif char == "&" and _ENTITY.match(plain, position):
            out.append("&amp;")
        else:
            out.append(char)
    return "".join(out).replace("\n", "<br>")


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportUsageError(
            f"{path} is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from error
    except OSError as error:
        raise ImportUsageError(f"cannot read {path}: {error.strerror}") from error


# --- field text --------------------------------------------------------------------------------


def readable_html(text: str) -> str:
    """Undo deckkit's escaping where that is its exact inverse, so `2 &lt; 3` reads `2 < 3`.

    An ``&lt;`` becomes ``<`` when that ``<`` would not open a known tag or comment, and an
    ``&amp;`` becomes ``&`` when it would not start an entity: exactly the characters
    :func:`deckkit.fieldtext.markup.escape_bare_markup` escapes, so a rebuild gives the same HTML. A field
    holding ``&gt;`` was escaped by an editor, not by deckkit, and is kept as it is.
    """
    if ("&lt;" not in text and "&amp;" not in text) or "&gt;" in text:
        return text
    out: list[str] = []
    position = 0
    for match in _ESCAPE.finditer(text):
        out.append(text[position : match.start()])
        rest = text[match.end() :]
        if match.group(1) == "lt":
            out.append(match.group(0) if _would_stay_markup("<" + rest) else "<")
        else:
            out.append(match.group(0) if _ENTITY.match("&" + rest) else "&")
        position = match.end()
    out.append(text[position:])
    result = "".join(out)
    return result if escape_bare_markup(result) == text else text


def _would_stay_markup(text: str) -> bool:
    if text.startswith("<!--"):
        return True
    match = _TAG_START.match(text)
    return bool(match and match.group(2).lower() in KNOWN_TAGS and ">" in text)


# --- mapping note types to card types ----------------------------------------------------------


@dataclass(frozen=True)
class _Roles:
    """How a note type's fields fill a card type: field index per role."""

    kind: str  # a card type, or "optional_reversed" (basic or reversed per note)
    roles: dict[str, int]
    switch: int | None = None  # optional_reversed: the field that asks for the reverse card


def roles_for(note_type: NoteTypeInfo) -> _Roles | None:
    """The card type a note type maps to, by structure; None when it cannot be mapped."""
    fields = note_type.fields
    if note_type.deckkit_kind is not None:
        kind = note_type.deckkit_kind
        return _Roles(kind, {role: i for i, role in enumerate(_DECKKIT_ROLES[kind])})
    index = {name: i for i, name in enumerate(fields)}
    templates = note_type.templates
    if not templates:
        return None
    if note_type.is_cloze:
        text = _cloze_field(templates[0][0])
        if text is None or text not in index or len(fields) > 2:
            return None
        roles = {"text": index[text]}
        others = [i for i in range(len(fields)) if i != index[text]]
        if others:
            roles["extra"] = others[0]
        return _Roles("cloze", roles)
    fronts = [_shown_fields(front, fields) for front, _back in templates]
    typed = _typed_field(templates[0][0])
    if len(templates) == 1 and typed in index and len(fields) in (2, 3):
        shown = [name for name in fronts[0] if name != typed]
        if len(shown) != 1:
            return None
        roles = {"front": index[shown[0]], "answer": index[str(typed)]}
        rest = [i for i in range(len(fields)) if i not in roles.values()]
        if rest:
            roles["extra"] = rest[0]
        return _Roles("type_in", roles)
    if typed is not None:
        return None
    if len(fields) == 2 and len(templates) == 1 and len(fronts[0]) == 1:
        front = index[fronts[0][0]]
        return _Roles("basic", {"front": front, "back": 1 - front})
    if (
        len(templates) == 2
        and len(fronts[0]) == 1
        and len(fronts[1]) == 1
        and fronts[0] != fronts[1]
    ):
        front, back = index[fronts[0][0]], index[fronts[1][0]]
        if len(fields) == 2:
            return _Roles("reversed", {"front": front, "back": back})
        switches = [
            i
            for i in range(len(fields))
            if i not in (front, back) and _is_section(templates[1][0], fields[i])
        ]
        if len(fields) == 3 and len(switches) == 1:
            return _Roles("optional_reversed", {"front": front, "back": back}, switch=switches[0])
    return None


_DECKKIT_ROLES: dict[str, tuple[str, ...]] = {
    "basic": ("front", "back"),
    "reversed": ("front", "back"),
    "cloze": ("text", "extra"),
    "type_in": ("front", "answer", "extra"),
    "multiple_choice": ("question", "choices", "marked", "correct", "explanation"),
    "open": ("prompt", "hint", "concepts", "answer"),
}
_SPECIAL_FIELDS = {"FrontSide", "Tags", "Deck", "Subdeck", "Card", "CardFlag", "Type", "CardID"}


def _shown_fields(template: str, fields: Sequence[str]) -> list[str]:
    """The fields a template side displays (not just tests in a {{#section}}), in order."""
    shown: list[str] = []
    for match in _TEMPLATE_REF.finditer(template):
        inner = match.group(1).strip()
        if inner[:1] in "#^/!":
            continue
        name = inner.split(":")[-1].strip()
        if name in fields and name not in _SPECIAL_FIELDS and name not in shown:
            shown.append(name)
    return shown


def _typed_field(template: str) -> str | None:
    match = re.search(r"\{\{type:(?:[a-z]+:)?([^{}]+?)\}\}", template)
    return match.group(1).strip() if match else None


def _cloze_field(template: str) -> str | None:
    match = re.search(r"\{\{(?:[^{}:]+:)*cloze:([^{}]+?)\}\}", template)
    return match.group(1).strip() if match else None


def _is_section(template: str, name: str) -> bool:
    return bool(re.search(r"\{\{#\s*" + re.escape(name) + r"\s*\}\}", template))


def card_content(roles: _Roles, fields: Sequence[str]) -> tuple[str, dict[str, Any]] | str:
    """(card type, source keys) for one note, or why it cannot be imported."""

    def get(role: str) -> str:
        position = roles.roles.get(role)
        return fields[position] if position is not None and position < len(fields) else ""

    kind = roles.kind
    if kind == "optional_reversed":
        assert roles.switch is not None
        kind = "reversed" if not is_blank(fields[roles.switch]) else "basic"
    keys: dict[str, Any]
    if kind in ("basic", "reversed"):
        keys = {"front": get("front"), "back": get("back")}
    elif kind == "cloze":
        keys = {"text": get("text"), "extra": get("extra")}
        if not cloze_numbers(keys["text"]):
            return "no cloze deletion in its text"
    elif kind == "type_in":
        keys = {"front": get("front"), "answer": get("answer"), "extra": get("extra")}
    elif kind == "multiple_choice":
        parsed = _multiple_choice(get("marked"), get("choices"), get("correct"))
        if parsed is None:
            return "its choices could not be read"
        choices, correct = parsed
        keys = {
            "question": get("question"),
            "choices": [readable_html(choice) for choice in choices],
            "answer": correct[0] if len(correct) == 1 else list(correct),
            "explanation": get("explanation"),
        }
    elif kind == "open":
        concepts = _concepts(get("concepts"))
        if concepts is None:
            return "its concepts could not be read"
        keys = {
            "prompt": get("prompt"),
            "hint": get("hint"),
            "concepts": [readable_html(c) for c in concepts],
            "answer": get("answer"),
        }
    else:  # pragma: no cover - roles_for only makes the kinds above
        raise ValueError(kind)
    keys = {
        key: readable_html(value)
        if isinstance(value, str) and not _is_letters(kind, key)
        else value
        for key, value in keys.items()
    }
    required = _REQUIRED[kind]
    for name in required:
        if isinstance(keys[name], str) and not _is_letters(kind, name) and is_blank(keys[name]):
            return f"empty {name}"
    if kind == "multiple_choice" and any(is_blank(c) for c in keys["choices"]):
        return "an empty choice"
    # Optional keys are left out when empty: a rebuild fills them with "" all the same.
    return kind, {k: v for k, v in keys.items() if k in required or v not in ("", [])}


def _is_letters(kind: str, key: str) -> bool:
    """A multiple-choice answer is letters, not HTML."""
    return kind == "multiple_choice" and key == "answer"


_REQUIRED = {
    "basic": ("front", "back"),
    "reversed": ("front", "back"),
    "cloze": ("text",),
    "type_in": ("front", "answer"),
    "multiple_choice": ("question", "choices", "answer"),
    "open": ("prompt",),
}


def _multiple_choice(marked: str, plain: str, correct: str) -> tuple[list[str], list[str]] | None:
    """Choices and right letters from deckkit's "Marked choices" list (else "Choices" + "Correct").

    The lists are read by matching them against what deckkit's own renderer makes of placeholder
    choices (the current markup, then older ones), and accepted only when rendering what was read
    gives the field back exactly.
    """
    hinted = tuple(sorted(p.strip() for p in to_plain_text(correct).split(",") if p.strip()))
    for render in _CHOICE_RENDERERS:
        # Most items first: a choice could itself hold the markup of the items after it.
        for count in range(len(LETTERS), 1, -1):
            letters = LETTERS[:count]
            markings = (tuple(letters), (), tuple(letters[0::2]), tuple(letters[1::2]))
            found = _match_rendered(marked, partial(_marked_variants, render, markings), count)
            if found is not None:
                right = _right_letters(render, tuple(found), marked, hinted)
                if right:
                    return found, list(right)
            found = _match_rendered(plain, partial(_marked_variants, render, None), count)
            if (
                found is not None
                and hinted
                and set(hinted) <= set(letters)
                and render(tuple(found), (), False) == plain
            ):
                return found, list(hinted)
    return None


_ChoiceRenderer = Callable[[tuple[str, ...], tuple[str, ...], bool], str]


def _marked_variants(
    render: _ChoiceRenderer,
    markings: Sequence[tuple[str, ...]] | None,
    choices: tuple[str, ...],
) -> list[str]:
    """The choices rendered with each marking (None: the unmarked front-side list)."""
    if markings is None:
        return [render(choices, (), False)]
    return [render(choices, marking, True) for marking in markings]


def _right_letters(
    render: _ChoiceRenderer, choices: tuple[str, ...], marked: str, hinted: tuple[str, ...]
) -> tuple[str, ...] | None:
    """The letters whose marking renders the field exactly: the "Correct" field's, else searched."""
    letters = LETTERS[: len(choices)]
    candidates = [hinted] if hinted else []
    candidates += [
        tuple(x for bit, x in enumerate(letters) if mask >> bit & 1)
        for mask in range(1, 1 << len(letters))
    ]
    for candidate in candidates:
        if candidate and render(choices, candidate, True) == marked:
            return candidate
    return None


def _current_choices(choices: tuple[str, ...], correct: tuple[str, ...], marked: bool) -> str:
    return choices_html(MultipleChoice("", choices, correct, ""), marked=marked)


def _choices_v1(choices: tuple[str, ...], correct: tuple[str, ...], marked: bool) -> str:
    """The markup of deckkit's first builds, before the choice text had a span of its own."""
    items = []
    for letter, choice in zip(LETTERS, choices, strict=False):
        css = mark = ""
        if marked:
            right = letter in correct
            css = ' class="correct"' if right else ' class="wrong"'
            mark = '<span class="mark">✓ correct</span>' if right else ""
        letter_html = f'<span class="letter">{letter}.</span>'
        items.append(f'<li data-letter="{letter}"{css}>{letter_html} {choice}{mark}</li>')
    return '<ol class="choices">' + "".join(items) + "</ol>"


_CHOICE_RENDERERS: tuple[_ChoiceRenderer, ...] = (_current_choices, _choices_v1)


def _match_rendered(
    text: str, render_variants: Callable[[tuple[str, ...]], list[str]], count: int
) -> list[str] | None:
    """The ``count`` items a renderer turned into ``text``, found by rendering placeholders.

    Each variant renders the same placeholders differently (e.g. marked right or wrong); any
    variant's markup is accepted between two items, so the caller must check by rendering again.
    """
    if not text:
        return None
    placeholders = tuple(f"\x00{i}\x00" for i in range(count))
    gaps: list[set[str]] = [set() for _ in range(count + 1)]
    for rendered in render_variants(placeholders):
        parts = re.split("\x00\\d+\x00", rendered)
        if len(parts) != count + 1:
            return None
        for position, part in enumerate(parts):
            gaps[position].add(part)
    alternatives = [
        "(?:" + "|".join(re.escape(g) for g in sorted(gap, key=len, reverse=True)) + ")"
        for gap in gaps
    ]
    match = re.compile("(.*?)".join(alternatives), re.DOTALL).fullmatch(text)
    return list(match.groups()) if match else None


def _concepts(text: str) -> list[str] | None:
    """The concepts of deckkit's checklist HTML ([] when empty); None when it is not deckkit's."""
    if not text.strip():
        return []
    for count in range(text.count("<li"), 0, -1):
        found = _match_rendered(text, lambda p: [concepts_html(p)], count)
        if found is not None and concepts_html(tuple(found)) == text:
            return found
    return None


# --- planning the sources ----------------------------------------------------------------------


@dataclass(frozen=True)
class _MediaOut:
    relative: str  # e.g. media/pic.png
    source: Path


@dataclass(frozen=True)
class _DeckOut:
    id: str
    name: str
    file_name: str
    text: str
    cards_by_type: dict[str, int]


@dataclass(frozen=True)
class ImportPlan:
    """The files an import will write, before writing them."""

    decks: tuple[_DeckOut, ...]
    media: tuple[_MediaOut, ...]
    skipped: tuple[Skipped, ...]
    notices: tuple[str, ...]
    conversions: tuple[Conversion, ...] = ()
    kept: tuple[tuple[str, int], ...] = ()  # original note types cards keep: (name, notes)


@dataclass(frozen=True)
class _Kept:
    """An original note type cards keep, with the card type it carries and each field's role."""

    info: NoteTypeInfo
    kind: str
    roles: tuple[str | None, ...]  # per field: the card key that fills it, or None


_DECKKIT_IDS = frozenset(note_type.id for note_type in NOTE_TYPES.values())


def _kept_note_type(note_type: NoteTypeInfo, roles: _Roles, kind: str) -> _Kept | None:
    """The original note type a card of ``kind`` keeps, or None when it cannot keep it.

    An "optional reversed card" note type keeps only the notes that do not ask for the reverse
    card: for the others its switch field would have to stay filled, and no card key holds that.
    """
    if note_type.deckkit_kind is not None or note_type.id in _DECKKIT_IDS:
        return None
    if roles.kind == "optional_reversed" and kind != "basic":
        return None
    by_field: list[str | None] = [None] * len(note_type.fields)
    for role, index in roles.roles.items():
        by_field[index] = role
    return _Kept(note_type, kind, tuple(by_field))


def _declaration(kept: _Kept, name: str) -> dict[str, Any]:
    """The entry of a kept note type under the deck's ``note_types``: Anki's text, as it is."""
    info = kept.info
    names = info.template_names or tuple(f"Card {i}" for i in range(1, len(info.templates) + 1))
    return {
        "name": name,
        "id": info.id,
        "mod": info.mod,
        "kind": kept.kind,
        "cloze": info.is_cloze,
        "fields": [
            _FlowMap({"name": field, "role": role})
            for field, role in zip(info.fields, kept.roles, strict=True)
        ],
        "templates": [
            {"name": template_name, "front": front, "back": back}
            for template_name, (front, back) in zip(names, info.templates, strict=True)
        ],
        "css": info.css,
    }


def _conversion(note_type: NoteTypeInfo, roles: _Roles, kind: str) -> Conversion:
    """How to change a note type to deckkit's in Anki so that rebuilt notes update these notes."""
    target = NOTE_TYPES[kind]
    role_names = _DECKKIT_ROLES[kind]
    fields = tuple(
        (note_type.fields[roles.roles[role]], target_field)
        for role, target_field in zip(role_names, target.fields, strict=True)
        if role in roles.roles
    )
    only = ""
    if roles.kind == "optional_reversed" and roles.switch is not None:
        switch = note_type.fields[roles.switch]
        only = f"'{switch}' filled in" if kind == "reversed" else f"'{switch}' empty"
    return Conversion(note_type.name, target.name, 0, fields, only)


def _existing_deck_ids(output_dir: Path) -> set[str]:
    """Deck ids of the sources already in a folder, but for files named after their id (an import
    of that deck would replace them, with --force)."""
    if not output_dir.is_dir():
        return set()
    ids = set()
    for path in sorted(output_dir.rglob("*.y*ml")):
        hidden = any(part.startswith(".") for part in path.relative_to(output_dir).parts)
        if hidden or path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        data = load_source(path).data
        deck_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(deck_id, str) and path != output_dir / f"{deck_id}.yaml":
            ids.add(deck_id)
    return ids


def _lock_ids(lockfile: Path) -> dict[str, tuple[str, str]]:
    """GUID → (deck id, card id) for every note of a deckkit lockfile."""
    if not lockfile.is_file():
        raise ImportUsageError(f"no such lockfile: {lockfile}")
    lock = read_lockfile(lockfile)
    return {
        note_guid(deck_id, card_id): (deck_id, card_id)
        for deck_id, cards in lock.notes.items()
        for card_id in cards
    }


def plan_import(
    collected: Collected,
    *,
    lock_ids: dict[str, tuple[str, str]] | None = None,
    reserved_ids: set[str] | None = None,
    origin: str = "",
) -> ImportPlan:
    """Map notes to cards, group them by deck, and lay out the source files and media.

    ``reserved_ids`` are deck ids already taken by other sources in the output folder.
    """
    lock_ids = lock_ids or {}
    skipped: Counter[tuple[str, str]] = Counter()
    by_deck: dict[str, list[_Entry]] = {}
    roles_cache: dict[NoteTypeInfo, _Roles | None] = {}
    conversions: Counter[Conversion] = Counter()
    kept_counts: Counter[str] = Counter()
    for note in collected.notes:
        if note.note_type not in roles_cache:
            roles_cache[note.note_type] = roles_for(note.note_type)
        roles = roles_cache[note.note_type]
        if roles is None:
            skipped[(note.note_type.name, "cannot be mapped")] += 1
            continue
        mapped = card_content(roles, note.fields)
        if isinstance(mapped, str):
            skipped[(note.note_type.name, mapped)] += 1
            continue
        kind, keys = mapped
        kept = None
        if collected.note_types_are_original:
            kept = _kept_note_type(note.note_type, roles, kind)
        by_deck.setdefault(note.deck, []).append((note, kind, keys, kept))
        if kept is not None:
            kept_counts[note.note_type.name] += 1
        elif note.note_type.deckkit_kind is None:
            conversions[_conversion(note.note_type, roles, kind)] += 1
    media = _MediaNamer(collected.media_dir)
    decks: list[_DeckOut] = []
    used_ids: set[str] = set(reserved_ids or ())
    for deck_name, entries in by_deck.items():
        decks.append(_plan_deck(deck_name, entries, collected, lock_ids, used_ids, media, origin))
    notices = list(media.notices())
    return ImportPlan(
        decks=tuple(decks),
        media=tuple(media.files()),
        skipped=(
            *collected.skipped,
            *(Skipped(name, count, reason) for (name, reason), count in skipped.items()),
        ),
        notices=tuple(notices),
        conversions=tuple(
            replace(conversion, count=count) for conversion, count in conversions.items()
        )
        if collected.guids_are_original
        else (),
        kept=tuple(kept_counts.items()),
    )


# A mapped note: the note, its card type, its source keys, and the original note type it keeps.
_Entry = tuple[SourceNote, str, dict[str, Any], _Kept | None]


def _plan_deck(
    deck_name: str,
    entries: list[_Entry],
    collected: Collected,
    lock_ids: dict[str, tuple[str, str]],
    used_deck_ids: set[str],
    media: _MediaNamer,
    origin: str,
) -> _DeckOut:
    locked = [lock_ids.get(note.guid or "") for note, _kind, _keys, _kept in entries]
    votes = Counter(match[0] for match in locked if match)
    deck_id = ""
    if votes:
        candidate = votes.most_common(1)[0][0]
        if candidate not in used_deck_ids:
            deck_id = candidate
    if not deck_id:
        deck_id = _unique(slugify(deck_name, fallback="deck"), used_deck_ids)
    used_deck_ids.add(deck_id)

    # Ids from the lockfile first, so that a slug never takes one of them.
    card_ids: list[str | None] = [
        match[1] if match and match[0] == deck_id else None for match in locked
    ]
    used_card_ids = {card_id for card_id in card_ids if card_id}
    level_and_tags = [_level_and_tags(note.tags) for note, _kind, _keys, _kept in entries]
    common = _common_tags([tags for _level, tags in level_and_tags]) if len(entries) > 1 else []
    cards = []
    counts: Counter[str] = Counter()
    kept_names: dict[_Kept, str] = {}  # each kept note type's name in this deck, unique
    for position, ((note, kind, keys, kept), card_id, (level, tags)) in enumerate(
        zip(entries, card_ids, level_and_tags, strict=True), start=1
    ):
        if card_id is None:
            card_id = _unique(
                slugify(_first_text(keys), fallback=f"card-{position}", limit=48), used_card_ids
            )
            used_card_ids.add(card_id)
        card: dict[str, Any] = {"id": card_id}
        if card_ids[position - 1] is None and note.guid and collected.guids_are_original:
            card["guid"] = note.guid
        if kind != "basic":  # the default, left out as in hand-written sources
            card["type"] = kind
        if kept is not None:
            if kept not in kept_names:
                kept_names[kept] = _unique_name(kept.info.name, set(kept_names.values()))
            card["note_type"] = kept_names[kept]
        if level:
            card["level"] = level
        own_tags = [tag for tag in tags if tag not in common]
        if own_tags:
            card["tags"] = _Flow(own_tags)
        for key, value in keys.items():
            if _is_letters(kind, key):
                card[key] = _Flow(value) if isinstance(value, list) else value
            elif isinstance(value, list):
                card[key] = [media.rewrite(item) for item in value]
            else:
                card[key] = media.rewrite(value)
        cards.append(card)
        counts[kind] += 1
    data: dict[str, Any] = {"deck": deck_name, "id": deck_id}
    description = collected.descriptions.get(deck_name, "")
    if description.strip():
        data["description"] = media.rewrite(readable_html(description))
    if common:
        data["tags"] = _Flow(common)
    data["cards"] = cards
    if kept_names:
        data["note_types"] = [_declaration(kept, name) for kept, name in kept_names.items()]
    return _DeckOut(deck_id, deck_name, f"{deck_id}.yaml", _source_text(data, origin), dict(counts))


def _unique_name(base: str, used: set[str]) -> str:
    if base not in used:
        return base
    number = 2
    while f"{base} ({number})" in used:
        number += 1
    return f"{base} ({number})"


def _level_and_tags(tags: Sequence[str]) -> tuple[str | None, list[str]]:
    level = None
    rest = []
    for tag in tags:
        match = _LEVEL_TAG.match(tag)
        if match and level is None:
            level = match.group(1).lower()
        elif tag not in rest:
            rest.append(tag)
    return level, rest


def _common_tags(tag_lists: list[list[str]]) -> list[str]:
    if not tag_lists:
        return []
    common = [tag for tag in tag_lists[0] if all(tag in tags for tags in tag_lists[1:])]
    return common


def _first_text(keys: dict[str, Any]) -> str:
    for name in ("front", "text", "question", "prompt"):
        if name in keys:
            return to_plain_text(_CLOZE_MARKUP.sub(r"\1", escape_bare_markup(str(keys[name]))))
    return ""


def slugify(text: str, *, fallback: str, limit: int = 60) -> str:
    """A readable id: ASCII letters and digits joined by '-', at most ``limit`` characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        cut = slug[:limit]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[limit // 2 :] else cut
        slug = slug.strip("-")
    return slug or fallback


def _unique(base: str, used: set[str]) -> str:
    if base not in used:
        return base
    number = 2
    while f"{base}-{number}" in used:
        number += 1
    return f"{base}-{number}"


class _MediaNamer:
    """Media references to `media/<name>` beside the sources, each file extracted once."""

    def __init__(self, media_dir: Path | None) -> None:
        self.media_dir = media_dir
        self.by_source: dict[str, str] = {}  # name in the input → relative path written
        self.taken: set[str] = set()  # lower-cased relative paths
        self.out: list[_MediaOut] = []
        self.missing: list[str] = []

    def rewrite(self, text: str) -> str:
        if "<" not in text and "[sound:" not in text:
            return text

        def replace_src(match: re.Match[str]) -> str:
            raw = match.group("dq") if match.group("dq") is not None else match.group("sq")
            if raw is None:
                raw = match.group("bare")
            new = self._relative(html.unescape(raw))
            if new is None:
                return match.group(0)
            return f'{match.group("head")}"{html.escape(new, quote=True)}"'

        def replace_sound(match: re.Match[str]) -> str:
            new = self._relative(match.group("ref"))
            return match.group(0) if new is None else f"[sound:{new}]"

        return _SOUND.sub(replace_sound, _SRC.sub(replace_src, text))

    def _relative(self, name: str) -> str | None:
        if not name or is_url(name) or name.startswith("data:"):
            return None
        if name in self.by_source:
            return self.by_source[name]
        source = self._find(name)
        if source is None:
            if name not in self.missing:
                self.missing.append(name)
            return None
        relative = self._name_for(source)
        self.by_source[name] = relative
        self.taken.add(relative.lower())
        self.out.append(_MediaOut(relative, source))
        return relative

    def _find(self, name: str) -> Path | None:
        if self.media_dir is None or "/" in name or "\\" in name or name in (".", ".."):
            return None
        for candidate in (name, unquote(name)):
            path = self.media_dir / candidate
            if path.is_file():
                return path
        return None

    def _name_for(self, source: Path) -> str:
        name = source.name
        packed = _PACKED_NAME.match(name)
        if packed and hashlib.sha256(source.read_bytes()).hexdigest()[:10] == packed.group("hash"):
            # A name deckkit packed: back to the author's name. On a clash, a folder named by the
            # hash keeps the file name, so a rebuild packs it under the same name again.
            original = packed.group("stem") + (packed.group("ext") or "")
            for relative in (
                f"{MEDIA_DIR}/{original}",
                f"{MEDIA_DIR}/{packed.group('hash')}/{original}",
            ):
                if relative.lower() not in self.taken:
                    return relative
        safe = _SAFE_MEDIA_NAME.sub("_", name).strip("._") or "media"
        stem, dot, ext = safe.rpartition(".")
        if not dot:
            stem, ext = safe, ""
        relative = f"{MEDIA_DIR}/{safe}"
        number = 2
        while relative.lower() in self.taken:
            relative = f"{MEDIA_DIR}/{stem}-{number}{'.' + ext if ext else ''}"
            number += 1
        return relative

    def files(self) -> list[_MediaOut]:
        return list(self.out)

    def notices(self) -> Iterator[str]:
        if self.missing:
            shown = ", ".join(self.missing[:5]) + (
                f" and {len(self.missing) - 5} more" if len(self.missing) > 5 else ""
            )
            yield (
                f"{len(self.missing)} media file(s) referenced but not in the input, references "
                f"kept as written: {shown}; put the files in the media folder and point the "
                "references at them (deckkit validate lists each one)"
            )


# --- writing YAML ------------------------------------------------------------------------------


class _Flow(list[Any]):
    """A short list written on one line: `tags: [a, b]`."""


class _FlowMap(dict[Any, Any]):
    """A short mapping written on one line: `- {name: Front, role: front}`."""


class _SourceDumper(yaml.SafeDumper):
    """Block style, lists indented under their key, multi-line text as `|` literals, no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value), flow_style=True)


def _represent_flow_map(dumper: yaml.SafeDumper, value: _FlowMap) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(value), flow_style=True)


_SourceDumper.add_representer(str, _represent_str)
_SourceDumper.add_representer(_Flow, _represent_flow)
_SourceDumper.add_representer(_FlowMap, _represent_flow_map)


def _source_text(data: dict[str, Any], origin: str) -> str:
    body = yaml.dump(
        data,
        Dumper=_SourceDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    # A blank line before the cards and between them, and the same for the note types.
    body = re.sub(r"(?<!\ncards:)\n(  - id: )", r"\n\n\1", body).replace(
        "\ncards:\n", "\n\ncards:\n", 1
    )
    if "note_types" in data:
        body = re.sub(r"(?<!\nnote_types:)\n(  - name: )", r"\n\n\1", body).replace(
            "\nnote_types:\n", "\n\nnote_types:\n", 1
        )
    header = [
        f"# yaml-language-server: $schema={SCHEMA_FILE}",
        "#",
        f"# Brought in with `deckkit import` from {origin}."
        if origin
        else "# Brought in with `deckkit import`.",
        "# A card's `guid` is the identity of the Anki note it came from: keep it, so that",
        "# importing the rebuilt deck updates that note and its history instead of adding a copy.",
    ]
    if "note_types" in data:
        header += [
            "# A card's `note_type` names the Anki note type it had, kept under `note_types` at",
            "# the end: Anki updates a note only from a note of the same note type. Keep their ids",
            "# and field and template names; raise `mod` to ship changed templates or styling.",
        ]
    header.append("")
    return "\n".join(header) + body


# --- writing files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Written:
    decks: tuple[ImportedDeck, ...]
    media: tuple[Path, ...]
    schema: Path | None


def write_plan(plan: ImportPlan, output_dir: Path, *, force: bool = False) -> _Written:
    """Write the planned files; refuses to replace a different existing file unless ``force``."""
    if not plan.decks:
        return _Written((), (), None)
    texts: list[tuple[Path, bytes]] = [
        (output_dir / deck.file_name, deck.text.encode("utf-8")) for deck in plan.decks
    ]
    texts.append((output_dir / SCHEMA_FILE, schema_text().encode("utf-8")))
    copies = [(output_dir / item.relative, item.source) for item in plan.media]
    every: list[tuple[Path, bytes | Path]] = [*texts, *copies]
    clashes = [
        target
        for target, content in every
        if target.exists() and not _same_content(target, content)
    ]
    if clashes and not force:
        shown = ", ".join(str(p) for p in clashes[:5]) + (
            f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
        )
        raise ImportUsageError(
            f"not overwriting existing files: {shown}; use --force to replace them"
        )
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for target, content in texts:
            _replace(target, partial(_write_bytes, content))
        for target, source in copies:
            target.parent.mkdir(parents=True, exist_ok=True)
            _replace(target, partial(shutil.copyfile, source))
    except OSError as error:
        raise ImportUsageError(
            f"cannot write into {output_dir}: {error.strerror or error}"
        ) from error
    decks = tuple(
        ImportedDeck(output_dir / deck.file_name, deck.id, deck.name, deck.cards_by_type)
        for deck in plan.decks
    )
    return _Written(decks, tuple(target for target, _s in copies), output_dir / SCHEMA_FILE)


def _write_bytes(content: bytes, target: Path) -> None:
    target.write_bytes(content)


def _same_content(target: Path, content: bytes | Path) -> bool:
    if not target.is_file():
        return False
    data = content.read_bytes() if isinstance(content, Path) else content
    return target.stat().st_size == len(data) and target.read_bytes() == data


def _replace(target: Path, write: Callable[[Path], object]) -> None:
    """Write beside the target, then move into place: never a half-written file."""
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "Collected",
    "Conversion",
    "ImportPlan",
    "ImportResult",
    "ImportUsageError",
    "ImportedDeck",
    "NoteTypeInfo",
    "Skipped",
    "SourceNote",
    "detect_format",
    "import_file",
    "parse_separator",
    "plan_import",
    "read_anki_package",
    "read_anki_text",
    "read_quizlet",
    "readable_html",
    "roles_for",
    "slugify",
    "write_plan",
]
