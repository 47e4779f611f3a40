"""The project's own decks in sources/: they validate clean and carry their study page whole."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest

import deckkit
from deckkit import validate

# Reaches inside: the project's decks are compared, card by card, with the study page they carry.
from deckkit.cardtypes import CARD_TYPES, Basic, MultipleChoice, Open
from deckkit.model import Deck, deck_from_source
from deckkit.sources.loader import load_source

REPO = Path(__file__).parent.parent
SOURCES = REPO / "sources"
SEED_DECK = SOURCES / "fine-tuning-domains.yaml"
EXAMPLES_DECK = SOURCES / "card-types-examples.yaml"


def _deck(path: Path) -> Deck:
    result = validate([path])
    assert result.ok, [p.as_text() for p in result.problems]
    (source,) = result.sources
    return deck_from_source(source)


def _questions(deck: Deck) -> list[MultipleChoice]:
    return [c.content for c in deck.cards if isinstance(c.content, MultipleChoice)]


def _prompts(deck: Deck) -> list[Open]:
    return [c.content for c in deck.cards if isinstance(c.content, Open)]


def test_every_source_validates_without_problems() -> None:
    result = deckkit.validate([SOURCES])
    assert result.ok
    assert result.problems == ()
    assert {source.path.name for source in result.sources} >= {
        SEED_DECK.name,
        EXAMPLES_DECK.name,
    }


@pytest.mark.parametrize("path", sorted(SOURCES.rglob("*.y*ml")), ids=lambda p: p.name)
def test_every_source_points_editors_at_the_schema(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first_line.startswith(prefix)
    schema = (path.parent / first_line.removeprefix(prefix)).resolve()
    assert schema == (REPO / "schemas" / "deck.schema.json").resolve()


def test_seed_deck_has_its_name_and_id() -> None:
    deck = _deck(SEED_DECK)
    assert deck.id == "fine-tuning-domains"
    assert deck.name == "Prompt Engineering / GenAI::Why fine-tuning adapts models to domains"


def test_seed_deck_has_the_five_recall_cards_with_their_levels_in_order() -> None:
    deck = _deck(SEED_DECK)
    basics = [card for card in deck.cards if card.type == "basic"]
    assert [card.level for card in basics] == [
        "beginner",
        "beginner",
        "intermediate",
        "beginner",
        "advanced",
    ]
    assert all(f"level::{card.level}" in card.tags for card in basics)


def test_seed_deck_recall_cards_keep_the_pages_curly_apostrophes() -> None:
    deck = _deck(SEED_DECK)
    fronts = [card.content.front for card in deck.cards if isinstance(card.content, Basic)]
    assert "What happens if you don\u2019t fine-tune a model for a specific domain?" in fronts


def test_seed_deck_has_the_five_questions_with_four_choices_and_answers_adcba() -> None:
    deck = _deck(SEED_DECK)
    questions = _questions(deck)
    assert [card.type for card in deck.cards].count("multiple_choice") == 5
    assert [len(q.choices) for q in questions] == [4] * 5
    assert [q.correct for q in questions] == [("A",), ("D",), ("C",), ("B",), ("A",)]
    assert all(q.explanation for q in questions)


def test_seed_deck_has_both_open_prompts_with_a_hint_and_four_concepts() -> None:
    deck = _deck(SEED_DECK)
    prompts = _prompts(deck)
    assert [card.type for card in deck.cards].count("open") == 2
    assert len(prompts) == 2
    for prompt in prompts:
        assert prompt.hint
        assert len(prompt.concepts) == 4
        assert prompt.answer


def test_seed_deck_tags_every_card_without_whitespace() -> None:
    deck = _deck(SEED_DECK)
    for card in deck.cards:
        assert {"genai", "fine-tuning"} <= set(card.tags)
        assert not any(any(ch.isspace() for ch in tag) for tag in card.tags)


def test_examples_deck_shows_every_other_card_type() -> None:
    deck = _deck(EXAMPLES_DECK)
    assert {"reversed", "cloze", "type_in"} <= {card.type for card in deck.cards}


def test_examples_deck_packs_its_image_and_sound_under_hashed_names() -> None:
    deck = _deck(EXAMPLES_DECK)
    packed = sorted(media.packed_name for media in deck.media)
    assert [name.rsplit(".", 1)[1] for name in packed] == ["wav", "png"]
    assert all(media.source.is_file() for media in deck.media)
    fields = " ".join(
        getattr(card.content, "front", "") for card in deck.cards if card.type == "basic"
    )
    for name in packed:
        assert name in fields
    assert "media/" not in fields


def test_examples_deck_escapes_bare_less_than_and_ampersand() -> None:
    deck = _deck(EXAMPLES_DECK)
    fronts = {card.id: getattr(card.content, "front", "") for card in deck.cards}
    assert fronts["comparisons"] == "Is this true? 2 &lt; 3 &amp; 5 > 4"
    assert "List&lt;T>" in fronts["generic-list"]


def test_examples_media_are_valid_png_and_wav() -> None:
    png = (SOURCES / "media" / "fine-tuning-diagram.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with wave.open(str(SOURCES / "media" / "beep.wav"), "rb") as sound:
        assert sound.getnframes() > 0


def test_loading_the_seed_deck_reports_no_problems() -> None:
    assert load_source(SEED_DECK).problems == []


def test_readme_example_deck_validates_and_shows_every_card_type(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = next(
        body for body in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL) if "cards:" in body
    )
    source = tmp_path / "example.yaml"
    source.write_text(example, encoding="utf-8")
    deck = _deck(source)
    assert sorted({card.type for card in deck.cards}) == sorted(CARD_TYPES)
