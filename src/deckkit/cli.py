"""The `deckkit` command: a thin Click layer that parses options, calls the library and reports."""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TypeVar

import click

from deckkit import __version__
from deckkit.errors import LockOutdated, OutputFolderError, UsageError
from deckkit.exporters import EXPORTERS
from deckkit.lockfile import DEFAULT_LOCKFILE
from deckkit.pipeline import BuildResult, DeckSummary, build
from deckkit.problems import Problem, display_path, problems_as_json
from deckkit.sources.schema import schema_text
from deckkit.sources.validation import validate

PROGRESS_MIN_BYTES = 1_000_000  # about 5,000 cards; smaller builds finish before a bar helps
PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
_T = TypeVar("_T")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckkit")
def main() -> None:
    """Validate flashcards written as YAML and build Anki and Quizlet decks from them.

    \b
    Examples:
      deckkit init                 # start a sources/ folder with an example deck
      deckkit validate             # check every *.yaml under sources/
      deckkit build                # write build/<deck id>.apkg, .csv and .quizlet.txt
    """


@main.command("validate")
@PATHS
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: path:line:column lines; json: one document; github: workflow annotations.",
)
@click.option("--strict", is_flag=True, help="Treat warnings (scripts, unclosed tags) as errors.")
def validate_command(paths: tuple[Path, ...], output_format: str, strict: bool) -> None:
    """Check card sources against the schema and deckkit's rules; writes nothing.

    PATHS are files or folders searched for *.yaml and *.yml (default: sources/).
    Exit status: 0 clean, 1 problems found, 2 usage error.

    \b
    Examples:
      deckkit validate
      deckkit validate sources/biology.yaml
      deckkit validate --format github sources/
    """
    result = _or_usage_error(lambda: validate(paths, strict=strict))
    _report(result.problems, output_format)
    if output_format == "text" and result.ok:
        click.echo(f"{len(result.sources)} source file(s) valid", err=True)
    sys.exit(0 if result.ok else 1)


@main.command("build")
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
@click.option("--strict", is_flag=True, help="Treat warnings (scripts, unclosed tags) as errors.")
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
    """
    chosen = formats or tuple(EXPORTERS)
    bar = _ProgressBar()
    try:
        result = _or_usage_error(
            lambda: build(
                paths,
                output_dir,
                formats=chosen,
                lockfile=lockfile,
                frozen=frozen,
                strict=strict,
                jobs=jobs,
                on_deck=bar.advance,
                on_start=bar.start,
            )
        )
    except LockOutdated as error:
        click.echo(
            f"error: {error}; run 'deckkit build' without --frozen and commit {error.lockfile}",
            err=True,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("\ninterrupted: nothing was written; earlier outputs are as they were", err=True)
        sys.exit(130)
    finally:
        bar.close()
    if not result.ok:
        _report(result.problems, "text")
        click.echo("build failed: nothing was written", err=True)
        sys.exit(1)
    _report(result.problems, "text")
    click.echo(_summary(result))


@main.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of card sources (point your editor at it).

    \b
    Example:
      deckkit schema > deck.schema.json
    """
    click.echo(schema_text(), nl=False)


@main.command("init")
@click.argument("directory", default="sources", type=click.Path(path_type=Path))
def init_command(directory: Path) -> None:
    """Create a sources folder with a commented example deck and the schema for editors.

    \b
    Example:
      deckkit init            # creates sources/example.yaml and sources/deck.schema.json
      deckkit init decks/
    """
    example = directory / "example.yaml"
    if example.exists():
        raise click.UsageError(f"{example} already exists; not overwriting it")
    directory.mkdir(parents=True, exist_ok=True)
    text = resources.files("deckkit").joinpath("data", "init", "example.yaml").read_text("utf-8")
    example.write_text(text, encoding="utf-8")
    (directory / "deck.schema.json").write_text(schema_text(), encoding="utf-8")
    click.echo(f"created {example} and {directory / 'deck.schema.json'}")
    click.echo(f"next: deckkit validate {directory} && deckkit build {directory}")


def _or_usage_error(action: Callable[[], _T]) -> _T:
    try:
        return action()
    except OutputFolderError as error:
        raise click.UsageError(f"{error}; choose another with -o") from None
    except UsageError as error:
        raise click.UsageError(str(error)) from None


def _report(problems: tuple[Problem, ...], output_format: str) -> None:
    if output_format == "json":
        click.echo(problems_as_json(problems))
    elif output_format == "github":
        for problem in problems:
            click.echo(problem.as_github())
    else:
        for problem in problems:
            click.echo(problem.as_text())


def _summary(result: BuildResult) -> str:
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
    return "\n".join(lines)


class _ProgressBar:
    """Progress on stderr for large builds (several MB of sources), only on a terminal."""

    WIDTH = 30

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.cards = 0
        self.shown = False

    def start(self, sources: list[Path]) -> None:
        size = sum(path.stat().st_size for path in sources)
        if sys.stderr.isatty() and size >= PROGRESS_MIN_BYTES:
            self.total = len(sources)
            self.shown = True
            self._draw(f"building {len(sources)} deck(s) from {size / 1e6:.1f} MB of sources")

    def advance(self, deck: DeckSummary) -> None:
        self.done += 1
        self.cards += deck.notes
        if self.shown:
            self._draw(f"{self.cards:,} cards ({deck.id})")

    def _draw(self, note: str) -> None:
        filled = self.WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        click.echo(f"\r[{bar}] {self.done}/{self.total} {note}\033[K", err=True, nl=False)

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


def _register_subcommands() -> None:
    # Each of these commands lives in a module of its own; the core modules never import Click.
    from deckkit.cli_import import import_command
    from deckkit.cli_preview import preview_command

    main.add_command(import_command)
    main.add_command(preview_command)


_register_subcommands()
