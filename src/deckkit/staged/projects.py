"""The deckkit projects a commit holds, read from git's index, and how to name their files.

The project is the one :mod:`deckkit.project` finds, in the index instead of the working tree:
the nearest ``deckkit.toml`` (or ``pyproject.toml`` with ``[tool.deckkit]``) in the working
folder or above. pre-commit runs its hooks from the top of the repository, where a course kept
in a folder of a larger repository (``course/deckkit.toml``) is not above: there, every project
file the index holds is a project to check. Without any, today's defaults hold (``sources/``,
``deckkit.lock`` in the working folder).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deckkit.lockfile import DEFAULT_LOCKFILE
from deckkit.problems import Problem
from deckkit.project import (
    PROJECT_FILE,
    PYPROJECT_FILE,
    ProjectFileError,
    find_project_file,
    load_project,
)
from deckkit.sources.discovery import DEFAULT_SOURCES, SOURCE_SUFFIXES
from deckkit.staged.git import (
    GitError,
    IndexEntry,
    Repository,
    blob_contents,
    ignored_files,
    index_entries,
)
from deckkit.staged.snapshot import snapshot_root, update_snapshot

HOOK_UNTRACKED = "hook.untracked-file"

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has no tomllib; tomli is its backport
    import tomli as tomllib


@dataclass(frozen=True)
class StagedProject:
    """A project as the commit holds it; paths relative to the top of the working tree."""

    file: PurePosixPath | None  # None: no project file, the defaults
    folders: tuple[str, ...]  # its sources folders
    lockfile: str
    strict: bool = False
    markdown: bool = False  # field text is Markdown where a deck or card does not say

    @property
    def files(self) -> list[str]:
        """Everything of the project the check reads from the index."""
        return [*self.folders, self.lockfile, *([str(self.file)] if self.file else [])]

    def holds_source(self, path: PurePosixPath) -> bool:
        """Whether ``path`` is one of the project's card sources (as discovery finds them)."""
        if path.suffix not in SOURCE_SUFFIXES:
            return False
        for folder in self.folders:
            inside = PurePosixPath(folder)
            if folder == "." or path.is_relative_to(inside):
                below = path if folder == "." else path.relative_to(inside)
                return not any(part.startswith(".") for part in below.parts)
        return False


class Shown:
    """Names in the copy of the index, as the user knows them: the working tree's paths, from
    the working folder (``sources/deck.yaml``), in problems and in messages."""

    def __init__(self, repo: Repository) -> None:
        top = snapshot_root(repo)
        forms = {str(top), os.path.relpath(top), str(top.resolve())}
        self.forms = sorted(forms, key=len, reverse=True)
        here = os.path.relpath(repo.root)
        self.prefix = "" if here == "." else here + os.sep

    def text(self, text: str) -> str:
        """``text`` with every path in the copy replaced by the working tree's."""
        for form in self.forms:
            text = text.replace(form + os.sep, self.prefix)
        return text

    def worktree(self, path: PurePosixPath | str) -> str:
        """A path relative to the top of the working tree, from the working folder."""
        return self.prefix + str(Path(path))

    def problem(self, problem: Problem) -> Problem:
        """A problem found in the copy, about the working tree's files."""
        return Problem(
            self.text(problem.path),
            problem.line,
            problem.column,
            self.text(problem.message),
            problem.code,
            problem.severity,
        )


def staged_projects(repo: Repository, shown: Shown) -> list[StagedProject]:
    """The projects to check, their project files already in the copy of the index. Raises
    :class:`~deckkit.project.ProjectFileError` for a staged project file that is not valid."""
    nearest = _nearest_project_file(repo)
    files = [nearest] if nearest else _project_files_below(repo)
    top = update_snapshot(repo, {entry.path: entry for entry in files}, complete=False)
    if not files:
        here = PurePosixPath(repo.prefix)
        return [StagedProject(None, (str(here / DEFAULT_SOURCES),), str(here / DEFAULT_LOCKFILE))]
    try:
        return [_loaded(top, entry.path) for entry in files]
    except (ProjectFileError, GitError) as error:  # named in the copy: name the working tree's
        raise type(error)(shown.text(str(error))) from None


def left_out_project_file(repo: Repository, shown: Shown) -> Problem | None:
    """The working tree's project file, when the commit has none: a fresh clone lacks it."""
    found = find_project_file(Path.cwd())
    if found is None or not found.resolve().is_relative_to(repo.root.resolve()):
        return None
    path = PurePosixPath(found.resolve().relative_to(repo.root.resolve()).as_posix())
    return not_in_commit(repo, shown, path, f"the project file {shown.worktree(path)}")


def not_in_commit(repo: Repository, shown: Shown, path: PurePosixPath, what: str) -> Problem:
    """A file the commit lacks, named at its first line, with the ``git add`` that adds it."""
    message = untracked_message(repo, shown, path, what)
    return Problem(shown.worktree(path), 1, 1, message, HOOK_UNTRACKED)


def untracked_message(
    repo: Repository, shown: Shown, path: PurePosixPath, what: str, *, ignored: bool | None = None
) -> str:
    """Why the commit lacks ``path`` (``what`` it is, for people) and what adds it."""
    if ignored is None:
        ignored = path in ignored_files(repo, [path])
    add = "git add -f" if ignored else "git add"
    return (
        f"{what} is not in the commit (git {'ignores' if ignored else 'does not track'} it): a "
        f"fresh clone would not have it; run '{add} {shown.worktree(path)}'"
    )


def _nearest_project_file(repo: Repository) -> IndexEntry | None:
    """The nearest project file to the working folder that the index holds (as
    :func:`deckkit.project.find_project_file` finds one in the working tree)."""
    folders = [repo.prefix, *repo.prefix.parents] if str(repo.prefix) != "." else [repo.prefix]
    candidates = [folder / name for folder in folders for name in (PROJECT_FILE, PYPROJECT_FILE)]
    entries = index_entries(repo, [str(path) for path in candidates])
    found = _project_files(repo, [entries[path] for path in candidates if path in entries])
    return found[0] if found else None


def _project_files_below(repo: Repository) -> list[IndexEntry]:
    """Every project file the index holds below the working folder, shallowest first."""
    here = "" if str(repo.prefix) == "." else f"{repo.prefix}/"
    patterns = [f"{here}**/{name}" for name in (PROJECT_FILE, PYPROJECT_FILE)]
    entries = index_entries(repo, patterns, glob=True)
    ordered = sorted(entries.values(), key=lambda e: (len(e.path.parts), str(e.path)))
    return _project_files(repo, ordered)


def _project_files(repo: Repository, entries: list[IndexEntry]) -> list[IndexEntry]:
    """Those of ``entries`` that are project files: a ``deckkit.toml``, a ``pyproject.toml``
    with ``[tool.deckkit]``; of two in one folder, ``deckkit.toml``."""
    pyprojects = [entry.blob for entry in entries if entry.path.name == PYPROJECT_FILE]
    tables = {blob for blob, text in blob_contents(repo, pyprojects) if _has_table(text)}
    chosen: dict[PurePosixPath, IndexEntry] = {}
    for entry in entries:
        if entry.path.name == PROJECT_FILE or entry.blob in tables:
            chosen.setdefault(entry.path.parent, entry)
    return list(chosen.values())


def _has_table(content: bytes) -> bool:
    try:
        tool = tomllib.loads(content.decode("utf-8")).get("tool", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # not deckkit's file: a broken pyproject.toml is another tool's concern
    return isinstance(tool, dict) and "deckkit" in tool


def _loaded(top: Path, file: PurePosixPath) -> StagedProject:
    """The project whose staged project file is ``file``, read from the copy at ``top``."""
    project = load_project(top / file.parent)
    return StagedProject(
        file,
        tuple(_in_repository(folder, top) for folder in project.sources),
        _in_repository(project.lockfile, top),
        project.strict,
        project.markdown,
    )


def _in_repository(path: Path, top: Path) -> str:
    """A project's folder or file relative to the top of the working tree (posix)."""
    try:
        return path.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        raise GitError(
            f"{path} lies outside the git repository: --staged checks only what the commit "
            "holds; move it inside (or run 'deckkit validate' without --staged)"
        ) from None
