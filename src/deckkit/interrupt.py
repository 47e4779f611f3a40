"""Ctrl-C, remembered: wherever it strikes, the command line reports an interruption.

Python raises KeyboardInterrupt wherever the main thread happens to be, and a library caught in
the middle may turn it into an error of its own (zipfile, interrupted inside ``writestr``, raises
"Can't close the ZIP file" on the way out). The console script installs this handler first, so
that such an error is still reported as what it is: an interruption (exit status 130), without a
traceback. Used as a library, deckkit leaves SIGINT alone.
"""

from __future__ import annotations

import signal
from types import FrameType

_received = False


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = True
    raise KeyboardInterrupt


def install() -> None:
    """Remember every Ctrl-C (SIGINT) from now on, still raising KeyboardInterrupt; a SIGINT
    the parent chose to ignore (``cmd &`` in a script) stays ignored."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _on_sigint)


def received() -> bool:
    """Whether a Ctrl-C arrived since install()."""
    return _received


__all__ = ["install", "received"]
