"""Existing decks to deckkit sources: Anki packages, Anki text/CSV exports and Quizlet exports.

An import reads the file with the reader of its format (:data:`READERS`, one module each:
:mod:`.anki`, :mod:`.quizlet`), maps its notes' note types to card types (:mod:`.mapping`),
keeps their note types where Anki can then update the notes in place (:mod:`.kept`), lays out
one source per deck with its ids and media (:mod:`.plan`), writes them beside the schema
(:mod:`.write`), and validates what it wrote.

Everything here returns values; nothing prints, exits or imports Click.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deckkit.errors import CannotImport, UnknownImportFormat
from deckkit.importers.anki import AnkiPackageReader, AnkiTextReader
from deckkit.importers.flat_media import existing_media
from deckkit.importers.ids import existing_deck_ids, lockfile_ids
from deckkit.importers.locking import record_times
from deckkit.importers.plan import plan_import
from deckkit.importers.quizlet import SEPARATORS_ADVICE, QuizletReader, parse_separator
from deckkit.importers.types import (
    Conversion,
    ImportedDeck,
    ImportResult,
    Reader,
    ReadOptions,
    Skipped,
)
from deckkit.importers.write import write_plan
from deckkit.sources.validation import validate

# In the order detect_format asks them: a .txt is an Anki text export before it is Quizlet's.
READERS: dict[str, Reader] = {
    "apkg": AnkiPackageReader("Anki package", ".apkg"),
    "colpkg": AnkiPackageReader("Anki collection package", ".colpkg", collection=True),
    "csv": AnkiTextReader(),
    "quizlet": QuizletReader(),
}
FORMATS = tuple(READERS)
FORMAT_NAMES = {name: reader.title for name, reader in READERS.items()}


def detect_format(path: Path) -> str:
    """The reader for a file, by extension (and, for .txt, by its first line).

    ``.apkg`` and ``.colpkg`` are Anki packages; ``.csv`` and ``.tsv`` Anki text exports; a
    ``.txt`` is an Anki text export when it starts with a ``#key:value`` header line or has a
    line of more than two columns (two tabs), otherwise a Quizlet export (its default: a tab
    between term and definition, a new line between cards). Anything else raises
    :class:`UnknownImportFormat`.
    """
    for name, reader in READERS.items():
        if reader.detect(path):
            return name
    raise UnknownImportFormat(f"cannot tell what kind of export {path.name} is from its extension")


def import_file(
    path: Path,
    output_dir: Path,
    *,
    fmt: str = "auto",
    lockfile: Path | None = None,
    force: bool = False,
    term_separator: str | None = None,
    card_separator: str | None = None,
    deck_name: str | None = None,
    media_dir: Path | None = None,
) -> ImportResult:
    """Read ``path`` and write deckkit sources, media and the schema into ``output_dir``.

    ``fmt`` "auto" goes by :func:`detect_format`, except that giving a Quizlet separator means a
    Quizlet export (whose defaults are Tab and New line). Raises :class:`CannotImport` when the
    input cannot be read, and its :class:`TargetExists` when a file would be overwritten without
    ``force``; notes that cannot be mapped are reported, not raised.

    Only a regular file is read, within the caps of :mod:`deckkit.budgets` (set by environment
    variables): over a cap, :class:`~deckkit.errors.ImportTooLarge` is raised before anything
    is written.

    ``lockfile``: its ids are given back to the cards of a deck deckkit built (when it exists),
    and, for an Anki package, each note's and note type's time in the package is recorded in it
    (created if need be, other entries kept: :mod:`.locking`).
    """
    if not path.exists():  # one that is not a regular file is refused by its reader, unread
        raise CannotImport(f"no such file: {path}")
    if output_dir.exists() and not output_dir.is_dir():
        raise CannotImport(f"output folder {output_dir} is a file")
    separators = term_separator is not None or card_separator is not None
    chosen = _chosen_format(path, fmt, quizlet=separators)
    lock_ids = lockfile_ids(lockfile) if lockfile is not None else {}
    reserved = existing_deck_ids(output_dir)
    options = ReadOptions(term_separator or "\t", card_separator or "\n", deck_name, media_dir)
    guessed = fmt == "auto" and not separators and _guessed(path, chosen)
    with _quizlet_hint(path, guessed), READERS[chosen].read(path, options) as collected:
        plan = plan_import(
            collected,
            lock_ids=lock_ids,
            reserved_ids=reserved,
            origin=path.name,
            existing_media=existing_media(output_dir),
        )
        written = write_plan(plan, output_dir, force=force)
        with_times = collected.note_types_are_original  # a package's notes have their times
    validation = validate([deck.path for deck in written.decks]) if written.decks else None
    problems = validation.problems if validation else ()
    lock = None
    if lockfile is not None and with_times and validation is not None:
        lock = record_times(lockfile, plan.decks, validation.sources, problems)
    return ImportResult(
        source=path,
        format=chosen,
        output_dir=output_dir,
        decks=written.decks,
        media=written.media,
        schema=written.schema,
        skipped=plan.skipped,
        notices=(*collected.notices, *plan.notices, *([_guess_notice(path)] if guessed else [])),
        problems=tuple(problems),
        conversions=plan.conversions,
        kept=plan.kept,
        renamed=plan.renamed,
        missing_media=plan.missing_media,
        lock=lock,
    )


def _guessed(path: Path, chosen: str) -> bool:
    """Whether ``path`` was taken for an Anki text export by its columns alone."""
    reader = READERS[chosen]
    return isinstance(reader, AnkiTextReader) and reader.guessed(path)


def _guess_notice(path: Path) -> str:
    return (
        f"{path.name} was read as an Anki text export: a line has more than two columns "
        f"(tabs), and Quizlet's has two; {QUIZLET_HINT}"
    )


QUIZLET_HINT = "if it is a Quizlet export, pass --from quizlet"


@contextmanager
def _quizlet_hint(path: Path, guessed: bool) -> Iterator[None]:
    """Reading a file guessed to be an Anki text export failed (the `anki` package missing, or
    a file Anki cannot read): say how to read it as Quizlet's instead."""
    try:
        yield
    except CannotImport as error:
        if not guessed or type(error) is not CannotImport:
            raise
        raise CannotImport(
            f"{error}; {path.name} was taken for an Anki text export (a line has more than "
            f"two columns): {QUIZLET_HINT}"
        ) from error


def _chosen_format(path: Path, fmt: str, *, quizlet: bool) -> str:
    """The format asked for; for "auto", Quizlet's when separators were given, else detected."""
    if fmt == "auto":
        return "quizlet" if quizlet else detect_format(path)
    if fmt not in READERS:
        raise CannotImport(f"unknown input format {fmt!r}; choose from {', '.join(FORMATS)}")
    return fmt


__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "READERS",
    "SEPARATORS_ADVICE",
    "Conversion",
    "ImportResult",
    "ImportedDeck",
    "ReadOptions",
    "Reader",
    "Skipped",
    "detect_format",
    "import_file",
    "parse_separator",
]
