"""Ctrl-C, remembered: wherever it strikes, the console script reports an interruption.

Python raises KeyboardInterrupt wherever the main thread happens to be, and a library caught in
the middle may turn it into an error of its own (zipfile, interrupted inside ``writestr``, raises
"Can't close the ZIP file" on the way out). The console script (:mod:`deckkit.cli.entry`)
installs this handler first, so that such an error is still reported as what it is: an
interruption (exit status 130), without a traceback. Used as a library, deckkit leaves SIGINT
alone.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

_received = False
_replaced: _Handler = None  # the handler install() replaced


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = True
    raise KeyboardInterrupt


def install() -> None:
    """Remember every Ctrl-C (SIGINT) from now on, still raising KeyboardInterrupt; a SIGINT
    the parent chose to ignore (``cmd &`` in a script) stays ignored."""
    global _replaced
    current = signal.getsignal(signal.SIGINT)
    if current is signal.SIG_IGN or current is _on_sigint:
        return
    _replaced = current
    signal.signal(signal.SIGINT, _on_sigint)


def received() -> bool:
    """Whether a Ctrl-C arrived since install()."""
    return _received


def uninstall() -> None:
    """Give SIGINT back to the handler install() replaced and forget any Ctrl-C received (for
    a caller that runs the console script in its own process more than once, as tests do)."""
    global _received, _replaced
    if signal.getsignal(signal.SIGINT) is _on_sigint:
        signal.signal(signal.SIGINT, signal.default_int_handler if _replaced is None else _replaced)
    _received = False
    _replaced = None


__all__ = ["install", "received", "uninstall"]
