"""Printing text that came from input, safely: every line deckkit prints leaves through here.

File names, keys, card ids, deck and note type names, and the library's messages that quote them
come from files a stranger may have written. Some characters are obeyed by a terminal instead of
shown: ESC starts the sequences that set the window title (``ESC ]0;`` … BEL), write the
clipboard (``ESC ]52;``), move the cursor or erase the screen (CSI, ``ESC [``); BEL, BS and CR
have effects of their own, and so have the C1 controls (U+0080 to U+009F; U+009B is a CSI by
itself) and DEL. The bidirectional embeddings, overrides and isolates (U+202A to U+202E,
U+2066 to U+2069) reorder a line, so that it reads differently from what it says.

:func:`safe_for_terminal` writes each of them as a visible escape, as Python's ``repr`` does
(``\\x1b``, ``\\x07``, ``\\u202e``), and so it does lone surrogates (a file name that is not
UTF-8), which would otherwise make printing fail. Tab and newline are kept only where they are the
text's structure: one problem is one line, so a newline inside one is escaped too. The JSON
reporter escapes the same characters the JSON way (:func:`json_safe`), so that its document still
decodes to exactly the text; the GitHub reporter escapes them before the escaping of workflow
commands. Everything else leaves the text alone: deckkit's own messages and RTL text print as
they are.

Colour (:func:`echo_styled`) is deckkit's own: a line is made of spans, each escaped as above and
then wrapped in a style's codes, so that nothing from the input can add or end a colour. Colour is
used only on a terminal, and never when ``NO_COLOR`` is set to a non-empty value
(https://no-color.org).
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterable, Sequence
from functools import cache

import click

# Code points a terminal must never receive from input (see the module's docstring).
UNSAFE_RANGES = (
    (0x00, 0x1F),  # C0 controls: ESC, BEL, BS, CR, ... (tab and newline where not structure)
    (0x7F, 0x9F),  # DEL and the C1 controls
    (0x202A, 0x202E),  # bidirectional embeddings and overrides
    (0x2066, 0x2069),  # bidirectional isolates
    (0xD800, 0xDFFF),  # lone surrogates: undecodable bytes of a file name
)
STRUCTURE = "\t\n"  # kept by default: the structure of a multi-line text

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_JSON_UNSAFE = re.compile(
    "[" + "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in UNSAFE_RANGES[1:]) + "]"
)


def _escape(code: int) -> str:
    character = chr(code)
    if character in _NAMED:
        return _NAMED[character]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


@cache
def _table(keep: str) -> dict[int, str]:
    return {
        code: _escape(code)
        for low, high in UNSAFE_RANGES
        for code in range(low, high + 1)
        if chr(code) not in keep
    }


def safe_for_terminal(text: str, *, keep: str = STRUCTURE) -> str:
    """``text`` with every character that could control a terminal or reorder a line written as
    a visible escape (``\\x1b``, ``\\u202e``); the characters in ``keep`` stay as they are."""
    return text.translate(_table(keep))


def safe_line(text: str) -> str:
    """``text`` made safe to print as one line: a newline in it is escaped too."""
    return safe_for_terminal(text, keep="\t")


def json_safe(document: str) -> str:
    """A JSON document (written with ``ensure_ascii=False``) with the characters a terminal must
    not receive written as JSON escapes (``\\u009b``): it decodes to the same values.

    JSON's writer escapes the C0 controls itself, and the others can only be inside strings.
    """
    return _JSON_UNSAFE.sub(lambda found: f"\\u{ord(found[0]):04x}", document)


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print ``text``, whose newlines and tabs are its structure, made safe for a terminal."""
    click.echo(safe_for_terminal(text), err=err, nl=nl)


def echo_lines(lines: Iterable[str], *, err: bool = False) -> None:
    """Print each of ``lines`` as one line, made safe for a terminal (a newline in one is
    escaped: it cannot start a line that looks like deckkit's)."""
    for line in lines:
        click.echo(safe_line(line), err=err)


# Spans of a line and the style of each: a name in STYLES, or "" for plain text.
Span = tuple[str, str]

# SGR codes (ECMA-48): bold red errors, bold yellow warnings, bold locations, dim codes.
STYLES = {
    "error": "1;31",
    "warning": "1;33",
    "location": "1",
    "code": "2",
    "done": "1;32",
}
_RESET = "\033[0m"


def colour_on(*, err: bool = False) -> bool:
    """Whether to colour what goes to stdout (or stderr): a terminal, and no ``NO_COLOR``."""
    if os.environ.get("NO_COLOR", ""):
        return False
    stream = sys.stderr if err else sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def styled(spans: Sequence[Span], *, colour: bool) -> str:
    """One line of spans, each made safe for a terminal, then coloured when ``colour``."""
    parts = []
    for text, style in spans:
        safe = safe_line(text)
        parts.append(f"\033[{STYLES[style]}m{safe}{_RESET}" if colour and style and safe else safe)
    return "".join(parts)


def echo_styled(lines: Iterable[Sequence[Span]], *, err: bool = False) -> None:
    """Print each line of spans made safe, coloured on a terminal (see :func:`colour_on`)."""
    colour = colour_on(err=err)
    for spans in lines:
        click.echo(styled(spans, colour=colour), err=err, color=colour)


def redraw(text: str) -> None:
    """Replace the current line of stderr with ``text`` (a progress bar): deckkit's own carriage
    return and erase-to-end-of-line around the text made safe."""
    click.echo(f"\r{safe_line(text)}\033[K", err=True, nl=False)


def show_error(error: click.ClickException) -> None:
    """Print a click error as click does (usage, hint, ``Error: ...``), made safe: its message
    may quote a file name."""
    shown = io.StringIO()
    error.show(file=shown)
    echo(shown.getvalue(), err=True, nl=False)


__all__ = [
    "STRUCTURE",
    "STYLES",
    "UNSAFE_RANGES",
    "Span",
    "colour_on",
    "echo",
    "echo_lines",
    "echo_styled",
    "json_safe",
    "redraw",
    "safe_for_terminal",
    "safe_line",
    "show_error",
    "styled",
]
