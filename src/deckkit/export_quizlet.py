"""Quizlet import text: one term/definition pair per card, as plain text.

Quizlet imports by pasting text into "Import" on the website (no file upload, no API):
https://help.quizlet.com/hc/en-us/articles/360029977151-Creating-sets-by-importing-content
- Two fields per card; HTML would arrive as literal tags, so fields are turned into plain text
  (tags removed, entities decoded, one line per block, runs of spaces and tabs collapsed).
- Quotes are not honoured: a separator inside a term or definition splits the card. The term
  separator is a Tab (tabs never survive the plain-text step). The card separator is a new line
  unless some field has several lines; then it is the first of ``CARD_SEPARATORS`` found in no
  field, to be typed as "Custom" in Quizlet's dialog.
- No tags, decks, media or ids: images are added in Quizlet's editor.
- A multiple-choice card becomes one pair: the question with its lettered options, and the letter
  and text of the right answer. A cloze becomes the text with blanks and the answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from deckkit.markup import to_plain_text
from deckkit.model import (
    LETTERS,
    Basic,
    Card,
    Cloze,
    Deck,
    MultipleChoice,
    Open,
    Reversed,
    TypeIn,
)

TERM_SEPARATOR = "\t"
CARD_SEPARATORS = (";;;", "|||", "@@@", "~~~", "^^^", "%%%")
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
BLANK = "_____"


@dataclass(frozen=True)
class Separators:
    """What to choose in Quizlet's import dialog for a file."""

    term: str
    card: str

    def describe(self) -> str:
        """How the choice reads in Quizlet's dialog."""
        card = "New line" if self.card == "\n" else f"Custom: {self.card}"
        return f"between term and definition: Tab; between cards: {card}"


def quizlet_pair(card: Card) -> tuple[str, str]:
    """A card as a (term, definition) pair of plain text."""
    content = card.content
    if isinstance(content, (Basic, Reversed)):
        return to_plain_text(content.front), to_plain_text(content.back)
    if isinstance(content, TypeIn):
        return to_plain_text(content.front), to_plain_text(content.answer)
    if isinstance(content, Cloze):
        answers = [to_plain_text(m.group(2)) for m in _CLOZE.finditer(content.text)]
        return to_plain_text(_CLOZE.sub(_blank, content.text)), "; ".join(answers)
    if isinstance(content, MultipleChoice):
        options = [
            f"{letter}. {to_plain_text(choice)}" for letter, choice in zip(LETTERS, content.choices)
        ]
        right = [options[LETTERS.index(letter)] for letter in content.correct]
        return "\n".join([to_plain_text(content.question), *options]), "; ".join(right)
    if isinstance(content, Open):
        term = to_plain_text(content.prompt)
        if content.hint:
            term += "\nHint: " + to_plain_text(content.hint)
        parts = [to_plain_text(content.answer)] if content.answer else []
        if content.concepts:
            concepts = "; ".join(to_plain_text(c) for c in content.concepts)
            parts.append(f"Key concepts ({len(content.concepts)}): {concepts}")
        return term, "\n".join(parts)
    raise TypeError(f"no Quizlet pair for {type(content).__name__}")


def _blank(match: re.Match[str]) -> str:
    hint = match.group(3)
    return f"{BLANK} ({hint})" if hint else BLANK


def choose_separators(pairs: list[tuple[str, str]]) -> Separators:
    """Separators that occur in no term or definition, so no card splits."""
    texts = [text for pair in pairs for text in pair]
    if not any("\n" in text for text in texts):
        return Separators(TERM_SEPARATOR, "\n")
    for candidate in CARD_SEPARATORS:
        if not any(candidate in text for text in texts):
            return Separators(TERM_SEPARATOR, candidate)
    # Every candidate occurs somewhere: fold lines instead, which a new line then separates.
    return Separators(TERM_SEPARATOR, "\n")


def quizlet_text(deck: Deck) -> tuple[str, Separators]:
    """The paste-in text for a deck and the separators to pick in Quizlet's dialog."""
    pairs = [quizlet_pair(card) for card in deck.cards]
    separators = choose_separators(pairs)
    if separators.card == "\n":
        pairs = [(term.replace("\n", " / "), text.replace("\n", " / ")) for term, text in pairs]
    body = separators.card.join(f"{term}{separators.term}{text}" for term, text in pairs)
    return body + ("\n" if separators.card == "\n" else ""), separators


def write_quizlet(deck: Deck, target: Path, _stamps: object = None) -> Separators:
    """Write the Quizlet paste-in text for ``deck`` to ``target``; returns the separators used."""
    text, separators = quizlet_text(deck)
    target.write_text(text, encoding="utf-8", newline="")
    return separators
