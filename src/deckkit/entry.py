"""The `deckkit` console script: a Ctrl-C at any moment ends it quietly with exit status 130."""

from __future__ import annotations

import sys

from deckkit import interrupt

INTERRUPTED = "\ninterrupted: each output is either as it was or complete and new\n"


def main() -> None:
    """Import the command line, then run it; report an interruption wherever it struck."""
    interrupt.install()
    try:
        from deckkit.cli import main as cli_main

        cli_main()
    except SystemExit as ended:
        # click turns a Ctrl-C outside a command's own handling into "Aborted!" and status 1.
        if interrupt.received() and ended.code not in (0, 130):
            _interrupted()
        raise
    except BaseException:
        if interrupt.received():
            _interrupted()  # also when a library turned the KeyboardInterrupt into its own error
        raise


def _interrupted() -> None:
    sys.stderr.write(INTERRUPTED)
    raise SystemExit(130) from None
