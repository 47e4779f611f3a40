"""The incremental-build cache, kept in the output folder (``.deckkit-cache.json``).

A deck is rebuilt unless everything its outputs depend on is exactly as at its last successful
build: deckkit's own code, the chosen formats and lockfile mode, the source file's bytes, the bytes
of every media file it referenced, the note-type and note modification times it was built with,
and its output files themselves (size and modification time, so a deleted or edited output is
rebuilt). Any doubt means a rebuild: the cache can make a build faster, never different.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

CACHE_NAME = ".deckkit-cache.json"
CACHE_VERSION = 1


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


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of deckkit's installed code and data: any change of deckkit invalidates the cache."""
    digest = hashlib.sha256()
    root = resources.files("deckkit")
    for entry in sorted(_package_files(Path(str(root)))):
        digest.update(entry.relative_to(Path(str(root))).as_posix().encode())
        digest.update(entry.read_bytes())
    return digest.hexdigest()


def _package_files(root: Path) -> Iterable[Path]:
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".json", ".css", ".yaml"):
            yield path


def settings_key(formats: Iterable[str], lock_mode: bool, strict: bool) -> str:
    """The part of every fingerprint that comes from deckkit and the options."""
    return json.dumps([code_fingerprint(), sorted(formats), lock_mode, strict])


def source_fingerprint(
    settings: str, source_bytes: bytes, media: Iterable[Path], stamps_key: str
) -> str:
    """A hash of everything one deck's outputs are made from."""
    digest = hashlib.sha256(settings.encode())
    digest.update(hashlib.sha256(source_bytes).digest())
    for path in media:
        digest.update(str(path).encode())
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"missing")
    digest.update(stamps_key.encode())
    return digest.hexdigest()


def output_state(path: Path) -> tuple[int, int] | None:
    """An output file's size and modification time, or None when it is gone."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


def read_cache(output_dir: Path) -> dict[str, CachedDeck]:
    """The cached decks by source path; empty when there is no usable cache."""
    try:
        data: Any = json.loads((output_dir / CACHE_NAME).read_text(encoding="utf-8"))
        if data.get("version") != CACHE_VERSION:
            return {}
        return {
            source: CachedDeck(
                fingerprint=entry["fingerprint"],
                deck_id=entry["deck_id"],
                name=entry["name"],
                id_position=tuple(entry["id_position"]),
                notes_by_type=dict(entry["notes_by_type"]),
                anki_cards=int(entry["anki_cards"]),
                media=tuple(entry["media"]),
                outputs={name: tuple(state) for name, state in entry["outputs"].items()},
                separators=tuple(entry["separators"]) if entry["separators"] else None,
                warnings=tuple(tuple(w) for w in entry.get("warnings", ())),
            )
            for source, entry in data["decks"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # a missing or damaged cache only costs a full build


def cache_text(decks: dict[str, CachedDeck]) -> str:
    """The cache file's text."""
    return json.dumps(
        {"version": CACHE_VERSION, "decks": {k: asdict(v) for k, v in sorted(decks.items())}},
        ensure_ascii=False,
        indent=1,
    )


def outputs_intact(output_dir: Path, cached: CachedDeck) -> bool:
    """True when every output of the deck is still the file deckkit wrote."""
    return all(
        output_state(output_dir / name) == tuple(state) for name, state in cached.outputs.items()
    )
