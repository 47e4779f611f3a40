"""What a YAML syntax error most likely means in a card source, and how to fix it.

libyaml says where it gave up and why in its own terms ("mapping values are not allowed in this
context", "did not find expected key"), often a line after the mistake. The mistakes authors make
are few, and each leaves a recognisable line near where the parser gave up:

- an unquoted value that starts with a character YAML treats specially (``{{c1::…}}`` is read as
  a mapping, ``[…]`` as a list, ``*`` as an alias, ``&`` as an anchor, ``!`` as a tag; ``%``, ``@``
  and a backtick cannot start a plain value) or that contains ``: `` (read as another key): put the
  value in quotes;
- ``-id: b``: a list item needs a space after ``-`` (reported on that line, not on the next one,
  where the parser gives up);
- a key indented more or less than the keys before it: indent to the level of its siblings;
- a tab in the indentation: YAML indents with spaces only;
- a quoted value whose closing quote is missing: YAML reads on, over the next lines, to the next
  quote (often the opening quote of a later value) and gives up there, far from the mistake.

:func:`explain` looks only at the few lines from where the parser's context starts to where it
gave up, so that a hostile file costs no more than reading it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deckkit.cardtypes import CARD_TYPES
from deckkit.problems import shorten

_LOOK_BACK = 3  # lines before the one the parser gave up on that may hold the mistake
_SHOWN = 40  # characters of a value a suggested fix quotes

# Why YAML refuses a plain (unquoted) value starting with each character.
_SPECIAL_START = {
    "{": "YAML reads it as a mapping",
    "[": "YAML reads it as a list",
    "*": "YAML reads it as an alias",
    "&": "YAML reads it as an anchor",
    "!": "YAML reads it as a tag",
    "%": "YAML keeps '%' for directives",
    "@": "YAML keeps '@' for later use",
    "`": "YAML keeps '`' for later use",
}
# Keys whose value is a list or mapping, where '[' and '{' are what the author meant.
_STRUCTURE_KEYS = frozenset(
    {"cards", "tags", "fields", "note_types", "note_type_files", "card_decks", "media"}
    | {key for kind in CARD_TYPES.values() for key in kind.list_keys}
)
_KEY = r"[A-Za-z_][\w.-]*"
_KEY_VALUE = re.compile(rf"^(?P<lead> *(?:- +)*)(?P<key>{_KEY}):(?P<gap> +)(?P<value>\S.*)$")
_ITEM = re.compile(r"^(?P<lead> *(?:- +)+)(?P<value>\S.*)$")
_NO_SPACE_AFTER_DASH = re.compile(rf"^(?P<lead> *)-(?P<key>{_KEY}):(?: |$)")
_KEY_LINE = re.compile(rf"^(?P<lead> *(?:- +)*)(?P<key>{_KEY}):(?: |$)")
_INDENTATION_ERRORS = (
    "mapping values are not allowed",
    "did not find expected '-' indicator",
    "did not find expected key",
)


@dataclass(frozen=True)
class Explained:
    """A syntax error's likely cause and fix, and the 1-based line and column of the mistake."""

    line: int
    column: int
    message: str


def explain(problem: str, lines: list[str], first: int, line: int, column: int) -> Explained | None:
    """The likely mistake behind libyaml's ``problem`` at ``line``:``column`` (1-based), looking
    back to line ``first`` at most (where the parser's context started); None when none fits."""
    start = max(first, line - _LOOK_BACK, 1)
    near = [(n, lines[n - 1]) for n in range(min(line, len(lines)), start - 1, -1)]
    for number, text in near[:2]:
        found = _no_space_after_dash(number, text)
        if found:
            return found
    for number, text in near:
        found = _needs_quotes(number, text, column if number == line else 0)
        if found:
            return found
    unclosed = _unclosed_quote(lines, start=first, end=line)
    if unclosed:
        return unclosed
    if any(problem.startswith(start) for start in _INDENTATION_ERRORS) and near:
        return _misindented(lines, *near[0])
    return None


def _unclosed_quote(lines: list[str], *, start: int, end: int) -> Explained | None:
    """The first line from ``start`` to before ``end`` whose value opens a quote it does not
    close: in a card source a quoted value spanning lines is nearly always a missing quote."""
    for number in range(max(start, 1), min(end, len(lines) + 1)):
        text = lines[number - 1]
        match = _KEY_VALUE.match(text) or _ITEM.match(text)
        if not match or match["value"][0] not in "\"'":
            continue
        quote, value = match["value"][0], match["value"]
        if not _closes(value, quote):
            column = len(text) - len(value) + 1
            message = (
                f"the value's closing {quote} is missing (YAML read on to the next {quote}, "
                f"on a later line); end the value with {quote} on this line"
            )
            return Explained(number, column, message)
    return None


def _closes(value: str, quote: str) -> bool:
    """Whether a value starting with ``quote`` ends its quoted text on the same line: the next
    unescaped quote (a backslash escapes in double quotes; single quotes double themselves)."""
    index = 1
    while index < len(value):
        char = value[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and value[index + 1 : index + 2] == "'":
                index += 2
                continue
            return True
        index += 1
    return False


def _no_space_after_dash(number: int, text: str) -> Explained | None:
    match = _NO_SPACE_AFTER_DASH.match(text)
    if not match:
        return None
    key = shorten(match["key"], _SHOWN)
    message = f"a list item needs a space after '-': write '- {key}:' instead of '-{key}:'"
    return Explained(number, len(match["lead"]) + 1, message)


def _needs_quotes(number: int, text: str, error_column: int) -> Explained | None:
    match = _KEY_VALUE.match(text)
    if match:
        if match["key"] in _STRUCTURE_KEYS and match["value"][0] in "[{":
            return None
        written = f"{match['key']}: "
        value_column = len(match["lead"]) + len(match["key"]) + len(match["gap"]) + 2
    else:
        match = _ITEM.match(text)
        if not match:
            return None
        written, value_column = "- ", len(match["lead"]) + 1
    value = _without_comment(match["value"])
    fix = f"put the value in quotes: {written}{_quoted(value)}"
    if value[0] in _SPECIAL_START:
        why = _SPECIAL_START[value[0]]
        message = f"an unquoted value cannot start with '{value[0]}' ({why}); {fix}"
        return Explained(number, value_column, message)
    colon = value.find(": ")
    if colon >= 0 or value.endswith(":"):
        at = value_column + (colon if colon >= 0 else len(value) - 1)
        message = f"an unquoted value cannot contain ': ' (YAML reads it as another key); {fix}"
        return Explained(number, error_column if error_column > value_column else at, message)
    return None


def _without_comment(value: str) -> str:
    comment = value.find(" #")
    return value[:comment].rstrip() if comment > 0 else value.rstrip()


def _quoted(value: str) -> str:
    """``value`` as a YAML quoted scalar, cut short: double quotes unless it holds a '"' or a
    backslash, else single quotes (which take any character, a quote doubled)."""
    shown = shorten(value, _SHOWN)
    if '"' not in shown and "\\" not in shown:
        return f'"{shown}"'
    return "'" + shown.replace("'", "''") + "'"


def _misindented(lines: list[str], number: int, text: str) -> Explained | None:
    """A key line indented differently from the key line before it."""
    match = _KEY_LINE.match(text)
    if not match:
        return None
    column = len(match["lead"]) + 1
    for before in range(number - 1, max(number - 1 - _LOOK_BACK, 0), -1):
        previous = _KEY_LINE.match(lines[before - 1])
        if previous is None:
            if lines[before - 1].strip() and not lines[before - 1].lstrip().startswith("#"):
                return None  # a line of another shape: not a list of sibling keys
            continue
        sibling_column = len(previous["lead"]) + 1
        opens_a_mapping = not lines[before - 1][previous.end() :].strip()
        if sibling_column == column or (opens_a_mapping and column > sibling_column):
            return None  # a sibling, or the first key of the mapping the line before opens
        key, sibling = shorten(match["key"], _SHOWN), shorten(previous["key"], _SHOWN)
        message = (
            f"'{key}' is indented to column {column}, but '{sibling}' on line "
            f"{before} to column {sibling_column}; indent with spaces to the level of its siblings"
        )
        return Explained(number, column, message)
    return None
