"""Where a character of a text value was written in its source: a problem inside a long field
points at the line and column of the very character, not just at the start of the value.

The loader keeps where each value starts; this module reads the file again (only when a problem
needs it) and walks the value as YAML wrote it: escapes of double-quoted text (``"\\x1f"``), the
doubled quote of single-quoted text, the line folding of plain, quoted and folded (``>``) text,
and the indentation of literal (``|``) text. What it finds is checked against the value the loader
read; where they differ (a form this walk does not know), the problem points at the value's start,
as before.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from pathlib import Path

from deckkit.sources.loader import LoadedSource, Mark, PathKey, unpack_position

_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_BREAKS = "\r\n\x85\u2028\u2029"
_WHITE = " \t"
# YAML's escapes in double-quoted text: one character each, or hex digits for a code point.
_SIMPLE_ESCAPES = {
    "0": "\x00", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n", "v": "\x0b",
    "f": "\x0c", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
    "_": "\xa0", "L": "\u2028", "P": "\u2029",
}  # fmt: skip
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


class ValuePositions:
    """Finds where characters of a source's text values were written; reads the file once."""

    def __init__(self, source: LoadedSource) -> None:
        self._source = source
        self._text: str | None = None
        self._line_starts: list[int] = []

    def mark(self, path: PathKey, value: str, index: int) -> Mark:
        """Where ``value[index]`` (``value`` being the text at ``path``) was written."""
        start = self._source.mark_of_value(path)
        position = self._source.value_marks.get(path)
        if position is None or not 0 <= index < len(value):
            return start
        text = self._read()
        if text is None:
            return start
        mark = unpack_position(position)
        if mark.line > len(self._line_starts):
            return start
        offset = self._line_starts[mark.line - 1] + mark.column - 1
        found = _offset_of(text, offset, value, index)
        return start if found is None else self._mark_at(found)

    def _read(self) -> str | None:
        if self._text is None:
            try:
                raw = Path(self._source.path).read_bytes()
                self._text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            self._line_starts = [0, *(m.end() for m in _LINE_BREAK.finditer(self._text))]
        return self._text

    def _mark_at(self, offset: int) -> Mark:
        line = bisect.bisect_right(self._line_starts, offset)
        return Mark(line, offset - self._line_starts[line - 1] + 1)


def _offset_of(text: str, start: int, value: str, index: int) -> int | None:
    """Where in ``text`` the scalar starting at ``start`` wrote ``value[index]``, if the walk
    reads the same characters as the loader did up to there."""
    first = text[start : start + 1]
    if first in ('"', "'"):
        walked = _walk_flow(text, start + 1, index, quote=first)
    elif first in ("|", ">"):
        walked = _walk_block(text, start, index, folded=first == ">")
    else:
        walked = _walk_flow(text, start, index, quote="")
    if walked is None:
        return None
    chars, offsets = walked
    if len(chars) <= index or "".join(chars[: index + 1]) != value[: index + 1]:
        return None
    return offsets[index]


Walk = tuple[list[str], list[int]]  # the characters read so far, and where each was written


def _walk_flow(text: str, at: int, index: int, *, quote: str) -> Walk | None:
    """A plain (``quote`` empty), single- or double-quoted scalar, read up to ``value[index]``."""
    chars: list[str] = []
    offsets: list[int] = []
    kept = 0  # characters before this one are content even if white (escaped, or before text)
    size = len(text)
    while len(chars) <= index and at < size:
        char = text[at]
        if char in _BREAKS:
            # Folding: white space before the break goes, then empty lines each make a line
            # break and no empty line makes a space; the next line's indentation goes too.
            while len(chars) > kept and chars[-1] in _WHITE:
                chars.pop()
                offsets.pop()
            breaks = 0
            where = at
            while at < size and text[at] in _BREAKS + _WHITE:
                if text[at] in _BREAKS:
                    breaks += 1
                    at += 2 if text.startswith("\r\n", at) else 1
                else:
                    at += 1
            folded = "\n" * (breaks - 1) if breaks > 1 else " "
            chars += folded
            offsets += [where] * len(folded)
            kept = len(chars)
            continue
        if quote == "'" and char == "'":
            if not text.startswith("''", at):
                break
            chars.append("'")
            offsets.append(at)
            at += 2
            kept = len(chars)
            continue
        if quote == '"' and char == '"':
            break
        if quote == '"' and char == "\\":
            escaped = _escape(text, at)
            if escaped is None:
                return None
            decoded, length = escaped
            if decoded is None:  # an escaped line break: nothing, nor the next indentation
                at += length
                while at < size and text[at] in _WHITE:
                    at += 1
                kept = len(chars)
                continue
            chars.append(decoded)
            offsets.append(at)
            at += length
            kept = len(chars)
            continue
        chars.append(char)
        offsets.append(at)
        at += 1
        if char not in _WHITE:
            kept = len(chars)
    return chars, offsets


def _escape(text: str, at: int) -> tuple[str | None, int] | None:
    """The character a backslash escape at ``at`` stands for (None for an escaped line break)
    and its length; None for an escape YAML does not have."""
    key = text[at + 1 : at + 2]
    if key in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[key], 2
    if key in _HEX_ESCAPES:
        digits = text[at + 2 : at + 2 + _HEX_ESCAPES[key]]
        try:
            return chr(int(digits, 16)), 2 + len(digits)
        except ValueError:
            return None
    if key and key in _BREAKS:
        return None, 3 if text.startswith("\r\n", at + 1) else 2
    return None


def _walk_block(text: str, at: int, index: int, *, folded: bool) -> Walk | None:
    """A literal (``|``) or folded (``>``) block scalar, read up to ``value[index]``."""
    header_end = _LINE_BREAK.search(text, at)
    if header_end is None:
        return None
    start = header_end.end()
    indent = next(
        (
            len(line) - len(line.lstrip(" "))
            for line, _ in _block_lines(text, start)
            if line.strip()
        ),
        0,
    )
    chars: list[str] = []
    offsets: list[int] = []
    previous = ""  # "text", "more" (more indented) or "" (none yet, or only empty lines since)
    empty = 0
    for line, where in _block_lines(text, start):
        if len(chars) > index:
            break
        if not line.strip(" "):
            empty += 1
            continue
        if len(line) - len(line.lstrip(" ")) < indent:
            break  # the block has ended
        content = line[indent:]
        kind = "more" if content[:1] in _WHITE else "text"
        if chars or empty:
            if folded and previous == "text" and kind == "text":
                joint = "\n" * empty if empty else " "
            elif chars:
                joint = "\n" * (empty + 1)
            else:
                joint = "\n" * empty
            chars += joint
            offsets += [where - 1] * len(joint)
        chars += content
        offsets += range(where + indent, where + len(line))
        previous, empty = kind, 0
    return chars, offsets


_LINE = re.compile("([^\r\n\x85\u2028\u2029]*)(\r\n|[\r\n\x85\u2028\u2029]|\\Z)")


def _block_lines(text: str, at: int) -> Iterator[tuple[str, int]]:
    """The lines from ``at`` on, each with where it starts, up to the first unindented line that
    holds text (a block scalar ends before it)."""
    while at <= len(text):
        match = _LINE.match(text, at)
        assert match is not None  # the pattern matches anywhere, if only the empty end
        line = match.group(1)
        if line.strip() and not line.startswith((" ", "\t")):
            return
        yield line, at
        if not match.group(2):
            return
        at = match.end()
