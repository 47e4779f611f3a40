"""The preview's cards: each Anki card a deck's notes make, its front and back rendered with the
note type it is exported with."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from html import escape

from deckkit.fieldtext.cloze import cloze_numbers
from deckkit.fieldtext.media import MediaReference, replace_sound_tags
from deckkit.model import Card, Deck
from deckkit.notetypes import card_fields, note_type_for
from deckkit.preview.templates import NO_CLOZE, render_template


def sounds_to_players(html: str) -> str:
    """Replace each ``[sound:name]`` with an audio player (loaded only when played)."""

    def player(sound: MediaReference) -> str:
        return f'<audio controls preload="none" src="{escape(sound.name, quote=True)}"></audio>'

    return replace_sound_tags(html, player)


def render_card(card: Card, card_ord: int, deck_name: str = "") -> tuple[str, str]:
    """The front and back HTML of one Anki card as Anki renders it (type-in, sounds playable)."""
    try:
        hash(card)
    except TypeError:  # a card holding a value that cannot be kept: rendered every time
        return _render_card(card, card_ord, deck_name)
    return _kept_render(card, card_ord, deck_name)


def _render_card(card: Card, card_ord: int, deck_name: str) -> tuple[str, str]:
    note_type = note_type_for(card.type, card.note_type)
    fields = dict(zip(note_type.fields, card_fields(card.content, card.note_type), strict=True))
    if note_type.is_cloze:
        template = note_type.templates[0]
        if card_ord + 1 not in set().union(*(cloze_numbers(v) for v in fields.values())):
            message = NO_CLOZE.format(number=card_ord + 1)
            return message, message
    else:
        template = note_type.templates[card_ord]
    # The special fields Anki offers every template (an imported note type's may use them).
    special = {
        "Tags": " ".join(sorted(card.tags, key=str.casefold)),  # Anki sorts a note's tags
        "Type": note_type.name,
        "Deck": deck_name,
        "Subdeck": deck_name.split("::")[-1],
        "Card": template[0],
        "CardFlag": "",
    }
    fields = {**special, **fields}
    _, front_template, back_template = template
    salt = f"{card.guid}:{card_ord}"
    front = render_template(front_template, fields, card_ord=card_ord, id_salt=f"{salt}:q")
    # {{FrontSide}} repeats the front on the back: rendered again so its hint ids differ.
    front_again = render_template(front_template, fields, card_ord=card_ord, id_salt=f"{salt}:a")
    back = render_template(
        back_template,
        fields,
        card_ord=card_ord,
        front_side=sounds_to_players(front_again),
        id_salt=f"{salt}:a",
    )
    return sounds_to_players(front), sounds_to_players(back)


# `deckkit watch` writes the page again after each save, where nearly every card is as before;
# a card (a frozen value: its fields, tags and note type) renders the same every time.
_kept_render = lru_cache(maxsize=150_000)(_render_card)


@dataclass(frozen=True)
class PreviewCard:
    """One Anki card as the preview shows it."""

    deck: Deck
    card: Card
    ordinal: int  # Anki's card ordinal, from 0
    count: int  # how many Anki cards the note makes
    front: str
    back: str

    @property
    def deck_name(self) -> str:
        """The deck the card goes to: its template's in ``card_decks``, else the file's."""
        return self.deck.deck_of(self.card, self.ordinal)

    @property
    def template_name(self) -> str:
        """Anki's name for the card: "Card 2", or "Cloze 2" for a cloze deletion."""
        if note_type_for(self.card.type, self.card.note_type).is_cloze:
            return f"Cloze {self.ordinal + 1}"
        return note_type_for(self.card.type, self.card.note_type).templates[self.ordinal][0]


def preview_cards(deck: Deck) -> list[PreviewCard]:
    """Every Anki card of a deck, in source order, with its front and back."""
    cards = []
    for card, ordinals in zip(deck.cards, deck.card_ordinals, strict=True):
        for card_ord in ordinals:
            front, back = render_card(card, card_ord, deck.deck_of(card, card_ord))
            cards.append(PreviewCard(deck, card, card_ord, len(ordinals), front, back))
    return cards
