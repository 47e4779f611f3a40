"""One note type id, one note type: several files may declare the same Anki note type only if
they declare it the same way.

A learner's collection holds one note type per id, and deckkit.lock one time per id. Two decks
shipping different versions of one note type would each overwrite the other's templates in every
learner's collection on import, and move its time at every build. So ``deckkit validate`` and
``deckkit build`` refuse it (``check.conflicting-note-type``), naming both places. One declaration
read by several decks (from a note-type file they share) is one declaration, not a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from deckkit.model import anki_note_type
from deckkit.notetypes import original_note_type
from deckkit.problems import Problem, display_path, shorten
from deckkit.sources.declared import declared_note_types
from deckkit.sources.loader import LoadedSource, load_source

# A declaration as the cross-file check sees it: the note type's id, the fingerprint of what Anki
# stores for it (NoteType.fingerprint), its name, and where it is: the declaring file and its
# position under that file's `note_types`. Plain values, so that the build cache can keep them.
NoteTypeAnchor = tuple[int, str, str, str, int]


def note_type_anchors(source: LoadedSource) -> list[NoteTypeAnchor]:
    """Each note type a valid source declares, or reads from the note-type files it names."""
    anchors: list[NoteTypeAnchor] = []
    for declared in declared_note_types(source).note_types:
        anki = anki_note_type(declared)
        fingerprint = original_note_type(anki).fingerprint()
        path = str(declared.source.path.resolve())
        anchors.append((anki.id, fingerprint, anki.name, path, declared.index))
    return anchors


def conflicting_note_types(anchors: Iterable[NoteTypeAnchor]) -> list[Problem]:
    """A problem at every declaration of a note type id that an earlier one (by file and place)
    declares differently."""
    unique = {(anchor[3], anchor[4]): anchor for anchor in anchors}
    first: dict[int, NoteTypeAnchor] = {}
    problems: list[Problem] = []
    for _place, anchor in sorted(unique.items()):
        earlier = first.setdefault(anchor[0], anchor)
        if earlier[1] != anchor[1]:
            problems.append(_conflict(anchor, earlier))
    return problems


def conflicting_declarations(sources: Iterable[LoadedSource]) -> list[Problem]:
    """``conflicting_note_types`` of every declaration the (valid) sources see."""
    return conflicting_note_types(a for source in sources for a in note_type_anchors(source))


def _conflict(anchor: NoteTypeAnchor, earlier: NoteTypeAnchor) -> Problem:
    note_type_id, _fingerprint, name, _path, _index = anchor
    other_display, other_line, other_column = _place(earlier)
    display, line, column = _place(anchor)
    message = (
        f"note type id {note_type_id} ('{shorten(name)}') is declared differently at "
        f"{other_display}:{other_line}:{other_column} ('{shorten(earlier[2])}'); learners have one "
        "note type per id, so every deck must declare it the same way: keep one declaration in "
        "a note-type file that the decks name in note_type_files, or give one of them another "
        "id and name"
    )
    return Problem(display, line, column, message, "check.conflicting-note-type")


def _place(anchor: NoteTypeAnchor) -> tuple[str, int, int]:
    """Where a declaration is: its `id` (or, without one, the declaration itself).

    The file is read again, with every position, only when there is a conflict to report. Its
    path may come from the build cache, which may be damaged: only a regular file is read (never
    a FIFO or a device a hostile cache could name), else the problem is at its first line.
    """
    path, index = Path(anchor[3]), anchor[4]
    if not path.is_file():
        return display_path(path), 1, 1
    mark = load_source(path).mark_of_value(("note_types", index, "id"))
    return display_path(path), mark.line, mark.column
