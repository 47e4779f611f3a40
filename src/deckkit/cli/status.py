"""The exit statuses of the `deckkit` command (kept free of click: the console script reads them
before click is imported)."""

from __future__ import annotations

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1  # problems in the sources, or a build that failed because of them
# 2, a usage error, is click's own status for a click.UsageError (see deckkit.cli.advice).
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a Ctrl-C
# SIGTERM and SIGHUP end a command the same way, with 128 + their number: 143 and 129.
