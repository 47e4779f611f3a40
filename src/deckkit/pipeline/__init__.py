"""Building decks: plan → build each source → publish, the library's ``build()``.

The stages, one module each:

- ``plan``: read the lockfile and the incremental cache (``cache``) and decide, once, what the
  build needs to know; the plan is frozen and handed to every worker when it starts.
- ``source_build``: one source loaded, checked, modelled and exported to staged temporary files,
  in forked worker processes when there are several sources and cores (``forking``).
- ``publishing``: once every source is done, either all staged files replace the old outputs
  together (with the lockfile and the cache), or none does and the earlier outputs stay.

With a lockfile, ``note_identity`` works out each deck's notes' entries from their earlier
selves, and ``learner_safety`` what the author's changes do to learners who re-import: a warning,
a refusal with the ways through, or what the summary tells them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from deckkit.atomic import exclusive_output_dir, remove_if_only_ours
from deckkit.errors import OutputFolderError, UsageError
from deckkit.exporters import EXPORTERS
from deckkit.gc_pause import gc_paused
from deckkit.pipeline.plan import BuildPlan, make_plan
from deckkit.pipeline.results import BuildResult, DeckStep, DeckSummary
from deckkit.pipeline.settled import settled_result
from deckkit.sources.discovery import discover_sources, source_folders

# What builds a deck (YAML, the model, the exporters, the lockfile's reader) is imported when a
# deck is to be built: a build with nothing to do (issue 15: editors, hooks and watch mode run it
# all day) never loads it.
if TYPE_CHECKING:
    from deckkit.pipeline.source_build import OnStep, SourceOutcome


def build(
    paths: Sequence[Path] = (),
    output_dir: Path = Path("build"),
    *,
    formats: Iterable[str] = tuple(EXPORTERS),
    lockfile: Path | None = None,
    frozen: bool = False,
    clock: Callable[[], float] | None = None,
    clock_behind: bool = False,
    jobs: int | None = None,
    strict: bool = False,
    on_deck: Callable[[DeckSummary], None] | None = None,
    on_start: Callable[[list[Path]], None] | None = None,
    on_step: Callable[[DeckStep], None] | None = None,
    accept_note_type_changes: Iterable[str] = (),
    accept_type_changes: Iterable[str] = (),
    accept_new_ids: bool = False,
    markdown: bool = False,
) -> BuildResult:
    """Validate, then export every deck in every format; writes nothing unless all is valid.

    With a ``lockfile``, each note's modification time comes from it and it is updated for what
    changed; ``frozen`` raises :class:`~deckkit.errors.LockOutdated` instead of updating it.
    Without one, every note of a source gets the source file's modification time. Sources
    unchanged since the last build into ``output_dir`` are not rebuilt. ``jobs`` caps the
    processes used (default: one per core). ``on_start`` receives the sources about to be built,
    ``on_deck`` each deck once built (for progress reports), and ``on_step`` each step (read,
    modelled, each output written) of a deck built in this process, so that progress moves
    within one big deck; a deck built in a worker process is reported by ``on_deck`` alone. With
    a lockfile, a declared note type whose fields or templates changed since the last build is
    refused (a problem at its declaration), unless its name is in ``accept_note_type_changes``
    and the change only appends fields or templates: the result's ``note_type_changes`` then say
    what learners must do. Raises :class:`~deckkit.errors.UsageError` for a request that cannot
    be carried out.

    With a lockfile, a card whose note type changed since the last build is refused (Anki would
    skip its note as conflicting on every import), unless its id (or ``deck/card``) is in
    ``accept_type_changes`` and Anki's "Merge note types" carries the change in place; a card
    with the content of a card that leaves under another id (or deck id) is refused (learners
    would get a duplicate), unless ``accept_new_ids``. The result lists the cards removed since
    the last build (``removed_cards``) and what learners must do for accepted changes.

    ``markdown`` makes field text Markdown where neither a deck nor a card says (the project
    file's ``markdown``).

    The build's "now" is ``clock()`` when given, else ``SOURCE_DATE_EPOCH`` when that is set
    (the reproducible-builds convention), else the system clock. A now earlier than the newest
    time in the lockfile raises :class:`~deckkit.errors.ClockBehind` unless ``clock_behind``.
    """
    chosen = tuple(dict.fromkeys(formats))
    unknown = [name for name in chosen if name not in EXPORTERS]
    if unknown:
        raise UsageError(f"unknown format {unknown[0]!r}; choose from {', '.join(EXPORTERS)}")
    if lockfile is None and frozen:
        raise UsageError("a frozen build needs a lockfile")
    sources = discover_sources(paths)
    _refuse_output_inside_sources(output_dir, paths)
    cores = jobs or os.cpu_count() or 1
    with gc_paused(), exclusive_output_dir(output_dir) as created:
        try:
            plan = make_plan(
                sources,
                output_dir,
                formats=chosen,
                now=build_time(clock),
                clock_behind=clock_behind,
                strict=strict,
                lockfile=lockfile,
                frozen=frozen,
                created_output_dir=created,
                jobs=cores,
                accept_note_type_changes=frozenset(accept_note_type_changes),
                accept_type_changes=frozenset(accept_type_changes),
                accept_new_ids=accept_new_ids,
                inputs=tuple(paths),
                markdown=markdown,
            )
        except BaseException:
            if created is not None:
                remove_if_only_ours(output_dir, created)
            raise
        if on_start:
            on_start(plan.to_build)
        if plan.settled:
            return settled_result(plan)
        return _build_planned(plan, cores, on_deck, on_step)


def build_time(clock: Callable[[], float] | None) -> int:
    """The build's "now": ``clock()``, else ``SOURCE_DATE_EPOCH``, else the system clock."""
    if clock is not None:
        return int(clock())
    given = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not given:
        return int(time.time())
    if not given.isdigit() or len(given) > 12:
        raise UsageError(
            f"SOURCE_DATE_EPOCH is {given[:30]!r}, not a time: it must be whole seconds since 1970"
        )
    return int(given)


def _refuse_output_inside_sources(output_dir: Path, paths: Sequence[Path]) -> None:
    """Outputs written among the sources would be read back as sources or committed by mistake."""
    target = output_dir.resolve()
    for folder in source_folders(paths):
        if target == folder.resolve() or target.is_relative_to(folder.resolve()):
            raise OutputFolderError(
                f"output folder {output_dir} is inside the sources folder {folder}"
            )


def _build_planned(
    plan: BuildPlan, jobs: int, on_deck: Callable[[DeckSummary], None] | None, on_step: OnStep
) -> BuildResult:
    """Build every source the plan says to, then publish all of it or nothing."""
    from deckkit.pipeline.publishing import abandon, judge, publish_build

    outcomes: dict[Path, SourceOutcome] = {}
    try:
        for outcome in _build_sources(plan, jobs, on_step):
            outcomes[outcome.path] = outcome
            if on_deck and outcome.summary:
                on_deck(outcome.summary)
        verdict = judge(plan, outcomes)
        if not verdict.ok:
            abandon(plan, outcomes)
            return BuildResult(tuple(verdict.problems))
    except BaseException:
        abandon(plan, outcomes)
        raise
    return publish_build(plan, outcomes, verdict)


def _build_sources(plan: BuildPlan, jobs: int, on_step: OnStep) -> Iterator[SourceOutcome]:
    """Each source's outcome, from forked workers when there are several sources and cores
    (only a source built here reports its steps)."""
    from deckkit.pipeline.forking import can_fork, map_in_workers
    from deckkit.pipeline.source_build import build_source, build_source_in_worker

    paths = plan.to_build
    workers = min(jobs, len(paths))
    if workers < 2 or not can_fork():
        for path in paths:
            yield build_source(plan, path, on_step=on_step)
    else:
        yield from map_in_workers(build_source_in_worker, plan, paths, workers)


__all__ = ["BuildResult", "DeckStep", "DeckSummary", "build"]
