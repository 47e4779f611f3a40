"""What the commands share: their exit statuses and the options several of them take."""

from __future__ import annotations

from pathlib import Path

import click

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1  # problems in the sources, or a build that failed because of them
# 2, a usage error, is click's own status for a click.UsageError (see deckkit.cli.advice).
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a Ctrl-C

PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
STRICT = click.option(
    "--strict", is_flag=True, help="Treat warnings (scripts, unclosed tags) as errors."
)
