"""How ``card_decks`` names a note's Anki cards: as Anki's browser names them (its "Card" column).

A standard note type's card is named after the template that makes it ("Writing"); a cloze note
type has one template and a card per deletion number, named "<template> <number>" ("Cloze 2"):
rslib/src/browser_table.rs, ``NotetypeKind::Cloze => format!("{} {}", name, template_idx + 1)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CLOZE_CARD = re.compile(r"(.*) ([1-9][0-9]{0,3})")  # Anki numbers deletions up to c9999


def card_ordinal(name: str, templates: Sequence[str], *, cloze: bool) -> int | None:
    """The ordinal (from 0) of the card ``name`` names, or None when the note type makes none of
    that name (``templates``: the note type's template names, in order)."""
    if not cloze:
        return templates.index(name) if name in templates else None
    match = _CLOZE_CARD.fullmatch(name)
    if match is None or not templates or match.group(1) != templates[0]:
        return None
    return int(match.group(2)) - 1


def card_name(ordinal: int, templates: Sequence[str], *, cloze: bool) -> str | None:
    """The name of the card of ``ordinal``, or None when the note type makes no such card."""
    if cloze:
        return f"{templates[0]} {ordinal + 1}" if templates and ordinal < 9999 else None
    return templates[ordinal] if ordinal < len(templates) else None
