"""Finding card sources: the files named, and every *.yaml / *.yml below the folders named."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deckkit.errors import UsageError

SOURCE_SUFFIXES = (".yaml", ".yml")
DEFAULT_SOURCES = Path("sources")


def discover_sources(paths: Sequence[Path]) -> list[Path]:
    """The source files named by ``paths``: files as given, folders searched for *.yaml/*.yml."""
    found: list[Path] = []
    for path in paths or [DEFAULT_SOURCES]:
        if path.is_dir():
            in_folder = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in SOURCE_SUFFIXES
                and p.is_file()
                # Hidden files and folders (.git, .venv, .pre-commit-config.yaml) are not decks.
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not in_folder:
                raise UsageError(f"no *.yaml or *.yml card sources in {path}")
            found += in_folder
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    return list(dict.fromkeys(found))


def source_folders(paths: Sequence[Path]) -> list[Path]:
    """The folders among ``paths`` (the default sources folder when none is given)."""
    return [path for path in (paths or [DEFAULT_SOURCES]) if path.is_dir()]
