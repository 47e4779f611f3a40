"""Budgets: how much of a stranger's input deckkit reads, all in one place.

Packages, text exports and lockfiles come from other people, and a build folder's cache can be
damaged. Each is read only when it is a regular file (a FIFO, a device or a link to one is refused
unread: it could block forever or never end) and only up to a cap decided *before* reading, so
that a small file cannot make deckkit fill the memory or the disk (a 586-byte package can unpack
to 4 GB). Going over a cap is one clear refusal, :class:`~deckkit.errors.InputTooLarge` (a usage
error), naming the cap and the environment variable that raises it, for example
``DECKKIT_MAX_MEDIA_BYTES=8G deckkit import big-deck.apkg``.

Environment variables rather than options of each command or function: the same caps then guard
every way in (``deckkit import``, ``deckkit build`` reading a lockfile, the library) and the
worker processes a build starts, and the person who meets one is told its name in the refusal.
They take a whole number, for bytes with an optional ``K``, ``M`` or ``G`` (powers of 1024).

Where Anki has a limit of its own, the default is Anki's: AnkiWeb syncs no media file over
100 MB and no collection over 300 MB (``MAX_INDIVIDUAL_MEDIA_FILE_SIZE`` and
``MAXIMUM_SYNC_PAYLOAD_BYTES_UNCOMPRESSED`` in Anki's ``rslib/src/sync``), so a larger one cannot
come from a deck anyone shares through Anki.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from deckkit.errors import DeckkitError, InvalidBudget

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

_SIZE = re.compile(r"(?P<number>[0-9]{1,15})\s*(?P<unit>[KMG]?)(?:I?B)?", re.IGNORECASE)
_UNITS = {"": 1, "K": KIB, "M": MIB, "G": GIB}


@dataclass(frozen=True)
class Budget:
    """A cap on one kind of input: ``default``, unless the environment variable says otherwise."""

    what: str  # what is capped, as a refusal says it: "a lockfile"
    default: int
    variable: str | None = None  # None: a cap nobody should need to raise
    unit: str = "bytes"  # or what is counted: "notes", "files"

    def cap(self) -> int:
        """The cap in force: the environment variable's value, or the default."""
        raw = os.environ.get(self.variable, "") if self.variable else ""
        if not raw.strip():
            return self.default
        match = _SIZE.fullmatch(raw.strip())
        if match is None or (match["unit"] and self.unit != "bytes"):
            example = "500M" if self.unit == "bytes" else "500000"
            raise InvalidBudget(f"{self.variable}={raw!r} is not a number (like {example})")
        return int(match["number"]) * _UNITS[match["unit"].upper()]

    def shown(self, amount: int) -> str:
        """An amount of this budget's unit, for people: "64 MiB", "200,000 notes"."""
        if self.unit != "bytes":
            return f"{amount:,} {self.unit}"
        for size, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
            if amount >= size:
                return f"{amount / size:.3g} {name}"
        return f"{amount:,} bytes"

    def refusal(self, subject: str, *, verb: str = "holds", found: int | None = None) -> str:
        """One line: ``subject`` ``verb`` more than the cap (``found``, when known), and how to
        raise the cap."""
        amount = f"{self.shown(found)}, " if found is not None else ""
        cap = self.shown(self.cap())
        line = f"{subject} {verb} {amount}more than {cap}, deckkit's cap for {self.what}"
        return f"{line}; set {self.variable} to raise it" if self.variable else line


# The caps. Raising one is for a file you trust; the defaults fit any deck Anki itself shares.
TEXT_EXPORT = Budget("a text export", 64 * MIB, "DECKKIT_MAX_TEXT_BYTES")
# A note costs deckkit a few kilobytes of memory while importing, whatever its size in the file.
NOTES = Budget("one import", 200_000, "DECKKIT_MAX_NOTES", unit="notes")
COLLECTION = Budget("an Anki collection", 300 * MIB, "DECKKIT_MAX_COLLECTION_BYTES")
MEDIA_FILE = Budget("one media file", 100 * MIB, "DECKKIT_MAX_MEDIA_FILE_BYTES")
MEDIA = Budget("a package's media", 2 * GIB, "DECKKIT_MAX_MEDIA_BYTES")
MEDIA_FILES = Budget("a package's media", 200_000, "DECKKIT_MAX_MEDIA_FILES", unit="files")
# The small parts of a package that Anki reads into memory whole: its version, its media list.
PACKAGE_INDEX = Budget("a package's index", 64 * MIB)
LOCKFILE = Budget("a lockfile", 64 * MIB, "DECKKIT_MAX_LOCKFILE_BYTES")  # 100,000 cards: 6 MB
# Over this the cache counts as damaged, which only costs a full build: nothing to raise.
CACHE = Budget("the build cache", 64 * MIB)

# Reads of a file go in pieces of this size, so that a file growing while read stays capped.
CHUNK = MIB


# Makes the error for a file that cannot be read, from the reason, which follows the file's name:
# "is a FIFO, not a regular file".
Refuse = Callable[[str], DeckkitError]


@contextmanager
def open_regular(path: Path, refuse: Refuse) -> Iterator[BinaryIO]:
    """``path`` opened for reading, if it is a regular file (links followed); otherwise
    ``refuse(reason)`` is raised without reading it. A FIFO is opened without waiting for a
    writer, so that even asking cannot hang."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise refuse(_unreadable(error)) from error
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise refuse(f"is {_kind(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with handle:
        yield handle


def read_capped(path: Path, budget: Budget, refuse: Refuse, *, too_large: Refuse) -> bytes:
    """The bytes of a regular file no larger than ``budget``: its size is checked before reading
    and again while reading (a file may grow). ``refuse`` is raised for a file that is not a
    regular file or cannot be read, ``too_large`` for one over the cap."""
    cap = budget.cap()
    with open_regular(path, refuse) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > cap:
            raise too_large(budget.refusal(str(path), found=size))
        try:
            data = handle.read(cap + 1)
        except OSError as error:
            raise refuse(_unreadable(error)) from error
    if len(data) > cap:
        raise too_large(budget.refusal(str(path)))
    return data


def read_head(path: Path, size: int, refuse: Refuse) -> bytes:
    """The first ``size`` bytes of a regular file."""
    with open_regular(path, refuse) as handle:
        try:
            return handle.read(size)
        except OSError as error:
            raise refuse(_unreadable(error)) from error


def _unreadable(error: OSError) -> str:
    return f"cannot be read ({error.strerror or error})"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something else"


__all__ = [
    "CACHE",
    "COLLECTION",
    "LOCKFILE",
    "MEDIA",
    "MEDIA_FILE",
    "MEDIA_FILES",
    "NOTES",
    "PACKAGE_INDEX",
    "TEXT_EXPORT",
    "Budget",
    "open_regular",
    "read_capped",
    "read_head",
]
