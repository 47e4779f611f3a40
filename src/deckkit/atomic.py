"""Writing outputs so that a failed or interrupted build never leaves a partial file.

Every output is first written to a hidden temporary file in the output folder (same file system),
flushed to disk, and only when all of a build's outputs are complete are they moved over the old
ones with ``os.replace``, which is atomic on POSIX and Windows. A reader (or Anki) therefore sees
either the old complete file or the new complete one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deckkit.errors import OutputFolderError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: concurrent builds are not serialised there
    _CAN_LOCK = False
else:
    _CAN_LOCK = True

Writer = Callable[[Path], object]
TEMP_SUFFIX = ".tmp"
BUSY_NAME = ".deckkit-busy"


@dataclass(frozen=True)
class StagedFile:
    """A complete output waiting in a temporary file to replace ``final``."""

    temp: Path
    final: Path


def prepare_output_dir(output_dir: Path) -> None:
    """Create the output folder, or explain why it cannot be used."""
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputFolderError(f"output folder {output_dir} is a file")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputFolderError(
            f"cannot create output folder {output_dir}: {error.strerror}"
        ) from error
    if not os.access(output_dir, os.W_OK):
        raise OutputFolderError(f"output folder {output_dir} is not writable")


def stage(output_dir: Path, name: str, writer: Writer) -> tuple[StagedFile, object]:
    """Write an output to a temporary file beside its final name; returns it and what the writer
    returned. The temporary file is removed if the writer fails."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=TEMP_SUFFIX, dir=output_dir)
    os.close(handle)
    temp = Path(temp_name)
    try:
        outcome = writer(temp)
        with temp.open("rb") as written:
            os.fsync(written.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return StagedFile(temp, output_dir / name), outcome


def publish(staged: Iterable[StagedFile]) -> None:
    """Move every staged file over its final name."""
    for item in staged:
        os.chmod(item.temp, 0o644)
        os.replace(item.temp, item.final)


def discard(staged: Iterable[StagedFile]) -> None:
    """Remove staged files; the earlier outputs stay as they were."""
    for item in staged:
        item.temp.unlink(missing_ok=True)


def write_atomically(path: Path, writer: Writer) -> None:
    """Write one file through a temporary file beside it, then move that over ``path``: a reader
    sees the old file or the new one, never a part of it."""
    staged, _outcome = stage(path.parent, path.name, writer)
    try:
        publish([staged])
    except BaseException:
        discard([staged])
        raise


def replace_bytes(path: Path, content: bytes) -> None:
    """Replace a file's contents atomically."""
    write_atomically(path, lambda temp: temp.write_bytes(content))


def replace_text(path: Path, text: str) -> None:
    """Replace a small text file atomically."""
    replace_bytes(path, text.encode("utf-8"))


@contextmanager
def exclusive_output_dir(output_dir: Path) -> Iterator[Path | None]:
    """Hold the output folder for one build at a time; yields the outermost folder this build
    created (None when the output folder existed), so that a failed build can remove it.

    A second build into the same folder waits for the first. Holding the folder also makes it
    safe to remove temporary files that a killed build left behind.
    """
    missing = [folder for folder in [output_dir, *output_dir.parents] if not folder.exists()]
    prepare_output_dir(output_dir)
    busy = output_dir / BUSY_NAME
    with busy.open("a") as handle:
        if _CAN_LOCK:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        _HELD_LOCKS.append(handle.fileno())
        try:
            remove_leftover_temp_files(output_dir)
            yield missing[-1] if missing else None
        finally:
            _HELD_LOCKS.remove(handle.fileno())
            if _CAN_LOCK:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# The lock files this process holds open: a forked child closes its copies (release_in_child) so
# that, if this process is killed, a child still running cannot keep the next build waiting.
_HELD_LOCKS: list[int] = []


def release_in_child() -> None:
    """In a forked child: close the inherited lock files (the parent keeps its lock), and on
    Linux ask to be killed when the parent dies, so that a killed build leaves no orphan."""
    for descriptor in _HELD_LOCKS:
        with contextlib.suppress(OSError):
            os.close(descriptor)
    _HELD_LOCKS.clear()
    _die_with_parent()
    # Ctrl-C reaches the whole process group; the parent alone decides what happens (it waits
    # for its children and removes what they staged), so a child neither stops half-way nor
    # prints a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def remove_leftover_temp_files(output_dir: Path) -> None:
    """Remove the temporary files of builds that were killed while writing."""
    for path in output_dir.glob(f".*{TEMP_SUFFIX}"):
        path.unlink(missing_ok=True)


def remove_if_only_ours(output_dir: Path, created: Path | None = None) -> None:
    """Remove an output folder this build created (and the parents it created, up to
    ``created``), when nothing but deckkit's marker is in them."""
    (output_dir / BUSY_NAME).unlink(missing_ok=True)
    folder = output_dir
    while True:
        try:
            folder.rmdir()
        except OSError:
            return  # something else is in it: leave it
        if created is None or folder == created or folder.parent == folder:
            return
        folder = folder.parent
