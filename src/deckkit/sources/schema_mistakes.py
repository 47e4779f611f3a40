"""One problem per mistake: schema errors that only follow from another one are folded into it.

- A misspelt key (``frnot``) is reported once, as an unknown key with "did you mean 'front'?", and
  not also as the key it was meant to be ("'front' is required").
- A card that forgot its ``type:`` is checked as a basic card, so each of its own keys is unknown
  and front and back are missing: when its keys are those of one other card type, one problem says
  to add that type instead of five.

Cards are named by their id in messages (``card 'capital'``), by their number only when they have
no usable id.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from deckkit.cardtypes import CARD_TYPES, DEFAULT_CARD_TYPE
from deckkit.problems import Problem, shorten
from deckkit.sources.loader import LoadedSource, PathKey
from deckkit.suggest import Hints

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

Located = tuple[PathKey, "ValidationError"]
ToProblems = Callable[["ValidationError", LoadedSource, PathKey, Hints], list[Problem]]

_UNKNOWN_SHOWN = 20  # unknown keys reported per mapping: a stranger's may have a million

# The keys that belong to a card type (not shared by every card): what its type is guessed from.
_OWN_KEYS = {
    name: frozenset((*kind.text_keys, *kind.list_keys, *kind.required))
    for name, kind in CARD_TYPES.items()
}


def card_name(data: Any, index: int, *, by_number: bool = False) -> str:
    """How a message names the card at ``index``: by its id, else (or when the id itself is at
    fault, ``by_number``) by its number from 1."""
    cards = data.get("cards") if isinstance(data, dict) else None
    card = cards[index] if isinstance(cards, list) and 0 <= index < len(cards) else None
    card_id = card.get("id") if isinstance(card, dict) and not by_number else None
    if isinstance(card_id, str) and card_id.strip() and card_id.isprintable():
        return f"card '{shorten(card_id)}'"
    return f"card {index + 1}"


def schema_names(value: object) -> list[str]:
    """A schema's list of names (an enum) itself, not a copy: the same object for every card, by
    which :class:`~deckkit.suggest.Hints` knows it; [] for anything else."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return cast("list[str]", value)
    return []


def unknown_keys(error: ValidationError) -> list[tuple[str, list[str]]]:
    """The keys an error finds unknown, each with the keys allowed there ([]: another error)."""
    if "propertyNames" in error.absolute_schema_path:
        return [(str(error.instance), schema_names(error.validator_value))]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        schema = error.schema
        properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        allowed = [str(k) for k in properties]
        extras = (str(k) for k in error.instance if k not in properties)
        return [(extra, allowed) for extra in itertools.islice(extras, _UNKNOWN_SHOWN)]
    return []


def misspelling(
    key: str, allowed: Sequence[str], known: Collection[str], hints: Hints
) -> str | None:
    """The allowed key an unknown ``key`` misspells, or None: a key that some card has
    (``note_type`` on a multiple-choice card) is out of place, not misspelt."""
    return None if key in known else hints.closest(key, allowed)


def one_problem_per_mistake(
    located: Sequence[Located],
    source: LoadedSource,
    to_problems: ToProblems,
    known: Collection[str],
    hints: Hints,
) -> list[Problem]:
    """The problems of ``located`` schema errors, those that follow from another left out;
    ``known`` are the keys some card or the deck has."""
    at_mapping: dict[PathKey, list[Located]] = {}
    for prefix, error in located:
        at_mapping.setdefault((*prefix, *error.absolute_path), []).append((prefix, error))
    problems: list[Problem] = []
    # One mapping after the other: a hint worked out for one card serves the next ones.
    for path, here in at_mapping.items():
        errors = [error for _prefix, error in here]
        unknown = [found for error in errors for found in unknown_keys(error)]
        meant = {misspelling(*found, known, hints) for found in unknown} - {None}
        folded = {id(e) for e in errors if _missing(e) in meant}
        hint = _missing_type_hint(source, path) if unknown else None
        if hint is not None:
            problems.append(hint)
            folded |= {id(e) for e in errors if _is_about_keys(e)}
        for prefix, error in here:
            if id(error) not in folded:
                problems += to_problems(error, source, prefix, hints)
    return problems


def _is_about_keys(error: ValidationError) -> bool:
    return error.validator == "required" or bool(unknown_keys(error))


def _missing(error: ValidationError) -> str | None:
    """The key a ``required`` error finds missing (a misspelt key may be meant), else None."""
    if error.validator != "required":
        return None
    message = str(error.message)
    return message.split("'")[1] if "'" in message else None


def _missing_type_hint(source: LoadedSource, path: PathKey) -> Problem | None:
    """One problem for a card without ``type:`` whose keys (some unknown to a basic card) are
    another card type's."""
    data = source.data
    if len(path) != 2 or path[0] != "cards" or not isinstance(data, dict):
        return None
    card = data["cards"][path[1]]
    if not isinstance(card, dict) or "type" in card or "fields" in card:
        return None
    guessed = _guess_types(set(card))
    if not guessed or DEFAULT_CARD_TYPE in guessed:
        return None
    basic = _OWN_KEYS[DEFAULT_CARD_TYPE]
    own = ", ".join(key for key in card if key in _OWN_KEYS[guessed[0]] and key not in basic)
    if len(guessed) == 1:
        fix = f"this looks like {_a(guessed[0])} card: add `type: {guessed[0]}`"
    else:
        fix = f"add its type, one of {', '.join(guessed)} (`type: {guessed[0]}`)"
    message = (
        f"{card_name(data, int(path[1]))} has no type, so it is read as a {DEFAULT_CARD_TYPE} "
        f"card, which has no {own}; {fix}"
    )
    return source.problem(source.mark_of_value(path), message, "schema.missing-type")


def _guess_types(keys: set[str]) -> list[str]:
    """The card types whose own keys hold every own key of a card: the one whose required keys
    the card all has, when there is one."""
    all_own = frozenset().union(*_OWN_KEYS.values())
    given = keys & all_own
    fitting = [name for name, own in _OWN_KEYS.items() if given and given <= own]
    complete = [name for name in fitting if set(CARD_TYPES[name].required) <= keys]
    return complete if len(complete) == 1 else fitting


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"
