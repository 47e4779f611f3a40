"""Where staged sources name a file that the commit would leave out (untracked) or hold in
another version than the author sees (changes not staged): media in a field, a template, a
styling or a note-type file named by a deck.

Only the few files git reports so are looked for, and only in the sources whose text holds
their name, so that the common commit, where git reports none, reads no source here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from deckkit.fieldtext.media import FLAT_MEDIA_FOLDER, file_name_candidates, media_references
from deckkit.sources.loader import Mark, PathKey, load_source


def references_to(source_path: Path, target: Path) -> list[Mark]:
    """The positions in the source at ``source_path`` whose value names the file ``target``
    (both in the same folder tree; ``target`` need not exist): a media reference in a text, or
    a whole value that is the file's name relative to the source (a template, a note-type
    file). Empty without reading the source when its text cannot name it."""
    try:
        raw = source_path.read_bytes()
    except OSError:
        return []
    name = target.name
    if name.encode() not in raw and quote(name).encode() not in raw:
        return []
    source = load_source(source_path)
    folder = source_path.parent.resolve()
    wanted = target.resolve()
    return [
        source.mark_of_value(path)
        for path, text in _texts(source.data)
        if any(_names(candidate, folder, wanted) for candidate in _named_files(text))
    ]


def _named_files(text: str) -> Iterator[str]:
    """The file names a text may give: each media reference's, and the whole text."""
    yield text
    for reference in media_references(text):
        yield reference.name


def _names(name: str, folder: Path, wanted: Path) -> bool:
    """Whether ``name``, in any spelling deckkit reads it, is the file ``wanted`` of a source in
    ``folder`` (or of its flat media folder, for a deck written exactly as Anki had it)."""
    if len(name) > 4096 or "\0" in name:
        return False
    for spelling in file_name_candidates(name):
        for base in (folder, folder / FLAT_MEDIA_FOLDER):
            try:
                if (base / spelling).resolve() == wanted:
                    return True
            except (OSError, ValueError):
                continue
    return False


def _texts(data: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, str]]:
    """Every text in a source's data, with its path."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _texts(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _texts(value, (*path, index))


__all__ = ["references_to"]
