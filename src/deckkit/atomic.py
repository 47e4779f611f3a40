"""Writing outputs so that a failed or interrupted build never leaves a partial file, and
touching no file that deckkit does not own.

Every output is first written to a hidden temporary file in the output folder (same file system),
flushed to disk, and only when all of a build's outputs are complete are they moved over the old
ones with ``os.replace``, which is atomic on POSIX and Windows. A reader (or Anki) therefore sees
either the old complete file or the new complete one.

deckkit owns only names it makes: its temporary files are ``.deckkit-<name>.<16 hex digits>.tmp``
(a killed build's are removed by the next build, and nothing else is), its busy marker is
``.deckkit-busy`` (opened without following a symlink or waiting on a FIFO), and its scratch
folders are ``<prefix><pid>-<random>`` in the system's temporary folder, each locked by its
process while in use, so that the next run removes those of processes that are gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import tempfile
import time
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
TEMP_PREFIX = ".deckkit-"
TEMP_SUFFIX = ".tmp"
BUSY_NAME = ".deckkit-busy"
# A temporary file stage() made, and nothing else: the user's own ".x.tmp" files stay.
_OWN_TEMP = re.compile(
    re.escape(TEMP_PREFIX) + r".*\.[0-9a-f]{16}" + re.escape(TEMP_SUFFIX), re.DOTALL
)
_NAME_BYTES = 200  # of the final name shown in a temporary file's (a file name has 255 at most)
# The marker is opened without following a symlink and without waiting for a FIFO's reader.
_MARKER_FLAGS = (
    os.O_WRONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


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
    temp = _new_temp_file(output_dir, name)
    try:
        outcome = writer(temp)
        with temp.open("rb") as written:
            os.fsync(written.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return StagedFile(temp, output_dir / name), outcome


def _new_temp_file(folder: Path, name: str) -> Path:
    """Create an empty temporary file for ``name`` in ``folder``, under a name deckkit owns."""
    shown = name.encode("utf-8", "surrogateescape")[:_NAME_BYTES].decode("utf-8", "ignore")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temp = folder / f"{TEMP_PREFIX}{shown}.{secrets.token_hex(8)}{TEMP_SUFFIX}"
        try:
            os.close(os.open(temp, flags, 0o600))
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
        return temp


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
    descriptor = open_marker(output_dir / BUSY_NAME)
    try:
        if _CAN_LOCK:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        _HELD_LOCKS.append(descriptor)
        try:
            remove_leftover_temp_files(output_dir)
            yield missing[-1] if missing else None
        finally:
            _HELD_LOCKS.remove(descriptor)
            if _CAN_LOCK:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def open_marker(path: Path, *, create: bool = True) -> int:
    """Open deckkit's marker file (creating it unless ``create`` is false) for locking; raises
    OutputFolderError, without touching it, when ``path`` is anything but a regular file."""
    try:
        descriptor = os.open(path, _MARKER_FLAGS | (os.O_CREAT if create else 0), 0o644)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.EOPNOTSUPP):
            raise _not_a_marker(path) from error
        raise OutputFolderError(f"cannot open {path}: {error.strerror}") from error
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise _not_a_marker(path)
    return descriptor


def _not_a_marker(path: Path) -> OutputFolderError:
    try:
        mode = path.lstat().st_mode
    except OSError:
        mode = 0
    kinds = {
        stat.S_ISLNK: "a symbolic link",
        stat.S_ISDIR: "a folder",
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISSOCK: "a socket",
        stat.S_ISCHR: "a device",
        stat.S_ISBLK: "a device",
    }
    kind = next((name for test, name in kinds.items() if test(mode)), "not a regular file")
    return OutputFolderError(
        f"{path} is {kind}, not the marker file deckkit keeps there; deckkit neither follows nor "
        "replaces it: remove it"
    )


# The lock files this process holds open: a forked child closes its copies (release_in_child) so
# that, if this process is killed, a child still running cannot keep the next build waiting.
_HELD_LOCKS: list[int] = []


def release_in_child(parent: int | None = None) -> None:
    """In a forked child: close the inherited lock files (the parent keeps its lock), and on
    Linux ask to be killed when the parent dies, so that a killed build leaves no orphan.

    ``parent`` is the pid of the process that forked this one: if it died before the request
    was made (a build killed just as it forked), this child ends at once instead of writing on
    beside the next build.
    """
    for descriptor in _HELD_LOCKS:
        with contextlib.suppress(OSError):
            os.close(descriptor)
    _HELD_LOCKS.clear()
    _die_with_parent()
    if parent is not None and os.getppid() != parent:
        os._exit(1)
    # Ctrl-C reaches the whole process group, and so do the SIGTERM of `timeout` and the SIGHUP
    # of a closed terminal; the parent alone decides what happens (it waits for its children and
    # removes what they staged), so a child neither stops half-way nor prints a traceback.
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def remove_leftover_temp_files(output_dir: Path) -> None:
    """Remove the temporary files of builds that were killed while writing: only files named as
    deckkit names them (see the module's docstring), never another ``.*.tmp``."""
    for path in output_dir.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        if _OWN_TEMP.fullmatch(path.name) and _is_regular_file(path):
            path.unlink(missing_ok=True)


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


@contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A private temporary folder, removed with all it holds on the way out, however the way out
    is taken; scratch folders of the same ``prefix`` whose process is gone (killed before it
    could remove its own) are removed first."""
    root = Path(tempfile.gettempdir())
    remove_abandoned_scratch_folders(root, prefix)
    # Made under a name the removal above ignores, and given its own name only once its marker is
    # locked: another run never sees it unlocked.
    folder = Path(tempfile.mkdtemp(prefix=f".{prefix}", dir=root))
    try:
        descriptor = open_marker(folder / BUSY_NAME)
        try:
            if _CAN_LOCK:
                with contextlib.suppress(OSError):  # unlocked where the file system cannot lock
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            named = root / f"{prefix}{os.getpid()}-{folder.name.removeprefix(f'.{prefix}')}"
            os.rename(folder, named)
            folder = named
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # still locked: no other run touches it
            os.close(descriptor)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# A scratch folder's marker missing for this long means its process died while creating it.
_UNMARKED_GRACE_SECONDS = 60.0


def remove_abandoned_scratch_folders(root: Path, prefix: str) -> None:
    """Remove the scratch folders (``<prefix><pid>-<random>``) in ``root`` whose process is gone:
    only folders of this user, whose marker no process holds locked (or, without a marker, whose
    process no longer exists)."""
    if not _CAN_LOCK:
        return  # pragma: no cover - Windows: no lock to tell a live folder from an abandoned one
    pattern = re.compile(re.escape(prefix) + r"([0-9]{1,9})-.+", re.DOTALL)
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found and _abandoned(Path(entry.path), int(found[1])):
            shutil.rmtree(entry.path, ignore_errors=True)


def _abandoned(folder: Path, pid: int) -> bool:
    """Whether ``folder`` is a scratch folder of this user that no live process uses."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False
    try:
        descriptor = open_marker(folder / BUSY_NAME, create=False)
    except OutputFolderError as error:
        if not isinstance(error.__cause__, FileNotFoundError):
            return False  # not a marker deckkit made: leave the folder alone
        return time.time() - info.st_mtime > _UNMARKED_GRACE_SECONDS and not _alive(pid)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # locked: its process is still using it
    finally:
        os.close(descriptor)  # a lock won is given up: the folder goes anyway
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user
    return True


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
