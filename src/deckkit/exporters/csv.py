"""Anki text-import CSV export (Anki 2.1.55 and later).

Format: https://docs.ankiweb.net/importing/text-files.html
- UTF-8, comma-separated, every field quoted (``""`` inside), so commas, quotes, tabs and
  newlines in fields survive and a GUID starting with ``#`` is not read as a comment line.
- Header lines ``#separator``, ``#html``, ``#guid column``, ``#notetype column``,
  ``#deck column`` and ``#tags column`` make File > Import map every column by itself.
- Rows carry the same GUIDs as the .apkg, so importing updates notes instead of duplicating them.
- A CSV import cannot create note types: the .apkg must be imported first.
- Rows are padded with empty fields to the widest note type used.
"""

from __future__ import annotations

import csv
from pathlib import Path

from deckkit.model import Deck
from deckkit.notetypes import note_type_for
from deckkit.stamps import Stamps

HEADER = (
    "#separator:Comma",
    "#html:true",
    "#guid column:1",
    "#notetype column:2",
    "#deck column:3",
    "#tags column:4",
)


def csv_rows(deck: Deck) -> list[list[str]]:
    """One row per note: GUID, note type, deck, tags, then the fields."""
    rows = [
        [
            card.guid,
            note_type_for(card.type, card.note_type).name,
            deck.name,
            " ".join(card.tags),
            *fields,
        ]
        for card, fields in zip(deck.cards, deck.fields, strict=True)
    ]
    width = max((len(row) for row in rows), default=0)
    return [row + [""] * (width - len(row)) for row in rows]


def write_csv(deck: Deck, target: Path, _stamps: Stamps | None = None) -> None:
    """Write ``deck`` as an Anki-importable CSV file to ``target``."""
    with target.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\n".join(HEADER) + "\n")
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerows(csv_rows(deck))
