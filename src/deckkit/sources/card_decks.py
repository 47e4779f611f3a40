"""Checks of ``card_decks``, the decks of a note's Anki cards by card name: that each names a card
of the card's note type (a template's name, or for a cloze note type "Cloze 2":
:mod:`deckkit.card_names`), and that each deck has a name.

Anki keeps a deck on each card, not on the note; a deck a card names is made on import like the
file's own (``::`` separates sub-decks, so no part of the name may be empty).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from deckkit.card_names import CardNames, card_names
from deckkit.notetypes import NOTE_TYPES, NOTE_TYPES_BY_NAME
from deckkit.problems import Problem, shorten
from deckkit.sources.note_type_view import View, card_type, cards_of, some_names

_PER_CARD = 10  # problems reported per card


def check_card_decks(view: View) -> Iterator[Problem]:
    """Every problem of the ``card_decks`` of ``view.source``'s cards."""
    templates: dict[str, tuple[str, CardNames] | None] = {}
    for index, card in cards_of(view.source):
        placed, listed = card.get("card_decks"), card.get("cards")
        placed = placed if isinstance(placed, dict) else {}  # else: the schema reports it
        listed = listed if isinstance(listed, list) else []
        if not placed and not listed:
            continue
        name = card.get("note_type")
        key = name if isinstance(name, str) else f"\0{card_type(card)}"
        if key not in templates:
            templates[key] = _templates_of(view, card)
        found = templates[key]
        if found is None:
            continue  # an unknown note type or card type: reported by other checks
        yield from _placed(view, index, placed, *found)
        yield from _listed(view, index, listed, *found)


def _listed(
    view: View, index: int, listed: list[Any], note_type: str, names: CardNames
) -> Iterator[Problem]:
    """The names under a card's ``cards`` must name cards of its note type."""
    unknown = [(i, n) for i, n in enumerate(listed) if names.ordinal(str(n)) is None]
    for position, name in unknown[:_PER_CARD]:
        yield view.source.problem(
            view.source.mark_of_value(("cards", index, "cards", position)),
            _unknown_card(str(name), note_type, names, view),
            "check.card-name",
        )


def _templates_of(view: View, card: Mapping[str, Any]) -> tuple[str, CardNames] | None:
    """The name and card names of the note type a card is exported with."""
    name = card.get("note_type")
    if isinstance(name, str):
        declared = view.by_name.get(name)
        if declared is not None:
            cloze = bool(declared.raw.get("cloze", declared.raw.get("kind") == "cloze"))
            return name, card_names([t[0] for t in declared.templates], cloze=cloze)
        builtin = NOTE_TYPES_BY_NAME.get(name)
    else:
        builtin = NOTE_TYPES.get(card_type(card))
    if builtin is None:
        return None
    return builtin.name, card_names([t[0] for t in builtin.templates], cloze=builtin.is_cloze)


def _placed(
    view: View,
    index: int,
    placed: dict[Any, Any],
    note_type: str,
    names: CardNames,
) -> Iterator[Problem]:
    source = view.source
    where = ("cards", index, "card_decks")
    reported = 0
    for name, deck in placed.items():
        if reported >= _PER_CARD:
            return
        if names.ordinal(str(name)) is None:
            reported += 1
            yield source.problem(
                source.mark_of_key((*where, name)),
                _unknown_card(str(name), note_type, names, view),
                "check.card-deck-template",
            )
        elif isinstance(deck, str) and _has_empty_part(deck):
            reported += 1
            yield source.problem(
                source.mark_of_value((*where, name)),
                f"deck name '{shorten(deck)}' is empty or has an empty part between '::'; "
                "write the deck's full name, e.g. 'Chinese::Writing'",
                "check.card-deck-name",
            )


def _unknown_card(name: str, note_type: str, names: CardNames, view: View) -> str:
    templates = names.templates
    if names.cloze:
        first = f"{templates[0]} 1" if templates else "Cloze 1"
        return (
            f"note type '{shorten(note_type)}' is a cloze note type: name its cards by deletion "
            f"number, as Anki's browser does ('{shorten(first)}' for c1), not "
            f"'{shorten(name)}'"
        )
    return (
        f"note type '{shorten(note_type)}' has no card template '{shorten(name)}'"
        f"{view.hints(name, templates)} (its templates: {some_names(templates)}); name one of "
        "them"
    )


def _has_empty_part(deck: str) -> bool:
    return any(not part.strip() for part in deck.split("::"))
