"""Checking what the next commit contains (``deckkit validate --staged``, the pre-commit hook).

The project, its sources, their media, templates and note-type files, and its lockfile are read
from git's index (:mod:`deckkit.staged.git`) into a copy kept in the git directory
(:mod:`deckkit.staged.snapshot`), never from the working tree: an unstaged edit cannot make the
check pass or fail, and a file git does not track is missing, as it will be in a fresh clone.
Every source of the project is checked, not only the changed ones, so that rules across files
(two decks with one id) hold. On that copy runs the build itself, with no output format and a
frozen lockfile: what passes would build in a fresh clone, and a lockfile that ``deckkit build``
would change is refused. The build's incremental cache (kept beside the copy, keyed by content)
skips every deck whose source, media and lockfile entries did not change, so a commit that
changes one deck of a hundred checks one deck.

A staged source that names a file git does not track, or a file whose changes are not staged,
gets a problem at the place that names it, saying which ``git add`` fixes it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deckkit.errors import LockfileError, LockOutdated
from deckkit.lockfile import DEFAULT_LOCKFILE
from deckkit.pipeline import build
from deckkit.problems import Problem, sort_problems
from deckkit.project import (
    PROJECT_FILE,
    PYPROJECT_FILE,
    Project,
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
    find_repository,
    ignored_files,
    index_entries,
    unstaged_files,
    untracked_files,
)
from deckkit.staged.references import references_to
from deckkit.staged.snapshot import held, snapshot_root, update_snapshot

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has no tomllib; tomli is its backport
    import tomli as tomllib

BUILD_FOLDER = "build"  # beside the copy: the build's cache, no outputs
# A missing file of the build that the working tree has: said as "not in the commit" instead.
MISSING_CODES = ("check.media-missing", "check.file-missing")


@dataclass(frozen=True)
class StagedResult:
    """What checking the next commit found: its problems and how many sources it holds."""

    problems: tuple[Problem, ...]
    sources: int

    @property
    def ok(self) -> bool:
        """True when no problem is an error (warnings allowed)."""
        return not any(p.severity == "error" for p in self.problems)


def check_staged(*, strict: bool = False) -> StagedResult:
    """Check the next commit of the working folder's repository: the whole project it belongs
    to, as the index holds it. ``strict`` (or the project's) makes warnings errors. Raises
    :class:`~deckkit.staged.git.GitError` outside a repository, and
    :class:`~deckkit.project.ProjectFileError` for a staged project file that is not valid."""
    repo = find_repository()
    with held(repo):
        return _check(repo, strict=strict)


def _check(repo: Repository, *, strict: bool) -> StagedResult:
    shown = _Shown(repo)
    project_entry = _staged_project_file(repo)
    problems: list[Problem] = []
    if project_entry is None:
        problems += _left_out_project_file(repo, shown)
    project, top = _project(repo, project_entry, shown)
    folders = [_in_repository(folder, top) for folder in project.sources]
    lockfile = _in_repository(project.lockfile, top)
    files = [*folders, lockfile, *([str(project_entry.path)] if project_entry else [])]
    entries = index_entries(repo, files)
    update_snapshot(repo, entries)
    left_out = untracked_files(repo, files)
    changed = unstaged_files(repo, files)
    said = _left_out_references(repo, top, entries, folders, left_out, changed, shown)
    lock_path: Path | None = top / lockfile
    if PurePosixPath(lockfile) not in entries:
        if PurePosixPath(lockfile) in left_out:
            problems.append(_lockfile_left_out(repo, lockfile, shown))
        lock_path = None
    present = [top / folder for folder in folders if (top / folder).is_dir()]
    count = sum(1 for path in entries if _is_source(path, folders))
    if not present or not count:
        return StagedResult(tuple(sort_problems(problems + said)), 0)
    strict = strict or project.strict
    problems += _build_problems(repo, present, lock_path, strict, shown.worktree(lockfile))
    placed = {(p.path, p.line, p.column) for p in said}
    problems = [
        shown.problem(p)
        for p in problems
        if not (p.code in MISSING_CODES and (shown.path(p.path), p.line, p.column) in placed)
    ]
    return StagedResult(tuple(sort_problems(problems + said)), count)


class _Shown:
    """Names in the copy of the index, as the user knows them: the working tree's paths, from
    the working folder (``sources/deck.yaml``), in problems and in messages."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        top = snapshot_root(repo)
        forms = {str(top), os.path.relpath(top), str(top.resolve())}
        self.forms = sorted(forms, key=len, reverse=True)
        here = os.path.relpath(repo.root)
        self.prefix = "" if here == "." else here + os.sep

    def text(self, text: str) -> str:
        for form in self.forms:
            text = text.replace(form + os.sep, self.prefix)
        return text

    def path(self, path: str) -> str:
        return self.text(path)

    def worktree(self, path: PurePosixPath | str) -> str:
        """A path relative to the top of the working tree, from the working folder."""
        return self.prefix + str(Path(path))

    def problem(self, problem: Problem) -> Problem:
        return Problem(
            self.path(problem.path),
            problem.line,
            problem.column,
            self.text(problem.message),
            problem.code,
            problem.severity,
        )


def _staged_project_file(repo: Repository) -> IndexEntry | None:
    """The nearest project file to the working folder that the index holds (as
    :func:`deckkit.project.find_project_file` finds one in the working tree)."""
    folders = [repo.prefix, *repo.prefix.parents] if str(repo.prefix) != "." else [repo.prefix]
    candidates = [folder / name for folder in folders for name in (PROJECT_FILE, PYPROJECT_FILE)]
    entries = index_entries(repo, [str(path) for path in candidates])
    found = [entries[path] for path in candidates if path in entries]
    pyprojects = [entry.blob for entry in found if entry.path.name == PYPROJECT_FILE]
    deckkit_tables = {blob for blob, text in blob_contents(repo, pyprojects) if _has_table(text)}
    for entry in found:
        if entry.path.name == PROJECT_FILE or entry.blob in deckkit_tables:
            return entry
    return None


def _has_table(content: bytes) -> bool:
    try:
        tool = tomllib.loads(content.decode("utf-8")).get("tool", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # not deckkit's file: a broken pyproject.toml is another tool's concern
    return isinstance(tool, dict) and "deckkit" in tool


def _left_out_project_file(repo: Repository, shown: _Shown) -> list[Problem]:
    """The working tree's project file when the commit has none: builds would not use it."""
    found = find_project_file(Path.cwd())
    if found is None or not found.resolve().is_relative_to(repo.root.resolve()):
        return []
    path = PurePosixPath(found.resolve().relative_to(repo.root.resolve()).as_posix())
    return [_not_in_commit(shown, path, f"the project file {shown.worktree(path)}", repo)]


def _project(
    repo: Repository, project_entry: IndexEntry | None, shown: _Shown
) -> tuple[Project, Path]:
    """The staged project (its paths in the copy of the index), and the copy's root."""
    only_it = {project_entry.path: project_entry} if project_entry else {}
    top = update_snapshot(repo, only_it, complete=False)
    if project_entry is None:
        here = top / repo.prefix
        defaults = (here / DEFAULT_SOURCES,), here / BUILD_FOLDER, here / DEFAULT_LOCKFILE
        return Project(None, *defaults), top
    try:
        return load_project(top / project_entry.path.parent), top
    except ProjectFileError as error:
        raise ProjectFileError(shown.text(str(error))) from None


def _in_repository(path: Path, top: Path) -> str:
    """A project's folder or file relative to the top of the working tree (posix)."""
    try:
        return PurePosixPath(path.resolve().relative_to(top.resolve()).as_posix()).as_posix()
    except ValueError:
        raise GitError(
            f"{path} lies outside the git repository: --staged checks only what the commit "
            "holds; move it inside (or run 'deckkit validate' without --staged)"
        ) from None


def _is_source(path: PurePosixPath, folders: Sequence[str]) -> bool:
    if path.suffix not in SOURCE_SUFFIXES:
        return False
    for folder in folders:
        inside = PurePosixPath(folder)
        if folder == "." or path.is_relative_to(inside):
            below = path.relative_to(inside) if folder != "." else path
            return not any(part.startswith(".") for part in below.parts)
    return False


def _left_out_references(
    repo: Repository,
    top: Path,
    entries: dict[PurePosixPath, IndexEntry],
    folders: Sequence[str],
    left_out: set[PurePosixPath],
    changed: set[PurePosixPath],
    shown: _Shown,
) -> list[Problem]:
    """A problem at each place a staged source names a file that is untracked or whose changes
    are not staged."""
    suspects = sorted(left_out | changed)
    if not suspects:
        return []
    ignored = ignored_files(repo, left_out)
    sources = [path for path in entries if _is_source(path, folders)]
    problems = []
    for suspect in suspects:
        for source in sources:
            inside = source.parent == PurePosixPath(".") or suspect.is_relative_to(source.parent)
            if not inside or suspect == source:
                continue
            for mark in references_to(top / source, top / suspect):
                message = (
                    _untracked_message(shown, suspect, suspect in ignored)
                    if suspect in left_out
                    else _unstaged_message(shown, suspect)
                )
                code = "hook.untracked-file" if suspect in left_out else "hook.unstaged-change"
                problems.append(
                    Problem(shown.worktree(source), mark.line, mark.column, message, code)
                )
    return problems


def _untracked_message(shown: _Shown, path: PurePosixPath, ignored: bool) -> str:
    add = f"git add -f {shown.worktree(path)}" if ignored else f"git add {shown.worktree(path)}"
    why = "git ignores it" if ignored else "git does not track it"
    return (
        f"{shown.worktree(path)} is not in the commit ({why}): a fresh clone would not have it; "
        f"run '{add}'"
    )


def _unstaged_message(shown: _Shown, path: PurePosixPath) -> str:
    name = shown.worktree(path)
    return (
        f"{name} has changes that are not staged: the commit holds its staged version, not the "
        f"one you see; run 'git add {name}' (or 'git restore {name}' to drop the changes)"
    )


def _not_in_commit(shown: _Shown, path: PurePosixPath, what: str, repo: Repository) -> Problem:
    ignored = path in ignored_files(repo, [path])
    add = "git add -f" if ignored else "git add"
    return Problem(
        shown.worktree(path),
        1,
        1,
        f"{what} is not in the commit (git {'ignores' if ignored else 'does not track'} it): "
        f"a fresh clone would not have it; run '{add} {shown.worktree(path)}'",
        "hook.untracked-file",
    )


def _lockfile_left_out(repo: Repository, lockfile: str, shown: _Shown) -> Problem:
    return _not_in_commit(shown, PurePosixPath(lockfile), "the lockfile", repo)


def _build_problems(
    repo: Repository, folders: list[Path], lockfile: Path | None, strict: bool, lock_name: str
) -> list[Problem]:
    """The problems of a build of the copy: every source's, those across sources, and a
    lockfile that the build would change (``lock_name``: the lockfile as the user names it)."""
    try:
        result = build(
            folders,
            repo.private / BUILD_FOLDER,
            formats=(),  # nothing is written: the check is the build's own, up to the outputs
            lockfile=lockfile,
            frozen=lockfile is not None,
            clock_behind=True,  # the clock is this machine's, not the commit's concern
            strict=strict,
        )
    except LockOutdated as outdated:
        return [_stale_lockfile(lock_name, outdated.changed)]
    except LockfileError as error:
        message = f"{error}; fix it, then run 'deckkit build'"
        return [Problem(lock_name, 1, 1, message, "hook.lockfile")]
    return list(result.problems)


def _stale_lockfile(lockfile: str, changed: Iterable[str]) -> Problem:
    names = list(changed)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return Problem(
        lockfile,
        1,
        1,
        f"{lockfile} is out of date for the sources in this commit (a build would change "
        f"{shown}); run 'deckkit build', then 'git add {lockfile}'",
        "hook.stale-lockfile",
    )


__all__ = ["GitError", "StagedResult", "check_staged"]
