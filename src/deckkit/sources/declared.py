"""Note types as the sources declare them: a deck's own ``note_types``, those of the shared
note-type files it names in ``note_type_files``, with template and CSS files read.

A note type may keep a template side or its CSS in a file of its own (``front_file``,
``back_file``, ``css_file``: editors highlight ``.html`` and ``.css``), and several decks may
share note types through a note-type file (a YAML file with only ``note_types``). This module is
the one place that follows those paths, by the one path rule of media (a file inside the folder
of the YAML file naming it: :func:`deckkit.fieldtext.media.reference_problem`), so that the
checks, the model and the incremental build's fingerprint all see the same texts and files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from deckkit.fieldtext.media import reference_problem, resolve_reference
from deckkit.problems import Problem, display_path, shorten
from deckkit.sources.loader import MAX_SOURCE_BYTES, LoadedSource, Mark, PathKey, load_source
from deckkit.sources.positions import ValuePositions

# Keys that make a YAML file a deck; a file with `note_types` and none of them is a note-type file.
DECK_KEYS = ("deck", "id", "cards")


def is_note_type_file(data: Any) -> bool:
    """Whether parsed YAML is a note-type file shared by decks, not a deck."""
    return isinstance(data, dict) and "note_types" in data and not any(k in data for k in DECK_KEYS)


@dataclass(frozen=True)
class TextPlace:
    """Where a template side or CSS was written: inline in a YAML file, or a file of its own."""

    source: LoadedSource  # the YAML file declaring the note type
    path: PathKey  # the inline value's or the file key's path in that YAML file
    file: Path | None = None  # the file holding the text, when it is kept in one

    def problem(self, offset: int, text: str, message: str, code: str, severity: str) -> Problem:
        """A problem at ``offset`` of the text: in its own file at its line and column, or at
        the YAML value that holds it (or names its file)."""
        if self.file is None:
            mark = ValuePositions(self.source).mark(self.path, text, offset)
            return self.source.problem(mark, message, code, severity)
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return Problem(display_path(self.file), line, column, message, code, severity)


@dataclass(frozen=True)
class DeclaredNoteType:
    """One note type as declared, its template and CSS texts read from wherever they are."""

    raw: Mapping[str, Any]  # the declaration as written (valid by the schema)
    source: LoadedSource  # the YAML file that declares it: a deck or a note-type file
    index: int  # its position under that file's `note_types`
    # (template name, front, back), with each side's place
    templates: tuple[tuple[str, str, str], ...]
    places: tuple[tuple[TextPlace, TextPlace], ...]
    css: str
    css_place: TextPlace
    files: tuple[Path, ...]  # the template and CSS files read, for the build's fingerprint

    @property
    def name(self) -> str:
        return str(self.raw["name"])

    @property
    def path(self) -> PathKey:
        return ("note_types", self.index)


@dataclass
class DeclaredNoteTypes:
    """The note types a deck (or a note-type file) sees, and what went wrong finding them."""

    note_types: list[DeclaredNoteType] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # every file read besides the source

    def by_name(self) -> dict[str, DeclaredNoteType]:
        """Each name's first declaration (a second one is a problem of its own)."""
        found: dict[str, DeclaredNoteType] = {}
        for note_type in self.note_types:
            found.setdefault(note_type.name, note_type)
        return found


def declared_note_types(source: LoadedSource) -> DeclaredNoteTypes:
    """The note types of a loaded source and of the note-type files it names, files read.

    Only declarations the schema accepts are read (a source with schema problems is reported
    before this is called). A note-type file with problems of its own is one problem here, at
    the line naming it: ``deckkit validate`` on that file says what they are.

    Several checks and then the model ask for the same source's note types in turn: the files
    are read once per source (the last source asked for is remembered, by identity), and a
    note-type file once per build however many decks name it (:func:`_load_note_type_file`).
    """
    if _last and _last[0][0] is source:
        return _last[0][1]
    found = _declared_note_types(source)
    _last[:] = [(source, found)]
    return found


# The last source declared_note_types read, and what it found.
_last: list[tuple[LoadedSource, DeclaredNoteTypes]] = []


def _declared_note_types(source: LoadedSource) -> DeclaredNoteTypes:
    found = DeclaredNoteTypes()
    _read_declarations(source, found)
    data = source.data if isinstance(source.data, dict) else {}
    for index, name in enumerate(data.get("note_type_files") or ()):
        where = ("note_type_files", index)
        library = _note_type_file(source, where, name, found)
        if library is not None:
            found.files.append(library.path)
            _read_declarations(library, found)
    return found


def _note_type_file(
    source: LoadedSource, where: PathKey, name: str, found: DeclaredNoteTypes
) -> LoadedSource | None:
    """The note-type file a deck names, loaded, or None with the problem recorded."""
    mark = source.mark_of_value(where)
    target = _file_named(source, where, name, found, what="note-type file")
    if target is None:
        return None
    library, schema_ok = _load_note_type_file(target)
    if library.problems or library.data is None:
        first = library.problems[0].as_text() if library.problems else "it is empty"
        found.problems.append(
            source.problem(
                mark,
                f"note-type file '{shorten(name)}' cannot be read: {shorten(first, 200)}",
                "check.note-type-file",
            )
        )
        return None
    if not is_note_type_file(library.data):
        found.problems.append(
            source.problem(
                mark,
                f"'{shorten(name)}' is not a note-type file: such a file holds only 'note_types' "
                "(it is a deck if it has 'deck', 'id' or 'cards')",
                "check.note-type-file",
            )
        )
        return None
    if not schema_ok:
        found.problems.append(
            source.problem(
                mark,
                f"note-type file '{shorten(name)}' has problems: run 'deckkit validate "
                f"{display_path(target)}' to see them",
                "check.note-type-file",
            )
        )
        return None
    return library


def _load_note_type_file(path: Path) -> tuple[LoadedSource, bool]:
    """A note-type file loaded, and whether its schema holds: kept while the file is unchanged,
    since every deck of a course may name the same one."""
    stat = path.stat()
    return _loaded_note_type_file(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _loaded_note_type_file(path: Path, _mtime_ns: int, _size: int) -> tuple[LoadedSource, bool]:
    from deckkit.sources.schema import schema_problems  # the schema imports the loader

    library = load_source(path)
    return library, library.data is None or not schema_problems(library)


def _file_named(
    source: LoadedSource,
    where: PathKey,
    name: str,
    found: DeclaredNoteTypes,
    *,
    what: str,
) -> Path | None:
    """The file a YAML file names at ``where``, inside its folder, or None with a problem."""
    folder = source.path.parent
    problem = reference_problem(name, folder)
    if problem is None:
        target = resolve_reference(name, folder)
        if target.stat().st_size <= MAX_SOURCE_BYTES:
            return target
        problem = (f"{what} '{shorten(name)}' is larger than a source may be", "check.file-size")
    message, code = problem
    if code == "check.media-missing":
        message = (
            f"{what} '{shorten(name)}' does not exist (looked for {display_path(folder)}/{name})"
        )
        code = "check.file-missing"
    elif code == "check.media-outside":
        message = message.replace("media", what, 1)
        code = "check.file-outside"
    found.problems.append(source.problem(source.mark_of_value(where), message, code))
    return None


def _read_declarations(source: LoadedSource, found: DeclaredNoteTypes) -> None:
    data = source.data if isinstance(source.data, dict) else {}
    for index, raw in enumerate(data.get("note_types") or ()):
        if isinstance(raw, dict):
            found.note_types.append(_declared(source, index, raw, found))


def _declared(
    source: LoadedSource, index: int, raw: dict[str, Any], found: DeclaredNoteTypes
) -> DeclaredNoteType:
    base: PathKey = ("note_types", index)
    files: list[Path] = []

    def text(
        inline: str, file_key: str, path: PathKey, holder: Mapping[str, Any]
    ) -> tuple[str, TextPlace]:
        if file_key in holder and isinstance(holder[file_key], str):
            where = (*path, file_key)
            what = "CSS file" if inline == "css" else "template file"
            target = _file_named(source, where, holder[file_key], found, what=what)
            if target is None:
                return "", TextPlace(source, where)
            files.append(target)
            try:
                return target.read_text("utf-8"), TextPlace(source, where, target)
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or "it is not UTF-8 text"
                found.problems.append(
                    source.problem(
                        source.mark_of_value(where),
                        f"cannot read '{shorten(holder[file_key])}': {reason}",
                        "io.read",
                    )
                )
                return "", TextPlace(source, where)
        value = holder.get(inline)
        return (value if isinstance(value, str) else ""), TextPlace(source, (*path, inline))

    templates: list[tuple[str, str, str]] = []
    places: list[tuple[TextPlace, TextPlace]] = []
    for position, template in enumerate(raw.get("templates") or ()):
        if not isinstance(template, dict):
            continue
        path = (*base, "templates", position)
        front, front_place = text("front", "front_file", path, template)
        back, back_place = text("back", "back_file", path, template)
        templates.append((str(template.get("name", "")), front, back))
        places.append((front_place, back_place))
    css, css_place = text("css", "css_file", base, raw)
    found.files += files
    return DeclaredNoteType(
        raw=raw,
        source=source,
        index=index,
        templates=tuple(templates),
        places=tuple(places),
        css=css,
        css_place=css_place,
        files=tuple(files),
    )


def mark_of(note_type: DeclaredNoteType, *key: Any) -> Mark:
    """Where something of a declaration was written, in the YAML file declaring it."""
    return note_type.source.mark_of_value((*note_type.path, *key))


def field_names(raw: Mapping[str, Any]) -> list[str]:
    """A declaration's field names, in order (a field is a name or an object with one)."""
    names = []
    for item in raw.get("fields") or ():
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str):
            names.append(name)
    return names


def field_options(raw: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each field's name and its options as written (empty for a field given by name only)."""
    for item in raw.get("fields") or ():
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            yield item["name"], item
        elif isinstance(item, str):
            yield item, {}
