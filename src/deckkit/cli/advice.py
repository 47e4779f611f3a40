"""Advice that names the command line's options, in one table.

The library's errors say what is wrong in its own terms (``frozen``, ``output_dir``); the command
that caught one adds which option to change, from ADVICE, and turns it into the command line's
error: a usage error (click's "Error: ..." and exit status 2) or, for a request that was fine but
found the project in a state it must refuse (``LockOutdated``), "error: ..." and exit status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from deckkit.cli.common import EXIT_PROBLEMS
from deckkit.cli.terminal import echo_styled, safe_line
from deckkit.errors import (
    ClockBehind,
    DeckkitError,
    LockOutdated,
    OutputFolderError,
    TargetExists,
    UnknownImportFormat,
    UsageError,
)

Advice = str | Callable[[DeckkitError], str]


def _import_formats(error: DeckkitError) -> str:
    # Only a failed import needs the importers' formats; other commands do not load them.
    from deckkit.importers import FORMATS

    return f"use --from {', '.join(FORMATS[:-1])} or {FORMATS[-1]}"


# Error class → advice: a text, where "{error}" is the error itself, or a function of the error.
# The most specific class of an error wins.
ADVICE: dict[type[DeckkitError], Advice] = {
    OutputFolderError: "choose another with -o",
    LockOutdated: "run 'deckkit build' without --frozen and commit {error.lockfile}",
    ClockBehind: "to build anyway, pass --clock-behind (a changed note then gets its previous "
    "time plus one second, so that it still reaches learners)",
    TargetExists: "use --force to replace them",
    UnknownImportFormat: _import_formats,
}


def advised(error: DeckkitError) -> str:
    """The error's message, followed by the advice ADVICE has for it, as it is (not yet safe to
    print: it may quote a file name)."""
    message = str(error)
    kinds = sorted((k for k in ADVICE if isinstance(error, k)), key=type(error).__mro__.index)
    if not kinds:
        return message
    found = ADVICE[kinds[0]]
    advice = found.format(error=error) if isinstance(found, str) else found(error)
    return f"{message}; {advice}"


@contextmanager
def library_errors() -> Iterator[None]:
    """Turn the library's errors raised inside into the command line's, each with its advice,
    made safe to print as one line (:mod:`deckkit.cli.terminal`)."""
    try:
        yield
    except UsageError as error:
        raise click.UsageError(safe_line(advised(error))) from None
    except DeckkitError as error:
        echo_styled([[("error:", "error"), (f" {advised(error)}", "")]], err=True)
        sys.exit(EXIT_PROBLEMS)


__all__ = ["ADVICE", "advised", "library_errors"]
