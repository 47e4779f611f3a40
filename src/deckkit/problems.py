"""Problems found in card sources: plain values, collected for every file.

How they are printed (text lines, one JSON document, GitHub annotations) is the command line's
business: see ``deckkit.cli.reporters``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one source file, at a 1-based line and column."""

    path: str
    line: int
    column: int
    message: str
    code: str
    severity: str = "error"

    def as_text(self) -> str:
        """The `path:line:column: error: message [code]` line editors and CI understand; the
        problem's one-line form, for people and for the command line's text reporter."""
        return (
            f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message} [{self.code}]"
        )


def shorten(text: str, limit: int = 60) -> str:
    """Text cut to ``limit`` characters with "…": a quoted value may be megabytes long."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in reading order: by file, then line, then column; duplicates dropped."""
    return sorted(set(problems))
