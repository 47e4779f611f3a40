"""``deckkit`` run as a real process whose output goes to a pseudo-terminal, as when a person runs
it: what it prints there (source lines with carets, colour) differs from what it prints in a pipe.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def deckkit_on_a_terminal(
    *args: str, cwd: Path, env: dict[str, str], stderr_too: bool
) -> tuple[int, str]:
    """(exit status, what ``deckkit ARGS`` printed on the terminal): its stdout, and its stderr
    too if ``stderr_too`` (else stderr is discarded). The terminal writes each newline as CR LF."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "deckkit", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal if stderr_too else subprocess.DEVNULL,
    )
    os.close(terminal)
    printed = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        printed += chunk
    os.close(controller)
    return process.wait(timeout=120), printed.decode("utf-8")
