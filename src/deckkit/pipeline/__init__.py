"""The pipeline: find sources → load with positions → validate → model → export → publish.

A build works source by source (one deck per file). Each source that changed since the last
build into the same folder is loaded, checked, modelled and exported to staged temporary files,
on several cores when there are several; unchanged sources are skipped (see ``deckkit.pipeline.cache``).
Only when every source is valid (and, with ``frozen``, the lockfile is up to date) are the staged
files published together; otherwise they are discarded and the earlier outputs stay as they were.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from deckkit.atomic import (
    StagedFile,
    Writer,
    discard,
    exclusive_output_dir,
    publish,
    release_in_child,
    remove_if_only_ours,
    remove_leftover_temp_files,
    replace_text,
    stage,
)
from deckkit.errors import LockOutdated, OutputFolderError, UsageError
from deckkit.exporters import EXPORTERS, OutputFormat, Separators
from deckkit.lockfile import (
    Entry,
    Lock,
    deck_entries,
    deck_lines,
    lock_to_text,
    note_type_entries,
    original_note_type_mods,
    read_lockfile,
    stale_notes,
    stamps_from,
)
from deckkit.model import Deck, deck_from_source
from deckkit.notetypes import NOTE_TYPES
from deckkit.pipeline.cache import (
    CACHE_NAME,
    CachedDeck,
    cache_text,
    output_state,
    outputs_intact,
    read_cache,
    settings_key,
    source_fingerprint,
)
from deckkit.problems import Problem, display_path, sort_problems
from deckkit.sources.checks import DeckIdAnchor, duplicate_ids, source_problems
from deckkit.sources.discovery import discover_sources, source_folders
from deckkit.sources.loader import LoadedSource, gc_paused, load_source
from deckkit.sources.schema import schema_problems
from deckkit.sources.validation import located_problems
from deckkit.stamps import Stamps

# A deck this large has its .apkg and its other formats written by two processes at once.
PARALLEL_EXPORT_MIN_CARDS = 5000
# Without a lockfile, the note types' modification time: raised when templates or styling change.
NOTE_TYPES_MOD = 1_764_000_000


@dataclass(frozen=True)
class DeckSummary:
    """One deck a build produced (or found unchanged)."""

    id: str
    name: str
    source: Path
    notes_by_type: dict[str, int]
    anki_cards: int

    @property
    def notes(self) -> int:
        return sum(self.notes_by_type.values())


@dataclass(frozen=True)
class BuildResult:
    """What a build did: problems (then nothing was written) or the decks and files written."""

    problems: tuple[Problem, ...]
    decks: tuple[DeckSummary, ...] = ()
    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    quizlet_separators: dict[str, Separators] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def notes_by_type(self) -> Counter[str]:
        """How many notes of each card type the decks hold."""
        total: Counter[str] = Counter()
        for deck in self.decks:
            total.update(deck.notes_by_type)
        return total

    def anki_cards(self) -> int:
        """How many Anki cards the notes make (reversed: 2, cloze: one per deletion number)."""
        return sum(deck.anki_cards for deck in self.decks)


def build(
    paths: Sequence[Path] = (),
    output_dir: Path = Path("build"),
    *,
    formats: Iterable[str] = tuple(EXPORTERS),
    lockfile: Path | None = None,
    frozen: bool = False,
    clock: Callable[[], float] = time.time,
    jobs: int | None = None,
    strict: bool = False,
    on_deck: Callable[[DeckSummary], None] | None = None,
    on_start: Callable[[list[Path]], None] | None = None,
) -> BuildResult:
    """Validate, then export every deck in every format; writes nothing unless all is valid.

    With a ``lockfile``, each note's modification time comes from it and it is updated for what
    changed; ``frozen`` raises :class:`LockOutdated` instead of updating it. Without one, every
    note of a source gets the source file's modification time. Sources unchanged since the last
    build into ``output_dir`` are not rebuilt. ``jobs`` caps the processes used (default: one per
    core). ``on_start`` receives the sources about to be built, ``on_deck`` each deck once built
    (for progress reports).
    """
    chosen = tuple(dict.fromkeys(formats))
    unknown = [name for name in chosen if name not in EXPORTERS]
    if unknown:
        raise UsageError(f"unknown format {unknown[0]!r}; choose from {', '.join(EXPORTERS)}")
    if lockfile is None and frozen:
        raise UsageError("a frozen build needs a lockfile")
    sources = discover_sources(paths)
    _refuse_output_inside_sources(output_dir, paths)
    with gc_paused(), exclusive_output_dir(output_dir) as created:
        try:
            plan = _plan(sources, output_dir, chosen, lockfile, int(clock()), strict)
        except BaseException:
            if created is not None:
                remove_if_only_ours(output_dir, created)
            raise
        plan.frozen = frozen
        plan.created_output_dir = created
        if on_start:
            on_start([path for path in plan.sources if path not in plan.reused])
        return _execute(plan, jobs or os.cpu_count() or 1, on_deck)


def _refuse_output_inside_sources(output_dir: Path, paths: Sequence[Path]) -> None:
    """Outputs written among the sources would be read back as sources or committed by mistake."""
    target = output_dir.resolve()
    for folder in source_folders(paths):
        if target == folder.resolve() or target.is_relative_to(folder.resolve()):
            raise OutputFolderError(
                f"output folder {output_dir} is inside the sources folder {folder}"
            )


@dataclass
class _Plan:
    """Everything a build decided before exporting; read by worker processes after a fork."""

    sources: list[Path]
    output_dir: Path
    formats: tuple[str, ...]
    lockfile: Path | None
    frozen: bool
    now: int
    lock: Lock | None
    note_types: dict[str, Entry]
    settings: str
    cache: dict[str, CachedDeck]
    reused: dict[Path, CachedDeck]
    created_output_dir: Path | None
    strict: bool = False
    parallel_exports: bool = False


def _plan(
    sources: list[Path],
    output_dir: Path,
    formats: tuple[str, ...],
    lockfile: Path | None,
    now: int,
    strict: bool,
) -> _Plan:
    lock = read_lockfile(lockfile) if lockfile is not None else None
    note_types = note_type_entries(lock or Lock(), now)
    settings = settings_key(formats, lock is not None, strict)
    cache = read_cache(output_dir)
    plan = _Plan(
        sources,
        output_dir,
        formats,
        lockfile,
        False,
        now,
        lock,
        note_types,
        settings,
        cache,
        {},
        None,
        strict,
    )
    for path in sources:
        cached = cache.get(_cache_key(path))
        if cached is None:
            continue
        lines = None
        if plan.lock is not None:
            lines = deck_lines(plan.lock.notes.get(cached.deck_id, {}))
        key = _stamps_key(plan, path, lines)
        fingerprint = source_fingerprint(
            settings, path.read_bytes(), (Path(m) for m in cached.media), key
        )
        if fingerprint == cached.fingerprint and outputs_intact(output_dir, cached):
            plan.reused[path] = cached
    return plan


def _cache_key(path: Path) -> str:
    return str(path.resolve())


@dataclass(frozen=True)
class _Outcome:
    """What processing one source gave: small enough to send back from a worker process."""

    path: Path
    problems: tuple[Problem, ...]
    deck_id: str | None = None
    id_problem_anchor: tuple[str, int, int] | None = None
    summary: DeckSummary | None = None
    staged: tuple[StagedFile, ...] = ()
    entries: dict[str, Entry] | None = None
    cached: CachedDeck | None = None
    separators: Separators | None = None
    lock_lines: list[str] | None = None  # deck_lines(entries), made once for two uses


_PLAN: _Plan | None = None  # the plan a forked worker inherits


def _process_in_worker(path: Path) -> _Outcome:
    assert _PLAN is not None
    with gc_paused():
        return _process(_PLAN, path)


def _process(plan: _Plan, path: Path) -> _Outcome:
    """Load, check, model and export one source into staged files.

    The source is read without its values' positions (see ``check_source``); one with problems,
    warnings included, is read again with them so that every problem is placed exactly.
    """
    source = load_source(path, all_positions=False)
    if source.problems or schema_problems(source):
        return _finish(plan, path, *located_problems(path, strict=plan.strict))
    if not (plan.parallel_exports and hasattr(os, "fork") and _is_large(source)):
        if source_problems(source):
            return _finish(plan, path, *located_problems(path, strict=plan.strict))
        return _finish(plan, path, source, [])
    # The checks beyond the schema run in a forked child while this process builds the deck;
    # if they find a problem, what was built is thrown away and the source is read again.
    checking = _fork(lambda: bool(source_problems(source)))
    outcome: _Outcome | None = None
    failure: Exception | None = None
    try:
        outcome = _finish(plan, path, source, [])
    except Exception as error:  # a source the checks reject may break the model: they say why
        failure = error
    if checking.result():
        if outcome is not None:
            discard(outcome.staged)
        return _finish(plan, path, *located_problems(path, strict=plan.strict))
    if failure is not None:
        raise failure
    assert outcome is not None
    return outcome


def _is_large(source: LoadedSource) -> bool:
    cards = source.data.get("cards") if isinstance(source.data, dict) else None
    return isinstance(cards, list) and len(cards) >= PARALLEL_EXPORT_MIN_CARDS


def _finish(plan: _Plan, path: Path, source: LoadedSource, problems: list[Problem]) -> _Outcome:
    """Model and export a checked source (or report its problems)."""
    data = source.data
    deck_id = data.get("id") if isinstance(data, dict) else None
    anchor = None
    if isinstance(deck_id, str):
        mark = source.mark_of_value(("id",))
        anchor = (source.display, mark.line, mark.column)
    else:
        deck_id = None
    if any(p.severity == "error" for p in problems):
        return _Outcome(path, tuple(problems), deck_id, anchor)
    deck = deck_from_source(source)
    entries = None
    if plan.lock is not None:
        entries = deck_entries(plan.lock.notes.get(deck.id, {}), deck, plan.now)
        stamps = stamps_from(entries, plan.note_types, deck)
    else:
        stamps = _mtime_stamps(path, deck)
    exported = _export(plan, deck, stamps)
    staged = [item for item, _ in exported]
    separators = next((o for _, o in exported if isinstance(o, Separators)), None)
    summary = DeckSummary(
        id=deck.id,
        name=deck.name,
        source=path,
        notes_by_type=dict(Counter(card.type for card in deck.cards)),
        anki_cards=sum(map(len, deck.ordinals)),
    )
    media = tuple(str(m.source) for m in deck.media)
    lock_lines = deck_lines(entries) if entries is not None else None
    stamps_key = _stamps_key(plan, path, lock_lines)
    cached = CachedDeck(
        fingerprint=source_fingerprint(
            plan.settings, path.read_bytes(), (Path(m) for m in media), stamps_key
        ),
        deck_id=deck.id,
        name=deck.name,
        id_position=(anchor[1], anchor[2]) if anchor else (1, 1),
        notes_by_type=summary.notes_by_type,
        anki_cards=summary.anki_cards,
        media=media,
        outputs={},  # filled in once the files are published
        separators=(separators.term, separators.card) if separators else None,
        warnings=tuple((p.path, p.line, p.column, p.message, p.code) for p in problems),
    )
    return _Outcome(
        path,
        tuple(problems),
        deck.id,
        anchor,
        summary,
        tuple(staged),
        entries,
        cached,
        separators,
        lock_lines,
    )


def _export_formats(
    plan: _Plan, deck: Deck, stamps: Stamps, formats: Sequence[str]
) -> list[tuple[StagedFile, object]]:
    """Stage one deck's outputs in ``formats``; nothing is left behind if one fails."""
    exported: list[tuple[StagedFile, object]] = []
    try:
        for name in formats:
            output = EXPORTERS[name]
            exported.append(
                stage(plan.output_dir, f"{deck.id}{output.suffix}", _writer(output, deck, stamps))
            )
    except BaseException:
        discard(item for item, _ in exported)
        raise
    return exported


def _writer(output: OutputFormat, deck: Deck, stamps: Stamps) -> Writer:
    """The exporter bound to one deck: stage() gives it only the file to write."""
    return lambda path: output.export(deck, path, stamps)


def _export(plan: _Plan, deck: Deck, stamps: Stamps) -> list[tuple[StagedFile, object]]:
    """Stage a deck's outputs; a large deck's .apkg is written while a forked child writes the
    other formats, so that one big deck uses two cores too."""
    formats = list(plan.formats)
    parallel = (
        plan.parallel_exports
        and len(formats) > 1
        and len(deck.cards) >= PARALLEL_EXPORT_MIN_CARDS
        and hasattr(os, "fork")
    )
    if not parallel:
        return _export_formats(plan, deck, stamps, formats)
    first, rest = formats[:1], formats[1:]
    others = _fork(lambda: _export_formats(plan, deck, stamps, rest))
    mine: list[tuple[StagedFile, object]] = []
    try:
        mine = _export_formats(plan, deck, stamps, first)
    finally:
        try:
            theirs = others.result()
        except BaseException:
            discard(item for item, _ in mine)
            raise
    assert isinstance(theirs, list)
    return mine + theirs


class _Forked:
    """A function running in a forked child; ``result()`` returns (or raises) what it gave."""

    def __init__(self, pid: int, reader: int) -> None:
        self.pid = pid
        self.reader = reader

    def result(self) -> object:
        with os.fdopen(self.reader, "rb") as pipe:
            data = pipe.read()  # read everything before waiting: a full pipe would block the child
        os.waitpid(self.pid, 0)
        if not data:
            raise RuntimeError("a deckkit worker process ended unexpectedly")
        outcome = pickle.loads(data)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def _fork(work: Callable[[], object]) -> _Forked:
    """Run ``work`` in a forked child (POSIX only; callers check ``hasattr(os, "fork")``)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 1
        try:
            os.close(reader)
            release_in_child()
            payload: object = work()
            status = 0
        except BaseException as error:  # the parent re-raises it
            payload = error
        try:
            with os.fdopen(writer, "wb") as pipe:
                pickle.dump(payload, pipe)
        finally:
            os._exit(status)
    os.close(writer)
    return _Forked(pid, reader)


def _stamps_key(plan: _Plan, path: Path, lock_lines: list[str] | None) -> str:
    """The modification times a deck's outputs carry, as text for its fingerprint."""
    note_types = sorted((k, e.mod) for k, e in plan.note_types.items())
    if lock_lines is None:
        return json.dumps([path.stat().st_mtime_ns, NOTE_TYPES_MOD])
    return json.dumps(note_types) + "\n" + "\n".join(lock_lines)


def _mtime_stamps(source: Path, deck: Deck) -> Stamps:
    """Without a lockfile: the source file's modification time for all its notes; deckkit's note
    types have a fixed time and a deck's original note types their declared one."""
    mtime = int(source.stat().st_mtime)
    note_types = {t.id: NOTE_TYPES_MOD for t in NOTE_TYPES.values()}
    note_types.update(original_note_type_mods(deck))
    return Stamps(note_types=note_types, default=mtime)


def _run(plan: _Plan, paths: list[Path], jobs: int) -> Iterable[_Outcome]:
    """Process sources, in forked worker processes when there are several and several cores."""
    global _PLAN
    workers = min(jobs, len(paths))
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        # One source at a time: a large deck's formats can still share the cores.
        plan.parallel_exports = jobs >= 2
        for path in paths:
            yield _process(plan, path)
        return
    _PLAN = plan
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=release_in_child
        ) as pool:
            yield from pool.map(_process_in_worker, paths)
    finally:
        _PLAN = None


def _execute(plan: _Plan, jobs: int, on_deck: Callable[[DeckSummary], None] | None) -> BuildResult:
    to_build = [path for path in plan.sources if path not in plan.reused]
    outcomes: dict[Path, _Outcome] = {}
    try:
        for outcome in _run(plan, to_build, jobs):
            outcomes[outcome.path] = outcome
            if on_deck and outcome.summary:
                on_deck(outcome.summary)
        problems = _all_problems(plan, outcomes)
        if any(p.severity == "error" for p in problems):
            _abandon(plan, outcomes)
            return BuildResult(tuple(problems))
        fresh_lock = _fresh_lock(plan, outcomes)
        if plan.frozen and plan.lockfile is not None and fresh_lock != plan.lock:
            assert plan.lock is not None
            assert fresh_lock is not None
            raise LockOutdated(plan.lockfile, stale_notes(plan.lock, fresh_lock) or ["note types"])
    except BaseException:
        _abandon(plan, outcomes)
        raise
    staged = [item for outcome in outcomes.values() for item in outcome.staged]
    publish(staged)
    if plan.lockfile is not None and fresh_lock is not None and fresh_lock != plan.lock:
        made = {o.deck_id: o.lock_lines for o in outcomes.values() if o.deck_id and o.lock_lines}
        replace_text(plan.lockfile, lock_to_text(fresh_lock, made))
    _save_cache(plan, outcomes)
    return _result(plan, outcomes, problems, staged)


def _all_problems(plan: _Plan, outcomes: dict[Path, _Outcome]) -> list[Problem]:
    problems = [p for outcome in outcomes.values() for p in outcome.problems]
    problems += [
        Problem(*warning, severity="warning")
        for cached in plan.reused.values()
        for warning in cached.warnings
    ]
    anchors: list[DeckIdAnchor] = []
    for path in plan.sources:
        if path in plan.reused:
            cached = plan.reused[path]
            line, column = cached.id_position
            anchors.append((cached.deck_id, display_path(path), line, column))
        else:
            outcome = outcomes[path]
            if outcome.deck_id is not None and outcome.id_problem_anchor is not None:
                display, line, column = outcome.id_problem_anchor
                anchors.append((outcome.deck_id, display, line, column))
    problems += duplicate_ids(anchors)
    return sort_problems(problems)


def _fresh_lock(plan: _Plan, outcomes: dict[Path, _Outcome]) -> Lock | None:
    if plan.lock is None:
        return None
    notes = dict(plan.lock.notes)
    for outcome in outcomes.values():
        if outcome.deck_id is not None and outcome.entries is not None:
            notes[outcome.deck_id] = outcome.entries
    return Lock(notes=notes, note_types=plan.note_types)


def _abandon(plan: _Plan, outcomes: dict[Path, _Outcome]) -> None:
    discard(item for outcome in outcomes.values() for item in outcome.staged)
    # Holding the folder, every temporary file in it is this build's: also those that workers
    # staged but had not reported when the build was interrupted.
    remove_leftover_temp_files(plan.output_dir)
    if plan.created_output_dir is not None:
        remove_if_only_ours(plan.output_dir, plan.created_output_dir)


def _save_cache(plan: _Plan, outcomes: dict[Path, _Outcome]) -> None:
    decks = {_cache_key(path): cached for path, cached in plan.reused.items()}
    for path, outcome in outcomes.items():
        if outcome.cached is None:
            continue
        outputs = {}
        for item in outcome.staged:
            state = output_state(item.final)
            if state is not None:
                outputs[item.final.name] = state
        decks[_cache_key(path)] = CachedDeck(**{**outcome.cached.__dict__, "outputs": outputs})
    if decks != plan.cache:
        replace_text(plan.output_dir / CACHE_NAME, cache_text(decks))


def _result(
    plan: _Plan, outcomes: dict[Path, _Outcome], problems: list[Problem], staged: list[StagedFile]
) -> BuildResult:
    summaries: list[DeckSummary] = []
    separators: dict[str, Separators] = {}
    unchanged: list[Path] = []
    for path in plan.sources:
        if path in plan.reused:
            cached = plan.reused[path]
            summaries.append(
                DeckSummary(
                    cached.deck_id, cached.name, path, cached.notes_by_type, cached.anki_cards
                )
            )
            unchanged += [plan.output_dir / name for name in cached.outputs]
            if cached.separators:
                separators[cached.deck_id] = Separators(*cached.separators)
        else:
            outcome = outcomes[path]
            if outcome.summary:
                summaries.append(outcome.summary)
            if outcome.separators and outcome.deck_id:
                separators[outcome.deck_id] = outcome.separators
    return BuildResult(
        tuple(problems),
        tuple(summaries),
        tuple(item.final for item in staged),
        tuple(unchanged),
        separators,
    )


__all__ = ["EXPORTERS", "BuildResult", "DeckSummary", "build"]
