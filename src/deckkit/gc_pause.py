"""Pausing Python's cycle collector while deckkit allocates much: apart from the loader, so that a
build with nothing to do pauses it without loading YAML."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector: loading and building allocate millions of small objects and
    almost no cycles, and the collector would rescan them all again and again (it costs a third
    of a 100,000-card build). Nests; only the outermost pause turns it back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
