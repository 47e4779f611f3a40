"""An input file's text, or an error that says why it cannot be read.

Only a regular file is read, and only up to the text export cap
(:data:`deckkit.budgets.TEXT_EXPORT`), checked before reading.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from deckkit.budgets import TEXT_EXPORT, read_capped, read_head
from deckkit.errors import CannotImport, ImportTooLarge


def read_bytes(path: Path) -> bytes:
    """The file's bytes, if it is a regular file within the text export cap."""
    return read_capped(path, TEXT_EXPORT, _refusal(path), too_large=ImportTooLarge)


def read_text(path: Path) -> str:
    """The file's text: UTF-8, with or without a byte order mark."""
    return decode(path, read_bytes(path))


def read_start(path: Path, size: int) -> str:
    """The text of the file's first ``size`` bytes (a character cut at the end is dropped)."""
    return read_head(path, size, _refusal(path)).decode("utf-8-sig", errors="ignore")


def decode(path: Path, data: bytes) -> str:
    """``data`` read from ``path`` as UTF-8 text, with or without a byte order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CannotImport(
            f"{path} is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from error


def _refusal(path: Path) -> Callable[[str], CannotImport]:
    return lambda reason: CannotImport(f"{path} {reason}")
