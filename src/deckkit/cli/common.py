"""What the commands share: their exit statuses and the options several of them take."""

from __future__ import annotations

from pathlib import Path

import click

from deckkit.cli.status import EXIT_CLEAN, EXIT_INTERRUPTED, EXIT_PROBLEMS

PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
STRICT = click.option(
    "--strict", is_flag=True, help="Treat warnings (scripts, unclosed tags) as errors."
)

__all__ = ["EXIT_CLEAN", "EXIT_INTERRUPTED", "EXIT_PROBLEMS", "PATHS", "STRICT"]
