"""The progress bar of large builds: on stderr, and only when it is a terminal (not under -q).

The bar fills by the sources' bytes, the one measure known before any deck is read, and names the
cards built: a deck built in this process moves it at each of its steps (read, modelled, each
output written: ``on_step``), so that one big deck fills it gradually instead of jumping from
empty to full; decks built in worker processes move it as each one is done (``on_deck``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from deckkit.cli.terminal import echo, redraw
from deckkit.pipeline import DeckStep, DeckSummary

PROGRESS_MIN_BYTES = 1_000_000  # about 5,000 cards; smaller builds finish before a bar helps


class ProgressBar:
    """Cards built so far; hand ``start``, ``step`` and ``advance`` to the build as callbacks,
    and ``close`` it when the build ends, however it ends."""

    WIDTH = 30

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled  # not under -q
        self.sizes: dict[Path, int] = {}
        self.total = 0  # bytes of all sources
        self.done = 0  # bytes of the sources built
        self.partial = 0.0  # bytes' worth of the deck being built in this process
        self.cards = 0  # cards of the decks built
        self.shown = False

    def start(self, sources: list[Path]) -> None:
        """Show the bar if the sources are large enough to make a build take a while."""
        self.sizes = {path: path.stat().st_size for path in sources}
        size = sum(self.sizes.values())
        if self.enabled and sys.stderr.isatty() and size >= PROGRESS_MIN_BYTES:
            self.total = size
            self.shown = True
            decks = f"{len(sources)} deck{'' if len(sources) == 1 else 's'}"
            self._draw(f"building {decks} from {size / 1e6:.1f} MB of sources")

    def step(self, step: DeckStep) -> None:
        """A step of a deck built in this process: part of its share of the bar."""
        self.partial = step.done * self.sizes.get(step.source, 0)
        if self.shown:
            built = f"{self.cards:,} cards built; " if self.cards else ""
            self._draw(f"{built}{step.source.name} ({step.cards:,} cards): {step.step}")

    def advance(self, deck: DeckSummary) -> None:
        """One more deck built."""
        self.done += self.sizes.get(deck.source, 0)
        self.partial = 0.0
        self.cards += deck.notes
        if self.shown:
            self._draw(f"{self.cards:,} cards built ({deck.id})")

    def close(self) -> None:
        """End the bar's line, so that what is printed next starts on a line of its own."""
        if self.shown:
            echo("", err=True)

    def _draw(self, note: str) -> None:
        filled = int(self.WIDTH * min(1.0, (self.done + self.partial) / max(self.total, 1)))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        redraw(f"[{bar}] {note}")


__all__ = ["PROGRESS_MIN_BYTES", "ProgressBar"]
