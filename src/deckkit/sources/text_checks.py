"""Checks of what a source's text holds: characters Anki cannot store, and HTML or CSS that runs
code, reaches the network or leaves an element open, in the fields (and, through
:func:`code_problems`, in note types' templates and CSS: deckkit.sources.note_type_checks). Each
problem points at the character at fault (deckkit.sources.positions)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from deckkit.cardtypes import LIST_KEYS, TEXT_KEYS
from deckkit.fieldtext.active import Finding, html_findings
from deckkit.fieldtext.markup import unclosed_tags
from deckkit.problems import Problem, shorten
from deckkit.sources.loader import LoadedSource, PathKey
from deckkit.sources.markdown_fields import (
    card_uses_markdown,
    deck_uses_markdown,
    may_hold_markup,
    shown_html,
)
from deckkit.sources.positions import ValuePositions

# What Anki removes from a field when it stores a note (``invalid_char_for_field`` in
# https://github.com/ankitects/anki/blob/main/rslib/src/notes/mod.rs): the ASCII control
# characters but tab and line feed. U+001F separates the fields of a note in Anki's database, so
# one inside a field makes Anki refuse the whole package ("note has 3 fields, expected 2"). The
# loader cannot put them there otherwise than as escapes of double-quoted text ("\x1f").
_UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_FIELD_SEPARATOR = "\x1f"
_URL_SHOWN = 80

_SCRIPT_MESSAGE = (
    "contains a script (<script>, an on...= handler or javascript:), which Anki runs when "
    "showing the card; remove it unless you wrote it yourself"
)


def check_field_text(source: LoadedSource) -> Iterator[Problem]:
    """Text Anki cannot store is an error (it would refuse the package, or change the card). A
    script, a remote resource and a tag left open are warnings: `--strict` makes them errors."""
    data = source.data
    if not isinstance(data, dict):
        return
    positions = ValuePositions(source)
    markdown = deck_uses_markdown(source)
    deck = data.get("deck")
    if isinstance(deck, str) and (bad := _UNSTORABLE.search(deck)):
        yield _unstorable(source, positions, ("deck",), deck, bad.start(), "deck name")
    description = data.get("description")
    if isinstance(description, str):
        yield from _html_problems(source, positions, ("description",), description, markdown)
    cards = data.get("cards")
    if not isinstance(cards, list):
        return
    for index, card in enumerate(cards):
        if not isinstance(card, dict):
            continue
        in_markdown = card_uses_markdown(source, card, markdown)
        for name, value in card.items():
            if name in TEXT_KEYS and isinstance(value, str):
                path: PathKey = ("cards", index, name)
                yield from _field_problems(source, positions, path, value, in_markdown)
            elif name in LIST_KEYS and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, str):
                        path = ("cards", index, name, i)
                        yield from _field_problems(source, positions, path, item, in_markdown)


def _field_problems(
    source: LoadedSource, positions: ValuePositions, path: PathKey, value: str, markdown: bool
) -> Iterator[Problem]:
    if (value, markdown) in _clean:
        return
    found = False
    bad = _UNSTORABLE.search(value)
    if bad is not None:
        found = True
        yield _unstorable(source, positions, path, value, bad.start(), "field")
    for problem in _html_problems(source, positions, path, value, markdown):
        found = True
        yield problem
    if not found:
        _clean[value, markdown] = None
        if len(_clean) > _KEPT_CLEAN:
            del _clean[next(iter(_clean))]  # the oldest


# `deckkit watch` checks a source again after each save, where nearly every field is as before:
# whether a field's text has a problem depends on the text alone (and on whether it is Markdown),
# so the texts found clean are remembered (the oldest forgotten beyond _KEPT_CLEAN).
_KEPT_CLEAN = 400_000
_clean: dict[tuple[str, bool], None] = {}


def _unstorable(
    source: LoadedSource, positions: ValuePositions, path: PathKey, value: str, at: int, what: str
) -> Problem:
    char = value[at]
    if char == _FIELD_SEPARATOR and what == "field":
        why = "Anki's field separator: Anki would refuse the whole package"
    elif char == _FIELD_SEPARATOR:
        why = "which Anki reads as '::' between a deck and its sub-deck"
    else:
        why = f"a control character, which Anki removes from a {what}"
    return source.problem(
        positions.mark(path, value, at),
        f"{what} holds U+{ord(char):04X} ({why}); remove it",
        "check.unstorable-text",
    )


def _html_problems(
    source: LoadedSource, positions: ValuePositions, path: PathKey, value: str, markdown: bool
) -> Iterator[Problem]:
    """The HTML rules, in the HTML the field becomes: a Markdown field's rendering (where
    ``<script>`` in a code span is text), placed at the URL as written when it can be found."""
    if not (may_hold_markup(value) if markdown else "<" in value):
        return
    html = shown_html(value, markdown)
    script = remote = None
    for finding in html_findings(html):
        if finding.kind == "script" and script is None:
            script = finding
        elif finding.kind == "remote" and remote is None:
            remote = finding
    if script is not None:
        yield source.problem(
            source.mark_of_value(path),  # the field, as before: what to remove may be all of it
            f"field {_SCRIPT_MESSAGE}",
            "check.script",
            "warning",
        )
    if remote is not None:
        at = value.find(remote.url) if markdown else remote.start
        mark = positions.mark(path, value, at) if at >= 0 else source.mark_of_value(path)
        yield _remote(source, mark, "field", remote)
    unclosed = unclosed_tags(html)
    if unclosed:
        yield source.problem(
            source.mark_of_value(path),
            f"<{unclosed[0]}> is never closed; Anki would apply it to the rest of the card: "
            f"add </{unclosed[0]}>",
            "check.unclosed-tag",
            "warning",
        )


def _remote(source: LoadedSource, mark: Any, where: str, finding: Finding) -> Problem:
    return source.problem(mark, remote_message(where, finding), "check.remote-resource", "warning")


def remote_message(where: str, finding: Finding) -> str:
    """What a warning about a remote resource says: what loads it, what it loads, what to do."""
    return (
        f"{where} loads '{shorten(finding.url, _URL_SHOWN)}' from the network ({finding.what}): "
        "Anki fetches it each time the card is shown, telling its server, and the preview "
        "does not; download it beside the source, or remove it"
    )


ProblemAt = Callable[[int, str, str, str], Problem]  # (offset, message, code, severity)


def code_problems(
    where: str, findings: Iterable[Finding], problem_at: ProblemAt
) -> Iterator[Problem]:
    """The problems of a template's or CSS's code: one for each kind of finding (its first),
    placed by ``problem_at``. ``where`` names the text: "the front template 1 of note type 'X'"."""
    seen: set[str] = set()
    for finding in findings:
        if finding.kind in seen or finding.kind == "local":
            continue
        seen.add(finding.kind)
        if finding.kind == "script":
            yield problem_at(finding.start, f"{where} {_SCRIPT_MESSAGE}", "check.script", "warning")
        elif finding.kind == "remote":
            message = remote_message(where, finding)
            yield problem_at(finding.start, message, "check.remote-resource", "warning")
        else:
            yield problem_at(
                finding.start,
                f"{where} contains '{finding.what}', which ends the element a page holds it in "
                "early, so that what follows is read as the page's own HTML; remove it",
                "check.breakout",
                "warning",
            )
