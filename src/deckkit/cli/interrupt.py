"""Ctrl-C, SIGTERM and SIGHUP, remembered: wherever one strikes, the console script ends cleanly.

Python raises KeyboardInterrupt wherever the main thread happens to be, and a library caught in
the middle may turn it into an error of its own (zipfile, interrupted inside ``writestr``, raises
"Can't close the ZIP file" on the way out). The console script (:mod:`deckkit.cli.entry`)
installs this handler first, so that such an error is still reported as what it is: an
interruption (exit status 128 + the signal's number: 130 for Ctrl-C), without a traceback.

SIGTERM (``kill``, ``timeout``, a service manager) and SIGHUP (the terminal was closed) are
handled like Ctrl-C: they raise :class:`Terminated`, which like KeyboardInterrupt is no
``Exception``, so that every ``finally``, ``with`` and ``except BaseException`` runs and a
command ends leaving no temporary file or scratch folder behind, where the default action would
end the process at once. (Not KeyboardInterrupt itself: click answers that by printing the blank
line that ends a terminal's "^C", which no SIGTERM left.) A signal the parent chose to ignore
(``nohup``, ``cmd &`` in a script) stays ignored. Used as a library, deckkit leaves every signal
alone.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

# The signals that end a command cleanly, where the platform has them (Windows has no SIGHUP).
SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: the command ends, cleaning up on the way, as for Ctrl-C."""


_received: signal.Signals | None = None  # the first of SIGNALS received since install()
_replaced: dict[signal.Signals, _Handler] = {}  # the handlers install() replaced


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _received
    if _received is not None and signum != signal.SIGINT:
        # Already ending: a SIGTERM or SIGHUP on top (a closed terminal sends both) would cut the
        # cleaning up short. A second Ctrl-C still stops a wait for worker processes.
        return
    _received = _received or signal.Signals(signum)
    raise KeyboardInterrupt if signum == signal.SIGINT else Terminated


def install() -> None:
    """Remember every Ctrl-C, SIGTERM and SIGHUP from now on, raising KeyboardInterrupt or
    Terminated; a signal the parent chose to ignore stays ignored."""
    for number in SIGNALS:
        current = signal.getsignal(number)
        if current is signal.SIG_IGN or current is _on_signal:
            continue
        _replaced[number] = current
        signal.signal(number, _on_signal)


def received() -> bool:
    """Whether one of the signals arrived since install()."""
    return _received is not None


def received_signal() -> signal.Signals | None:
    """The first signal that arrived since install(), if any."""
    return _received


def uninstall() -> None:
    """Give each signal back to the handler install() replaced and forget any signal received
    (for a caller that runs the console script in its own process more than once, as tests do)."""
    global _received
    for number, replaced in _replaced.items():
        if signal.getsignal(number) is _on_signal:
            if replaced is None:  # a handler not installed from Python: the default
                replaced = signal.default_int_handler if number == signal.SIGINT else signal.SIG_DFL
            signal.signal(number, replaced)
    _replaced.clear()
    _received = None


__all__ = ["SIGNALS", "Terminated", "install", "received", "received_signal", "uninstall"]
