"""Planning a build: what every source needs before it is built, decided once and frozen.

The plan holds the lockfile's entries, the note types' times, the incremental cache and which
sources it lets the build skip (see ``deckkit.pipeline.cache``). Worker processes receive it
when they start and only read it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from deckkit.budgets import LOCKFILE
from deckkit.errors import ClockBehind
from deckkit.lock_entries import Entry, Lock
from deckkit.pipeline.cache import (
    BuildCache,
    CachedDeck,
    SettledLock,
    checked_fingerprint,
    deck_fingerprint,
    outputs_intact,
    read_build_cache,
    settings_key,
    stamps_digest,
)
from deckkit.pipeline.file_digests import MISSING, FileDigests
from deckkit.sources.discovery import DEFAULT_SOURCES
from deckkit.stamps import Stamps

# The lockfile's reader, the model and the note types are imported where a build reads the
# lockfile: a settled build (see BuildPlan.settled) never loads them.
if TYPE_CHECKING:
    from deckkit.model import Deck

# Without a lockfile, the note types' modification time: raised when templates or styling change.
NOTE_TYPES_MOD = 1_764_000_000


@dataclass(frozen=True)
class BuildPlan:
    """Everything a build decided before building any source."""

    sources: tuple[Path, ...]
    output_dir: Path
    formats: tuple[str, ...]
    now: int  # the build's time: what a changed note's modification time becomes
    strict: bool
    lockfile: Path | None
    frozen: bool
    lock: Lock | None  # the lockfile's entries (None: no lockfile, times from the sources)
    note_types: dict[str, Entry]  # deckkit's note types' entries after this build
    settings: str  # the options' part of every cache fingerprint
    cache: dict[str, CachedDeck]
    reused: dict[Path, CachedDeck]  # sources whose outputs are up to date, with their cache
    created_output_dir: Path | None  # the top folder this build created, to remove on failure
    parallel_exports: bool  # whether one large deck may use a second process
    # Declared note types (by name) whose appended fields or templates the build may carry.
    accept_note_type_changes: frozenset[str] = frozenset()
    # Cards (by id, or deck/card) whose change of note type the build may carry (see
    # deckkit.pipeline.learner_safety), and whether cards may take the content of cards that
    # leave under new ids (learners then get duplicates).
    accept_type_changes: frozenset[str] = frozenset()
    accept_new_ids: bool = False
    # The paths the build was given (none: the default sources folder): which decks it covers.
    inputs: tuple[Path, ...] = ()
    markdown: bool = False  # field text is Markdown where neither deck nor card says (project)
    # The files' digests this build looked up, remembered for the next (see deckkit.pipeline.cache).
    digests: FileDigests = field(default_factory=FileDigests)
    # The lockfile as read (its digest taken before reading it), or, for a settled build, as the
    # cache recorded it.
    settled_lock: SettledLock | None = None
    # True when every source is up to date and the lockfile is as the last build left it: the
    # lockfile was not read (``lock`` is None, ``note_types`` empty) and there is nothing to build.
    settled: bool = False
    stored: BuildCache = field(default_factory=lambda: BuildCache({}, {}))  # the cache as read

    @property
    def to_build(self) -> list[Path]:
        """The sources this build must (re)build."""
        if self.settled:
            return []  # its note-type files too: their checks stand as the last build made them
        return [path for path in self.sources if path not in self.reused]


# How far the clock may read behind the lockfile's newest time: builds within one second that
# change one note step its time a second past the clock each (stamps never go backwards), and
# those steps are not a wrong clock.
CLOCK_SLACK = 60


def make_plan(
    sources: list[Path],
    output_dir: Path,
    *,
    formats: tuple[str, ...],
    now: int,
    strict: bool,
    lockfile: Path | None,
    frozen: bool,
    created_output_dir: Path | None,
    jobs: int,
    clock_behind: bool = False,
    accept_note_type_changes: frozenset[str] = frozenset(),
    accept_type_changes: frozenset[str] = frozenset(),
    accept_new_ids: bool = False,
    inputs: tuple[Path, ...] = (),
    markdown: bool = False,
) -> BuildPlan:
    """Read the lockfile and the cache, and decide which sources are up to date."""
    stored = read_build_cache(output_dir)
    digests = FileDigests(stored.files)
    settings = settings_key(formats, lockfile is not None, strict, markdown=markdown)
    found = _settled(sources, output_dir, lockfile, stored, settings, digests, inputs)
    if found is None:
        found = _read_lock(sources, output_dir, lockfile, stored, settings, digests, inputs, now)
    if lockfile is not None and not clock_behind and now < found.newest - CLOCK_SLACK:
        raise ClockBehind(lockfile, now, found.newest)
    to_build = len(sources) - len(found.reused)
    return BuildPlan(
        sources=tuple(sources),
        output_dir=output_dir,
        formats=formats,
        now=now,
        strict=strict,
        lockfile=lockfile,
        frozen=frozen,
        lock=found.lock,
        note_types=found.note_types,
        settings=settings,
        cache=stored.decks,
        reused=found.reused,
        created_output_dir=created_output_dir,
        # Several sources share the cores between them; a single one may use two by itself.
        parallel_exports=jobs >= 2 and min(jobs, to_build) < 2,
        accept_note_type_changes=accept_note_type_changes,
        accept_type_changes=accept_type_changes,
        accept_new_ids=accept_new_ids,
        markdown=markdown,
        inputs=inputs,
        digests=digests,
        settled_lock=found.settled_lock,
        settled=found.settled,
        stored=stored,
    )


@dataclass(frozen=True)
class _Found:
    """What the lockfile and the cache tell a plan."""

    lock: Lock | None
    note_types: dict[str, Entry]
    reused: dict[Path, CachedDeck]
    settled_lock: SettledLock | None
    newest: int  # the newest time in the lockfile, for the clock check
    settled: bool = False


def _settled(
    sources: list[Path],
    output_dir: Path,
    lockfile: Path | None,
    stored: BuildCache,
    settings: str,
    digests: FileDigests,
    inputs: tuple[Path, ...],
) -> _Found | None:
    """A settled build's findings, without reading the lockfile; None unless it is settled.
    Without a lockfile, a deck's times are its source's modification time, found by a stat."""
    if lockfile is None:
        reused = _settled_decks(sources, output_dir, stored, settings, digests, _mtime_stamps)
        return None if reused is None else _Found(None, {}, reused, None, 0, settled=True)
    record = stored.settled_lock
    if record is None:
        return None
    if not _lock_settled(record, lockfile, digests, resolved_inputs(inputs), settings):
        return None
    reused = _settled_decks(sources, output_dir, stored, settings, digests, _cached_stamps)
    if reused is None:
        return None
    return _Found(None, {}, reused, record, record.newest, settled=True)


def _cached_stamps(_path: Path, cached: CachedDeck) -> str:
    """A deck's times as its last build had them: while the lockfile is the one it left."""
    return cached.stamps


def _mtime_stamps(path: Path, _cached: CachedDeck) -> str:
    """A deck's times without a lockfile: its source's modification time."""
    return stamps_digest(stamps_key(path, {}, None))


def _read_lock(
    sources: list[Path],
    output_dir: Path,
    lockfile: Path | None,
    stored: BuildCache,
    settings: str,
    digests: FileDigests,
    inputs: tuple[Path, ...],
    now: int,
) -> _Found:
    """The lockfile read (its digest taken first: a lockfile changed meanwhile is not taken
    for settled next time) and the sources up to date with its times."""
    from deckkit.lockfile import deck_lines, newest_time, note_type_entries, read_lockfile

    lock_digest = digests.digest(lockfile).hex() if lockfile is not None else ""
    lock = read_lockfile(lockfile) if lockfile is not None else None
    newest = newest_time(lock) if lock is not None else 0
    note_types = note_type_entries(lock or Lock(), now)
    reused: dict[Path, CachedDeck] = {}
    for path in sources:
        cached = stored.decks.get(cache_key(path))
        if cached is None:
            continue
        lines = deck_lines(lock.notes.get(cached.deck_id, {})) if lock is not None else None
        ids = (str(anchor[0]) for anchor in cached.note_types)
        known = deck_note_types(note_types, lock.note_types, ids) if lock else note_types
        stamps = stamps_digest(stamps_key(path, known, lines))
        fingerprint = deck_fingerprint(settings, path, cached, stamps, digests)
        if fingerprint == cached.fingerprint and outputs_intact(output_dir, cached):
            reused[path] = replace(cached, stamps=stamps)
    settled_lock = None
    if lockfile is not None and lock_digest != MISSING.hex():
        where = str(lockfile.resolve())
        settled_lock = SettledLock(where, lock_digest, newest, resolved_inputs(inputs), settings)
    return _Found(lock, note_types, reused, settled_lock, newest)


def resolved_inputs(inputs: tuple[Path, ...]) -> tuple[str, ...]:
    """The paths a build was given, resolved; with none, the default sources folder marked as
    such (a build given no paths covers even the decks an older lockfile has no source for)."""
    if not inputs:
        return ("(default)", str(DEFAULT_SOURCES.resolve()))
    return tuple(str(path.resolve()) for path in inputs)


def _lock_settled(
    record: SettledLock,
    lockfile: Path,
    digests: FileDigests,
    inputs: tuple[str, ...],
    settings: str,
) -> bool:
    """Whether the lockfile is, byte for byte and in the same place, the one the last build left,
    and this build is asked what that one was (the same inputs and options). A lockfile over its
    cap (which the environment may have lowered since) is read, to be refused as always."""
    return (
        record.settings == settings
        and record.inputs == inputs
        and record.lockfile == str(lockfile.resolve())
        and digests.digest(lockfile).hex() == record.digest
        and lockfile.stat().st_size <= LOCKFILE.cap()
    )


def _settled_decks(
    sources: list[Path],
    output_dir: Path,
    stored: BuildCache,
    settings: str,
    digests: FileDigests,
    stamps: Callable[[Path, CachedDeck], str],
) -> dict[Path, CachedDeck] | None:
    """Every source with its cache, when the sources are those of the last build and each is up
    to date with the modification times it was built with (``stamps``); None otherwise."""
    keys = [cache_key(path) for path in sources]
    if len(set(keys)) != len(sources) or set(keys) != {*stored.decks, *stored.checked}:
        return None
    reused = {}
    for path, key in zip(sources, keys, strict=True):
        if key in stored.checked:  # a note-type file: no outputs, only its check to stand
            checked = stored.checked[key]
            if checked_fingerprint(settings, path, checked.files, digests.digest) != (
                checked.fingerprint
            ):
                return None
            continue
        cached = stored.decks[key]
        fingerprint = deck_fingerprint(settings, path, cached, stamps(path, cached), digests)
        if fingerprint != cached.fingerprint or not outputs_intact(output_dir, cached):
            return None
        reused[path] = cached
    return reused


def cache_key(path: Path) -> str:
    """A source's key in the cache."""
    return str(path.resolve())


def deck_note_types(
    deckkits: dict[str, Entry], declared: dict[str, Entry], ids: Iterable[str]
) -> dict[str, Entry]:
    """The entries of the note types one deck's outputs carry: deckkit's, and those of the note
    types it declares (so that a change of another deck's note type does not rebuild it)."""
    return {**deckkits, **{key: declared[key] for key in ids if key in declared}}


def stamps_key(path: Path, note_types: dict[str, Entry], lock_lines: list[str] | None) -> str:
    """The modification times a deck's outputs carry, as text for its fingerprint."""
    if lock_lines is None:
        return json.dumps([path.stat().st_mtime_ns, NOTE_TYPES_MOD])
    times = sorted((key, entry.mod) for key, entry in note_types.items())
    return json.dumps(times) + "\n" + "\n".join(lock_lines)


def mtime_stamps(source: Path, deck: Deck) -> Stamps:
    """Without a lockfile: the source file's modification time for all its notes; deckkit's note
    types have a fixed time and a deck's declared note types their declared one, else the newest
    time of the files they are read from (so that an edited note-type or template file moves it)."""
    from deckkit.lockfile import declared_note_type_mods
    from deckkit.notetypes import NOTE_TYPES

    mtime = int(source.stat().st_mtime)
    newest = max([mtime, *(int(path.stat().st_mtime) for path in deck.files if path.exists())])
    note_types = {t.id: NOTE_TYPES_MOD for t in NOTE_TYPES.values()}
    note_types.update(declared_note_type_mods(deck, newest))
    return Stamps(note_types=note_types, default=mtime)
