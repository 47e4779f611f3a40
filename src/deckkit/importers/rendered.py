"""Reading back the fields deckkit renders from a card's lists: a multiple-choice card's lettered
choices (plain and marked) and an open card's concept checklist.

Nothing parses the HTML: the lists are found by matching a field against what deckkit's own
renderers (the current markup, then older ones) make of placeholder items, and accepted only
when rendering what was read gives the field back exactly.
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
        if candidate and render(choices, candidate, True) == marked:
            return candidate
    return None


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


def _match_rendered(
    text: str, render_variants: Callable[[tuple[str, ...]], list[str]], count: int
) -> list[str] | None:
    """The ``count`` items a renderer turned into ``text``, found by rendering placeholders.

    Each variant renders the same placeholders differently (e.g. marked right or wrong); any
    variant's markup is accepted between two items, so the caller must check by rendering again.
    """
    if not text:
        return None
    placeholders = tuple(f"\x00{i}\x00" for i in range(count))
    gaps: list[set[str]] = [set() for _ in range(count + 1)]
    for rendered in render_variants(placeholders):
        parts = re.split("\x00\\d+\x00", rendered)
        if len(parts) != count + 1:
            return None
        for position, part in enumerate(parts):
            gaps[position].add(part)
    alternatives = [
        "(?:" + "|".join(re.escape(g) for g in sorted(gap, key=len, reverse=True)) + ")"
        for gap in gaps
    ]
    match = re.compile("(.*?)".join(alternatives), re.DOTALL).fullmatch(text)
    return list(match.groups()) if match else None


def read_concepts(text: str) -> list[str] | None:
    """The concepts of deckkit's checklist HTML ([] when empty); None when it is not deckkit's."""
    if not text.strip():
        return []
    for count in range(text.count("<li"), 0, -1):
        found = _match_rendered(text, lambda p: [concepts_html(p)], count)
        if found is not None and concepts_html(tuple(found)) == text:
            return found
    return None
