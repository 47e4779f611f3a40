"""A settled build: every deck up to date and the lockfile as the last build left it
(``BuildPlan.settled``, decided in ``deckkit.pipeline.plan``).

Editors, hooks and watch mode run such builds all day (issue 15), so its result is told from the
cache alone: nothing that builds a deck (YAML, the model, genanki, the lockfile's reader, the
checks across decks) is imported.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from deckkit.exporters.separators import Separators
from deckkit.pipeline.cache import CachedDeck, save_cache
from deckkit.pipeline.plan import BuildPlan, cache_key
from deckkit.pipeline.results import BuildResult, DeckSummary
from deckkit.problems import Problem, sort_problems


def settled_result(plan: BuildPlan) -> BuildResult:
    """What ``judge`` and ``publish_build`` give for a settled plan, with the cache saved if this
    build learned files' digests.

    The result holds each deck's remembered warnings. The checks across decks (one deck id used
    twice, one note type declared two ways) are left out: they find only errors, and the last
    build, of these very decks, found none (it would not have saved the cache otherwise).
    """
    stored = plan.stored
    fresh = replace(stored, files=plan.digests.records(), settled_lock=plan.settled_lock)
    save_cache(plan.output_dir, fresh, stored)
    checked = [stored.checked[key] for key in map(cache_key, plan.sources) if key in stored.checked]
    remembered = [*(c.warnings for c in plan.reused.values()), *(c.warnings for c in checked)]
    warnings = (Problem(*warning, severity="warning") for each in remembered for warning in each)
    summaries, unchanged, separators = [], [], {}
    for path in plan.sources:
        if path not in plan.reused:
            continue  # a note-type file: no deck, no outputs
        cached = plan.reused[path]
        summaries.append(reused_summary(path, cached))
        unchanged += [plan.output_dir / name for name in cached.outputs]
        if cached.separators:
            separators[cached.deck_id] = Separators(*cached.separators)
    return BuildResult(
        tuple(sort_problems(warnings)),
        tuple(summaries),
        (),
        tuple(unchanged),
        separators,
    )


def reused_summary(path: Path, cached: CachedDeck) -> DeckSummary:
    """An up-to-date deck's summary, from its cache."""
    return DeckSummary(cached.deck_id, cached.name, path, cached.notes_by_type, cached.anki_cards)
