"""Ids for imported decks and cards: readable slugs, made unique; the ids a deckkit lockfile
gives back; the deck ids other sources in the output folder already take.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from deckkit.errors import CannotImport
from deckkit.filenames import portable_name
from deckkit.lockfile import read_lockfile
from deckkit.model import note_guid
from deckkit.sources.loader import load_source

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def slugify(text: str, *, fallback: str, limit: int = 60) -> str:
    """A readable id: ASCII letters and digits joined by '-', at most ``limit`` characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        cut = slug[:limit]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[limit // 2 :] else cut
        slug = slug.strip("-")
    slug = slug or fallback
    # A deck's id names its files (<id>.yaml, <id>.apkg): "con" or "aux" cannot be one on Windows.
    return slug if portable_name(slug) == slug else f"{slug}-deck"


class UniqueNames:
    """Names made unique among those already taken: ``base``, else ``base`` ``numbered`` from 2
    on (``base-2``, ``base-3``...), the first that is not taken.

    Each base remembers the number it got to, so that 40,000 cards with one term take 40,000
    steps, not 800 million: a taken name ``base-N`` stops the numbering of one base only, so
    every name is tried at most once across all bases.
    """

    def __init__(self, taken: Iterable[str] = (), *, numbered: str = "{base}-{number}") -> None:
        self.taken = set(taken)
        self.numbered = numbered
        self._next: dict[str, int] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.taken

    def add(self, name: str) -> None:
        """Take ``name`` as it is."""
        self.taken.add(name)

    def unique(self, base: str) -> str:
        """The first free name for ``base``, taken."""
        name = base
        if name in self.taken:
            number = self._next.get(base, 2)
            while (name := self.numbered.format(base=base, number=number)) in self.taken:
                number += 1
            self._next[base] = number + 1
        self.taken.add(name)
        return name


def existing_deck_ids(output_dir: Path) -> set[str]:
    """Deck ids of the sources already in a folder, but for files named after their id (an import
    of that deck would replace them, with ``force``)."""
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


def lockfile_ids(lockfile: Path) -> dict[str, tuple[str, str]]:
    """GUID → (deck id, card id) for every note of a deckkit lockfile (none when there is no
    lockfile yet: an import of a package makes one)."""
    if lockfile.exists() and not lockfile.is_file():
        raise CannotImport(f"lockfile {lockfile} is not a file")
    lock = read_lockfile(lockfile)
    return {
        note_guid(deck_id, card_id): (deck_id, card_id)
        for deck_id, cards in lock.notes.items()
        for card_id in cards
    }
