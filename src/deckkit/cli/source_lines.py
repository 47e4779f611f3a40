"""The line a problem points at, with a caret under its column, as compilers print it:

    sources/git.yaml:6:11: error: YAML syntax error: an unquoted value cannot start with '{' …
        6 |     text: {{c1::Snapshots}} are cheap
          |           ^

Only the text format shows it (json and github stay what programs read). The line is a
stranger's text: a character a terminal would obey is shown as its escape (``\\x1b``), as every
line deckkit prints (:mod:`deckkit.cli.terminal`), and so is a tab, which would move the caret;
the caret is placed under the column by the width each character takes on a terminal (two
columns for a CJK character, none for a combining accent). A long line is cut around the column.
"""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

from deckkit.cli.terminal import safe_line
from deckkit.problems import Problem

_AROUND = 60  # characters shown on each side of the column in a long line
_GUTTER = 5  # width of the line number


class SourceLines:
    """The lines of the files problems point at, each file read once (None: not shown, being
    unreadable, not UTF-8 text, or not a file)."""

    def __init__(self) -> None:
        self._files: dict[str, list[str] | None] = {}

    def excerpt(self, problem: Problem) -> list[str]:
        """The two lines that show where ``problem`` is, or none when its line cannot be shown."""
        if problem.path not in self._files:
            self._files[problem.path] = _read_lines(Path(problem.path))
        lines = self._files[problem.path]
        if lines is None or not 1 <= problem.line <= len(lines):
            return []
        text = lines[problem.line - 1]
        if not text.strip():
            return []
        shown, caret_at = _shown_around(text, problem.column - 1)
        return [
            f"{problem.line:>{_GUTTER}} | {shown}",
            f"{'':>{_GUTTER}} | {' ' * caret_at}^",
        ]


def _read_lines(path: Path) -> list[str] | None:
    from deckkit.sources.loader import MAX_SOURCE_BYTES  # here: a clean build never loads YAML

    try:
        # Not a regular file (a FIFO would block), or larger than a source is read: not shown.
        if not path.is_file() or path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        raw = path.read_bytes()
        text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except (OSError, ValueError):  # ValueError: not UTF-8, or a path that cannot be opened
        return None
    if "\x00" in text:
        return None  # a binary file (a package): nothing a person could read
    return text.splitlines()


def _shown_around(text: str, index: int) -> tuple[str, int]:
    """The part of ``text`` shown around character ``index`` (made safe), and the terminal
    column of that character in it."""
    index = max(0, min(index, len(text)))
    start = max(0, index - _AROUND)
    end = min(len(text), index + _AROUND)
    before = ("…" if start else "") + _safe(text[start:index])
    after = _safe(text[index:end]) + ("…" if end < len(text) else "")
    return before + after, _width(before)


def _safe(text: str) -> str:
    return safe_line(text).replace("\t", "\\t")


def _width(text: str) -> int:
    """How many terminal columns ``text`` takes."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


__all__ = ["SourceLines"]
