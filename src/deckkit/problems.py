"""Problems found in card sources: plain values, collected for every file, printed by the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
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
        """The `path:line:column: error: message [code]` line editors and CI understand."""
        return (
            f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message} [{self.code}]"
        )

    def as_github(self) -> str:
        """A GitHub Actions workflow command, shown inline on a pull request."""
        # Workflow commands need %, CR and LF escaped in the message and ',' and ':' in properties.
        message = _github_escape(f"{self.message} [{self.code}]")
        path = _github_escape(self.path).replace(",", "%2C").replace(":", "%3A")
        return f"::{self.severity} file={path},line={self.line},col={self.column}::{message}"


def _github_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


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


def problems_as_json(problems: Sequence[Problem]) -> str:
    """One machine-readable document of all problems."""
    errors = sum(1 for p in problems if p.severity == "error")
    document = {
        "problems": [asdict(p) for p in problems],
        "errors": errors,
        "warnings": len(problems) - errors,
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
