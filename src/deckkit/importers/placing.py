"""Where each file of a package no field refers to is listed, so that every file is kept.

Anki keeps the files whose names start with ``_`` for the templates and CSS that load them
(scripts, stylesheets, fonts) and makes ``latex-<sha1>.png`` images from the LaTeX in fields;
neither is referred to from a field. A ``_`` file goes under the ``media`` of the note types
whose templates or CSS name it (every deck declaring one packs it); every other such file (LaTeX
images, one no note type names, one the package carried for nothing) under the top-level
``media`` of one deck: the first of the least nested ones, the parent of the others. References
to files the package lacks go under each deck's ``missing_media``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deckkit.importers.flat_media import FlatMedia, template_media
from deckkit.importers.kept import Kept
from deckkit.importers.types import NoteTypeInfo

# Anki's Check Media keeps files whose names start with this, for templates to load.
TEMPLATE_FILE_PREFIX = "_"


def place_media(
    flat: FlatMedia | None, decks: Sequence[dict[str, Any]], kept: Sequence[Sequence[Kept]]
) -> dict[NoteTypeInfo, list[str]]:
    """List every unreferenced file and every missing one in the decks' data (``decks``, in
    order, with the note types each declares in ``kept``); the media of each kept note type."""
    if flat is None or not decks:
        return {}
    unreferenced = flat.unreferenced()
    for_templates = {name for name in unreferenced if name.startswith(TEMPLATE_FILE_PREFIX)}
    by_note_type: dict[NoteTypeInfo, list[str]] = {}
    named: set[str] = set()
    for info in dict.fromkeys(k.info for declared in kept for k in declared):
        texts = [*(side for template in info.templates for side in template), info.css]
        loaded = template_media(texts, for_templates)
        if loaded:
            by_note_type[info] = [flat.relative(name) for name in loaded]
            named.update(loaded)
    rest = [flat.relative(name) for name in unreferenced if name not in named]
    if rest:
        home = min(range(len(decks)), key=lambda i: str(decks[i]["deck"]).count("::"))
        decks[home]["media"] = rest
    for data in decks:
        missing = flat.missing.get(str(data["deck"]))
        if missing:
            data["missing_media"] = list(missing)
    return by_note_type
