"""Files' SHA-256 digests, remembered by their state (size, times, inode) from build to build.

A build with nothing changed must still read every file a deck is made from to know that nothing
changed; hashing 100 sources, their media and the lockfile is most of such a build. So the cache
keeps, for each file, its digest beside the ``stat`` it had when it was read, and a later build
trusts that digest only while the file's size, modification time, change time, inode and device
are all the same. The change time (``st_ctime``) moves whenever a file is written or its times are
set (``os.utime``), and no program can set it back, so a file rewritten and given its old
modification time is still read again.

The "racy git" rule: a time stamp has a granularity (2 s on FAT, 1 s on some others), so a file
written within the same tick after it was read would keep its state. A state is remembered only
when the file's times were at least :data:`RACY_MARGIN_NS` older than the clock when it was read;
a file changed just before a build is read again by the next one.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path

from deckkit.budgets import CHUNK, open_regular
from deckkit.errors import DeckkitError

# A file whose times are this close to the clock when it was read is read again next time: twice
# the coarsest common time stamp (FAT's 2 s) would be safe; 3 s leaves room for a clock that
# moves a little between a file server and this machine.
RACY_MARGIN_NS = 3_000_000_000

MISSING = b"missing"  # what a file that is gone, or is not a regular file, hashes to

FileState = tuple[int, int, int, int, int]  # size, mtime ns, ctime ns, inode, device
FileRecord = tuple[int, int, int, int, int, str]  # a FileState and the digest (hex) it had


def file_state(status: os.stat_result) -> FileState:
    """What must stay the same for a remembered digest to hold."""
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, status.st_dev)


def settled(state: FileState, clock_ns: int) -> bool:
    """Whether a file in ``state``, read when the clock said ``clock_ns``, could not have been
    written again within the same time stamp after it was read (the racy rule)."""
    _size, mtime_ns, ctime_ns, _inode, _device = state
    return max(mtime_ns, ctime_ns) + RACY_MARGIN_NS <= clock_ns


class FileDigests:
    """Digests of files by path, reusing a remembered digest while the file's state holds."""

    def __init__(self, known: Mapping[str, FileRecord] | None = None) -> None:
        self._known = dict(known or {})
        self._seen: dict[str, FileRecord] = {}
        self._digests: dict[str, bytes] = {}

    def digest(self, path: Path) -> bytes:
        """The SHA-256 of a regular file (links followed); :data:`MISSING` for anything else."""
        name = str(path)
        if name in self._digests:
            return self._digests[name]
        found = self._digest(name)
        self._digests[name] = found
        return found

    def _digest(self, name: str) -> bytes:
        try:
            status = os.stat(name)
        except (OSError, ValueError):  # ValueError: a NUL in the name
            return MISSING
        if not stat.S_ISREG(status.st_mode):
            return MISSING  # a FIFO or a device is never read: the path may come from the cache
        state = file_state(status)
        known = self._known.get(name)
        if known is not None and known[:5] == state:
            self._seen[name] = known
            return bytes.fromhex(known[5])
        clock_ns = time.time_ns()
        found, after = _hash_file(name)
        if after == state and found != MISSING and settled(state, clock_ns):
            self._seen[name] = (*state, found.hex())
        return found

    def records(self) -> dict[str, FileRecord]:
        """What the next build may trust: the files looked up in this one whose state is settled."""
        return dict(self._seen)

    @property
    def learned(self) -> bool:
        """Whether the records differ from those this object started with."""
        return self._seen != self._known


def _hash_file(name: str) -> tuple[bytes, FileState | None]:
    """A regular file's digest and its state once read (None: it changed type or vanished)."""
    try:
        with open_regular(Path(name), _NotRegular) as handle:
            file_hash = hashlib.sha256()
            while chunk := handle.read(CHUNK):
                file_hash.update(chunk)
            return file_hash.digest(), file_state(os.fstat(handle.fileno()))
    except (OSError, ValueError, _NotRegular):
        return MISSING, None


class _NotRegular(DeckkitError):
    """A file asked for is not a regular file."""
