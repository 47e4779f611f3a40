"""`deckkit build`: validate the sources, then write every deck in every output format."""

from __future__ import annotations

from pathlib import Path

import click

from deckkit.cli.advice import library_errors
from deckkit.cli.common import PATHS, STRICT
from deckkit.cli.progress import ProgressBar
from deckkit.cli.projects import (
    current_project,
    given,
    option_or,
    project_file_formats,
    project_sources,
    say_defaults,
)
from deckkit.cli.reporters import REPORTERS, report_problems
from deckkit.exporters import EXPORTERS
from deckkit.lockfile import DEFAULT_LOCKFILE
from deckkit.pipeline import BuildResult, build
from deckkit.problems import display_path


@click.command("build")
@PATHS
@click.option(
    "-o",
    "--output",
    "output_dir",
    type=click.Path(path_type=Path),
    default=Path("build"),
    show_default=True,
    help="Folder for the outputs.",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(list(EXPORTERS)),
    multiple=True,
    help="Output format; repeat for several (default: all three).",
)
@click.option(
    "--lockfile",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path(DEFAULT_LOCKFILE),
    show_default=True,
    help="Modification times of every note, kept in git so re-imports update only what changed.",
)
@click.option(
    "--frozen",
    is_flag=True,
    help="For CI: fail, writing nothing, if the sources changed but the lockfile was not updated.",
)
@click.option(
    "--clock-behind",
    is_flag=True,
    help="Build although the clock reads earlier than times the lockfile holds.",
)
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
@STRICT
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
    strict: bool,
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
      deckkit build --frozen       # in CI: the committed deckkit.lock must be up to date
      deckkit build --accept-note-type-change Vocab   # Vocab has a new field at its end
    """
    project = current_project()
    sources = project_sources(project, paths)
    output_dir = option_or("output_dir", output_dir, project.output)
    lockfile = option_or("lockfile", lockfile, project.lockfile)
    say_defaults(
        project,
        [
            *([] if paths else [f"{project.sources[0]}/"]),
            *([] if given("output_dir") else [f"{output_dir}/"]),
            *([] if given("lockfile") else [str(lockfile)]),
        ],
    )
    bar = ProgressBar()
    with library_errors():
        try:
            result = build(
                sources,
                output_dir,
                formats=formats or project_file_formats(project, EXPORTERS) or tuple(EXPORTERS),
                lockfile=lockfile,
                frozen=frozen,
                clock_behind=clock_behind,
                strict=strict or project.strict,
                jobs=jobs,
                on_deck=bar.advance,
                on_start=bar.start,
                accept_note_type_changes=accept_note_type_changes,
                accept_type_changes=accept_type_changes,
                accept_new_ids=accept_new_ids,
            )
        finally:
            bar.close()
    # --format names the outputs here; problems are always reported as text.
    reporter = REPORTERS["text"]
    report_problems(reporter, result.problems, failed="build failed")
    reporter.summary(summary(result))


def summary(result: BuildResult) -> list[str]:
    """What the build wrote, and how to import it, for people: the lines to print."""
    notes = result.notes_by_type()
    by_type = ", ".join(f"{count} {kind}" for kind, count in sorted(notes.items()))
    lines = [
        f"built {len(result.decks)} deck(s): {sum(notes.values())} notes ({by_type}), "
        f"{result.anki_cards()} Anki cards",
    ]
    if result.written:
        lines += ["wrote:", *(f"  {display_path(path)}" for path in result.written)]
    if result.unchanged:
        lines.append(
            f"up to date (sources unchanged, not rewritten): {len(result.unchanged)} file(s)"
        )
    for deck_id, separators in result.quizlet_separators.items():
        lines.append(f"Quizlet import of {deck_id}: {separators.describe()}")
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
    return lines


def _listed(names: tuple[str, ...], shown: int = 20) -> str:
    """Names joined by commas, the first ``shown`` of them (a deck removed may have thousands)."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")
