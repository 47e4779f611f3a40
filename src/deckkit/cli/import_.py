"""`deckkit import`: existing decks (Anki .apkg/.colpkg, Anki CSV, Quizlet text) to YAML sources."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deckkit.cardtypes import FIELDS_CARD_TYPE
from deckkit.cli.advice import library_errors
from deckkit.cli.common import (
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    QUIET,
    VERBOSITY,
    level,
    lockfile_option,
    output_option,
)
from deckkit.cli.projects import current_project, given, option_or, say_defaults
from deckkit.cli.reporters import REPORT_FORMAT, reporter_for
from deckkit.cli.terminal import echo_lines
from deckkit.importers import (
    FORMAT_NAMES,
    FORMATS,
    SEPARATORS_ADVICE,
    ImportResult,
    import_file,
    parse_separator,
)
from deckkit.problems import display_path


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@output_option(
    Path("sources"),
    "Folder for the YAML sources; media go into its media/ folder.",
    file_okay=False,
)
@click.option(
    "--from",
    "fmt",
    type=click.Choice(["auto", *FORMATS]),
    default="auto",
    show_default=True,
    help="What FILE is; auto: by extension (see the README), Quizlet's if a separator is given.",
)
@lockfile_option(
    "The lockfile `deckkit build` uses: the notes' times in an Anki package are recorded "
    "in it (so the first build changes nothing for learners); a deck built from sources gets "
    "back its card ids from it."
)
@click.option("--force", is_flag=True, help="Replace existing files in the output folder.")
@click.option(
    "--term-separator",
    default=None,
    help="Quizlet: between term and definition: tab (default), comma, or the custom text.",
)
@click.option(
    "--card-separator",
    default=None,
    help="Quizlet: between cards: newline (default), semicolon, or the custom text.",
)
@click.option(
    "--deck",
    "deck_name",
    default=None,
    help="Deck for a file that names none (Quizlet, CSV without deck column); default: file name.",
)
@click.option(
    "--media-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="CSV/text: the folder of the media it uses (Anki's collection.media); default: FILE's.",
)
@REPORT_FORMAT
@VERBOSITY
def import_command(
    file: Path,
    output_dir: Path,
    fmt: str,
    lockfile: Path | None,
    force: bool,
    term_separator: str | None,
    card_separator: str | None,
    deck_name: str | None,
    media_dir: Path | None,
    report_format: str,
    verbosity: int | None,
) -> None:
    """Turn an existing deck into deckkit sources: one YAML file per deck, media beside them.

    FILE is an Anki package (.apkg, .colpkg), an Anki text/CSV export (.csv, .tsv, or .txt with
    # header lines or tabs) or a Quizlet export (another .txt, --from quizlet, or when a
    separator option is given). Reading Anki files needs Anki's `anki` package:
    pip install 'deckkit[anki]'.

    Every card keeps its note's GUID (key `guid`) and, from an Anki package, its note type (key
    `note_type`, declared under `note_types`, whatever its fields and templates), its field text
    byte for byte (`exactly_as_written`) and its media under their names, and the lockfile gets
    each note's time in the package: importing the rebuilt deck into the collection it came from
    changes nothing until a source is edited. The written sources are validated: --format prints
    their problems as text, json or github (then stdout holds only the problems and the summary
    goes to stderr). Exit status: 0 written, 1 the written sources have problems, 2 usage error.

    \b
    Examples:
      deckkit import shared-deck.apkg -o sources/
      deckkit import build/my-deck.apkg -o restored/ --lockfile deckkit.lock
      deckkit import notes.csv -o sources/ --media-dir ~/.local/share/Anki2/User/collection.media
      deckkit import vocab.txt --term-separator comma --card-separator semicolon
    """
    project = current_project()
    output_dir = option_or("output_dir", output_dir, project.sources[0])
    lockfile = option_or("lockfile", lockfile, project.lockfile)
    if level(verbosity) != QUIET:  # -q: errors only
        say_defaults(
            project,
            [
                *([] if given("output_dir") else [f"{output_dir}/"]),
                *([] if given("lockfile") else [str(lockfile)]),
            ],
        )
    with library_errors():
        result = import_file(
            file,
            output_dir,
            fmt=fmt,
            lockfile=lockfile,
            force=force,
            term_separator=None if term_separator is None else parse_separator(term_separator),
            card_separator=None if card_separator is None else parse_separator(card_separator),
            deck_name=deck_name,
            media_dir=media_dir,
        )
    reporter = reporter_for(report_format, level(verbosity))
    reporter.problems(result.problems)
    reporter.summary(summary(result))
    if not result.decks:
        echo_lines(["nothing was written: no note could be brought in"], err=True)
        sys.exit(EXIT_PROBLEMS)
    sys.exit(EXIT_CLEAN if result.ok else EXIT_PROBLEMS)


def summary(result: ImportResult) -> list[str]:
    """What the import wrote and what it left out, for people: the lines to print."""
    by_type = result.cards_by_type()
    kinds = ", ".join(
        f"{count} {_KIND_NAMES.get(kind, kind)}" for kind, count in sorted(by_type.items())
    )
    lines = [
        f"imported {len(result.decks)} deck(s) from {display_path(result.source)} "
        f"({FORMAT_NAMES[result.format]}): {sum(by_type.values())} cards"
        + (f" ({kinds})" if kinds else ""),
    ]
    if result.decks:
        lines.append("wrote:")
        lines += [
            f"  {display_path(deck.path)}  ({deck.name}: {deck.cards} cards)"
            for deck in result.decks
        ]
        if result.schema:
            lines.append(f"  {display_path(result.schema)}")
    if result.media:
        media_dir = display_path(result.output_dir / "media")
        how = " under their names in the package" if result.lock or result.renamed else ""
        lines.append(f"media: {len(result.media)} file(s) extracted into {media_dir}{how}")
    lines += [
        f"media renamed, references rewritten: {renamed.describe()}" for renamed in result.renamed
    ]
    lines += [skipped.describe() for skipped in result.skipped]
    if result.kept:
        kept = ", ".join(
            f"'{name}' ({count} {'note' if count == 1 else 'notes'})" for name, count in result.kept
        )
        lines.append(
            f"note types kept (under note_types: the rebuilt deck updates these notes): {kept}"
        )
    if result.conversions:
        lines.append(
            "these notes get deckkit's note types; to update them in the collection they came "
            "from: import the rebuilt .apkg once (Anki adds deckkit's note types and leaves these "
            "notes as they are, as conflicting), then in Browse select them and use Notes > "
            "Change Note Type (review history is kept):"
        )
        lines += [f"  {conversion.describe()}" for conversion in result.conversions]
    lines += _lock_lines(result)
    lines += [f"note: {_with_options(notice)}" for notice in result.notices]
    if result.decks:
        folder = display_path(result.output_dir)
        lines.append(f"next: deckkit validate {folder} && deckkit build {folder}")
    return lines


_KIND_NAMES = {FIELDS_CARD_TYPE: "by field name"}


def _lock_lines(result: ImportResult) -> list[str]:
    """What the import recorded in the lockfile, and what that means for learners."""
    lock = result.lock
    if lock is None:
        return []
    lines = [
        f"lockfile: {display_path(lock.path)} records the times in the package of "
        f"{lock.notes} note(s) and {lock.note_types} note type(s): the first build changes "
        "nothing in a learner's collection; commit it with the sources"
    ]
    if lock.millisecond_notes:
        lines.append(
            f"note: {lock.millisecond_notes} note(s) have modification times in milliseconds "
            "(some tools write them, and learners hold them so); the lockfile keeps them in "
            "seconds, marked ms: the first build is older than the learner's notes and their "
            "edits, and an edit of yours is stamped in milliseconds, newer to Anki"
        )
    if lock.left_out:
        decks = ", ".join(f"'{name}'" for name in lock.left_out)
        lines.append(
            f"note: no times recorded for {decks}, which have errors: fix them and import again, "
            "or the first build gives their notes new times and replaces the learner's"
        )
    return lines


def _with_options(notice: str) -> str:
    """A notice with the options that act on it, which the library does not know."""
    if notice.endswith(SEPARATORS_ADVICE):
        return f"{notice} (--term-separator, --card-separator)"
    return notice
