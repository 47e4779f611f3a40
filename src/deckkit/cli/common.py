"""What the commands share: their exit statuses and the options several of them take."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from deckkit.cli.status import EXIT_CLEAN, EXIT_INTERRUPTED, EXIT_PROBLEMS
from deckkit.lock_entries import DEFAULT_LOCKFILE

PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
CLOCK_BEHIND = click.option(
    "--clock-behind",
    is_flag=True,
    help="Build although the clock reads earlier than times the lockfile holds.",
)


STRICT = click.option(
    "--strict", is_flag=True, help="Treat warnings (scripts, unclosed tags) as errors."
)

# How much a command says: -q errors only, -v everything it knows.
QUIET, NORMAL, VERBOSE = 0, 1, 2

_Command = TypeVar("_Command", bound=Callable[..., Any])


def output_option(
    default: Path, help_text: str, *, file_okay: bool = True
) -> Callable[[_Command], _Command]:
    """``-o``/``--output``: the folder a command writes into (its default and use its own)."""
    return click.option(
        "-o",
        "--output",
        "output_dir",
        type=click.Path(path_type=Path, file_okay=file_okay),
        default=default,
        show_default=True,
        help=help_text,
    )


def lockfile_option(help_text: str) -> Callable[[_Command], _Command]:
    """``--lockfile``: the project's lockfile, by default deckkit.lock (what the command does
    with it in ``help_text``)."""
    return click.option(
        "--lockfile",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path(DEFAULT_LOCKFILE),
        show_default=True,
        help=help_text,
    )


def VERBOSITY(command: _Command) -> _Command:
    """-q/--quiet and -v/--verbose, handed to the command as ``verbosity`` (None when neither
    is given: read it with :func:`level`)."""
    verbose = click.option(
        "-v",
        "--verbose",
        "verbosity",
        flag_value=VERBOSE,
        help="Say more: every deck and file, up to date or not.",
    )
    quiet = click.option(
        "-q",
        "--quiet",
        "verbosity",
        flag_value=QUIET,
        help="Print errors only (--format json still holds every problem).",
    )
    return quiet(verbose(command))


def level(verbosity: int | None) -> int:
    """QUIET, NORMAL or VERBOSE: what -q or -v asked for, NORMAL when neither."""
    return NORMAL if verbosity is None else verbosity


__all__ = [
    "CLOCK_BEHIND",
    "EXIT_CLEAN",
    "EXIT_INTERRUPTED",
    "EXIT_PROBLEMS",
    "NORMAL",
    "PATHS",
    "QUIET",
    "STRICT",
    "VERBOSE",
    "VERBOSITY",
    "level",
]
