"""An input file's text, or an error that says why it cannot be read."""

from __future__ import annotations

from pathlib import Path

from deckkit.errors import CannotImport


def read_text(path: Path) -> str:
    """The file's text: UTF-8, with or without a byte order mark."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CannotImport(
            f"{path} is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from error
    except OSError as error:
        raise CannotImport(f"cannot read {path}: {error.strerror}") from error
