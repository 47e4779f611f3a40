"""Writing outputs so that a failed or interrupted build never leaves a partial file.

Every output is first written to a hidden temporary file in the output folder (same file system),
flushed to disk, and only when all of a build's outputs are complete are they moved over the old
ones with ``os.replace``, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

Writer = Callable[[Path], None]


class OutputError(Exception):
    """The output folder cannot be used."""


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


@contextmanager
def staged_outputs(output_dir: Path) -> Iterator[Callable[[str, Writer], Path]]:
    """Stage files with ``stage(name, writer)``; all are published together when the block ends.

    If the block raises, every staged file is removed and the earlier outputs stay as they were.
    """
    staged: list[tuple[Path, Path]] = []

    def stage(name: str, writer: Writer) -> Path:
        final = output_dir / name
        handle, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=output_dir)
        os.close(handle)
        temp = Path(temp_name)
        staged.append((temp, final))
        writer(temp)
        _fsync(temp)
        return final

    try:
        yield stage
    except BaseException:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    for temp, final in staged:
        os.chmod(temp, 0o644)
        os.replace(temp, final)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
