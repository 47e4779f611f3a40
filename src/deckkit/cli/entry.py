"""The `deckkit` console script: runs the command line and decides how the process ends.

Ctrl-C, SIGTERM and SIGHUP are handled here and nowhere else. Wherever one strikes (in a command,
in click, or in a library that turned the KeyboardInterrupt into an error of its own, see
:mod:`deckkit.cli.interrupt`), deckkit cleans up as for any error (staged files, scratch
folders), prints one message (INTERRUPTED for Ctrl-C) and ends with status 128 + the signal's
number (130, 143, 129), never with a traceback. The message holds for every command: build,
import and preview replace each output atomically, and the other commands write nothing. The
signals are taken over before click or any command is imported, so that one arriving while they
load is reported the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import NoReturn

from deckkit import cli
from deckkit.cli import interrupt
from deckkit.cli.status import EXIT_CLEAN

INTERRUPTED = "interrupted: each output is either as it was or complete and new"


def interrupted_message(signum: int) -> str:
    """What deckkit says when ``signum`` ended it: INTERRUPTED, naming a signal other than
    Ctrl-C's."""
    if signum == signal.SIGINT:
        return INTERRUPTED
    return INTERRUPTED.replace("interrupted", f"interrupted by {signal.Signals(signum).name}", 1)


def main() -> NoReturn:
    """Take over Ctrl-C, SIGTERM and SIGHUP, then run the command line; report an interruption
    wherever it struck."""
    interrupt.install()
    try:
        sys.exit(_run())
    except SystemExit as ended:
        # A command may end normally after a library swallowed the KeyboardInterrupt.
        if interrupt.received() and ended.code not in (EXIT_CLEAN, _interrupted_status()):
            _interrupted()
        raise
    except (KeyboardInterrupt, interrupt.Terminated):
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
    import click  # imported once the signals are taken over (see the module's docstring)

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


def _interrupted_status() -> int:
    return 128 + (interrupt.received_signal() or signal.SIGINT)


def _interrupted(*, line_open: bool = True) -> NoReturn:
    signum = interrupt.received_signal() or signal.SIGINT
    # The terminal shows "^C" at the end of a line; the message starts on a line of its own.
    opening = "\n" if line_open and signum == signal.SIGINT else ""
    # After a SIGHUP the terminal may be gone: the message is then lost, the status is not.
    with contextlib.suppress(OSError):
        sys.stderr.write(opening + interrupted_message(signum) + "\n")
    raise SystemExit(_interrupted_status()) from None
