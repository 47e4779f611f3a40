"""A copy of what the next commit contains, kept in a folder of the git directory, on which the
ordinary checks and build then run: they cannot see an unstaged edit or an untracked file.

The copy is kept between runs and brought up to date by the ids of the files' contents (git's
blob ids, in a small manifest beside it): only a file whose content changed in the index is
written again, so a commit that changes one deck of a hundred writes one file, and every other
file keeps its modification time (the build's incremental cache then finds those decks
unchanged). A file that left the index leaves the copy.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from deckkit.atomic import replace_text
from deckkit.staged.git import SYMLINK_MODE, IndexEntry, Repository, blob_contents

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: checks of one repository may then overlap
    fcntl = None  # type: ignore[assignment]

SNAPSHOT_FOLDER = "staged"
MANIFEST = "staged.json"
LOCK = "staged.lock"


@contextmanager
def held(repo: Repository) -> Iterator[None]:
    """Hold the copy for one check at a time (an editor's check and a commit's hook may run
    together): a second waits for the first."""
    descriptor = os.open(repo.private / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def snapshot_root(repo: Repository) -> Path:
    """The folder that holds the copy of the index."""
    return repo.private / SNAPSHOT_FOLDER


def update_snapshot(
    repo: Repository, entries: Mapping[PurePosixPath, IndexEntry], *, complete: bool = True
) -> Path:
    """Make the copy hold ``entries`` (paths relative to the top of the working tree), and only
    them when ``complete``; returns the copy's root."""
    root = snapshot_root(repo)
    manifest_path = repo.private / MANIFEST
    had = _read_manifest(manifest_path) if root.is_dir() else {}
    wanted = {str(path): [entry.mode, entry.blob] for path, entry in entries.items()}
    if complete:
        for gone in had.keys() - wanted.keys():
            _remove(root / gone)
    else:
        wanted = {**had, **wanted}
    changed = {path: mode_blob for path, mode_blob in wanted.items() if had.get(path) != mode_blob}
    by_blob: dict[str, list[str]] = {}
    for path, (_, blob) in changed.items():
        by_blob.setdefault(blob, []).append(path)
    for blob, content in blob_contents(repo, by_blob):
        for path in by_blob[blob]:
            _write(root / path, content, symlink=changed[path][0] == SYMLINK_MODE)
    if changed or had.keys() != wanted.keys():
        replace_text(manifest_path, json.dumps(wanted, sort_keys=True))
    return root


def _read_manifest(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no manifest, or a damaged one: every file is written again
    return data if isinstance(data, dict) else {}


def _write(path: Path, content: bytes, *, symlink: bool) -> None:
    _remove(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if symlink:
        # git keeps a link as the text of its target: the copy links the same way, so a link
        # that leaves the sources' folder is refused as it would be in a fresh clone.
        os.symlink(os.fsdecode(content), path)
    else:
        path.write_bytes(content)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():  # a file that became a folder in the index, or the other way round
        shutil.rmtree(path)
