"""Writing outputs so that a failed or interrupted build never leaves a partial file.

Every output is first written to a hidden temporary file in the output folder (same file system),
flushed to disk, and only when all of a build's outputs are complete are they moved over the old
ones with ``os.replace``, which is atomic on POSIX and Windows. A reader (or Anki) therefore sees
either the old complete file or the new complete one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

Writer = Callable[[Path], object]
TEMP_SUFFIX = ".tmp"


class OutputError(Exception):
    """The output folder cannot be used."""


@dataclass(frozen=True)
class StagedFile:
    """A complete output waiting in a temporary file to replace ``final``."""

    temp: Path
    final: Path


def prepare_output_dir(output_dir: Path) -> None:
    """Create the output folder, or explain why it cannot be used."""
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError(f"output folder {output_dir} is a file; choose another with -o")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create output folder {output_dir}: {error.strerror}") from error
    if not os.access(output_dir, os.W_OK):
        raise OutputError(f"output folder {output_dir} is not writable")


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


def replace_text(path: Path, text: str) -> None:
    """Replace a small text file atomically."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as temp:
        temp.write(text)
        temp.flush()
        os.fsync(temp.fileno())
    os.chmod(temp_name, 0o644)
    os.replace(temp_name, path)
