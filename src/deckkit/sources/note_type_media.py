"""Checks of the media a deck packs besides its fields' own: the files its note types' templates
and CSS load (``media`` of a note type) and the deck's other files (``media`` of the deck).

Each listed file must be one inside the folder of the YAML file listing it (the one path rule:
:func:`deckkit.fieldtext.media.reference_problem`). They are packed under their own names, and
Anki keeps media in one flat folder: two different files under one name would be one file there.
A template media's name should start with ``_``: Anki's Check Media deletes files that no field
refers to, except those (https://docs.ankiweb.net/templates/styling.html#installing-fonts). A
template or CSS loading a local file that is not listed would show nothing to learners who do not
have it already. A deck kept ``exactly_as_written`` packs its media under the names its fields
give them: a name Anki would store otherwise (:func:`deckkit.filenames.anki_media_name`) is
renamed by Anki on import, and the fields naming it rewritten.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from deckkit.cardtypes import LIST_KEYS, TEXT_KEYS
from deckkit.fieldtext.media import (
    FLAT_MEDIA_FOLDER,
    file_in_folder,
    is_url,
    media_references,
    reference_problem,
    resolve_reference,
)
from deckkit.filenames import anki_media_name
from deckkit.problems import Problem, shorten
from deckkit.sources.declared import DeclaredNoteType, mark_of
from deckkit.sources.loader import LoadedSource, Mark, PathKey
from deckkit.sources.note_type_view import View, cards_of, local_loads

_PER_NOTE_TYPE = 10  # unlisted files reported per note type


@dataclass(frozen=True)
class _Listing:
    """A file packed under a name, and where it was first listed or referred to."""

    target: Path
    written: str  # as it was listed (or referred to)
    source: LoadedSource
    mark: Mark


Packed = dict[str, _Listing]  # by the name each file is packed under


def check_media_of_note_types(view: View) -> Iterator[Problem]:
    """The deck's ``media`` and its note types' ``media``: each file there, none two under one
    name, template media named with '_', every local file a template loads listed."""
    source = view.source
    packed: Packed = {}
    deck_listed: set[str] = set()
    entries = source.data.get("media")
    for position, entry in enumerate(entries if isinstance(entries, list) else ()):
        where = ("media", position)
        found = yield from _listed(source, where, source.mark_of_value(where), entry, packed)
        if found is not None:
            deck_listed.add(found)
    for note_type in view.declared.note_types:
        listed = set(deck_listed)
        for position, entry in enumerate(note_type.raw.get("media") or ()):
            mark = mark_of(note_type, "media", position)
            place = (*note_type.path, "media", position)
            found = yield from _listed(note_type.source, place, mark, entry, packed)
            if found is None:
                continue
            listed.add(found)
            if not found.startswith("_"):
                yield note_type.source.problem(
                    mark,
                    f"template media '{shorten(found)}' does not start with '_': Anki's Check "
                    "Media deletes files no field refers to, unless their names start with '_'; "
                    f"rename it '_{shorten(found)}' (and where the templates load it)",
                    "check.template-media-name",
                    "warning",
                )
        yield from _unlisted(note_type, listed)
    if source.data.get("exactly_as_written") is True:
        yield from _field_media(source, packed)
        yield from _anki_names(source, packed)


def _listed(
    source: LoadedSource, where: PathKey, mark: Mark, entry: Any, packed: Packed
) -> Generator[Problem, None, str | None]:
    """The problems of one listed file; returns the name it is packed under (None: not packed)."""
    if not isinstance(entry, str):
        return None  # the schema reports it
    folder = source.path.parent
    found = reference_problem(entry, folder)
    if found is not None:
        message, code = found
        yield source.problem(mark, message, code)
        return None
    target = resolve_reference(entry, folder)
    yield from _clash(_Listing(target, entry, source, mark), packed)
    return target.name


def _clash(listing: _Listing, packed: Packed, name: str | None = None) -> Iterator[Problem]:
    name = name or listing.target.name
    first = packed.setdefault(name, listing)
    if first.target != listing.target and not _same_bytes(first.target, listing.target):
        yield listing.source.problem(
            listing.mark,
            f"'{shorten(listing.written)}' and '{shorten(first.written)}' (at "
            f"{first.source.display}:{first.mark.line}) are different files packed under one "
            f"name, '{shorten(name)}': Anki keeps media in one folder, where one would replace "
            "the other; rename one of them",
            "check.media-name-clash",
        )


def _same_bytes(one: Path, other: Path) -> bool:
    try:
        return one.stat().st_size == other.stat().st_size and one.read_bytes() == other.read_bytes()
    except OSError:
        return False


def _unlisted(note_type: DeclaredNoteType, listed: set[str]) -> Iterator[Problem]:
    reported: set[str] = set()
    for side, finding in local_loads(note_type):
        name = unquote(finding.url.split("#")[0].split("?")[0]).removeprefix("./")
        if name in listed or name in reported:
            continue
        if len(reported) >= _PER_NOTE_TYPE:
            return
        reported.add(name)
        folders = (
            f"; Anki's media folder has no folders: refer to it as '{shorten(Path(name).name)}'"
            if "/" in name
            else ""
        )
        yield side.problem(
            finding.start,
            f"{side.where} loads '{shorten(finding.url)}' ({finding.what}), which is not in its "
            f"media: list the file under the note type's media, so that it is packed and Anki "
            f"finds it in its media folder{folders}",
            "check.template-media-unlisted",
            "warning",
        )


def _references(source: LoadedSource) -> Iterator[tuple[PathKey, str]]:
    """Each media reference of a deck's description and cards, with where it is written."""
    texts: list[tuple[PathKey, Any]] = [(("description",), source.data.get("description"))]
    for index, card in cards_of(source):
        for key, value in card.items():
            if key in TEXT_KEYS:
                texts.append((("cards", index, key), value))
            elif key in LIST_KEYS and isinstance(value, list):
                texts += [(("cards", index, key, i), item) for i, item in enumerate(value)]
            elif key == "fields" and isinstance(value, dict):
                texts += [(("cards", index, key, name), text) for name, text in value.items()]
    for path, text in texts:
        if isinstance(text, str):
            for reference in media_references(text):
                if not is_url(reference.name):
                    yield path, reference.name


def _field_media(source: LoadedSource, packed: Packed) -> Iterator[Problem]:
    """A deck written as Anki had it packs its fields' files under the names they give."""
    folder = source.path.parent / FLAT_MEDIA_FOLDER
    seen: set[str] = set()
    for path, name in _references(source):
        if name in seen:
            continue
        seen.add(name)
        target = file_in_folder(name, folder)
        if target is not None:
            listing = _Listing(target, name, source, source.mark_of_value(path))
            yield from _clash(listing, packed, name)


def _anki_names(source: LoadedSource, packed: Packed) -> Iterator[Problem]:
    first = {name: path for path, name in reversed(list(_references(source)))}
    found = [(name, listing.source, listing.mark) for name, listing in packed.items()]
    found += [(n, source, source.mark_of_value(p)) for n, p in first.items() if n not in packed]
    for name, where, mark in found:
        stored = anki_media_name(name)
        if stored == name:
            continue
        yield where.problem(
            mark,
            f"Anki stores the media file '{shorten(name)}' as '{shorten(stored)}' (it leaves out "
            "characters some systems refuse and cuts names to 120 bytes), and rewrites the "
            "fields naming it, so learners' fields differ from the source; rename the file and "
            f"its references to '{shorten(stored)}'",
            "check.media-name-changed",
            "warning",
        )
