"""The `deckkit` command line: one module per command, each thin over the library.

A command parses its options, calls the library, hands the result to a reporter
(:mod:`deckkit.cli.reporters`) and ends with an exit status: 0 clean, 1 problems, 2 usage error.
Advice that names an option is added in one table (:mod:`deckkit.cli.advice`); everything printed
leaves through :mod:`deckkit.cli.terminal`, which escapes what a terminal would obey; the console
script (:mod:`deckkit.cli.entry`) alone handles Ctrl-C, SIGTERM and SIGHUP (status 130, 143, 129).

This module imports nothing: the console script takes over those signals
(:mod:`deckkit.cli.interrupt`) before click and the command group (:mod:`deckkit.cli.group`) are
imported.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COMMANDS", "main"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from deckkit.cli import group

        return getattr(group, name)
    raise AttributeError(f"module 'deckkit.cli' has no attribute {name!r}")
