"""Cloze deletions read as Anki reads them: ``{{c1::text::hint}}``, ``{{c1,2::shared}}``, nested.

One parser for every part of deckkit that needs the deletions: the number of cards a note makes
(the .apkg's cards table, the build summary), the check that a cloze has a deletion, the Quizlet
text and the preview. Anki's rules, followed here: an opening is ``{{c`` numbers ``::`` (several
numbers separated by commas make one deletion shown on each of those cards); deletions nest up to
ten deep; the last ``::`` inside a deletion starts its hint; a deletion never closed is dropped;
numbers above 0 make cards (card ``n`` has ordinal ``n - 1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLOZE_TOKEN = re.compile(r"\{\{c([0-9,]+)::|\}\}")  # ASCII digits only, as Anki
_MAX_CLOZE_DEPTH = 10  # deeper openings are ignored, as in Anki


@dataclass
class Deletion:
    """One deletion: the card numbers it belongs to, its content (text and nested deletions)."""

    ordinals: tuple[int, ...]
    nodes: list[str | Deletion]
    hint: str | None = None


def _cloze_tokens(text: str) -> list[str | tuple[int, ...] | None]:
    """Text, an opening (its numbers) or a closing (None)."""
    tokens: list[str | tuple[int, ...] | None] = []
    position = 0
    for match in _CLOZE_TOKEN.finditer(text):
        if match.group(1) is not None:
            parts = match.group(1).split(",")
            numbers = {int(n) for n in parts if 0 < len(n) <= 5 and int(n) <= 0xFFFF}
            if not numbers:
                continue  # "{{c,::" opens nothing: it stays text
            token: tuple[int, ...] | None = tuple(sorted(numbers))
        else:
            token = None
        if match.start() > position:
            tokens.append(text[position : match.start()])
        tokens.append(token)
        position = match.end()
    if position < len(text):
        tokens.append(text[position:])
    return tokens


def parse_clozes(text: str) -> list[str | Deletion]:
    """A field as text and (top-level) deletions."""
    open_clozes: list[Deletion] = []
    output: list[str | Deletion] = []
    for token in _cloze_tokens(text):
        if isinstance(token, tuple):
            if len(open_clozes) < _MAX_CLOZE_DEPTH:
                open_clozes.append(Deletion(token, []))
        elif isinstance(token, str):
            if open_clozes:
                head, separator, tail = token.partition("::")
                if separator:
                    open_clozes[-1].hint = tail
                open_clozes[-1].nodes.append(head)
            else:
                output.append(token)
        elif open_clozes:
            closed = open_clozes.pop()
            (open_clozes[-1].nodes if open_clozes else output).append(closed)
        else:
            output.append("}}")
    return output  # a deletion still open at the end is dropped, as Anki drops it


def cloze_numbers(text: str) -> set[int]:
    """The deletion numbers (above 0) in a field, nested ones included, as Anki counts them."""
    if "{{c" not in text:
        return set()
    found: set[int] = set()

    def walk(nodes: list[str | Deletion]) -> None:
        for node in nodes:
            if isinstance(node, Deletion):
                found.update(n for n in node.ordinals if n)
                walk(node.nodes)

    walk(parse_clozes(text))
    return found


def deletion_text(deletion: Deletion) -> str:
    """What a deletion reveals: its text with any nested deletions revealed too."""
    return "".join(n if isinstance(n, str) else deletion_text(n) for n in deletion.nodes)


__all__ = ["Deletion", "cloze_numbers", "deletion_text", "parse_clozes"]
