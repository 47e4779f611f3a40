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

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deckkit.errors import LockfileError, LockOutdated
from deckkit.pipeline import build
from deckkit.problems import Problem, sort_problems
from deckkit.staged.git import (
    GitError,
    IndexEntry,
    Repository,
    find_repository,
    ignored_files,
    index_entries,
    unstaged_files,
    untracked_files,
)
from deckkit.staged.projects import (
    HOOK_UNTRACKED,
    Shown,
    StagedProject,
    left_out_project_file,
    not_in_commit,
    staged_projects,
    untracked_message,
)
from deckkit.staged.references import references_to
from deckkit.staged.snapshot import held, update_snapshot

BUILD_FOLDER = "build"  # beside the copy: the builds' caches, no outputs
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
    to (or, from above them, every project it holds), as the index holds it. ``strict`` (or the
    project's) makes warnings errors. Raises :class:`~deckkit.staged.git.GitError` outside a
    repository, and :class:`~deckkit.project.ProjectFileError` for a staged project file that
    is not valid."""
    repo = find_repository()
    with held(repo):
        return _check(repo, strict=strict)


@dataclass(frozen=True)
class _Commit:
    """What the check knows of the commit: the files it holds, and those it leaves out."""

    repo: Repository
    top: Path  # the copy of the index
    entries: dict[PurePosixPath, IndexEntry]
    left_out: set[PurePosixPath]  # untracked
    changed: set[PurePosixPath]  # changes not staged
    shown: Shown


def _check(repo: Repository, *, strict: bool) -> StagedResult:
    shown = Shown(repo)
    projects = staged_projects(repo, shown)
    problems: list[Problem] = []
    if projects[0].file is None:
        problems += filter(None, [left_out_project_file(repo, shown)])
    files = [path for project in projects for path in project.files]
    entries = index_entries(repo, files)
    top = update_snapshot(repo, entries)
    commit = _Commit(
        repo, top, entries, untracked_files(repo, files), unstaged_files(repo, files), shown
    )
    count = 0
    for project in projects:
        found, sources = _check_project(commit, project, strict=strict or project.strict)
        problems += found
        count += sources
    return StagedResult(tuple(sort_problems(problems)), count)


def _check_project(
    commit: _Commit, project: StagedProject, *, strict: bool
) -> tuple[list[Problem], int]:
    """One project's problems, named as the working tree's files, and its number of sources."""
    shown, top = commit.shown, commit.top
    said = _left_out_references(commit, project)
    problems: list[Problem] = []
    lockfile = PurePosixPath(project.lockfile)
    lock_path: Path | None = top / lockfile
    if lockfile not in commit.entries:
        if lockfile in commit.left_out:
            problems.append(not_in_commit(commit.repo, shown, lockfile, "the lockfile"))
        lock_path = None
    present = [top / folder for folder in project.folders if (top / folder).is_dir()]
    count = sum(1 for path in commit.entries if project.holds_source(path))
    if not present or not count:
        return problems + said, 0
    build_dir = _build_folder(commit.repo, project)
    lock_name = shown.worktree(lockfile)
    problems += _build_problems(
        build_dir, present, lock_path, strict, lock_name, markdown=project.markdown
    )
    placed = {(p.path, p.line, p.column) for p in said}
    problems = [shown.problem(p) for p in problems]
    problems = [
        p
        for p in problems
        if not (p.code in MISSING_CODES and (p.path, p.line, p.column) in placed)
    ]
    return problems + said, count


def _build_folder(repo: Repository, project: StagedProject) -> Path:
    """Where a project's check keeps the build's cache: one folder for each project."""
    key = hashlib.sha256(str(project.file).encode()).hexdigest()[:12]
    return repo.private / BUILD_FOLDER / key


def _left_out_references(commit: _Commit, project: StagedProject) -> list[Problem]:
    """A problem at each place a staged source names a file that is untracked or whose changes
    are not staged."""
    left_out, shown, top = commit.left_out, commit.shown, commit.top
    suspects = sorted(left_out | commit.changed)
    if not suspects:
        return []
    ignored = ignored_files(commit.repo, left_out)
    sources = [path for path in commit.entries if project.holds_source(path)]
    problems = []
    for suspect in suspects:
        for source in sources:
            inside = source.parent == PurePosixPath(".") or suspect.is_relative_to(source.parent)
            if not inside or suspect == source:
                continue
            for mark in references_to(top / source, top / suspect, markdown=project.markdown):
                message = (
                    untracked_message(
                        commit.repo,
                        shown,
                        suspect,
                        shown.worktree(suspect),
                        ignored=suspect in ignored,
                    )
                    if suspect in left_out
                    else _unstaged_message(shown, suspect)
                )
                code = HOOK_UNTRACKED if suspect in left_out else "hook.unstaged-change"
                problems.append(
                    Problem(shown.worktree(source), mark.line, mark.column, message, code)
                )
    return problems


def _unstaged_message(shown: Shown, path: PurePosixPath) -> str:
    name = shown.worktree(path)
    return (
        f"{name} has changes that are not staged: the commit holds its staged version, not the "
        f"one you see; run 'git add {name}' (or 'git restore {name}' to drop the changes)"
    )


def _build_problems(
    build_dir: Path,
    folders: list[Path],
    lockfile: Path | None,
    strict: bool,
    lock_name: str,
    *,
    markdown: bool,
) -> list[Problem]:
    """The problems of a build of the copy: every source's, those across sources, and a
    lockfile that the build would change (``lock_name``: the lockfile as the user names it),
    with the project file's Markdown default as 'deckkit build' has it."""
    try:
        result = build(
            folders,
            build_dir,
            formats=(),  # nothing is written: the check is the build's own, up to the outputs
            lockfile=lockfile,
            frozen=lockfile is not None,
            clock_behind=True,  # the clock is this machine's, not the commit's concern
            strict=strict,
            markdown=markdown,
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
