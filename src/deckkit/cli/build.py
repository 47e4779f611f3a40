"""`deckkit build`: validate the sources, then write every deck in every output format."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import click

from deckkit.cli.advice import library_errors
from deckkit.cli.common import (
    CLOCK_BEHIND,
    NORMAL,
    PATHS,
    QUIET,
    STRICT,
    VERBOSE,
    VERBOSITY,
    level,
    lockfile_option,
    output_option,
)
from deckkit.cli.progress import ProgressBar
from deckkit.cli.projects import (
    FORMATS,
    build_defaults,
    chosen_formats,
    current_project,
    option_or,
    project_sources,
    say_defaults,
)
from deckkit.cli.pushing import ANKI_CONNECT, check_address, push_built
from deckkit.cli.reporters import report_problems, reporter_for
from deckkit.exporters import EXPORTERS, Separators
from deckkit.pipeline import BuildResult, build
from deckkit.problems import display_path


@click.command("build")
@PATHS
@output_option(Path("build"), "Folder for the outputs.")
@FORMATS
@lockfile_option(
    "Modification times of every note, kept in git so re-imports update only what changed."
)
@click.option(
    "--frozen",
    is_flag=True,
    help="For CI: fail, writing nothing, if the sources changed but the lockfile was not updated.",
)
@CLOCK_BEHIND
@click.option(
    "--accept-note-type-change",
    "accept_note_type_changes",
    metavar="NAME",
    multiple=True,
    help="Carry fields or templates appended to this declared note type; learners then import "
    'the deck once with Anki\'s "Merge note types" (the build says so). Repeat for several.',
)
@click.option(
    "--accept-type-change",
    "accept_type_changes",
    metavar="CARD_ID",
    multiple=True,
    help="Carry this card's change of note type; every learner who has it must then do one thing "
    "in Anki, which the build says. CARD_ID or DECK_ID/CARD_ID, '*' for any text (vocab/*); "
    "repeat for several.",
)
@click.option(
    "--accept-new-ids",
    is_flag=True,
    help="Build although cards take the content of cards that leave under other ids (or deck "
    "ids): learners then get them as new notes, duplicates of their old ones.",
)
@click.option(
    "--push",
    is_flag=True,
    help="Then send the decks into a running Anki through AnkiConnect (see 'deckkit push').",
)
@ANKI_CONNECT
@STRICT
@VERBOSITY
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to use (default: one per core).",
)
def build_command(
    paths: tuple[Path, ...],
    output_dir: Path,
    formats: tuple[str, ...],
    lockfile: Path,
    frozen: bool,
    clock_behind: bool,
    accept_note_type_changes: tuple[str, ...],
    accept_type_changes: tuple[str, ...],
    accept_new_ids: bool,
    push: bool,
    anki_connect_url: str,
    api_key: str | None,
    strict: bool,
    verbosity: int | None,
    jobs: int | None,
) -> None:
    """Validate the sources, then write one .apkg, .csv and .quizlet.txt per deck.

    Nothing is written unless every source is valid, and outputs are replaced atomically: a
    failed build leaves the earlier outputs as they were.

    \b
    Examples:
      deckkit build
      deckkit build sources/ -o dist/
      deckkit build --format apkg --format csv
      deckkit build -q             # errors only
      deckkit build --frozen       # in CI: the committed deckkit.lock must be up to date
      deckkit build --accept-note-type-change Vocab   # Vocab has a new field at its end
      deckkit build --push         # then into the running Anki, through AnkiConnect
    """
    shown = level(verbosity)
    if push:
        check_address(anki_connect_url)
    project = current_project()
    sources = project_sources(project, paths)
    output_dir = option_or("output_dir", output_dir, project.output)
    lockfile = option_or("lockfile", lockfile, project.lockfile)
    if shown != QUIET:
        say_defaults(project, build_defaults(project, paths, output_dir, lockfile))
    formats = chosen_formats(project, formats)
    if push and "apkg" not in formats:
        formats = (*formats, "apkg")  # what AnkiConnect imports
    bar = ProgressBar(enabled=shown != QUIET)
    with library_errors():
        try:
            result = build(
                sources,
                output_dir,
                formats=formats,
                lockfile=lockfile,
                frozen=frozen,
                clock_behind=clock_behind,
                strict=strict or project.strict,
                markdown=project.markdown,
                jobs=jobs,
                on_deck=bar.advance,
                on_start=bar.start,
                on_step=bar.step,
                accept_note_type_changes=accept_note_type_changes,
                accept_type_changes=accept_type_changes,
                accept_new_ids=accept_new_ids,
            )
        finally:
            bar.close()
    # --format names the outputs here; problems are always reported as text.
    reporter = reporter_for("text", shown)
    report_problems(reporter, result.problems, failed="build failed")
    reporter.summary(summary(result, shown))
    if push:
        push_built(result, url=anki_connect_url, key=api_key, verbosity=shown)


def summary(result: BuildResult, verbosity: int = NORMAL) -> list[str]:
    """What the build wrote, and how to import it, for people: the lines to print, at most one
    for each deck, said once what holds for every deck, and the build's total last."""
    written = _decks_by_output(result.written)
    unchanged = _decks_by_output(result.unchanged)
    verbose = verbosity >= VERBOSE
    shown = [d for d in result.decks if verbose or d.id in written]
    ids = {deck.id for deck in shown}
    quizlet = {i: s for i, s in result.quizlet_separators.items() if i in ids}
    common = None if verbose else _most_common(list(quizlet.values()))
    lines = []
    for deck in shown:
        files = written.get(deck.id) or unchanged.get(deck.id) or []
        verb = "wrote" if deck.id in written else "up to date:"
        details = f"{_count(deck.notes, 'note')}, {_count(deck.anki_cards, 'Anki card')}"
        if verbose:
            details = f"{deck.name}: {details} ({_by_type(deck.notes_by_type)})"
            verb = f"{verb} {display_path(deck.source)} →"
        separators = quizlet.get(deck.id)
        if separators is not None and separators != common:
            details += f"; Quizlet import: {separators.describe()}"
        lines.append(f"{verb} {_files(deck.id, files)} ({details})")
    if common is not None:
        unless = "" if all(s == common for s in quizlet.values()) else " (unless said above)"
        lines.append(f"Quizlet import{unless}: {common.describe()}")
    if any(p.suffix == ".csv" for p in result.written):
        lines.append("Anki: import the .apkg first; the .csv uses its note types.")
    lines += [accepted.instructions() for accepted in result.note_type_changes]
    lines += [accepted.instructions() for accepted in result.type_changes]
    if result.removed_cards:
        lines.append(
            f"removed since the last build: {_listed(result.removed_cards)}: learners keep these "
            "notes with their reviews (Anki never deletes notes on import); tell them which to "
            "delete (in Anki: Browse, find the note, Notes > Delete)"
        )
    lines.append(_total(result, written, unchanged))
    return lines


def _total(
    result: BuildResult, written: dict[str, list[Path]], unchanged: dict[str, list[Path]]
) -> str:
    """The build's one-line total: decks, where, how many were up to date, notes and cards."""
    notes = result.notes_by_type()
    contents = f"{sum(notes.values())} notes ({_by_type(notes)}), {result.anki_cards()} Anki cards"
    decks = _count(len(result.decks), "deck")
    folder = next((display_path(p.parent) for p in [*result.written, *result.unchanged]), None)
    into = f" in {folder}/" if folder else ""
    fresh = len([d for d in result.decks if d.id in unchanged and d.id not in written])
    if not written:
        return f"up to date: {decks}{into}, nothing rewritten: {contents}"
    if fresh:
        return f"built {decks}{into} ({fresh} up to date, not rewritten): {contents}"
    return f"built {decks}{into}: {contents}"


def _decks_by_output(paths: tuple[Path, ...]) -> dict[str, list[Path]]:
    """Output files by the id of the deck they are (``<deck id><format's suffix>``)."""
    suffixes = sorted((f.suffix for f in EXPORTERS.values()), key=len, reverse=True)
    decks: dict[str, list[Path]] = {}
    for path in paths:
        suffix = next((s for s in suffixes if path.name.endswith(s)), None)
        if suffix is not None:
            decks.setdefault(path.name.removesuffix(suffix), []).append(path)
    return decks


def _files(deck_id: str, paths: list[Path]) -> str:
    """One deck's files, named once: ``build/ml.apkg, .csv, .quizlet.txt``."""
    if not paths:
        return "no file"
    first, *others = paths
    suffixes = [p.name.removeprefix(deck_id) for p in others]
    return ", ".join([display_path(first), *suffixes])


def _most_common(separators: list[Separators]) -> Separators | None:
    """The separators most decks share (the first deck's on a tie), to be said once."""
    counts = Counter(separators)
    return max(counts, key=lambda s: (counts[s], -separators.index(s))) if counts else None


def _by_type(notes: Mapping[str, int]) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in sorted(notes.items()))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _listed(names: tuple[str, ...], shown: int = 20) -> str:
    """Names joined by commas, the first ``shown`` of them (a deck removed may have thousands)."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")
