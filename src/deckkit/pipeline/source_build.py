"""Building one source: load → check → model → export into staged files, in a worker process
or in the build's own.

A source is read without its values' positions (see ``deckkit.sources.validation``); one with
problems, warnings included, is read again with them so that every problem is placed exactly.
A large deck uses a second process: its checks run in a forked child while this process builds
it, and its .apkg is written while a forked child writes the other formats.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deckkit.atomic import StagedFile, Writer, discard, stage
from deckkit.exporters import EXPORTERS, OutputFormat, Separators
from deckkit.exporters.quizlet import media_lost
from deckkit.fieldtext.markdown import markdown_html
from deckkit.lockfile import (
    Entry,
    deck_lines,
    declared_note_type_entries,
    stamps_from,
)
from deckkit.model import Deck, anki_note_type, deck_from_source
from deckkit.pipeline.cache import (
    CachedDeck,
    CheckedFile,
    checked_fingerprint,
    file_digest,
    source_fingerprint,
    stamps_digest,
)
from deckkit.pipeline.forking import can_fork, run_forked
from deckkit.pipeline.learner_safety import deck_rename_warning, type_change_problems
from deckkit.pipeline.note_identity import DeckUpdate, TypeChange, update_deck
from deckkit.pipeline.plan import (
    BuildPlan,
    cache_key,
    deck_note_types,
    mtime_stamps,
    stamps_key,
)
from deckkit.pipeline.results import DeckStep, DeckSummary
from deckkit.pipeline.schema_changes import SchemaChange, check_schema_changes
from deckkit.problems import Problem, display_path
from deckkit.sources.checks import source_problems
from deckkit.sources.declared import declared_note_types, is_note_type_file
from deckkit.sources.loader import LoadedSource, gc_paused, load_source
from deckkit.sources.markdown_fields import markdown_texts
from deckkit.sources.note_type_conflicts import NoteTypeAnchor, note_type_anchors
from deckkit.sources.rereading import reread_source
from deckkit.sources.schema import schema_problems
from deckkit.sources.validation import located_problems
from deckkit.stamps import Stamps

# A deck this large has its checks and its formats shared with a second process.
PARALLEL_EXPORT_MIN_CARDS = 5000

Staged = list[tuple[StagedFile, Separators | None]]  # each staged file and its exporter's report
OnStep = Callable[[DeckStep], None] | None

# The share of a deck's work done once it is read, and once modelled: reading its YAML is the
# largest step (measured on a 100,000-card deck), its outputs share the rest.
READ_SHARE = 0.4
MODELLED_SHARE = 0.6


@dataclass(frozen=True)
class SourceOutcome:
    """What building one source gave: small enough to send back from a worker process."""

    path: Path
    problems: tuple[Problem, ...]
    deck_id: str | None = None
    deck_id_anchor: tuple[str, int, int] | None = None  # (display path, line, column) of `id`
    summary: DeckSummary | None = None
    staged: tuple[StagedFile, ...] = ()
    entries: dict[str, Entry] | None = None  # the deck's lockfile entries after this build
    note_type_entries: dict[str, Entry] | None = None  # its declared note types' entries
    cached: CachedDeck | None = None
    separators: Separators | None = None
    lock_lines: list[str] | None = None  # deck_lines(entries), made once for two uses
    note_types: tuple[NoteTypeAnchor, ...] = ()  # the note types it declares, for the cross check
    note_type_changes: tuple[SchemaChange, ...] = ()  # changes of their schema it carries
    update: DeckUpdate | None = None  # how its notes follow their earlier selves (a lockfile)
    type_changes: tuple[TypeChange, ...] = ()  # cards' changes of note type it carries
    checked: CheckedFile | None = None  # a source with no outputs of its own, as checked


def build_source_in_worker(plan: BuildPlan, path: Path) -> SourceOutcome:
    """``build_source`` in a pool worker, whose collector stays paused as in the parent."""
    with gc_paused():
        return build_source(plan, path)


def build_source(plan: BuildPlan, path: Path, *, on_step: OnStep = None) -> SourceOutcome:
    """Load, check, model and export one source into staged files (or report its problems);
    ``on_step`` receives each step of the deck, in this process."""
    source = reread_source(path, markdown=plan.markdown)  # `deckkit watch`: as the preview read it
    if on_step:
        on_step(DeckStep(path, _card_count(source), READ_SHARE, "read"))
    if source.problems or schema_problems(source):
        return export_checked(plan, path, *_located(plan, path))
    if not (plan.parallel_exports and can_fork() and _is_large(source)):
        if source_problems(source):
            return export_checked(plan, path, *_located(plan, path))
        return export_checked(plan, path, source, [], on_step=on_step)
    # The checks beyond the schema run in a forked child while this process builds the deck;
    # if they find a problem, what was built is thrown away and the source is read again.
    checking = run_forked(lambda: bool(source_problems(source)))
    outcome: SourceOutcome | None = None
    failure: Exception | None = None
    try:
        outcome = export_checked(plan, path, source, [], on_step=on_step)
    except Exception as error:  # a source the checks reject may break the model: they say why
        failure = error
    if checking.result():
        if outcome is not None:
            discard(outcome.staged)
        return export_checked(plan, path, *_located(plan, path))
    if failure is not None:
        raise failure
    assert outcome is not None
    return outcome


def _located(plan: BuildPlan, path: Path) -> tuple[LoadedSource, list[Problem]]:
    return located_problems(path, strict=plan.strict, markdown=plan.markdown)


def _rendered_in_two(plan: BuildPlan, source: LoadedSource) -> dict[str, str] | None:
    """A large deck's Markdown texts rendered half here and half in a forked child, at once:
    rendering is most of what Markdown adds to a build. None for other decks."""
    if not (plan.parallel_exports and can_fork() and _is_large(source)):
        return None
    texts = markdown_texts(source)
    if len(texts) < PARALLEL_EXPORT_MIN_CARDS:
        return None
    half = len(texts) // 2
    other_half = run_forked(lambda: [markdown_html(text) for text in texts[half:]])
    first_half = [markdown_html(text) for text in texts[:half]]
    return dict(zip(texts, first_half + other_half.result(), strict=True))


def _is_large(source: LoadedSource) -> bool:
    return _card_count(source) >= PARALLEL_EXPORT_MIN_CARDS


def _card_count(source: LoadedSource) -> int:
    cards = source.data.get("cards") if isinstance(source.data, dict) else None
    return len(cards) if isinstance(cards, list) else 0


def export_checked(
    plan: BuildPlan,
    path: Path,
    source: LoadedSource,
    problems: list[Problem],
    *,
    on_step: OnStep = None,
) -> SourceOutcome:
    """Model and export a checked source; one with errors is only reported."""
    data = source.data
    deck_id = data.get("id") if isinstance(data, dict) else None
    anchor = None
    if isinstance(deck_id, str):
        mark = source.mark_of_value(("id",))
        anchor = (source.display, mark.line, mark.column)
    else:
        deck_id = None
    if any(p.severity == "error" for p in problems):
        return SourceOutcome(path, tuple(problems), deck_id, anchor)
    anchors = tuple(note_type_anchors(source))
    if is_note_type_file(data):
        # A note-type file is checked (its decks read it) but has no outputs of its own.
        checked = _checked_file(plan, source, problems)
        return SourceOutcome(
            path, tuple(problems), deck_id, anchor, note_types=anchors, checked=checked
        )
    deck = deck_from_source(source, _rendered_in_two(plan, source))
    if on_step:
        on_step(DeckStep(path, len(deck.cards), MODELLED_SHARE, "modelled"))
    if "quizlet" in plan.formats:  # remembered with the source's own warnings
        problems = [*problems, *quizlet_media_warnings(source, deck)]
    entries = None
    declared: dict[str, Entry] = {}
    carried: list[SchemaChange] = []
    update = None
    carried_types: list[TypeChange] = []
    # Said on this build only, not remembered with the source's own warnings: the next build
    # compares with the lockfile this one writes.
    lock_problems: list[Problem] = []
    if plan.lock is not None:
        accepted = plan.accept_note_type_changes
        lockfile = display_path(plan.lockfile) if plan.lockfile else "the lockfile"
        refused, carried = check_schema_changes(
            source, deck, plan.lock, accepted, lockfile=lockfile
        )
        earlier_name = _earlier_name(plan, path, deck.id)
        update = update_deck(plan.lock, deck, plan.now, earlier_name)
        types_refused, carried_types = type_change_problems(
            source, update.type_changes, plan.accept_type_changes, lockfile
        )
        refused += types_refused
        if refused:
            return SourceOutcome(path, (*problems, *refused), deck_id, anchor, note_types=anchors)
        lock_problems = deck_rename_warning(source, earlier_name, deck.name, lockfile)
        entries = update.entries
        declared = declared_note_type_entries(plan.lock, deck, plan.now)
        stamps = stamps_from(entries, {**plan.note_types, **declared}, deck)
    else:
        stamps = mtime_stamps(path, deck)
    exported = _export(plan, deck, stamps, _outputs_steps(path, deck, plan, on_step))
    separators = next((report for _, report in exported if report is not None), None)
    summary = DeckSummary(
        id=deck.id,
        name=deck.name,
        source=path,
        notes_by_type=dict(Counter(card.kind for card in deck.cards)),
        anki_cards=sum(map(len, deck.card_ordinals)),
    )
    # Every file the outputs are made from besides the source: media, note-type files, templates.
    media = tuple(dict.fromkeys([*(str(m.source) for m in deck.media), *map(str, deck.files)]))
    lock_lines = deck_lines(entries) if entries is not None else None
    # As the next build's plan will see them: deckkit's note types, and this deck's updated.
    known_note_types = deck_note_types(plan.note_types, declared, declared)
    times = stamps_key(path, known_note_types, lock_lines)
    cached = CachedDeck(
        fingerprint=source_fingerprint(
            plan.settings, path.read_bytes(), (Path(m) for m in media), times, anchors
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
        note_types=anchors,
        stamps=stamps_digest(times),
    )
    return SourceOutcome(
        path=path,
        problems=(*problems, *lock_problems),
        deck_id=deck.id,
        deck_id_anchor=anchor,
        summary=summary,
        staged=tuple(item for item, _ in exported),
        entries=entries,
        note_type_entries=declared if plan.lock is not None else None,
        cached=cached,
        separators=separators,
        lock_lines=lock_lines,
        note_types=anchors,
        note_type_changes=tuple(carried),
        update=update,
        type_changes=tuple(carried_types),
    )


def _checked_file(plan: BuildPlan, source: LoadedSource, problems: list[Problem]) -> CheckedFile:
    """A checked note-type file's record: every file its check read (template and CSS files, its
    note types' media, as a deck using it packs them) and its warnings."""
    declared = declared_note_types(source)
    media = (m.source for note_type in declared.note_types for m in anki_note_type(note_type).media)
    files = tuple(dict.fromkeys(str(path) for path in (*declared.files, *media)))
    return CheckedFile(
        fingerprint=checked_fingerprint(plan.settings, source.path, files, file_digest),
        files=files,
        warnings=tuple((p.path, p.line, p.column, p.message, p.code) for p in problems),
    )


def quizlet_media_warnings(source: LoadedSource, deck: Deck) -> list[Problem]:
    """A warning at each card the Quizlet export carries without its images, sounds or videos
    (:func:`deckkit.exporters.quizlet.media_lost`). ``--strict`` leaves it a warning: nothing is
    wrong in the source, and a deck with pictures would otherwise never build for Quizlet."""
    lost = [(index, what) for index, card in enumerate(deck.cards) if (what := media_lost(card))]
    if not lost:
        return []
    if not source.all_positions:  # read again for the cards' positions, as problems are
        source = load_source(source.path)
    problems = [
        source.problem(
            source.mark_of_value(("cards", index)),
            f"Quizlet gets card '{deck.cards[index].id}' without "
            + ", and ".join(f"{_and_list(kinds)} in '{key}'" for key, kinds in what.items())
            + ": its import takes text only; add "
            + ("it" if sum(map(len, what.values())) == 1 else "them")
            + " in Quizlet's editor after importing",
            "check.quizlet-media",
            "warning",
        )
        for index, what in lost
    ]
    return problems


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _earlier_name(plan: BuildPlan, path: Path, deck_id: str) -> str | None:
    """The deck's name at its last build: in the lockfile, else (a lockfile written before it
    kept names) in the cache of the last build into the output folder."""
    assert plan.lock is not None
    name = plan.lock.decks.get(deck_id)
    cached = plan.cache.get(cache_key(path))
    if name is None and cached is not None and cached.deck_id == deck_id:
        return cached.name
    return name


def _outputs_steps(path: Path, deck: Deck, plan: BuildPlan, on_step: OnStep) -> OnStep:
    """``on_step`` told of each output as a share of what is left after modelling."""
    if on_step is None:
        return None
    outputs = max(len(plan.formats), 1)
    written_so_far = [0]

    def written(step: DeckStep) -> None:
        written_so_far[0] += 1
        done = MODELLED_SHARE + (1 - MODELLED_SHARE) * min(written_so_far[0] / outputs, 1)
        on_step(DeckStep(path, len(deck.cards), done, step.step))

    return written


def _export(plan: BuildPlan, deck: Deck, stamps: Stamps, on_step: OnStep = None) -> Staged:
    """Stage a deck's outputs; a large deck's .apkg is written while a forked child writes the
    other formats, so that one big deck uses two cores too (the child reports no step: only
    this process may draw progress)."""
    formats = list(plan.formats)
    parallel = (
        plan.parallel_exports
        and len(formats) > 1
        and len(deck.cards) >= PARALLEL_EXPORT_MIN_CARDS
        and can_fork()
    )
    if not parallel:
        return _stage_formats(plan.output_dir, deck, stamps, formats, on_step)
    first, rest = formats[:1], formats[1:]
    others = run_forked(lambda: _stage_formats(plan.output_dir, deck, stamps, rest))
    mine: Staged = []
    try:
        mine = _stage_formats(plan.output_dir, deck, stamps, first, on_step)
    finally:
        try:
            theirs = others.result()
        except BaseException:
            discard(item for item, _ in mine)
            raise
    for item, _ in theirs:
        if on_step:
            on_step(DeckStep(item.final, len(deck.cards), 1.0, f"wrote {item.final.name}"))
    return mine + theirs


def _stage_formats(
    output_dir: Path,
    deck: Deck,
    stamps: Stamps,
    formats: Sequence[str],
    on_step: OnStep = None,
) -> Staged:
    """Stage one deck's outputs in ``formats``; nothing is left behind if one fails."""
    exported: Staged = []
    try:
        for name in formats:
            output = EXPORTERS[name]
            target = f"{deck.id}{output.suffix}"
            item, report = stage(output_dir, target, _writer(output, deck, stamps))
            exported.append((item, report if isinstance(report, Separators) else None))
            if on_step:
                on_step(DeckStep(item.final, len(deck.cards), 1.0, f"wrote {target}"))
    except BaseException:
        discard(item for item, _ in exported)
        raise
    return exported


def _writer(output: OutputFormat, deck: Deck, stamps: Stamps) -> Writer:
    """The exporter bound to one deck: stage() gives it only the file to write."""
    return lambda path: output.export(deck, path, stamps)
