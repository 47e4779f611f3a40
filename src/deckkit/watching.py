"""Noticing saves: the folders `deckkit watch` watches, and each batch of changes in them.

Everything a deck is built from lies in its source's folder or below it (media, template and CSS
files, note-type files: deckkit refuses any outside), so watching the folders of the sources
(recursively) covers every input, a source added or removed included. The outputs, the lockfile
and the build's own files are left out, when they lie there, so that a build never sets off the
next one; so are editors' swap and backup files (watchfiles' default filter).

The changes come from the operating system's notices through watchfiles, which groups the burst
of events one save makes (an editor may write a temporary file, rename it and touch the folder)
into one batch: a batch is yielded once no new event came for ``QUIET_MS``.

Each batch is answered with the preview first (:func:`preview`), which is what the author is
looking at (the open page reloads as soon as it is written), then the decks (:class:`Builds`),
which the build rebuilds only where their inputs changed, in the background. Both write
atomically, and nothing when a source has errors, so the last good outputs and page stay until
the next good save.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import watchfiles

from deckkit.errors import DeckkitError, UsageError
from deckkit.gc_pause import gc_paused
from deckkit.pipeline import BuildResult
from deckkit.pipeline.forking import Forked, can_fork, run_forked
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
    """Each batch of files changed, added or removed under the folders of ``paths``, sorted,
    until ``stop`` is set; changes under ``ignored`` (outputs, the lockfile) are left out.

    An empty tuple comes first once watching has begun (what changes from then on is seen), and
    then every WAKE_MS while nothing changes, for the caller to look at what runs meanwhile.
    """
    batches = watchfiles.watch(
        *watched_folders(paths),
        watch_filter=_Inputs(ignored),
        debounce=LONGEST_MS,
        step=QUIET_MS,
        stop_event=stop,
        rust_timeout=WAKE_MS,
        yield_on_timeout=True,
    )
    for batch in batches:
        yield _saved(batch)


def _saved(batch: set[tuple[watchfiles.Change, str]]) -> tuple[Path, ...]:
    """The files a batch changed, less those that came and went within it (the temporary file
    an editor or ``sed -i`` writes, then renames over the file saved)."""
    added = {path for change, path in batch if change == watchfiles.Change.added}
    deleted = {path for change, path in batch if change == watchfiles.Change.deleted}
    passing = {path for path in added & deleted if not Path(path).exists()}
    return tuple(sorted({Path(path) for _, path in batch if path not in passing}))


class FileSaves:
    """Notices each save of one file (the project file) in a thread, for :meth:`changed` to say.

    Its folder is watched, not recursively (a project's folder may hold a large virtual
    environment), and not the file itself: an editor saves by renaming a new file over it, which
    ends a watch on the file.
    """

    def __init__(self, file: Path, *, stop: threading.Event) -> None:
        self.file = file.resolve()
        self.content = _content(self.file)
        self.saved = threading.Event()
        self.stop = stop
        self.thread = threading.Thread(target=self._watch, name="deckkit-project-file", daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        saves = watchfiles.watch(
            self.file.parent,
            watch_filter=lambda _change, path: Path(path) == self.file,
            recursive=False,
            debounce=LONGEST_MS,
            step=QUIET_MS,
            stop_event=self.stop,
            rust_timeout=WAKE_MS,
            raise_interrupt=False,
        )
        for _batch in saves:
            self.saved.set()

    def changed(self) -> bool:
        """Whether the file's content changed since it was read, or last said to have changed."""
        if not self.saved.is_set():
            return False
        self.saved.clear()
        now = _content(self.file)
        if now == self.content:
            return False  # saved unchanged, or touched
        self.content = now
        return True


def _content(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError:
        return None  # removed (or unreadable): a change when it comes back


@dataclass(frozen=True)
class Previewed:
    """What writing the preview again did: the problems (errors: nothing was written) and the
    preview's state (:func:`folder_state`)."""

    problems: tuple[Problem, ...]
    state: str

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def preview(
    write_page: Callable[[], PreviewResult],
    *,
    preview_dir: Path,
    state: str,
    on_change: Callable[[], None],
) -> Previewed:
    """Write the preview (``write_page``); call ``on_change`` if its files changed from
    ``state``."""
    # The cycle collector waits until the page is announced: rescanning the long-lived process's
    # memos would only delay it (deckkit.gc_pause).
    with gc_paused():
        written = write_page()
        if not written.ok:
            return Previewed(written.problems, state)
        now = folder_state(preview_dir)
        if now != state:
            on_change()
    return Previewed(written.problems, now)


class Builds:
    """The decks' builds (``build_decks``), one at a time, each in a forked child at a lower
    priority where the platform can fork: meanwhile this process previews the next save and
    serves the page that changed at full speed. A save during a build is built after it."""

    def __init__(self, build_decks: Callable[[], BuildResult]) -> None:
        self.build_decks = build_decks
        self._running: Forked[BuildResult | _Raised] | None = None
        self._again = False  # a build was asked for while one ran

    def request(self) -> BuildResult | None:
        """Build the decks as they are now: at once, returning the result, where the platform
        cannot fork; else in the background (see :meth:`finished`)."""
        if not can_fork():
            return self.build_decks()
        if self._running is None:
            self._running = run_forked(partial(_in_background, self.build_decks))
        else:
            self._again = True
        return None

    def finished(self, *, wait: bool = False) -> BuildResult | None:
        """The result of a build that ended since the last call, without waiting for one that
        runs (unless ``wait``); None if none did. Raises what the build raised."""
        running = self._running
        if running is None:
            return None
        if not wait and not select.select([running.reader], [], [], 0)[0]:
            return None  # its result is written all at once, as it ends
        self._running = None
        try:
            outcome = running.result()
            if isinstance(outcome, _Raised):
                raise outcome.error()
            return outcome
        except BaseException as error:
            if not isinstance(error, Exception):  # Ctrl-C or a signal: ending, see stop()
                self._running, self._again = running, False
                self.stop()
            raise
        finally:
            if self._again:
                self._again = False
                self.request()

    def stop(self) -> None:
        """Wait for the build under way to end: the child ignores Ctrl-C (see
        :func:`~deckkit.atomic.release_in_child`) and its outputs are then complete."""
        if self._running is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._running.pid, 0)
            self._running = None


@dataclass(frozen=True)
class _Raised:
    """An error the build raised in the child, carried back whole: pickle would call its class
    with its message alone, and some of deckkit's errors take other arguments (ClockBehind)."""

    kind: type[DeckkitError]
    args: tuple[object, ...]
    state: dict[str, object]

    def error(self) -> DeckkitError:
        error = self.kind.__new__(self.kind, *self.args)
        error.args = self.args
        error.__dict__.update(self.state)
        return error


def _in_background(build_decks: Callable[[], BuildResult]) -> BuildResult | _Raised:
    # The packages can wait: the browser reloading the preview, on the same cores, comes first.
    with contextlib.suppress(OSError):
        os.nice(BACKGROUND_NICENESS)
    try:
        return build_decks()
    except DeckkitError as error:
        return _Raised(type(error), error.args, dict(error.__dict__))


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
    "Builds",
    "FileSaves",
    "Previewed",
    "changes",
    "folder_state",
    "preview",
    "watched_folders",
]
