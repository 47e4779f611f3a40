"""Noticing saves: the folders `deckkit watch` watches, and each batch of changes in them.

Everything a deck is built from lies in its source's folder or below it (media, template and CSS
files, note-type files: deckkit refuses any outside), so watching the folders of the sources
(recursively) covers every input, a source added or removed included. The outputs, the lockfile
and the build's own files are left out, when they lie there, so that a build never sets off the
next one; so are editors' swap and backup files (watchfiles' default filter).

The changes come from the operating system's notices through watchfiles, which groups the burst
of events one save makes (an editor may write a temporary file, rename it and touch the folder)
into one batch: a batch is yielded once no new event came for ``QUIET_MS``.

Each batch is answered by :func:`rebuild`: the preview first, which is what the author is looking
at (and the open page reloads as soon as it is written), then the decks, which the build rebuilds
only where their inputs changed. Both write atomically, and nothing when a source has errors, so
the last good outputs and page stay until the next good save.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import watchfiles

from deckkit.errors import UsageError
from deckkit.pipeline import BuildResult
from deckkit.pipeline.forking import can_fork, run_forked
from deckkit.preview import PreviewResult
from deckkit.preview.sanitise import MEDIA_DIR
from deckkit.problems import Problem
from deckkit.sources.discovery import DEFAULT_SOURCES

# A batch ends after this long without a new event (an editor's save is a burst of a few
# milliseconds), and at the latest after LONGEST_MS (a checkout that writes for a while).
QUIET_MS = 50
LONGEST_MS = 1600
WAKE_MS = 200  # how often the watcher wakes up to see that it must stop
BACKGROUND_NICENESS = 5  # how much lower the decks' build runs than the preview's


def watched_folders(paths: Sequence[Path]) -> tuple[Path, ...]:
    """The folders to watch for ``paths`` (the default sources folder when none is given): each
    folder named, and the folder of each file named, without one inside another."""
    folders = []
    for path in paths or [DEFAULT_SOURCES]:
        if not path.exists():
            raise UsageError(f"{path} does not exist: name the sources to watch")
        folder = (path if path.is_dir() else path.parent).resolve()
        folders.append(folder)
    return tuple(
        folder
        for folder in dict.fromkeys(folders)
        if not any(folder != other and folder.is_relative_to(other) for other in folders)
    )


class _Inputs(watchfiles.DefaultFilter):
    """Watchfiles' default filter (editors' files, version control's folders), less the outputs'
    folders and files."""

    def __init__(self, ignored: Sequence[Path]) -> None:
        super().__init__()
        self.ignored = tuple(path.resolve() for path in ignored)

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        changed = Path(path)
        if any(changed == out or changed.is_relative_to(out) for out in self.ignored):
            return False
        return super().__call__(change, path)


def changes(
    paths: Sequence[Path], *, ignored: Sequence[Path] = (), stop: threading.Event
) -> Iterator[tuple[Path, ...]]:
    """An empty tuple once the folders of ``paths`` are watched (what changes from then on is
    seen), then each batch of files changed, added or removed there, sorted, until ``stop`` is
    set; changes under ``ignored`` (outputs, the lockfile) are left out."""
    batches = watchfiles.watch(
        *watched_folders(paths),
        watch_filter=_Inputs(ignored),
        debounce=LONGEST_MS,
        step=QUIET_MS,
        stop_event=stop,
        rust_timeout=WAKE_MS,
        yield_on_timeout=True,  # the first timeout says that watching has begun
    )
    ready = False
    for batch in batches:
        changed = _saved(batch)
        if not ready:
            ready = True
            yield ()
        if changed:
            yield changed


def _saved(batch: set[tuple[watchfiles.Change, str]]) -> tuple[Path, ...]:
    """The files a batch changed, less those that came and went within it (the temporary file
    an editor or ``sed -i`` writes, then renames over the file saved)."""
    added = {path for change, path in batch if change == watchfiles.Change.added}
    deleted = {path for change, path in batch if change == watchfiles.Change.deleted}
    passing = {path for path in added & deleted if not Path(path).exists()}
    return tuple(sorted({Path(path) for _, path in batch if path not in passing}))


@dataclass(frozen=True)
class Rebuilt:
    """What one rebuild did: the problems (errors: nothing was written), the build (None when the
    sources had errors and it was not tried), and the preview's state (:func:`folder_state`)."""

    problems: tuple[Problem, ...]
    build: BuildResult | None
    preview_state: str

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def rebuild(
    write_page: Callable[[], PreviewResult],
    build_decks: Callable[[], BuildResult],
    *,
    preview_dir: Path,
    preview_state: str,
    on_preview: Callable[[], None],
) -> Rebuilt:
    """Write the preview (``write_page``), call ``on_preview`` if its files changed from
    ``preview_state``, then build the decks (``build_decks``) unless the sources have errors.

    The decks are built in a forked child where the platform can fork, so that this process
    serves the page that just changed at full speed meanwhile; a Ctrl-C waits for that build to
    end (it writes its outputs all or not at all, and so leaves them complete).
    """
    preview = write_page()
    if not preview.ok:
        return Rebuilt(preview.problems, None, preview_state)
    state = folder_state(preview_dir)
    if state != preview_state:
        on_preview()
    built = _build_beside(build_decks) if can_fork() else build_decks()
    problems = dict.fromkeys([*preview.problems, *built.problems])  # the sources' warnings twice
    return Rebuilt(tuple(problems), built, state)


def _build_beside(build_decks: Callable[[], BuildResult]) -> BuildResult:
    forked = run_forked(partial(_in_background, build_decks))
    try:
        return forked.result()
    except BaseException:
        # Interrupted while waiting: the child ignores Ctrl-C (see release_in_child) and
        # finishes; the outputs are then complete, never half-published.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(forked.pid, 0)
        raise


def _in_background(build_decks: Callable[[], BuildResult]) -> BuildResult:
    # The packages can wait: the browser reloading the preview, on the same cores, comes first.
    with contextlib.suppress(OSError):
        os.nice(BACKGROUND_NICENESS)
    return build_decks()


def folder_state(folder: Path) -> str:
    """A digest of a folder's files: the contents of its pages and scripts, the size and time of
    its media (copied only when they change); it differs once any of them changed."""
    digest = hashlib.blake2b(digest_size=16)
    if not folder.is_dir():
        return ""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        digest.update(relative.as_posix().encode() + b"\0")
        if relative.parts[0] == MEDIA_DIR:
            stat = path.stat()
            digest.update(f"{stat.st_size} {stat.st_mtime_ns}".encode())
        else:
            digest.update(path.read_bytes())
    return digest.hexdigest()


__all__ = [
    "LONGEST_MS",
    "QUIET_MS",
    "WAKE_MS",
    "Rebuilt",
    "changes",
    "folder_state",
    "rebuild",
    "watched_folders",
]
