"""The `deckkit` console script: a Ctrl-C while deckkit is still starting ends it quietly too."""

from __future__ import annotations

import sys


def main() -> None:
    """Import the command line, then run it."""
    try:
        from deckkit.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted: nothing was written; earlier outputs are as they were\n")
        raise SystemExit(130) from None
    cli_main()
