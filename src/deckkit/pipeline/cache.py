"""The incremental-build cache, kept in the output folder (``.deckkit-cache.json``).

A deck is rebuilt unless everything its outputs depend on is exactly as at its last successful
build: deckkit's own code, the chosen formats and lockfile mode, the source file's bytes, the bytes
of every media file it referenced, the note-type and note modification times it was built with,
and its output files themselves (size and modification time, so a deleted or edited output is
rebuilt). Any doubt means a rebuild: the cache can make a build faster, never different.

Two records make a build with nothing changed cheap (issue 15). The files' digests by their state
(``deckkit.pipeline.file_digests``) spare reading unchanged files. And the lockfile as the last
build left it (:class:`SettledLock`): while its bytes, its place, the build's inputs and options
are the same and every source is up to date, the lock the build would write is the one it would
read, so the lockfile is not read at all; each deck's fingerprint then takes the digest of its
modification times (``CachedDeck.stamps``) from the cache instead of from the lockfile.

So a damaged cache, whatever the damage (not JSON, wrong types, numbers out of range, nesting
too deep, a name that is not a plain file name, a file over the cache cap or not a regular file),
is read as no cache at all: it only costs a full build, which writes a good one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from deckkit.budgets import CACHE, CHUNK, open_regular, read_capped
from deckkit.errors import DeckkitError
from deckkit.lock_reader import is_slug
from deckkit.pipeline.file_digests import MISSING, FileDigests, FileRecord

CACHE_NAME = ".deckkit-cache.json"
CACHE_VERSION = 2
_LARGEST = 2**63  # no count, position, size or time in a cache is this large


@dataclass(frozen=True)
class CachedDeck:
    """What the last successful build of one source produced."""

    fingerprint: str
    deck_id: str
    name: str
    id_position: tuple[int, int]
    notes_by_type: dict[str, int]
    anki_cards: int
    media: tuple[str, ...]
    outputs: dict[str, tuple[int, int]]  # file name → (size, mtime in ns)
    separators: tuple[str, str] | None
    warnings: tuple[tuple[str, int, int, str, str], ...] = ()  # (path, line, column, message, code)
    # The note types it declares or reads from note-type files (a NoteTypeAnchor each: id,
    # fingerprint, name, declaring file, index): for the check across decks when it is not rebuilt.
    note_types: tuple[tuple[int, str, str, str, int], ...] = ()
    stamps: str = ""  # the digest of its modification times (``stamps_digest``)


@dataclass(frozen=True)
class SettledLock:
    """The lockfile as the last build left it (or found it, when it had nothing to change), and
    what that build was asked."""

    lockfile: str  # its resolved path
    digest: str  # the SHA-256 of its bytes, hex
    newest: int  # the newest time in it (``deckkit.lockfile.newest_time``), for the clock check
    inputs: tuple[str, ...]  # the build's inputs, resolved
    settings: str  # the options' part of every fingerprint (``settings_key``)


@dataclass(frozen=True)
class CheckedFile:
    """A source the last build checked that has no outputs of its own (a note-type file): what a
    settled build needs to tell whether it changed and what its check said."""

    fingerprint: str  # of it and the files it reads (``checked_fingerprint``)
    files: tuple[str, ...]  # its template and CSS files and its note types' media
    warnings: tuple[tuple[str, int, int, str, str], ...] = ()


@dataclass(frozen=True)
class BuildCache:
    """Everything the cache file holds."""

    decks: dict[str, CachedDeck]
    files: dict[str, FileRecord]
    settled_lock: SettledLock | None = None
    checked: dict[str, CheckedFile] = field(default_factory=dict)


# The libraries whose release shapes the outputs' bytes (project name, import name): genanki
# writes the packages, comrak the Markdown's HTML, Pygments the code blocks' highlighting, and
# PyYAML what a source's text reads as. Upgrading one must rebuild as a new deckkit does.
OUTPUT_LIBRARIES = (
    ("genanki", "genanki"),
    ("comrak", "comrak"),
    ("Pygments", "pygments"),
    ("PyYAML", "yaml"),
)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of deckkit's installed code and data and of the installed releases of the
    libraries that make its outputs: any change of either invalidates the cache."""
    digest = hashlib.sha256()
    root = resources.files("deckkit")
    for entry in sorted(_package_files(Path(str(root)))):
        digest.update(entry.relative_to(Path(str(root))).as_posix().encode())
        digest.update(entry.read_bytes())
    for release in library_releases():
        digest.update(f"\n{release}".encode())
    return digest.hexdigest()


def library_releases() -> list[str]:
    """The installed releases of OUTPUT_LIBRARIES, as their metadata folders' names (such as
    ``comrak-0.0.16.dist-info``), found beside each library without importing it:
    importlib.metadata would add some 50 ms to a build with nothing changed (issue 15)."""
    releases = []
    for project, module in OUTPUT_LIBRARIES:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            releases.append(f"{project}: not installed")
            continue
        folder = Path(spec.origin).parent  # site-packages, or the library's own folder:
        if spec.submodule_search_locations is not None:
            folder = folder.parent
        prefix = re.sub(r"[-_.]+", "_", project).lower() + "-"
        found = sorted(
            name
            for name in os.listdir(folder)
            if name.lower().startswith(prefix) and name.endswith((".dist-info", ".egg-info"))
        )
        releases.append(f"{project}: {', '.join(found) or 'release unknown'}")
    return releases


def _package_files(root: Path) -> Iterable[Path]:
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".json", ".css", ".yaml"):
            yield path


def settings_key(
    formats: Iterable[str], lock_mode: bool, strict: bool, *, markdown: bool = False
) -> str:
    """The part of every fingerprint that comes from deckkit and the options."""
    settings: list[object] = [code_fingerprint(), sorted(formats), lock_mode, strict]
    if markdown:  # only then: the caches of projects without Markdown stay valid
        settings.append("markdown")
    return json.dumps(settings)


def source_fingerprint(
    settings: str,
    source_bytes: bytes,
    media: Iterable[Path],
    stamps_key: str,
    note_types: Iterable[tuple[int, str, str, str, int]] = (),
) -> str:
    """A hash of everything one deck's outputs are made from, and of the note types it declares
    as the cache records them (``CachedDeck.note_types``: a damaged record means a rebuild)."""
    return fingerprint_of(
        settings,
        hashlib.sha256(source_bytes).digest(),
        ((str(path), file_digest(path)) for path in media),
        stamps_digest(stamps_key),
        note_types,
    )


def stamps_digest(stamps_key: str) -> str:
    """The digest of a deck's modification times (``deckkit.pipeline.plan.stamps_key``)."""
    return hashlib.sha256(stamps_key.encode()).hexdigest()


def fingerprint_of(
    settings: str,
    source_digest: bytes,
    media: Iterable[tuple[str, bytes]],
    stamps: str,
    note_types: Iterable[tuple[int, str, str, str, int]],
) -> str:
    """:func:`source_fingerprint` from the digests of its parts: the source's, each media file's
    (by path) and its modification times'."""
    digest = hashlib.sha256(settings.encode())
    digest.update(source_digest)
    for name, file_digest in media:
        digest.update(name.encode())
        digest.update(file_digest)
    digest.update(stamps.encode())
    digest.update(json.dumps(list(note_types)).encode())
    return digest.hexdigest()


def deck_fingerprint(
    settings: str, path: Path, cached: CachedDeck, stamps: str, digests: FileDigests
) -> str:
    """The fingerprint of a cached deck's source as it is now, with ``stamps`` for its times."""
    media = ((name, digests.digest(Path(name))) for name in cached.media)
    return fingerprint_of(settings, digests.digest(path), media, stamps, cached.note_types)


def checked_fingerprint(
    settings: str, path: Path, files: Iterable[str], digest: Callable[[Path], bytes]
) -> str:
    """The fingerprint of a checked file with no outputs (:class:`CheckedFile`): ``settings``,
    its bytes and those of the ``files`` it reads, by ``digest``."""
    media = ((name, digest(Path(name))) for name in files)
    return fingerprint_of(settings, digest(path), media, stamps_digest(""), ())


def file_digest(path: Path) -> bytes:
    """A regular file's SHA-256, read in pieces; b"missing" for anything else (the paths come
    from the cache too, which may be damaged: a FIFO or a device is never read)."""
    try:
        with open_regular(path, _Unreadable) as handle:
            file_hash = hashlib.sha256()
            while chunk := handle.read(CHUNK):
                file_hash.update(chunk)
            return file_hash.digest()
    except (OSError, ValueError, _Unreadable):  # ValueError: a NUL in the name
        return MISSING


class _Unreadable(DeckkitError):
    """A file the cache names is not a regular file."""


def output_state(path: Path) -> tuple[int, int] | None:
    """An output file's size and modification time, or None when it is gone."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


def read_cache(output_dir: Path) -> dict[str, CachedDeck]:
    """The cached decks by source path; empty when there is no usable cache."""
    return read_build_cache(output_dir).decks


def read_build_cache(output_dir: Path) -> BuildCache:
    """Everything in the cache; empty when there is no usable cache."""
    try:
        text = read_capped(output_dir / CACHE_NAME, CACHE, _Unreadable, too_large=_Unreadable)
        data: Any = json.loads(text.decode("utf-8"), parse_constant=_no_constant)
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return BuildCache({}, {})
        decks = data["decks"]
        settled_lock = data.get("settled_lock")
        return BuildCache(
            decks={_text(source): _cached_deck(entry) for source, entry in _object(decks).items()},
            files={_text(name): _file_record(r) for name, r in _object(data["files"]).items()},
            settled_lock=None if settled_lock is None else _settled_lock(settled_lock),
            checked={_text(k): _checked(v) for k, v in _object(data["checked"]).items()},
        )
    except (_Unreadable, ValueError, KeyError, TypeError, RecursionError):
        return BuildCache({}, {})  # a missing or damaged cache only costs a full build


def _cached_deck(entry: Any) -> CachedDeck:
    """One deck's entry, every value checked for its type and range; TypeError if it is wrong."""
    entry = _object(entry)
    separators = entry["separators"]
    return CachedDeck(
        fingerprint=_text(entry["fingerprint"]),
        deck_id=_deck_id(entry["deck_id"]),
        name=_text(entry["name"]),
        id_position=_two_counts(entry["id_position"]),
        notes_by_type={_text(k): _count(v) for k, v in _object(entry["notes_by_type"]).items()},
        anki_cards=_count(entry["anki_cards"]),
        media=tuple(_text(m) for m in _list(entry["media"])),
        outputs={
            _file_name(name): _two_counts(state)
            for name, state in _object(entry["outputs"]).items()
        },
        separators=None if separators is None else _pair(separators),
        warnings=tuple(_warning(w) for w in _list(entry.get("warnings", []))),
        note_types=tuple(_note_type(n) for n in _list(entry.get("note_types", []))),
        stamps=_text(entry.get("stamps", "")),
    )


def _checked(value: Any) -> CheckedFile:
    entry = _object(value)
    return CheckedFile(
        fingerprint=_text(entry["fingerprint"]),
        files=tuple(_text(name) for name in _list(entry["files"])),
        warnings=tuple(_warning(w) for w in _list(entry["warnings"])),
    )


def _file_record(value: Any) -> FileRecord:
    size, mtime, ctime, inode, device, digest = _list(value)
    if len(_text(digest)) != 64:
        raise TypeError("not a digest")
    bytes.fromhex(digest)  # ValueError if it is not hexadecimal
    return (_count(size), _count(mtime), _count(ctime), _count(inode), _count(device), digest)


def _settled_lock(value: Any) -> SettledLock:
    entry = _object(value)
    return SettledLock(
        lockfile=_text(entry["lockfile"]),
        digest=_text(entry["digest"]),
        newest=_count(entry["newest"]),
        inputs=tuple(_text(i) for i in _list(entry["inputs"])),
        settings=_text(entry["settings"]),
    )


def _two_counts(value: Any) -> tuple[int, int]:
    first, second = _list(value)
    return (_count(first), _count(second))


def _warning(value: Any) -> tuple[str, int, int, str, str]:
    path, line, column, message, code = _list(value)
    return (_text(path), _count(line), _count(column), _text(message), _text(code))


def _note_type(value: Any) -> tuple[int, str, str, str, int]:
    note_type_id, fingerprint, name, path, index = _list(value)
    return (_count(note_type_id), _text(fingerprint), _text(name), _text(path), _count(index))


def _pair(value: Any) -> tuple[str, str]:
    term, card = _list(value)
    return (_text(term), _text(card))


def _object(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise TypeError("not an object")
    return value


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise TypeError("not a list")
    return value


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError("not a string")
    return value


def _count(value: Any) -> int:
    if type(value) is not int or not 0 <= value < _LARGEST:
        raise TypeError("not a whole number in range")
    return value


def _deck_id(value: Any) -> str:
    deck_id = _text(value)
    if not is_slug(deck_id):
        raise TypeError("not a deck id")
    return deck_id


def _file_name(value: Any) -> str:
    """An output's name: a plain file name in the output folder, never a path out of it."""
    name = _text(value)
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise TypeError("not a file name")
    return name


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a cache holds")


def cache_text(decks: dict[str, CachedDeck]) -> str:
    """The cache file's text."""
    return build_cache_text(BuildCache(decks, {}))


def build_cache_text(cache: BuildCache) -> str:
    """The cache file's text, with every record."""
    settled_lock = None if cache.settled_lock is None else asdict(cache.settled_lock)
    return json.dumps(
        {
            "version": CACHE_VERSION,
            "decks": {k: asdict(v) for k, v in sorted(cache.decks.items())},
            "files": dict(sorted(cache.files.items())),
            "settled_lock": settled_lock,
            "checked": {k: asdict(v) for k, v in sorted(cache.checked.items())},
        },
        ensure_ascii=False,
        indent=1,
    )


def save_cache(output_dir: Path, fresh: BuildCache, stored: BuildCache) -> None:
    """Write the cache, unless it holds what it held already (``stored``)."""
    if fresh != stored:
        from deckkit.atomic import replace_text

        replace_text(output_dir / CACHE_NAME, build_cache_text(fresh))


def outputs_intact(output_dir: Path, cached: CachedDeck) -> bool:
    """True when every output of the deck is still the file deckkit wrote."""
    return all(
        output_state(output_dir / name) == tuple(state) for name, state in cached.outputs.items()
    )
