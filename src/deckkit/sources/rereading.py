"""Reading a source again after a save that changed some of its cards only (`deckkit watch`).

A save while watching changes a card or two of a deck that may hold thousands: parsing the whole
file again is most of the time from the save to the preview. A source read before (fast, without
its values' positions, and without any problem) is kept with its text; when the new text differs
from it only between the starts of two cards, the cards between them are parsed on their own and
put in place of the old ones, and the positions kept (the top-level keys') moved by the lines
added or removed.

Why the result is the whole file's: in a block sequence whose items begin at column ``c`` (each
``- `` at the start of a line, after ``c`` spaces), a line beginning so ends whatever the item
before it left open that is not an error there (a block scalar, a plain scalar, a mapping: their
lines are indented more), so the text of the items between two such lines is read alike on its own
and in the file, which is parsed from the same state at that line. Whatever doubt remains falls
back to reading the whole file: a problem in the new items (read again with every position, as
always), items that do not begin each at such a line (counted both ways), an edit outside the
cards, a line broken otherwise than by LF or CR LF, a file read differently before, a new file.
tests/test_rereading.py compares many edits with whole reads.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deckkit.sources.loader import (
    MAX_NODES,
    MAX_SOURCE_BYTES,
    LoadedSource,
    load_source,
    parse_text,
)

_kept: dict[Path, _Read] = {}
_keeping = False


def keep_reads(keep: bool = True) -> None:
    """Keep each source read fast (or no longer: ``keep`` False), for :func:`reread_source` to
    read only what changed."""
    global _keeping
    _keeping = keep
    _kept.clear()


def keeping_reads() -> bool:
    """Whether sources read are kept (while watching): what is made of them may be kept too."""
    return _keeping


@dataclass(frozen=True)
class _Read:
    text: str
    source: LoadedSource
    column: int  # where the cards' '-' stand
    starts: tuple[int, ...]  # where each card's line starts in the text
    end: int  # where the cards end: the next top-level key's line, or the end of the text


def reread_source(path: Path, *, markdown: bool = False) -> LoadedSource:
    """``load_source(path, all_positions=False, markdown=markdown)``, reading only the cards that
    changed since the last read of ``path`` where it can (see the module's docstring)."""
    if not _keeping:
        return load_source(path, all_positions=False, markdown=markdown)
    text = _text(path)
    before = _kept.pop(path, None)
    spliced = _spliced(before, text) if before is not None and text is not None else None
    if spliced is not None:
        _kept[path] = spliced
        return replace(spliced.source, markdown=markdown, problems=[], skipped_paths=set())
    source = load_source(path, all_positions=False, markdown=markdown)
    kept = _read(source, text) if text is not None else None
    if kept is not None:
        _kept[path] = kept
    return source


def _text(path: Path) -> str | None:
    """The file's text as load_source reads it; None where load_source has something to say."""
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _item_starts(column: int) -> re.Pattern[str]:
    return re.compile(rf"^ {{{column}}}-(?=[ \t\r\n]|$)", re.MULTILINE)


def _read(source: LoadedSource, text: str) -> _Read | None:
    """What a good fast read of ``text`` keeps, when its cards can be found by their lines."""
    data = source.data
    if source.problems or not isinstance(data, dict) or not isinstance(data.get("cards"), list):
        return None
    if _odd_line_breaks(text):
        return None
    cards = data["cards"]
    key_marks = source.key_marks
    at = source.value_marks.get(("cards",))
    if not cards or at is None or key_marks[("cards",)] & 0xFFFFFFFF != 1:
        return None
    column = (at & 0xFFFFFFFF) - 1
    key_line = key_marks[("cards",)] >> 32
    later = [m >> 32 for p, m in key_marks.items() if len(p) == 1 and m >> 32 > key_line]
    end = _line_offset(text, min(later)) if later else len(text)
    begin = _line_offset(text, at >> 32)
    starts = tuple(m.start() for m in _item_starts(column).finditer(text, begin, end))
    if len(starts) != len(cards) or starts[0] != begin:
        return None
    return _Read(text, source, column, starts, end)


def _line_offset(text: str, line: int) -> int:
    """Where 1-based ``line`` starts in ``text``."""
    return len(text) - len(text.split("\n", line - 1)[-1]) if line > 1 else 0


def _spliced(before: _Read, text: str) -> _Read | None:
    """The read of ``text``, parsing only the cards that changed since ``before``, or None."""
    old = before.text
    if old == text:
        return before
    same_start = _common_prefix(old, text)
    same_end = _common_suffix(old, text, min(len(old), len(text)) - same_start)
    changed_old_end = len(old) - same_end
    starts = before.starts
    first = bisect_right(starts, same_start) - 1
    if first < 0 or changed_old_end > before.end:
        return None
    after = bisect_left(starts, changed_old_end, lo=first)
    old_end = starts[after] if after < len(starts) else before.end
    growth = len(text) - len(old)
    if old_end + growth < len(text) and text[old_end + growth - 1] != "\n":
        return None  # the card after the change no longer begins a line
    old_chunk, chunk = old[starts[first] : old_end], text[starts[first] : old_end + growth]
    if _odd_line_breaks(chunk):
        return None
    parsed, old_parsed = _cards_of(chunk, before.column), _cards_of(old_chunk, before.column)
    if parsed is None or old_parsed is None:
        return None
    cards, nodes, found = parsed
    source = before.source
    nodes = source.nodes - old_parsed[1] + nodes
    if nodes > MAX_NODES:
        return None
    old_cards = source.data["cards"]
    data = {
        key: [*old_cards[:first], *cards, *old_cards[after:]] if key == "cards" else value
        for key, value in source.data.items()
    }
    lines = chunk.count("\n") - old_chunk.count("\n")
    # The top-level keys after the cards moved by the lines added; the cards' own mark stays.
    moved_from = max(old.count("\n", 0, before.end), old.count("\n", 0, starts[0]) + 1) + 1
    new_starts = (
        *starts[:first],
        *(starts[first] + offset for offset in found),
        *(start + growth for start in starts[after:]),
    )
    return _Read(
        text,
        replace(
            source,
            data=data,
            nodes=nodes,
            value_marks=_moved_marks(source.value_marks, moved_from, lines),
            key_marks=_moved_marks(source.key_marks, moved_from, lines),
        ),
        before.column,
        new_starts,
        before.end + growth,
    )


def _odd_line_breaks(text: str) -> bool:
    """Whether ``text`` breaks a line otherwise than with LF or CR LF: YAML (libyaml) also counts
    a lone CR, NEL, LS and PS, which the lines counted here do not."""
    return text.count("\r") != text.count("\r\n") or any(c in text for c in "\x85\u2028\u2029")


def _moved_marks(marks: dict[Any, int], from_line: int, lines: int) -> dict[Any, int]:
    return {
        path: mark + (lines << 32) if mark >> 32 >= from_line else mark
        for path, mark in marks.items()
    }


def _cards_of(chunk: str, column: int) -> tuple[list[Any], int, list[int]] | None:
    """The cards of ``chunk`` (whole lines, each card beginning with its '-' at ``column``)
    parsed on their own, how many values they hold and where each begins; None unless the chunk
    is cards alone, each found where it begins."""
    if not chunk:
        return [], 0, []
    if _DOCUMENT_LINE.search(chunk):
        return None  # the document may end there, and what follows it be read otherwise
    source = parse_text("cards:\n" + chunk)
    data = source.data
    if source.problems or not isinstance(data, dict) or list(data) != ["cards"]:
        return None
    cards = data["cards"]
    found = [m.start() for m in _item_starts(column).finditer(chunk)]
    if not isinstance(cards, list) or len(found) != len(cards) or not found or found[0] != 0:
        return None
    return cards, source.nodes - 3, found  # less the mapping, key and list around them


# A line that ends a document or begins one ('...', '---', a directive), or a byte order mark.
_DOCUMENT_LINE = re.compile(r"^(?:---|\.\.\.|%)|\ufeff", re.MULTILINE)
_BLOCK = 1 << 16  # characters compared at once


def _common_prefix(first: str, second: str) -> int:
    """How many characters the two texts begin with alike."""
    most = min(len(first), len(second))
    done = 0
    while done < most and first[done : done + _BLOCK] == second[done : done + _BLOCK]:
        done += _BLOCK
    done = min(done, most)
    while done < most and first[done] == second[done]:
        done += 1
    return done


def _common_suffix(first: str, second: str, most: int) -> int:
    """How many characters (at most ``most``) the two texts end with alike."""
    done = 0
    while (
        done < most
        and first[-done - _BLOCK : len(first) - done] == second[-done - _BLOCK : len(second) - done]
    ):
        done += _BLOCK
    done = min(done, most)
    while done < most and first[len(first) - done - 1] == second[len(second) - done - 1]:
        done += 1
    return done
