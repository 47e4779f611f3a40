"""The project: where its sources, outputs and lockfile are, read from its project file.

A project is the folder that holds ``deckkit.toml`` (or a ``pyproject.toml`` with a
``[tool.deckkit]`` table), found by searching upward from the working folder, as git, ruff and
pre-commit find theirs. Paths in the file are relative to the file, so every command reads the
same sources and writes the same outputs and lockfile from any folder inside the project.
Without a project file, the working folder holds today's defaults (``sources/``, ``build/``,
``deckkit.lock``). The library's functions keep taking explicit paths; the command line asks
this module for them.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckkit.errors import UsageError
from deckkit.exporters import EXPORTERS
from deckkit.lock_entries import DEFAULT_LOCKFILE
from deckkit.sources.discovery import DEFAULT_SOURCES
from deckkit.suggest import did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has no tomllib; tomli is its backport
    import tomli as tomllib

PROJECT_FILE = "deckkit.toml"
PYPROJECT_FILE = "pyproject.toml"
DEFAULT_OUTPUT = Path("build")

# Every key a project file may hold, and what its value must be, for the error message.
KEYS = {
    "sources": "a folder, or a list of folders, relative to this file",
    "output": "a folder relative to this file",
    "lockfile": "a file relative to this file",
    "formats": "a list of output formats",
    "strict": "true or false",
    "markdown": "true or false (whether field text is Markdown where a deck or card does not say)",
}


class ProjectFileError(UsageError):
    """The project file cannot be read or holds a wrong key or value; the message starts with
    its ``file:line:column``."""


@dataclass(frozen=True)
class Project:
    """Where a project keeps its sources, outputs and lockfile, and how it builds them.

    ``file`` is None when no project file was found: the values are then the defaults, relative
    to the working folder. ``formats`` is empty when the file names none (every format).
    """

    file: Path | None
    sources: tuple[Path, ...]
    output: Path
    lockfile: Path
    formats: tuple[str, ...] = ()
    strict: bool = False
    markdown: bool = False  # field text is Markdown where a deck or card does not say

    def where(self, key: str) -> str:
        """``file:line:column`` of ``key`` in the project file, for a message about its value."""
        assert self.file is not None
        return _project_where(self.file, key)


def find_project_file(start: Path) -> Path | None:
    """The nearest ``deckkit.toml``, or ``pyproject.toml`` with ``[tool.deckkit]``, in ``start``
    or a folder above it, up to the filesystem's root; None when there is none."""
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT_FILE
        if pyproject.is_file() and _has_deckkit_table(pyproject):
            return pyproject
    return None


def load_project(start: Path | None = None) -> Project:
    """The project the folder ``start`` (the working folder by default) belongs to; raises
    :class:`ProjectFileError` for a project file that is not valid."""
    here = (start or Path.cwd()).resolve()
    file = find_project_file(here)
    if file is None:
        return Project(None, (DEFAULT_SOURCES,), DEFAULT_OUTPUT, Path(DEFAULT_LOCKFILE))
    settings = _settings(file)
    for key in settings:
        if key not in KEYS:
            known = ", ".join(KEYS)
            raise ProjectFileError(
                f"{_project_where(file, key)}: unknown key '{key}'"
                f"{did_you_mean(key, list(KEYS))}; a project file may hold {known}"
            )
    root = file.parent
    return Project(
        file,
        sources=tuple(
            _near(root / name, here) for name in _folders(file, settings.get("sources", "sources"))
        ),
        output=_near(root / _text(file, settings, "output", str(DEFAULT_OUTPUT)), here),
        lockfile=_near(root / _text(file, settings, "lockfile", DEFAULT_LOCKFILE), here),
        formats=_formats(file, settings),
        strict=_flag(file, settings, "strict"),
        markdown=_flag(file, settings, "markdown"),
    )


def project_file_text(sources: str) -> str:
    """A new project file (what ``deckkit init`` writes), naming the sources folder ``sources``."""
    return (
        "# deckkit's project file: every deckkit command run in this folder or below it uses it.\n"
        "# Paths are relative to this file; command-line options win over what it says.\n"
        f"sources = [{_toml_string(sources)}]\n"
        f"output = {_toml_string(str(DEFAULT_OUTPUT))}\n"
        f"lockfile = {_toml_string(DEFAULT_LOCKFILE)}  # commit it with the sources\n"
        'formats = ["apkg", "csv", "quizlet"]\n'
        "strict = false  # true: warnings (scripts, unclosed tags) fail the build\n"
    )


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _near(path: Path, here: Path) -> Path:
    """``path`` relative to the working folder when it can be (``sources``, ``../build``), so
    that messages name files as the user would type them; absolute otherwise."""
    try:
        return Path(os.path.relpath(path, here)) if here == Path.cwd().resolve() else path
    except ValueError:  # another drive (Windows)
        return path


def _has_deckkit_table(pyproject: Path) -> bool:
    try:
        tool = _read(pyproject).get("tool", {})
    except ProjectFileError:
        return False  # not deckkit's file: a broken pyproject.toml is another tool's concern
    return isinstance(tool, dict) and "deckkit" in tool


def _settings(file: Path) -> dict[str, Any]:
    data = _read(file)
    if file.name != PYPROJECT_FILE:
        return data
    table = data["tool"]["deckkit"]
    if not isinstance(table, dict):
        raise ProjectFileError(
            f"{_project_where(file, 'deckkit')}: tool.deckkit must be a table ([tool.deckkit])"
        )
    return table


def _read(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectFileError(f"{file}: cannot read the project file: {error}") from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        at = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        line, column = (int(at[1]), int(at[2])) if at else (1, 1)
        reason = re.sub(r"\s*\(at [^)]*\)$", "", str(error))
        raise ProjectFileError(
            f"{_location(file, line, column)}: not valid TOML: {reason}; fix it (a value in "
            'quotes: output = "build"; a list in brackets: sources = ["sources"])'
        ) from None


def _location(file: Path, line: int, column: int) -> str:
    """``file:line:column``, the file named from the working folder (``../deckkit.toml``)."""
    try:
        shown = os.path.relpath(file)
    except ValueError:  # another drive (Windows)
        shown = str(file)
    return f"{shown}:{line}:{column}"


def _key_line(file: Path, key: str) -> int:
    """The line where ``key`` is set (1 when it cannot be found: a key written in a way this
    simple search does not know, such as a dotted or quoted one)."""
    pattern = re.compile(rf"^\s*\[?\s*(tool\.)?{re.escape(key)}\s*[=\]]")
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.match(line):
            return number
    return 1


def _wrong(file: Path, key: str) -> ProjectFileError:
    return ProjectFileError(f"{_project_where(file, key)}: '{key}' must be {KEYS[key]}")


def _project_where(file: Path, key: str) -> str:
    return _location(file, _key_line(file, key), 1)


def _text(file: Path, settings: dict[str, Any], key: str, default: str) -> str:
    value = settings.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise _wrong(file, key)
    return value


def _folders(file: Path, value: object) -> list[str]:
    folders = [value] if isinstance(value, str) else value
    if not isinstance(folders, list) or not folders:
        raise _wrong(file, "sources")
    if not all(isinstance(folder, str) and folder.strip() for folder in folders):
        raise _wrong(file, "sources")
    return folders


def _list_of_text(file: Path, settings: dict[str, Any], key: str) -> list[str]:
    value = settings.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong(file, key)
    return value


def _formats(file: Path, settings: dict[str, Any]) -> tuple[str, ...]:
    """The output formats the file names: an unknown one is refused here, where every command
    reads the file (validate --staged too, which writes no output but must pass only what
    'deckkit build' takes)."""
    formats = tuple(_list_of_text(file, settings, "formats"))
    unknown = [name for name in formats if name not in EXPORTERS]
    if unknown:
        raise ProjectFileError(
            f"{_project_where(file, 'formats')}: unknown output format '{unknown[0]}'"
            f"{did_you_mean(unknown[0], list(EXPORTERS))}; use {', '.join(EXPORTERS)}"
        )
    return formats


def _flag(file: Path, settings: dict[str, Any], key: str) -> bool:
    value = settings.get(key, False)
    if not isinstance(value, bool):
        raise _wrong(file, key)
    return value


__all__ = [
    "PROJECT_FILE",
    "Project",
    "ProjectFileError",
    "find_project_file",
    "load_project",
    "project_file_text",
]
