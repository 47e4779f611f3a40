"""`deckkit preview`: a static HTML page showing every card as Anki renders it."""

from __future__ import annotations

from pathlib import Path

import click

from deckkit.cli.advice import library_errors
from deckkit.cli.common import PATHS, QUIET, STRICT, VERBOSITY, level, output_option
from deckkit.cli.projects import current_project, given, project_sources, say_defaults
from deckkit.cli.reporters import REPORT_FORMAT, report_problems, reporter_for
from deckkit.preview import PreviewResult, write_preview
from deckkit.problems import display_path

DEFAULT_OUTPUT = Path("build") / "preview"


@click.command("preview")
@PATHS
@output_option(DEFAULT_OUTPUT, "Folder for index.html and a media/ folder beside it.")
@REPORT_FORMAT
@STRICT
@VERBOSITY
def preview_command(
    paths: tuple[Path, ...],
    output_dir: Path,
    report_format: str,
    strict: bool,
    verbosity: int | None,
) -> None:
    """Write a static HTML page showing the front and back of every card, as Anki shows them.

    PATHS are files or folders searched for *.yaml and *.yml (default: sources/). The page uses
    the .apkg's own templates and styling, needs no server or network (open it from disk), and
    filters the cards by deck, tag, level and type, with a search box. Nothing is written when a
    source has errors. With --format json or github, stdout holds only the problems and the
    summary goes to stderr. Exit status: 0 written, 1 problems in the sources, 2 usage error.

    \b
    Examples:
      deckkit preview                      # writes build/preview/index.html (the project's)
      deckkit preview sources/biology.yaml -o /tmp/biology-preview
      deckkit preview --format github      # in CI: annotations for the problems
    """
    project = current_project()
    sources = project_sources(project, paths)
    if not given("output_dir"):
        output_dir = project.output / DEFAULT_OUTPUT.name
    if level(verbosity) != QUIET:  # -q: errors only
        say_defaults(
            project,
            [
                *([] if paths else [f"{project.sources[0]}/"]),
                *([] if given("output_dir") else [f"{output_dir}/"]),
            ],
        )
    with library_errors():
        result = write_preview(
            sources, output_dir, strict=strict or project.strict, markdown=project.markdown
        )
    reporter = reporter_for(report_format, level(verbosity))
    report_problems(reporter, result.problems, failed="preview failed")
    reporter.summary(summary(result))


def summary(result: PreviewResult) -> list[str]:
    """Where the page is and how to open it, for people: the lines to print."""
    assert result.page is not None
    return [
        f"previewed {result.cards} Anki card(s) from {result.decks} deck(s)",
        "wrote:",
        f"  {display_path(result.page)}",
        f"open it in a browser: {result.page.resolve().as_uri()}",
    ]
