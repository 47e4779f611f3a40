"""Quizlet import text: one term/definition pair per card, as plain text.

Quizlet imports by pasting text into "Import" on the website (no file upload, no API):
https://help.quizlet.com/hc/en-us/articles/360029977151-Creating-sets-by-importing-content
- Two fields per card; HTML would arrive as literal tags, so fields are turned into plain text
  (tags removed, entities decoded, one line per block, runs of spaces and tabs collapsed).
- Quotes are not honoured: a separator inside a term or definition splits the card. The default
  separators are Tab (term/definition) and New line (cards). A line break inside a field stays a
  line break (Quizlet keeps it when the card separator is not New line): when some field has
  several lines, the card separator switches to a custom string that occurs in no card, and when
  some field holds a tab, the term separator does too (both checked by splitting the file back),
  to be typed as "Custom" in Quizlet's dialog; the build summary names them.
- No tags, decks, media or ids: images are added in Quizlet's editor. A card whose pair would
  lose an image, a sound or a video is named in a warning (:func:`media_lost`).
- A multiple-choice card becomes one pair: the question with its lettered options, and the letter
  and text of the right answer. A cloze becomes the text with a blank for each deletion (nested
  ones inside it, shared ones such as ``{{c1,2::...}}`` once) and the answers.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from deckkit.cardtypes import (
    LETTERS,
    Basic,
    Cloze,
    Fields,
    MultipleChoice,
    Open,
    Reversed,
    TypeIn,
)
from deckkit.exporters.separators import Separators as Separators
from deckkit.fieldtext.cloze import Deletion, cloze_numbers, deletion_text, parse_clozes
from deckkit.fieldtext.markup import to_plain_text
from deckkit.fieldtext.media import media_references
from deckkit.model import Card, Deck
from deckkit.notetypes import NoteType, note_fields, note_type_for, template_field_names
from deckkit.stamps import Stamps

TERM_SEPARATORS = (" :: ", " => ", " ||| ", " ~~ ", " @@ ")
CARD_SEPARATORS = (";;;", "|||", "@@@", "~~~", "^^^", "%%%", "&&&")
BLANK = "_____"


def quizlet_pair(card: Card) -> tuple[str, str]:
    """A card as a (term, definition) pair of plain text."""
    content = card.content
    if isinstance(content, (Basic, Reversed)):
        return to_plain_text(content.front), to_plain_text(content.back)
    if isinstance(content, TypeIn):
        return to_plain_text(content.front), to_plain_text(content.answer)
    if isinstance(content, Cloze):
        return _cloze_pair(content.text)
    if isinstance(content, MultipleChoice):
        options = [
            f"{letter}. {to_plain_text(choice)}"
            for letter, choice in zip(LETTERS, content.choices, strict=False)
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
    if isinstance(content, Fields):
        return _fields_pair(card, content)
    raise TypeError(f"no Quizlet pair for {type(content).__name__}")


def pair_fields(card: Card) -> list[tuple[str, str]]:
    """The fields :func:`quizlet_pair` makes a card's pair from, as (key, HTML): the others
    (a cloze's or type-in's extra, a multiple-choice explanation) Quizlet never gets."""
    content = card.content
    if isinstance(content, (Basic, Reversed)):
        return [("front", content.front), ("back", content.back)]
    if isinstance(content, TypeIn):
        return [("front", content.front), ("answer", content.answer)]
    if isinstance(content, Cloze):
        return [("text", content.text)]
    if isinstance(content, MultipleChoice):
        return [("question", content.question), *(("choices", c) for c in content.choices)]
    if isinstance(content, Open):
        texts = [("prompt", content.prompt), ("hint", content.hint), ("answer", content.answer)]
        return texts + [("concepts", concept) for concept in content.concepts]
    if isinstance(content, Fields):
        note_type = note_type_for(card.type, card.note_type)
        values = dict(zip(note_type.fields, note_fields(content, note_type), strict=True))
        if note_type.is_cloze:
            for name, text in values.items():
                if cloze_numbers(text):
                    return [(name, text)]
        on_front, on_back = _term_and_definition_fields(note_type)
        return [(name, values[name]) for name in (*on_front, *on_back)]
    raise TypeError(f"no Quizlet pair for {type(content).__name__}")


# What a pair loses: what an element shows, for the elements that show something besides text.
_SHOWN_BY = {
    "img": "an image",
    "svg": "an image",
    "audio": "a sound",
    "video": "a video",
    "object": "an embedded object",
    "embed": "an embedded object",
}
_ELEMENT_SHOWING_MORE_THAN_TEXT = re.compile(
    r"<(" + "|".join(_SHOWN_BY) + r")(?=[\s/>])", re.IGNORECASE
)
# What Anki plays from a [sound:…] tag as a video (its reviewer's video extensions).
_VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".mov", ".avi", ".ogv", ".mpg", ".mpeg", ".m4v")


def media_lost(card: Card) -> dict[str, list[str]]:
    """What Quizlet's plain text cannot carry of a card: for each key of a field its pair is made
    from, what it shows besides text, each kind once ({"back": ["an image", "a sound"]})."""
    lost: dict[str, dict[str, None]] = {}
    for key, text in pair_fields(card):
        if not may_show_media(text):
            continue
        kinds = lost.setdefault(key, {})
        for match in _ELEMENT_SHOWING_MORE_THAN_TEXT.finditer(text):
            kinds[_SHOWN_BY[match.group(1).lower()]] = None
        for ref in media_references(text):
            if ref.kind == "sound":
                kinds["a video" if ref.name.lower().endswith(_VIDEO_SUFFIXES) else "a sound"] = None
    return {key: list(kinds) for key, kinds in lost.items() if kinds}


def may_show_media(text: str) -> bool:
    """False for a text that surely shows nothing but text (most fields): no regex."""
    return "<" in text or "[sound:" in text


def _fields_pair(card: Card, content: Fields) -> tuple[str, str]:
    """A declared note type's card: a cloze note type's first field with deletions, as a cloze
    card; otherwise the fields its first card's front shows, then those only its back shows."""
    note_type = note_type_for(card.type, card.note_type)
    values = dict(zip(note_type.fields, note_fields(content, note_type), strict=True))
    if note_type.is_cloze:
        for text in values.values():
            if cloze_numbers(text):
                return _cloze_pair(text)
    on_front, on_back = _term_and_definition_fields(note_type)
    term = "\n".join(to_plain_text(values[name]) for name in on_front if values[name])
    definition = "\n".join(to_plain_text(values[name]) for name in on_back if values[name])
    return term, definition


@lru_cache(maxsize=64)
def _term_and_definition_fields(note_type: NoteType) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fields a note type's first card shows on its front, then those only its back shows:
    read from its templates once per note type, not once per card."""
    _name, front, back = note_type.templates[0]
    on_front = _shown_fields(front, note_type.fields)
    on_back = tuple(name for name in _shown_fields(back, note_type.fields) if name not in on_front)
    return on_front, on_back


def _shown_fields(template: str, fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n, _at in template_field_names(template) if n in fields))


def _cloze_pair(text: str) -> tuple[str, str]:
    """The text with each (outermost) deletion blanked, hint kept; and the deletions' texts."""
    term: list[str] = []
    answers: list[str] = []
    for node in parse_clozes(text):
        if isinstance(node, Deletion):
            term.append(f"{BLANK} ({node.hint})" if node.hint else BLANK)
            answers.append(to_plain_text(deletion_text(node)))
        else:
            term.append(node)
    return to_plain_text("".join(term)), "; ".join(answers)


def choose_separators(pairs: list[tuple[str, str]]) -> Separators:
    """Tab and New line, unless a field holds a line break or a tab: then Tab and a custom card
    separator, or custom strings for both, that split back exactly."""
    default = Separators("\t", "\n")
    if default.splits_back(pairs):
        return default
    for candidate in _candidates(pairs):
        if candidate.splits_back(pairs):
            return candidate
    raise AssertionError("unreachable: the last candidates always fit")  # pragma: no cover


_TILDES = re.compile("~+")
# A run of carets that " ^^^^ " would be found in: between spaces, or ending a term after one.
_CARETS_BETWEEN_SPACES = re.compile(r"(?<= )\^+(?= )")
_CARETS_ENDING_A_TERM = re.compile(r"(?<= )\^+\Z")


def _candidates(pairs: list[tuple[str, str]]) -> Iterator[Separators]:
    """Tab and the usual custom card separators (when no field holds a tab: the line breaks in
    fields were the trouble), the usual custom separators, then longer runs (" ^^^^ " and
    "~~~~", then longer), then runs that fit any text ("~~~~#"): one of these occurs in no card.

    Each candidate costs a pass over the whole deck, so the runs that cannot fit are skipped
    without trying them (trying one length after another took quadratic time on a field of
    many '~', and never ended when a definition ended with one). With ``n`` longer than any
    run of '~' in a field, "~" * n splits back exactly when no definition but the last ends with
    '~', and " " + "^" * n + " " when no field has a run of exactly ``n`` carets between spaces
    and no term ends with one after a space.
    """
    if not any("\t" in text for pair in pairs for text in pair):
        for card in CARD_SEPARATORS:
            yield Separators("\t", card)
    for card in CARD_SEPARATORS:
        for term in TERM_SEPARATORS:
            yield Separators(term, card)
    texts = [text for pair in pairs for text in pair]
    longest = max((len(run) for text in texts for run in _TILDES.findall(text)), default=0)
    taken = {len(run) for text in texts for run in _CARETS_BETWEEN_SPACES.findall(text)}
    taken |= {len(run) for term, _text in pairs for run in _CARETS_ENDING_A_TERM.findall(term)}
    lengths = (n for n in itertools.count(max(4, longest + 1)) if n not in taken)
    length = next(lengths)
    if not any(text.endswith("~") for _term, text in pairs[:-1]):
        yield Separators(" " + "^" * length + " ", "~" * length)
    # A card separator that ends in a character no run of '~' in a field is followed by: a '~'
    # ending a definition can no longer join it.
    yield Separators(" " + "^" * length + " ", "~" * length + "#")
    for length in lengths:  # pragma: no cover - the one above fits; this only makes sure
        yield Separators(" " + "^" * length + " ", "~" * length + "#")


def quizlet_pairs(deck: Deck) -> list[tuple[str, str]]:
    """Every card as a (term, definition) pair, its line breaks kept."""
    return [quizlet_pair(card) for card in deck.cards]


def quizlet_text(deck: Deck) -> tuple[str, Separators]:
    """The paste-in text for a deck and the separators to pick in Quizlet's dialog."""
    pairs = quizlet_pairs(deck)
    separators = choose_separators(pairs)
    return separators.join(pairs), separators


def write_quizlet(deck: Deck, target: Path, _stamps: Stamps | None = None) -> Separators:
    """Write the Quizlet paste-in text for ``deck`` to ``target``; returns the separators used."""
    text, separators = quizlet_text(deck)
    target.write_text(text, encoding="utf-8", newline="")
    return separators
