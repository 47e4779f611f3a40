"""The `deckkit` console script: runs the command line and decides how the process ends.

Ctrl-C is handled here and nowhere else. Wherever it strikes (in a command, in click, or in a
library that turned the KeyboardInterrupt into an error of its own, see
:mod:`deckkit.cli.interrupt`), deckkit prints INTERRUPTED and ends with status 130, never with a
traceback. The message holds for every command: build, import and preview replace each output
atomically, and the other commands write nothing. Ctrl-C is taken over before click or any
command is imported, so that one pressed while they load is reported the same way.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from deckkit import cli
from deckkit.cli import interrupt
from deckkit.cli.status import EXIT_CLEAN, EXIT_INTERRUPTED

INTERRUPTED = "interrupted: each output is either as it was or complete and new"


def main() -> NoReturn:
    """Take over Ctrl-C, then run the command line; report an interruption wherever it struck."""
    interrupt.install()
    try:
        sys.exit(_run())
    except SystemExit as ended:
        # A command may end normally after a library swallowed the KeyboardInterrupt.
        if interrupt.received() and ended.code not in (EXIT_CLEAN, EXIT_INTERRUPTED):
            _interrupted()
        raise
    except KeyboardInterrupt:
        _interrupted()
    except BaseException as error:
        click = sys.modules.get("click")  # loaded if it raised
        if click is not None and isinstance(error, click.Abort):
            # click's form of a KeyboardInterrupt; it has already ended the ^C line.
            _interrupted(line_open=False)
        if interrupt.received():
            _interrupted()  # also when a library turned the KeyboardInterrupt into its own error
        raise


def _run() -> int:
    """Run the command line as click would, except for Ctrl-C; returns the exit status."""
    import click  # imported once Ctrl-C is taken over (see the module's docstring)

    from deckkit.cli.terminal import show_error

    try:
        # Not standalone: click would turn a Ctrl-C into "Aborted!" and exit status 1.
        status = cli.main(standalone_mode=False)
    except click.ClickException as error:
        show_error(error)  # its message may quote a file name
        return error.exit_code
    except BrokenPipeError:
        # The reader went away (`deckkit validate | head`): stop quietly, as click does, and let
        # nothing flush into the closed pipe on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    # A command's return value, or the status of click's own exits (--help, --version).
    return status if isinstance(status, int) else EXIT_CLEAN


def _interrupted(*, line_open: bool = True) -> NoReturn:
    # The terminal shows "^C" at the end of a line; the message starts on a line of its own.
    sys.stderr.write(("\n" if line_open else "") + INTERRUPTED + "\n")
    raise SystemExit(EXIT_INTERRUPTED) from None
