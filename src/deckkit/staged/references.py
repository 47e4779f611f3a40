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
from deckkit.sources.loader import LoadedSource, Mark, PathKey, load_source
from deckkit.sources.markdown_fields import (
    card_uses_markdown,
    deck_uses_markdown,
    may_hold_markup,
    shown_html,
)


def references_to(source_path: Path, target: Path, *, markdown: bool = False) -> list[Mark]:
    """The positions in the source at ``source_path`` whose value names the file ``target``
    (both in the same folder tree; ``target`` need not exist): a media reference in a text (in
    the HTML a Markdown field becomes; ``markdown``: the project's default), or a whole value
    that is the file's name relative to the source (a template, a note-type file). Empty
    without reading the source when its text cannot name it."""
    try:
        raw = source_path.read_bytes()
    except OSError:
        return []
    name = target.name
    if name.encode() not in raw and quote(name).encode() not in raw:
        return []
    source = load_source(source_path, markdown=markdown)
    folder = source_path.parent.resolve()
    wanted = target.resolve()
    return [
        source.mark_of_value(path)
        for path, text in _texts(source.data)
        if any(
            _names(candidate, folder, wanted)
            for candidate in _named_files(text, markdown=_is_markdown(source, path))
        )
    ]


def _named_files(text: str, *, markdown: bool) -> Iterator[str]:
    """The file names a text may give: each media reference's (in its HTML, for Markdown: an
    image written '![](media/x.png)'), and the whole text."""
    yield text
    html = shown_html(text, markdown) if markdown and may_hold_markup(text) else text
    for reference in media_references(html):
        yield reference.name


def _is_markdown(source: LoadedSource, path: PathKey) -> bool:
    """Whether the text at ``path`` is Markdown: the deck's description or a card's text, where
    the deck, the card or the project says so (as the build reads them)."""
    data = source.data
    if not isinstance(data, dict) or not path:
        return False
    deck_markdown = deck_uses_markdown(source)
    if path == ("description",):
        return deck_markdown
    cards, index = data.get("cards"), path[1] if len(path) > 2 else None
    if path[0] != "cards" or not isinstance(index, int) or not isinstance(cards, list):
        return False
    card = cards[index]
    return isinstance(card, dict) and card_uses_markdown(source, card, deck_markdown)


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
