"""The project a command works in: its sources, outputs and lockfile unless options name others.

Options given on the command line win; the project file (:mod:`deckkit.project`) gives the rest;
without one, the defaults hold in the working folder, and the command says so once, on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import click
from click.core import ParameterSource

from deckkit.cli.advice import library_errors
from deckkit.cli.terminal import echo_lines
from deckkit.errors import UsageError
from deckkit.exporters import EXPORTERS
from deckkit.project import PROJECT_FILE, Project, ProjectFileError, load_project
from deckkit.sources.discovery import DEFAULT_SOURCES

T = TypeVar("T")

NO_PROJECT = (
    f"no {PROJECT_FILE} in this folder or above, and no {DEFAULT_SOURCES}/ folder here: "
    "run 'deckkit init' to start a project (or name the sources to use)"
)


def current_project() -> Project:
    """The project of the working folder; a bad project file is a usage error naming its line."""
    with library_errors():
        return load_project()


def given(name: str) -> bool:
    """Whether the running command's option ``name`` was given on the command line."""
    source = click.get_current_context().get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT)


def option_or(name: str, value: T, from_project: T) -> T:
    """The option's ``value`` when given on the command line, else the project's."""
    return value if given(name) else from_project


def project_sources(project: Project, paths: tuple[Path, ...]) -> tuple[Path, ...]:
    """The sources to read: those named, else the project's; suggests ``deckkit init`` where
    there is neither a project nor a sources folder."""
    if paths:
        return paths
    if project.file is not None:
        missing = [folder for folder in project.sources if not folder.exists()]
        if missing:
            with library_errors():
                raise ProjectFileError(
                    f"{project.where('sources')}: the sources folder {missing[0]} does not "
                    "exist; create it (deckkit init makes one with an example deck) or change "
                    "'sources'"
                )
        return project.sources
    if not DEFAULT_SOURCES.exists():
        with library_errors():
            raise UsageError(NO_PROJECT)
    return ()  # the library's default, sources/: a build of it covers every deck it once made


def say_defaults(project: Project, defaults: list[str]) -> None:
    """Say once, on stderr, which defaults a command without a project file uses."""
    if project.file is None and defaults:
        echo_lines(
            [
                f"note: no {PROJECT_FILE} in this folder or above; using the defaults in the "
                f"working folder: {', '.join(defaults)} ('deckkit init' writes a project file)"
            ],
            err=True,
        )


def build_defaults(
    project: Project, paths: tuple[Path, ...], output_dir: Path, lockfile: Path
) -> list[str]:
    """What a command that builds (build, watch) takes from the defaults, for
    :func:`say_defaults`: the sources folder unless PATHS are given, the output folder and the
    lockfile unless their options are."""
    return [
        *([] if paths else [f"{project.sources[0]}/"]),
        *([] if given("output_dir") else [f"{output_dir}/"]),
        *([] if given("lockfile") else [str(lockfile)]),
    ]


FORMATS = click.option(
    "--format",
    "formats",
    type=click.Choice(list(EXPORTERS)),
    multiple=True,
    help="Output format; repeat for several (default: the project file's formats, else all three).",
)


def chosen_formats(project: Project, formats: tuple[str, ...]) -> tuple[str, ...]:
    """The output formats a build writes: those given (--format), else the project file's,
    else every one."""
    return formats or project.formats or tuple(EXPORTERS)


__all__ = [
    "FORMATS",
    "build_defaults",
    "chosen_formats",
    "current_project",
    "given",
    "option_or",
    "project_sources",
    "say_defaults",
]
