"""The progress bar of large builds: on stderr, and only when it is a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from deckkit.cli.terminal import echo, redraw
from deckkit.pipeline import DeckSummary

PROGRESS_MIN_BYTES = 1_000_000  # about 5,000 cards; smaller builds finish before a bar helps


class ProgressBar:
    """Decks built so far out of all; hand ``start`` and ``advance`` to the build as callbacks,
    and ``close`` it when the build ends, however it ends."""

    WIDTH = 30

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled  # not under -q
        self.total = 0
        self.done = 0
        self.cards = 0
        self.shown = False

    def start(self, sources: list[Path]) -> None:
        """Show the bar if the sources are large enough to make a build take a while."""
        size = sum(path.stat().st_size for path in sources)
        if self.enabled and sys.stderr.isatty() and size >= PROGRESS_MIN_BYTES:
            self.total = len(sources)
            self.shown = True
            self._draw(f"building {len(sources)} deck(s) from {size / 1e6:.1f} MB of sources")

    def advance(self, deck: DeckSummary) -> None:
        """One more deck built."""
        self.done += 1
        self.cards += deck.notes
        if self.shown:
            self._draw(f"{self.cards:,} cards ({deck.id})")

    def close(self) -> None:
        """End the bar's line, so that what is printed next starts on a line of its own."""
        if self.shown:
            echo("", err=True)

    def _draw(self, note: str) -> None:
        filled = self.WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        redraw(f"[{bar}] {self.done}/{self.total} {note}")


__all__ = ["PROGRESS_MIN_BYTES", "ProgressBar"]
