"""Reading back the fields deckkit renders from a card's lists: a multiple-choice card's lettered
choices (plain and marked) and an open card's concept checklist.

Nothing parses the HTML: the lists are found by matching a field against what deckkit's own
renderers (the current markup, then older ones) make of placeholder items, and accepted only
when rendering what was read gives the field back exactly.

A field comes from a stranger's deck, so every step is linear in its length: the markup between
items is looked for with ``str.find``, never with a pattern of nested lazy groups (one such
pattern took 205 s on a 4.7 KB field, and a 2,000-item checklist 213 s).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial

from deckkit.cardtypes import LETTERS, MultipleChoice
from deckkit.fieldtext.markup import to_plain_text
from deckkit.notetypes import choices_html, concepts_html


def read_choices(marked: str, plain: str, correct: str) -> tuple[list[str], list[str]] | None:
    """Choices and right letters from deckkit's "Marked choices" list (else "Choices" + "Correct").

    The lists are read by matching them against what deckkit's own renderer makes of placeholder
    choices (the current markup, then older ones), and accepted only when rendering what was read
    gives the field back exactly.
    """
    hinted = tuple(sorted(p.strip() for p in to_plain_text(correct).split(",") if p.strip()))
    for render in _CHOICE_RENDERERS:
        # Most items first: a choice could itself hold the markup of the items after it.
        for count in range(len(LETTERS), 1, -1):
            letters = LETTERS[:count]
            markings = (tuple(letters), (), tuple(letters[0::2]), tuple(letters[1::2]))
            found = _match_rendered(marked, partial(_marked_variants, render, markings), count)
            if found is not None:
                right = _right_letters(render, tuple(found), marked, hinted)
                if right:
                    return found, list(right)
            found = _match_rendered(plain, partial(_marked_variants, render, None), count)
            if (
                found is not None
                and hinted
                and set(hinted) <= set(letters)
                and render(tuple(found), (), False) == plain
            ):
                return found, list(hinted)
    return None


_ChoiceRenderer = Callable[[tuple[str, ...], tuple[str, ...], bool], str]


def _marked_variants(
    render: _ChoiceRenderer,
    markings: Sequence[tuple[str, ...]] | None,
    choices: tuple[str, ...],
) -> list[str]:
    """The choices rendered with each marking (None: the unmarked front-side list)."""
    if markings is None:
        return [render(choices, (), False)]
    return [render(choices, marking, True) for marking in markings]


def _right_letters(
    render: _ChoiceRenderer, choices: tuple[str, ...], marked: str, hinted: tuple[str, ...]
) -> tuple[str, ...] | None:
    """The letters whose marking renders the field exactly: the "Correct" field's, else searched."""
    letters = LETTERS[: len(choices)]
    candidates = [hinted] if hinted else []
    candidates += [
        tuple(x for bit, x in enumerate(letters) if mask >> bit & 1)
        for mask in range(1, 1 << len(letters))
    ]
    for candidate in candidates:
        if candidate and _renders_as(render, choices, candidate, marked):
            return candidate
    return None


def _renders_as(
    render: _ChoiceRenderer, choices: tuple[str, ...], correct: tuple[str, ...], marked: str
) -> bool:
    """``render(choices, correct, True) == marked``, mostly without rendering the whole field.

    Both renderers write each choice as it is, so the field is the markup they make around
    placeholders with the choices in between: that is compared piece by piece where it stands,
    and a candidate that differs early costs next to nothing (up to 255 are tried per field).
    """
    pieces = _PLACEHOLDER.split(render(_placeholders(len(choices)), correct, True))
    if len(pieces) == len(choices) + 1:
        position = 0
        for piece, choice in zip(pieces, (*choices, ""), strict=True):
            if not marked.startswith(piece, position):
                return False
            position += len(piece)
            if not marked.startswith(choice, position):
                return False
            position += len(choice)
        if position != len(marked):
            return False
    return render(choices, correct, True) == marked  # the one rendering that decides


def _current_choices(choices: tuple[str, ...], correct: tuple[str, ...], marked: bool) -> str:
    return choices_html(MultipleChoice("", choices, correct, ""), marked=marked)


def _choices_v1(choices: tuple[str, ...], correct: tuple[str, ...], marked: bool) -> str:
    """The markup of deckkit's first builds, before the choice text had a span of its own."""
    items = []
    for letter, choice in zip(LETTERS, choices, strict=False):
        css = mark = ""
        if marked:
            right = letter in correct
            css = ' class="correct"' if right else ' class="wrong"'
            mark = '<span class="mark">✓ correct</span>' if right else ""
        letter_html = f'<span class="letter">{letter}.</span>'
        items.append(f'<li data-letter="{letter}"{css}>{letter_html} {choice}{mark}</li>')
    return '<ol class="choices">' + "".join(items) + "</ol>"


_CHOICE_RENDERERS: tuple[_ChoiceRenderer, ...] = (_current_choices, _choices_v1)


_PLACEHOLDER = re.compile("\x00\\d+\x00")


def _placeholders(count: int) -> tuple[str, ...]:
    return tuple(f"\x00{i}\x00" for i in range(count))


def _match_rendered(
    text: str, render_variants: Callable[[tuple[str, ...]], list[str]], count: int
) -> list[str] | None:
    """The ``count`` items a renderer turned into ``text``, found by rendering placeholders.

    Each variant renders the same placeholders differently (e.g. marked right or wrong); any
    variant's markup is accepted between two items, so the caller must check by rendering again.
    The items are those of the pattern ``gap0 (.*?) gap1 (.*?) ... gapN`` matched in full against
    ``text``, each gap one of its variants' markups, longest first: what a regular expression
    would find, found in linear time (:func:`_fill_gaps`).
    """
    if not text:
        return None
    gaps: list[set[str]] = [set() for _ in range(count + 1)]
    for rendered in render_variants(_placeholders(count)):
        parts = _PLACEHOLDER.split(rendered)
        if len(parts) != count + 1:
            return None
        for position, part in enumerate(parts):
            gaps[position].add(part)
    return _fill_gaps(text, [sorted(gap, key=len, reverse=True) for gap in gaps])


def _fill_gaps(text: str, gaps: Sequence[Sequence[str]]) -> list[str] | None:
    """The items of ``text`` read as gap, item, gap, ..., item, gap, each gap one of its strings.

    The same items as ``re.fullmatch("(.*?)".join("(?:a|b|...)" per gap), text, re.DOTALL)``:
    the first item as short as it can be, there the first string of the gap that lets the rest
    fit, and so on. An item takes in anything, so whether the rest fits once a gap has ended
    depends only on how far on that is: ``latest[i]`` is the last place gap ``i`` can start from
    with the rest fitting, found from the end with ``rfind``. Then, from the left, each gap is
    its first occurrence that ends early enough. Every search is ``str.find`` or ``str.rfind``.
    """
    size, last = len(text), len(gaps) - 1
    if last == 0:
        return [] if text in gaps[0] else None
    latest = [0] * (last + 1)
    latest[last] = max((size - len(gap) for gap in gaps[last] if text.endswith(gap)), default=-1)
    for i in range(last - 1, 0, -1):
        if latest[i + 1] < 0:
            return None
        latest[i] = max(text.rfind(gap, 0, latest[i + 1]) for gap in gaps[i])
    if latest[1] < 0:
        return None
    first = next((g for g in gaps[0] if text.startswith(g) and len(g) <= latest[1]), None)
    if first is None:
        return None
    position = len(first)
    items: list[str] = []
    for i in range(1, last + 1):
        if i == last:  # the last gap ends the text
            starts = [
                size - len(g) for g in gaps[i] if text.endswith(g) and size - len(g) >= position
            ]
        else:
            starts = [
                start
                for g in gaps[i]
                if 0 <= (start := text.find(g, position)) <= latest[i + 1] - len(g)
            ]
        if not starts:
            return None  # pragma: no cover - latest[] says a place exists
        start = min(starts)
        gap = next(
            g for g in gaps[i] if text.startswith(g, start) and _fits(text, g, start, i, latest)
        )
        items.append(text[position:start])
        position = start + len(gap)
    return items


def _fits(text: str, gap: str, start: int, i: int, latest: list[int]) -> bool:
    """Whether gap ``i`` written as ``gap`` at ``start`` leaves room for the rest."""
    end = start + len(gap)
    return end == len(text) if i == len(latest) - 1 else end <= latest[i + 1]


def read_concepts(text: str) -> list[str] | None:
    """The concepts of deckkit's checklist HTML ([] when empty); None when it is not deckkit's."""
    if not text.strip():
        return []
    # The checklist's heading states its count, and it is the first number in the field: only
    # that count can match (trying every count up to the number of '<li' was quadratic).
    number = _FIRST_NUMBER.search(text)
    items = text.count("<li")
    if number is None or len(number.group()) > len(str(items)):
        return None
    count = int(number.group())
    if not 0 < count <= items:
        return None
    found = _match_rendered(text, lambda p: [concepts_html(p)], count)
    if found is not None and concepts_html(tuple(found)) == text:
        return found
    return None


_FIRST_NUMBER = re.compile("[0-9]+")
