"""How ``card_decks`` names a note's Anki cards: as Anki's browser names them (its "Card" column).

A standard note type's card is named after the template that makes it ("Writing"); a cloze note
type has one template and a card per deletion number, named "<template> <number>" ("Cloze 2"):
rslib/src/browser_table.rs, ``NotetypeKind::Cloze => format!("{} {}", name, template_idx + 1)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_CLOZE_CARD = re.compile(r"(.*) ([1-9][0-9]{0,3})", re.DOTALL)  # deletions up to c9999


@dataclass(frozen=True)
class CardNames:
    """The names of the cards a note type makes; made once per note type (a stranger's may have
    thousands of templates, named by thousands of cards)."""

    templates: tuple[str, ...]
    cloze: bool
    _ordinals: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordinals: dict[str, int] = {}
        for ordinal, name in enumerate(self.templates):
            ordinals.setdefault(name, ordinal)
        object.__setattr__(self, "_ordinals", ordinals)

    def ordinal(self, name: str) -> int | None:
        """The ordinal (from 0) of the card ``name`` names, or None when there is none."""
        if not self.cloze:
            return self._ordinals.get(name)
        match = _CLOZE_CARD.fullmatch(name)
        if match is None or not self.templates or match.group(1) != self.templates[0]:
            return None
        return int(match.group(2)) - 1

    def name(self, ordinal: int) -> str | None:
        """The name of the card of ``ordinal``, or None when the note type makes no such card."""
        if self.cloze:
            return f"{self.templates[0]} {ordinal + 1}" if self.templates else None
        return self.templates[ordinal] if ordinal < len(self.templates) else None


def card_names(templates: Sequence[str], *, cloze: bool) -> CardNames:
    """The card names of a note type with these template names."""
    return CardNames(tuple(templates), cloze)
