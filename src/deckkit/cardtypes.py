"""The card-type vocabulary every part of deckkit reads: the six card types, their keys, levels
and answer letters, and the content value each card type carries.

A card type's keys are written here once: which hold field text (HTML), which are lists of it,
which must show something, and which an original Anki note type's field may take (its "role").
The schema (``data/deck.schema.json``) spells the same keys for editors; a test keeps the two
in step.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("beginner", "intermediate", "advanced")
LETTERS = "ABCDEFGH"  # multiple-choice answer letters, one per possible choice


@dataclass(frozen=True)
class CardType:
    """One card type's keys in a source."""

    name: str
    text_keys: tuple[str, ...]  # keys holding one field text each
    list_keys: tuple[str, ...] = ()  # keys holding a list of field texts
    required: tuple[str, ...] = ()  # keys a card must have
    must_show: tuple[str, ...] = ()  # text keys that must show something once HTML is removed
    # Keys an original Anki note type's field can take its text from (``role``); none: such a
    # card always gets deckkit's own note type.
    roles: tuple[str, ...] = ()


CARD_TYPES: dict[str, CardType] = {
    card_type.name: card_type
    for card_type in (
        CardType(
            "basic",
            ("front", "back"),
            required=("front", "back"),
            must_show=("front", "back"),
            roles=("front", "back"),
        ),
        CardType(
            "reversed",
            ("front", "back"),
            required=("front", "back"),
            must_show=("front", "back"),
            roles=("front", "back"),
        ),
        CardType(
            "cloze",
            ("text", "extra"),
            required=("text",),
            must_show=("text",),
            roles=("text", "extra"),
        ),
        CardType(
            "type_in",
            ("front", "answer", "extra"),
            required=("front", "answer"),
            must_show=("front", "answer"),
            roles=("front", "answer", "extra"),
        ),
        CardType(
            "multiple_choice",
            ("question", "explanation"),
            list_keys=("choices",),
            required=("question", "choices", "answer"),
            must_show=("question",),
        ),
        CardType(
            "open",
            ("prompt", "hint", "answer"),
            list_keys=("concepts",),
            required=("prompt",),
            must_show=("prompt",),
        ),
    )
}
DEFAULT_CARD_TYPE = "basic"  # a card without `type:`

# Every key that holds field text, and every key that holds a list of them, in any card type.
TEXT_KEYS = tuple(dict.fromkeys(key for t in CARD_TYPES.values() for key in t.text_keys))
LIST_KEYS = tuple(dict.fromkeys(key for t in CARD_TYPES.values() for key in t.list_keys))
# Every role an original note type's field can have.
ROLES = frozenset(role for t in CARD_TYPES.values() for role in t.roles)
# Card types an original note type can carry.
ROLE_CARD_TYPES = tuple(name for name, t in CARD_TYPES.items() if t.roles)


@dataclass(frozen=True)
class Basic:
    front: str
    back: str


@dataclass(frozen=True)
class Reversed:
    front: str
    back: str


@dataclass(frozen=True)
class Cloze:
    text: str
    extra: str


@dataclass(frozen=True)
class TypeIn:
    front: str
    answer: str
    extra: str


@dataclass(frozen=True)
class MultipleChoice:
    question: str
    choices: tuple[str, ...]
    correct: tuple[str, ...]  # letters, in order
    explanation: str


@dataclass(frozen=True)
class Open:
    prompt: str
    hint: str
    concepts: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Fields:
    """A card of a declared note type: its field texts by field name, as the card gives them."""

    values: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str:
        """The text of a field; "" for a field the card leaves out."""
        return next((text for field, text in self.values if field == name), "")


FIELDS_CARD_TYPE = "fields"  # a card that gives a declared note type's fields by name

Content = Basic | Reversed | Cloze | TypeIn | MultipleChoice | Open | Fields


def role_values(content: Content) -> dict[str, str]:
    """The text of each key an original note type's field can take, for a card's content."""
    if isinstance(content, (Basic, Reversed)):
        return {"front": content.front, "back": content.back}
    if isinstance(content, Cloze):
        return {"text": content.text, "extra": content.extra}
    if isinstance(content, TypeIn):
        return {"front": content.front, "answer": content.answer, "extra": content.extra}
    raise TypeError(f"an original note type cannot carry {type(content).__name__}")
