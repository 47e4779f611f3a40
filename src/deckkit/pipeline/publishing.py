"""Finishing a build: every source's outcome gathered, then all outputs published together, or
none.

Problems across sources (two decks with one id, one note type declared two ways) are found
here, once every outcome is in. Only
when no source has an error (and a ``frozen`` lockfile is up to date) are the staged files moved
over the old outputs, the lockfile updated and the cache saved; otherwise everything staged is
removed and the earlier outputs stay as they were.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from deckkit.atomic import (
    discard,
    publish,
    remove_if_only_ours,
    remove_leftover_temp_files,
    replace_text,
)
from deckkit.errors import LockOutdated
from deckkit.exporters import Separators
from deckkit.lockfile import Lock, lock_to_text, newest_time, stale_notes
from deckkit.pipeline.cache import BuildCache, CachedDeck, SettledLock, output_state, save_cache
from deckkit.pipeline.learner_safety import (
    Departures,
    accepted_type_changes,
    departures,
    removed_after,
    renamed_cards,
    renamed_problems,
)
from deckkit.pipeline.note_identity import DeckUpdate
from deckkit.pipeline.plan import BuildPlan, cache_key, deck_note_types, resolved_inputs
from deckkit.pipeline.results import BuildResult, DeckSummary
from deckkit.pipeline.schema_changes import accepted_changes
from deckkit.pipeline.settled import reused_summary
from deckkit.pipeline.source_build import SourceOutcome
from deckkit.problems import Problem, display_path, sort_problems
from deckkit.sources.checks import DeckIdAnchor, duplicate_ids
from deckkit.sources.discovery import DEFAULT_SOURCES
from deckkit.sources.note_type_conflicts import NoteTypeAnchor, conflicting_note_types

Outcomes = Mapping[Path, SourceOutcome]


@dataclass(frozen=True)
class Verdict:
    """Whether a build's outcomes may be published: its problems and the lock it would write."""

    problems: list[Problem]
    fresh_lock: Lock | None
    removed_cards: tuple[str, ...] = ()  # `deck/card` of the cards leaving in this build

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return not any(p.severity == "error" for p in self.problems)


def judge(plan: BuildPlan, outcomes: Outcomes) -> Verdict:
    """Every problem of the build, and the lock it would write; raises LockOutdated when a
    ``frozen`` build would change the lockfile."""
    problems = all_problems(plan, outcomes)
    if plan.lock is None:
        return Verdict(problems, None)
    updates = _updates(outcomes)
    found = departures(plan.lock, updates, _present(plan, outcomes))
    has_errors = any(p.severity == "error" for p in problems)
    if not has_errors:
        paths = {o.deck_id: o.path for o in outcomes.values() if o.deck_id and o.update}
        anchors = {
            o.deck_id: o.deck_id_anchor for o in outcomes.values() if o.deck_id and o.deck_id_anchor
        }
        renamed = renamed_cards(plan.lock, updates, paths, found)
        said = renamed_problems(
            renamed, plan.lock, anchors, found.gone_decks, accepted=plan.accept_new_ids
        )
        problems = sort_problems([*problems, *said])
        has_errors = any(p.severity == "error" for p in problems)
    fresh_lock = _fresh_lock(plan, outcomes, updates, found)
    if not has_errors and plan.frozen and plan.lockfile is not None:
        pending = stale_notes(plan.lock, fresh_lock)
        if pending:
            raise LockOutdated(plan.lockfile, pending)
    removed = tuple(f"{deck_id}/{card}" for deck_id, card in sorted(found.leaving))
    return Verdict(problems, fresh_lock, removed)


def _updates(outcomes: Outcomes) -> dict[str, DeckUpdate]:
    return {o.deck_id: o.update for o in outcomes.values() if o.deck_id and o.update is not None}


def _present(plan: BuildPlan, outcomes: Outcomes) -> set[str]:
    """Every deck id of the sources: built now (with problems or not), or up to date; and every
    deck of the lockfile whose source this build does not read (a build of some sources only)."""
    present = {o.deck_id for o in outcomes.values() if o.deck_id is not None}
    present |= {cached.deck_id for cached in plan.reused.values()}
    assert plan.lock is not None
    return present | {d for d in plan.lock.notes if d not in present and not _covered(plan, d)}


def _covered(plan: BuildPlan, deck_id: str) -> bool:
    """Whether this build reads where a deck's source was at its last build: only then has a
    deck that no source makes now left the sources (rather than been left out of this build)."""
    assert plan.lock is not None
    assert plan.lockfile is not None
    recorded = plan.lock.sources.get(deck_id)
    if recorded is None:  # an older lockfile: only a build of the default folder covers all
        return not plan.inputs
    source = (plan.lockfile.parent / recorded).resolve()
    roots = [path.resolve() for path in plan.inputs or (DEFAULT_SOURCES,)]
    return any(source == root or source.is_relative_to(root) for root in roots)


def _source_key(plan: BuildPlan, path: Path) -> str | None:
    """A source's path as the lockfile records it: relative to the lockfile's folder, with '/'."""
    assert plan.lockfile is not None
    try:
        return Path(os.path.relpath(path.resolve(), plan.lockfile.resolve().parent)).as_posix()
    except ValueError:  # another drive (Windows): not recorded
        return None


def publish_build(plan: BuildPlan, outcomes: Outcomes, verdict: Verdict) -> BuildResult:
    """Replace the old outputs with the staged ones, then write the lockfile and the cache."""
    problems, fresh_lock = verdict.problems, verdict.fresh_lock
    staged = [item for outcome in outcomes.values() for item in outcome.staged]
    publish(staged)
    # A frozen build that passed changes nothing but, maybe, an older lockfile's format: that
    # upgrade is left to the next build that may write.
    writes = plan.lockfile is not None and not plan.frozen
    # The lockfile as this build leaves it, when the next build may take it as settled.
    settled_lock = plan.settled_lock if fresh_lock == plan.lock else None
    if writes and plan.lockfile is not None and fresh_lock is not None and fresh_lock != plan.lock:
        made = {o.deck_id: o.lock_lines for o in outcomes.values() if o.deck_id and o.lock_lines}
        # A project file may keep the lockfile in a folder of its own (locks/deckkit.lock).
        plan.lockfile.parent.mkdir(parents=True, exist_ok=True)
        text = lock_to_text(fresh_lock, made)
        replace_text(plan.lockfile, text)
        settled_lock = _written_lock(plan, text, fresh_lock)
    _save_cache(plan, outcomes, settled_lock)
    result = _build_result(plan, outcomes, problems, [item.final for item in staged])
    return replace(result, removed_cards=verdict.removed_cards)


def all_problems(plan: BuildPlan, outcomes: Outcomes) -> list[Problem]:
    """Every source's problems (an unchanged source's remembered warnings too), deck ids used by
    two sources, and note types declared differently by two."""
    problems = [p for outcome in outcomes.values() for p in outcome.problems]
    problems += [
        Problem(*warning, severity="warning")
        for cached in plan.reused.values()
        for warning in cached.warnings
    ]
    anchors: list[DeckIdAnchor] = []
    note_types: list[NoteTypeAnchor] = []
    for path in plan.sources:
        if path in plan.reused:
            cached = plan.reused[path]
            line, column = cached.id_position
            anchors.append((cached.deck_id, display_path(path), line, column))
            note_types += cached.note_types
        else:
            outcome = outcomes[path]
            if outcome.deck_id is not None and outcome.deck_id_anchor is not None:
                display, line, column = outcome.deck_id_anchor
                anchors.append((outcome.deck_id, display, line, column))
            note_types += outcome.note_types
    problems += duplicate_ids(anchors)
    problems += conflicting_note_types(note_types)
    return sort_problems(problems)


def abandon(plan: BuildPlan, outcomes: Outcomes) -> None:
    """Remove everything this build staged (and the output folder, if it made it)."""
    discard(item for outcome in outcomes.values() for item in outcome.staged)
    # Holding the folder, every temporary file deckkit named in it is this build's: also those
    # that workers staged but had not reported when the build was interrupted. Only names deckkit
    # makes are removed (deckkit.atomic): a user's own .*.tmp files stay.
    remove_leftover_temp_files(plan.output_dir)
    if plan.created_output_dir is not None:
        remove_if_only_ours(plan.output_dir, plan.created_output_dir)


def _fresh_lock(
    plan: BuildPlan, outcomes: Outcomes, updates: dict[str, DeckUpdate], found: Departures
) -> Lock:
    assert plan.lock is not None
    notes = {k: v for k, v in plan.lock.notes.items() if k not in found.gone_decks}
    # Declared note types' entries stay when no deck built now declares them (a deck whose
    # outputs were up to date, or one removed: its note type's time must not be forgotten).
    note_types = {**plan.lock.note_types, **plan.note_types}
    # A deck's name at its last build (kept for a deck gone: it may come back).
    decks = dict(plan.lock.decks)
    decks.update({cached.deck_id: cached.name for cached in plan.reused.values()})
    for outcome in outcomes.values():
        if outcome.deck_id is not None and outcome.entries is not None:
            notes[outcome.deck_id] = outcome.entries
            if outcome.summary is not None:
                decks[outcome.deck_id] = outcome.summary.name
        note_types.update(outcome.note_type_entries or {})
    removed = removed_after(plan.lock, updates.values(), found)
    sources = {k: v for k, v in plan.lock.sources.items() if k not in found.gone_decks}
    built = [(cached.deck_id, path) for path, cached in plan.reused.items()]
    built += [(o.deck_id, o.path) for o in outcomes.values() if o.deck_id and o.entries is not None]
    for deck_id, path in built:
        key = _source_key(plan, path)
        if key is not None:
            sources[deck_id] = key
    return Lock(notes=notes, note_types=note_types, decks=decks, removed=removed, sources=sources)


def _written_lock(plan: BuildPlan, text: str, lock: Lock) -> SettledLock | None:
    """The record of the lockfile this build wrote; None when a deck it did not rebuild would
    take other times from it than those its cache holds (the next build then reads it)."""
    assert plan.lockfile is not None
    if not _reused_times_hold(plan, lock):
        return None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    where, inputs = str(plan.lockfile.resolve()), resolved_inputs(plan.inputs)
    return SettledLock(where, digest, newest_time(lock), inputs, plan.settings)


def _reused_times_hold(plan: BuildPlan, fresh: Lock) -> bool:
    """Whether every deck not rebuilt finds in ``fresh`` the entries its times were taken from:
    its notes' and its note types' (see ``deckkit.pipeline.plan.stamps_key``)."""
    assert plan.lock is not None
    for cached in plan.reused.values():
        before, after = plan.lock.notes.get(cached.deck_id), fresh.notes.get(cached.deck_id)
        if before is not after and before != after:
            return False
        ids = [str(anchor[0]) for anchor in cached.note_types]
        known = deck_note_types(plan.note_types, plan.lock.note_types, ids)
        if known != deck_note_types(plan.note_types, fresh.note_types, ids):
            return False
    return True


def _save_cache(plan: BuildPlan, outcomes: Outcomes, settled_lock: SettledLock | None) -> None:
    decks = {cache_key(path): cached for path, cached in plan.reused.items()}
    for path, outcome in outcomes.items():
        if outcome.cached is None:
            continue
        outputs = {}
        for item in outcome.staged:
            state = output_state(item.final)
            if state is not None:
                outputs[item.final.name] = state
        decks[cache_key(path)] = CachedDeck(**{**outcome.cached.__dict__, "outputs": outputs})
    checked = {cache_key(path): o.checked for path, o in outcomes.items() if o.checked}
    # The files of the sources built now, hashed once more here, so that the next build with
    # nothing changed need not read them (a file changed meanwhile is remembered as it is now:
    # its digest then differs from the one its fingerprint holds).
    for outcome in outcomes.values():
        for name in _files_read(outcome):
            plan.digests.digest(Path(name))
    fresh = BuildCache(decks, plan.digests.records(), settled_lock, checked)
    save_cache(plan.output_dir, fresh, plan.stored)


def _files_read(outcome: SourceOutcome) -> tuple[str, ...]:
    """The files a source built now was made from, itself first (none: it was not cached)."""
    if outcome.cached is not None:
        return (str(outcome.path), *outcome.cached.media)
    if outcome.checked is not None:
        return (str(outcome.path), *outcome.checked.files)
    return ()


def _build_result(
    plan: BuildPlan, outcomes: Outcomes, problems: list[Problem], written: list[Path]
) -> BuildResult:
    summaries: list[DeckSummary] = []
    separators: dict[str, Separators] = {}
    unchanged: list[Path] = []
    for path in plan.sources:
        if path in plan.reused:
            cached = plan.reused[path]
            summaries.append(reused_summary(path, cached))
            unchanged += [plan.output_dir / name for name in cached.outputs]
            if cached.separators:
                separators[cached.deck_id] = Separators(*cached.separators)
        else:
            outcome = outcomes[path]
            if outcome.summary:
                summaries.append(outcome.summary)
            if outcome.separators and outcome.deck_id:
                separators[outcome.deck_id] = outcome.separators
    carried = [
        (outcome.deck_id, change)
        for outcome in outcomes.values()
        if outcome.deck_id is not None
        for change in outcome.note_type_changes
    ]
    type_changes = (change for outcome in outcomes.values() for change in outcome.type_changes)
    return BuildResult(
        tuple(problems),
        tuple(summaries),
        tuple(written),
        tuple(unchanged),
        separators,
        accepted_changes(carried, plan.output_dir, plan.formats),
        type_changes=accepted_type_changes(type_changes, plan.output_dir, plan.formats),
    )
