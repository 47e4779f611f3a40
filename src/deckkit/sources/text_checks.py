"""Checks of what a source's text holds: characters Anki cannot store, and HTML or CSS that runs
code, reaches the network or leaves an element open, in the fields and in the templates and CSS
of kept note types. Each problem points at the character at fault (deckkit.sources.positions)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from deckkit.cardtypes import LIST_KEYS, TEXT_KEYS
from deckkit.fieldtext.active import Finding, css_findings, html_findings
from deckkit.fieldtext.markup import unclosed_tags
from deckkit.problems import Problem, shorten
from deckkit.sources.loader import LoadedSource, PathKey
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
    deck = data.get("deck")
    if isinstance(deck, str) and (bad := _UNSTORABLE.search(deck)):
        yield _unstorable(source, positions, ("deck",), deck, bad.start(), "deck name")
    description = data.get("description")
    if isinstance(description, str) and "<" in description:
        yield from _html_problems(source, positions, ("description",), description)
    cards = data.get("cards")
    if not isinstance(cards, list):
        return
    for index, card in enumerate(cards):
        if not isinstance(card, dict):
            continue
        for name, value in card.items():
            if name in TEXT_KEYS and isinstance(value, str):
                yield from _field_problems(source, positions, ("cards", index, name), value)
            elif name in LIST_KEYS and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, str):
                        path = ("cards", index, name, i)
                        yield from _field_problems(source, positions, path, item)


def _field_problems(
    source: LoadedSource, positions: ValuePositions, path: PathKey, value: str
) -> Iterator[Problem]:
    bad = _UNSTORABLE.search(value)
    if bad is not None:
        yield _unstorable(source, positions, path, value, bad.start(), "field")
    if "<" in value:
        yield from _html_problems(source, positions, path, value)


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
    source: LoadedSource, positions: ValuePositions, path: PathKey, value: str
) -> Iterator[Problem]:
    script = remote = None
    for finding in html_findings(value):
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
        yield _remote(source, positions.mark(path, value, remote.start), "field", remote)
    unclosed = unclosed_tags(value)
    if unclosed:
        yield source.problem(
            source.mark_of_value(path),
            f"<{unclosed[0]}> is never closed; Anki would apply it to the rest of the card: "
            f"add </{unclosed[0]}>",
            "check.unclosed-tag",
            "warning",
        )


def _remote(source: LoadedSource, mark: Any, where: str, finding: Finding) -> Problem:
    return source.problem(
        mark,
        f"{where} loads '{shorten(finding.url, _URL_SHOWN)}' from the network ({finding.what}): "
        "Anki fetches it each time the card is shown, telling its server, and the preview "
        "does not; download it beside the source, or remove it",
        "check.remote-resource",
        "warning",
    )


def template_sides(index: int, note_type: dict[str, Any]) -> Iterator[tuple[PathKey, str, str]]:
    """Each template side of the kept note type at ``index`` that holds text: its path, its text
    and how a message names it ("the front template 1")."""
    templates = note_type.get("templates")
    for position, template in enumerate(templates if isinstance(templates, list) else []):
        if not isinstance(template, dict):
            continue
        for side in ("front", "back"):
            text = template.get(side)
            if isinstance(text, str):
                path: PathKey = ("note_types", index, "templates", position, side)
                yield path, text, f"the {side} template {position + 1}"


def check_note_type_code(source: LoadedSource) -> Iterator[Problem]:
    """A kept note type's templates and CSS run in Anki like a field's HTML: scripts, remote
    resources and markup that breaks out of its element are warnings, as in fields."""
    data = source.data
    declared = data.get("note_types") if isinstance(data, dict) else None
    if not isinstance(declared, list):
        return
    positions = ValuePositions(source)
    for index, note_type in enumerate(declared):
        if not isinstance(note_type, dict):
            continue
        name = note_type.get("name")
        label = f"note type '{shorten(name)}'" if isinstance(name, str) else "a note type"
        for path, text, side in template_sides(index, note_type):
            found = html_findings(text, template=True)
            yield from _code_problems(source, positions, path, text, f"{side} of {label}", found)
        css = note_type.get("css")
        if isinstance(css, str):
            found = css_findings(css)
            path = ("note_types", index, "css")
            yield from _code_problems(source, positions, path, css, f"the CSS of {label}", found)


def _code_problems(
    source: LoadedSource,
    positions: ValuePositions,
    path: PathKey,
    text: str,
    where: str,
    findings: Iterator[Finding],
) -> Iterator[Problem]:
    """One problem for each kind of finding: its first."""
    seen: set[str] = set()
    for finding in findings:
        if finding.kind in seen:
            continue
        seen.add(finding.kind)
        mark = positions.mark(path, text, finding.start)
        if finding.kind == "script":
            yield source.problem(mark, f"{where} {_SCRIPT_MESSAGE}", "check.script", "warning")
        elif finding.kind == "remote":
            yield _remote(source, mark, where, finding)
        else:
            yield source.problem(
                mark,
                f"{where} contains '{finding.what}', which ends the element a page holds it in "
                "early, so that what follows is read as the page's own HTML; remove it",
                "check.breakout",
                "warning",
            )
