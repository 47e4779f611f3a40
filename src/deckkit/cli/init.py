"""`deckkit init` and `deckkit schema`: starting a project, and the schema for editors."""

from __future__ import annotations

import os
from pathlib import Path

import click

from deckkit.cli.advice import library_errors
from deckkit.cli.projects import current_project, given
from deckkit.cli.terminal import echo, echo_lines
from deckkit.errors import UsageError
from deckkit.project_starter import start_project
from deckkit.sources.schema import schema_text


@click.command("init")
@click.argument("directory", default="sources", type=click.Path(path_type=Path))
def init_command(directory: Path) -> None:
    """Make the working folder a project: deckkit.toml, a sources folder with a commented example
    deck and the schema, .gitignore for the outputs, VS Code and pre-commit set-up.

    DIRECTORY is the sources folder (default: sources). Run inside a project, init adds what its
    project is missing, at its root. An existing file is never replaced.

    \b
    Example:
      deckkit init            # deckkit.toml, sources/example.yaml, sources/deck.schema.json...
      deckkit init decks/
    """
    project = current_project()
    # Inside a project, init completes that project (its root and sources), wherever it is run.
    root = Path.cwd() if project.file is None else project.file.parent
    if project.file is not None and not given("directory"):
        directory = project.sources[0]
    with library_errors():
        started = start_project(
            root, _relative_posix(directory, root), _relative_posix(project.output, root)
        )
    lines = [f"created {_shown(path)}" for path in started.created]
    if started.kept:
        kept = ", ".join(_shown(path) for path in started.kept)
        lines.append(f"kept as they were (already there): {kept}")
    lines.append("next: deckkit validate && deckkit build")
    echo_lines(lines)


def _shown(path: Path) -> str:
    """A path as the user would type it from the working folder (``../deckkit.toml``)."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def _relative_posix(directory: Path, root: Path) -> str:
    """The sources folder as the project file names it: relative to the project, with '/'."""
    try:
        return (Path.cwd() / directory).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UsageError(
            f"{directory} is outside the project's folder {root}; name a folder inside it"
        ) from None


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of card sources (point your editor at it).

    \b
    Example:
      deckkit schema > deck.schema.json
    """
    echo(schema_text(), nl=False)
