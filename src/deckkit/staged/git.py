"""What git knows: the repository, the files its index holds (what the next commit contains), the
contents of those files, and the files the commit would leave out.

Everything is read through git's own plumbing commands (``ls-files``, ``cat-file --batch``,
``diff``), never from ``.git``'s files, so the index git uses for the commit is the one read:
``git commit -a`` and ``git commit PATH`` give their hook a temporary index in
``GIT_INDEX_FILE``, which these commands honour.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deckkit.errors import UsageError

# The modes of index entries that are files: regular, executable, symbolic link (a submodule,
# 160000, has no content in this repository).
FILE_MODES = ("100644", "100755", "120000")
SYMLINK_MODE = "120000"


class GitError(UsageError):
    """git cannot be run here, or failed; the message says what to do."""


@dataclass(frozen=True)
class Repository:
    """A git repository as seen from the working folder."""

    root: Path  # the top of its working tree
    prefix: PurePosixPath  # the working folder relative to ``root`` ('.' at the top)
    private: Path  # a folder inside its git directory that deckkit may use for itself


@dataclass(frozen=True)
class IndexEntry:
    """One file of the index: its mode, the id of its content (a blob) and its path."""

    mode: str
    blob: str
    path: PurePosixPath  # relative to the top of the working tree


def git(repo_root: Path | None, *arguments: str, input: bytes | None = None) -> bytes:
    """The output of ``git arguments`` run in ``repo_root`` (the working folder when None)."""
    command = ["git", "-c", "core.quotepath=off", *arguments]
    try:
        done = subprocess.run(command, cwd=repo_root, input=input, capture_output=True)
    except FileNotFoundError as error:
        raise GitError(
            "git is not installed (or not on PATH); --staged reads git's index"
        ) from error
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(f"git {arguments[0]} failed: {said[-1] if said else done.returncode}")
    return done.stdout


def find_repository(name: str = "deckkit") -> Repository:
    """The repository of the working folder, and a folder ``name`` of its own in its git
    directory (created when missing); raises :class:`GitError` outside a repository."""
    try:
        lines = git(None, "rev-parse", "--show-toplevel", "--show-prefix", "--git-path", name)
    except GitError as error:
        raise GitError(
            "not in a git repository: --staged checks what the next commit contains; run it "
            "inside the repository (or run 'deckkit validate' without --staged)"
        ) from error
    top, prefix, private = lines.decode().splitlines()[:3]
    private_path = Path(private)
    private_path.mkdir(parents=True, exist_ok=True)
    return Repository(Path(top), PurePosixPath(prefix or "."), private_path.resolve())


def index_entries(
    repo: Repository, pathspecs: Sequence[str] = (), *, glob: bool = False
) -> dict[PurePosixPath, IndexEntry]:
    """The files of the index (stage 0: a file with a merge conflict cannot be committed, git
    says so itself), those under ``pathspecs`` (relative to the top) when given; with ``glob``
    the pathspecs are patterns (``**/deckkit.toml``)."""
    specs = _top_pathspecs(pathspecs, magic="glob" if glob else "literal")
    output = git(repo.root, "ls-files", "-s", "-z", "--", *specs)
    entries: dict[PurePosixPath, IndexEntry] = {}
    for record in output.decode("utf-8", "surrogateescape").split("\0"):
        if not record:
            continue
        info, _, path = record.partition("\t")
        mode, blob, stage = info.split(" ")
        if stage == "0" and mode in FILE_MODES:
            entries[PurePosixPath(path)] = IndexEntry(mode, blob, PurePosixPath(path))
    return entries


def blob_contents(repo: Repository, blobs: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """Each blob's id and content, read through one ``git cat-file --batch``."""
    wanted = list(dict.fromkeys(blobs))
    if not wanted:
        return
    output = git(repo.root, "cat-file", "--batch", input="".join(b + "\n" for b in wanted).encode())
    position = 0
    for blob in wanted:
        header_end = output.index(b"\n", position)
        header = output[position:header_end].decode().split(" ")
        if len(header) < 3:  # "<id> missing": an index naming a blob the object store lacks
            raise GitError(f"git's index names a missing object {blob}; run 'git fsck'")
        size = int(header[2])
        start = header_end + 1
        yield blob, output[start : start + size]
        position = start + size + 1  # the content is followed by a newline


def untracked_files(repo: Repository, pathspecs: Sequence[str]) -> set[PurePosixPath]:
    """Files under ``pathspecs`` that git does not track (ignored ones too): not in the commit."""
    output = git(repo.root, "ls-files", "--others", "-z", "--", *_top_pathspecs(pathspecs))
    return _paths(output)


def ignored_files(repo: Repository, paths: Iterable[PurePosixPath]) -> set[PurePosixPath]:
    """Those of ``paths`` that git ignores (``git add`` needs ``-f`` for them)."""
    listed = "".join(f"{path}\0" for path in paths).encode("utf-8", "surrogateescape")
    if not listed:
        return set()
    done = subprocess.run(
        ["git", "check-ignore", "-z", "--stdin", "--no-index"],
        cwd=repo.root,
        input=listed,
        capture_output=True,
    )
    return _paths(done.stdout) if done.returncode == 0 else set()


def unstaged_files(repo: Repository, pathspecs: Sequence[str]) -> set[PurePosixPath]:
    """Tracked files under ``pathspecs`` whose working copy differs from the index: the commit
    holds the staged version, not the one the author sees."""
    output = git(repo.root, "diff", "--name-only", "-z", "--", *_top_pathspecs(pathspecs))
    return _paths(output)


def _paths(output: bytes) -> set[PurePosixPath]:
    return {
        PurePosixPath(name)
        for name in output.decode("utf-8", "surrogateescape").split("\0")
        if name
    }


def _top_pathspecs(pathspecs: Sequence[str], magic: str = "literal") -> list[str]:
    # ':(top)' makes a pathspec relative to the top of the working tree, wherever git runs.
    return [f":(top,{magic}){spec}" for spec in pathspecs]
