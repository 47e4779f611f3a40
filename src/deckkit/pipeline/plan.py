"""Planning a build: what every source needs before it is built, decided once and frozen.

The plan holds the lockfile's entries, the note types' times, the incremental cache and which
sources it lets the build skip (see ``deckkit.pipeline.cache``). Worker processes receive it
when they start and only read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deckkit.errors import ClockBehind
from deckkit.lockfile import (
    Entry,
    Lock,
    deck_lines,
    declared_note_type_mods,
    newest_time,
    note_type_entries,
    read_lockfile,
)
from deckkit.model import Deck
from deckkit.notetypes import NOTE_TYPES
from deckkit.pipeline.cache import (
    CachedDeck,
    outputs_intact,
    read_cache,
    settings_key,
    source_fingerprint,
)
from deckkit.stamps import Stamps

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

    @property
    def to_build(self) -> list[Path]:
        """The sources this build must (re)build."""
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
    lock = read_lockfile(lockfile) if lockfile is not None else None
    if lock is not None and lockfile is not None and not clock_behind:
        newest = newest_time(lock)
        if now < newest - CLOCK_SLACK:
            raise ClockBehind(lockfile, now, newest)
    note_types = note_type_entries(lock or Lock(), now)
    settings = settings_key(formats, lock is not None, strict, markdown=markdown)
    cache = read_cache(output_dir)
    reused: dict[Path, CachedDeck] = {}
    for path in sources:
        cached = cache.get(cache_key(path))
        if cached is None:
            continue
        lines = deck_lines(lock.notes.get(cached.deck_id, {})) if lock is not None else None
        ids = (str(anchor[0]) for anchor in cached.note_types)
        known = deck_note_types(note_types, lock.note_types, ids) if lock else note_types
        stamps = stamps_key(path, known, lines)
        media = (Path(m) for m in cached.media)
        fingerprint = source_fingerprint(
            settings, path.read_bytes(), media, stamps, cached.note_types
        )
        if fingerprint == cached.fingerprint and outputs_intact(output_dir, cached):
            reused[path] = cached
    to_build = len(sources) - len(reused)
    return BuildPlan(
        sources=tuple(sources),
        output_dir=output_dir,
        formats=formats,
        now=now,
        strict=strict,
        lockfile=lockfile,
        frozen=frozen,
        lock=lock,
        note_types=note_types,
        settings=settings,
        cache=cache,
        reused=reused,
        created_output_dir=created_output_dir,
        # Several sources share the cores between them; a single one may use two by itself.
        parallel_exports=jobs >= 2 and min(jobs, to_build) < 2,
        accept_note_type_changes=accept_note_type_changes,
        accept_type_changes=accept_type_changes,
        accept_new_ids=accept_new_ids,
        markdown=markdown,
        inputs=inputs,
    )


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
    mtime = int(source.stat().st_mtime)
    newest = max([mtime, *(int(path.stat().st_mtime) for path in deck.files if path.exists())])
    note_types = {t.id: NOTE_TYPES_MOD for t in NOTE_TYPES.values()}
    note_types.update(declared_note_type_mods(deck, newest))
    return Stamps(note_types=note_types, default=mtime)
