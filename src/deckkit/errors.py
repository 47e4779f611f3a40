"""Every error deckkit raises on purpose, under one base class, :class:`DeckkitError`.

Bad card sources are never errors: they are :class:`~deckkit.problems.Problem` values in a result.
These are for requests that cannot be carried out. Their messages say what is wrong in the
library's terms (``frozen``, ``output_dir``); the command line adds which option to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class DeckkitError(Exception):
    """Something deckkit was asked to do cannot be done; ``str()`` says why, for people."""


class UsageError(DeckkitError):
    """The request itself is impossible (the command line's exit status 2)."""


class OutputFolderError(UsageError):
    """The output folder cannot be used: a file, not writable, inside the sources, or holding
    files that deckkit did not write."""


class LockfileError(UsageError):
    """The lockfile cannot be read or is not a deckkit lockfile."""


class CannotImport(UsageError):
    """The input cannot be imported as asked: unreadable, of an unknown format, or needing the
    ``anki`` package that is not installed."""


class UnknownImportFormat(CannotImport):
    """The input's format cannot be told from its name; name it explicitly."""


class InputTooLarge(UsageError):
    """An input holds more than deckkit's cap for it (:mod:`deckkit.budgets`); the message names
    the environment variable that raises the cap."""


class InvalidBudget(UsageError):
    """An environment variable meant to raise one of deckkit's caps is not a number."""


class LockfileTooLarge(LockfileError, InputTooLarge):
    """The lockfile is larger than the lockfile cap."""


class ImportTooLarge(CannotImport, InputTooLarge):
    """The file to import holds more than one of the import caps allows: too many bytes, notes,
    media files, or a package that unpacks to too much."""


class TargetExists(CannotImport):
    """An import would replace files that already exist in the output folder."""

    def __init__(self, message: str, paths: Sequence[Path]) -> None:
        super().__init__(message)
        self.paths = tuple(paths)


class LockOutdated(DeckkitError):
    """A ``frozen`` build found that the sources changed but the lockfile was not updated;
    nothing was written."""

    def __init__(self, lockfile: Path, changed: Sequence[str]) -> None:
        shown = ", ".join(changed[:10])
        if len(changed) > 10:
            shown += f" and {len(changed) - 10} more"
        super().__init__(f"{lockfile} is out of date with the sources ({shown})")
        self.lockfile = lockfile
        self.changed = list(changed)


class ClockBehind(DeckkitError):
    """The build's clock reads earlier than times the lockfile already holds: notes changed now
    would look older than earlier builds' notes, and Anki would skip them; nothing was written."""

    def __init__(self, lockfile: Path, now: int, newest: int) -> None:
        super().__init__(
            f"the clock reads {_utc(now)}, earlier than the newest time in {lockfile} "
            f"({_utc(newest)}): a note changed now would look older than it is, and Anki would "
            "skip it in learners' collections; set the system clock (or SOURCE_DATE_EPOCH) right"
        )
        self.lockfile = lockfile
        self.now = now
        self.newest = newest


def _utc(seconds: int) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


__all__ = [
    "CannotImport",
    "ClockBehind",
    "DeckkitError",
    "ImportTooLarge",
    "InputTooLarge",
    "InvalidBudget",
    "LockOutdated",
    "LockfileError",
    "LockfileTooLarge",
    "OutputFolderError",
    "TargetExists",
    "UnknownImportFormat",
    "UsageError",
]
