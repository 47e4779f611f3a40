"""The text exporters on their own: Anki CSV rows and the Quizlet paste-in text."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from conftest import FIXTURES
from deckkit import validate

# Reaches inside: each exporter's exact text (escaping, separators, header lines) is the contract
# with Anki's and Quizlet's importers, pinned one format at a time.
from deckkit.cardtypes import Basic, Cloze, Content, MultipleChoice, Open, Reversed, TypeIn
from deckkit.exporters.csv import HEADER, csv_rows, write_csv
from deckkit.exporters.quizlet import (
    BLANK,
    CARD_SEPARATORS,
    Separators,
    choose_separators,
    quizlet_pair,
    quizlet_text,
)
from deckkit.model import Card, Deck, deck_from_source, note_guid

ALL_TYPES = FIXTURES / "good" / "all-types.yaml"
DECK_NAME = "deckkit Tests::All types"


@pytest.fixture(scope="module")
def deck() -> Deck:
    """The all-types fixture as the exporters see it."""
    result = validate([ALL_TYPES])
    assert result.ok, "\n".join(str(p) for p in result.problems)
    return deck_from_source(result.sources[0])


def card_of(deck: Deck, card_id: str) -> Card:
    (card,) = [card for card in deck.cards if card.id == card_id]
    return card


_TYPES = {
    Basic: "basic",
    Reversed: "reversed",
    Cloze: "cloze",
    TypeIn: "type_in",
    MultipleChoice: "multiple_choice",
    Open: "open",
}


def make_card(
    card_id: str, content: Content, *, guid: str | None = None, tags: tuple[str, ...] = ()
) -> Card:
    return Card(
        id=card_id,
        type=_TYPES[type(content)],
        guid=guid or note_guid("made", card_id),
        content=content,
        tags=tags,
        level=None,
    )


def make_deck(*cards: Card) -> Deck:
    return Deck("made", "Made::Deck", "", 1_234_567_890, cards, (), Path("made.yaml"))


# --- Anki CSV --------------------------------------------------------------------------------


def data_part(text: str) -> str:
    """The CSV after its # header lines."""
    lines = text.split("\n")
    count = len(HEADER)
    assert lines[:count] == list(HEADER)
    return "\n".join(lines[count:])


def test_csv_starts_with_the_header_lines_that_map_every_column(deck: Deck, tmp_path: Path) -> None:
    write_csv(deck, tmp_path / "deck.csv")
    lines = (tmp_path / "deck.csv").read_text(encoding="utf-8").split("\n")
    assert lines[:6] == [
        "#separator:Comma",
        "#html:true",
        "#guid column:1",
        "#notetype column:2",
        "#deck column:3",
        "#tags column:4",
    ]
    assert not lines[6].startswith("#")


def test_csv_has_one_row_per_card_in_source_order(deck: Deck) -> None:
    rows = csv_rows(deck)
    assert [row[0] for row in rows] == [card.guid for card in deck.cards]
    assert [row[0] for row in rows] == [note_guid("all-types", card.id) for card in deck.cards]


def test_csv_row_is_guid_note_type_deck_tags_then_the_fields(deck: Deck) -> None:
    rows = {row[0]: row for row in csv_rows(deck)}
    basic = rows[card_of(deck, "basic-tricky-text").guid]
    assert basic[:4] == [
        note_guid("all-types", "basic-tricky-text"),
        "deckkit Basic",
        DECK_NAME,
        "deckkit-test fixtures::good markup level::beginner",
    ]
    assert basic[4:] == [
        "Is 2 &lt; 3 &amp; 5 > 4?\tA tab, a comma, \"double\" and 'single' quotes",
        # Written as two lines: a line break on the card (README "HTML in fields").
        "Yes, and List&lt;T> is a generic type.<br>A second line with an emoji 🎉",
        "",
        "",
        "",
    ]
    mc = rows[card_of(deck, "mc-list-answer").guid]
    assert mc[1:4] == [
        "deckkit Multiple choice",
        DECK_NAME,
        "deckkit-test fixtures::good several-right level::advanced",
    ]
    assert mc[7] == "A, C"
    assert mc[8] == "4 = 2 × 2 and 9 = 3 × 3."


def test_csv_rows_are_padded_to_the_widest_note_type(deck: Deck) -> None:
    widths = {len(row) for row in csv_rows(deck)}
    assert widths == {4 + 5}  # the multiple-choice note type has five fields


def test_csv_file_reads_back_as_its_rows_with_tabs_quotes_commas_and_newlines(
    deck: Deck, tmp_path: Path
) -> None:
    # A line break the author's HTML lays out (in a <pre>) stays one in the field.
    code = make_deck(make_card("code", Basic("A loop", "<pre>for x in y:\n    print(x)</pre>")))
    rows = []
    for each in (deck, code):
        write_csv(each, tmp_path / "deck.csv")
        text = (tmp_path / "deck.csv").read_text(encoding="utf-8")
        read = list(csv.reader(io.StringIO(data_part(text))))
        assert read == csv_rows(each)
        rows += read
    assert any("\t" in field for row in rows for field in row)
    assert any("\n" in field for row in rows for field in row)
    assert any('"' in field for row in rows for field in row)


def test_csv_keeps_emoji_and_right_to_left_text(deck: Deck, tmp_path: Path) -> None:
    write_csv(deck, tmp_path / "deck.csv")
    text = (tmp_path / "deck.csv").read_bytes().decode("utf-8")
    assert "مرحبا بالعالم" in text
    assert "שלום עולם" in text
    assert "🎉" in text


def test_csv_guid_starting_with_hash_is_quoted(tmp_path: Path) -> None:
    deck = make_deck(
        make_card("hash", Basic("front", "back"), guid="#abc,def"),
        make_card("plain", Basic("front 2", "back 2"), guid="plain"),
    )
    write_csv(deck, tmp_path / "deck.csv")
    lines = (tmp_path / "deck.csv").read_text(encoding="utf-8").split("\n")[len(HEADER) :]
    data_lines = [line for line in lines if line]
    assert len(data_lines) == 2
    assert data_lines[0].startswith('"#abc,def",')
    # Anki reads any line starting with '#' as a comment: no data line may.
    assert not any(line.startswith("#") for line in data_lines)
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    assert [row[0] for row in rows] == ["#abc,def", "plain"]


# --- Quizlet ---------------------------------------------------------------------------------


def split_quizlet(text: str, separators: Separators) -> list[list[str]]:
    """Split the paste-in text as Quizlet does: into cards, then into term and definition."""
    if separators.card == "\n":
        assert text.endswith("\n")
        text = text[:-1]
    return [chunk.split(separators.term) for chunk in text.split(separators.card)]


def expected_pairs(deck: Deck, separators: Separators) -> list[list[str]]:
    # Line breaks inside a field stay line breaks (issue 15): the separators make room for them.
    return [list(quizlet_pair(card)) for card in deck.cards]


def test_quizlet_text_has_exactly_one_pair_per_card(deck: Deck) -> None:
    text, separators = quizlet_text(deck)
    chunks = split_quizlet(text, separators)
    assert len(chunks) == len(deck.cards)
    assert all(len(chunk) == 2 for chunk in chunks)


def test_quizlet_pairs_read_back_as_written(deck: Deck) -> None:
    text, separators = quizlet_text(deck)
    assert split_quizlet(text, separators) == expected_pairs(deck, separators)


def test_quizlet_tab_in_a_field_does_not_split_the_card() -> None:
    deck = make_deck(
        make_card("tabs", Basic("left\tright", "one\ttwo\tthree")),
        make_card("other", Basic("a", "b")),
    )
    text, separators = quizlet_text(deck)
    chunks = split_quizlet(text, separators)
    assert len(chunks) == 2
    assert [[" ".join(part.split()) for part in chunk] for chunk in chunks] == [
        ["left right", "one two three"],
        ["a", "b"],
    ]


def test_quizlet_newline_in_a_field_does_not_split_the_card() -> None:
    deck = make_deck(
        make_card("lines", Basic("first<br>second", "<p>one</p><p>two</p>")),
        make_card("other", Basic("a", "b")),
    )
    text, separators = quizlet_text(deck)
    chunks = split_quizlet(text, separators)
    assert len(chunks) == 2
    assert all(len(chunk) == 2 for chunk in chunks)
    assert chunks[1] == ["a", "b"]
    assert chunks[0] == ["first\nsecond", "one\ntwo"]
    assert separators == Separators("\t", CARD_SEPARATORS[0])


def test_quizlet_card_separator_does_not_run_into_a_field_ending_in_its_character() -> None:
    # Code answers end in ';'. With ';;;' between cards, 'i++;' + ';;;' reads as 'i++' + ';;;;'.
    # The question's tab and its lines make the file use a custom card separator.
    deck = make_deck(
        make_card("code", Basic("Increment i in C", "i++;")),
        make_card("next", Basic(";-starting term", "b")),
        make_card("mc", MultipleChoice("Pick\tone", ("x", "y"), ("A",), "")),
    )
    text, separators = quizlet_text(deck)
    assert separators.card != "\n"
    assert separators.card in CARD_SEPARATORS
    assert split_quizlet(text, separators) == expected_pairs(deck, separators)


def test_quizlet_keeps_line_breaks_with_tab_and_a_custom_card_separator() -> None:
    # Issue 15 (which replaces issue 3's ' / '): a line break inside a field is a line break in
    # Quizlet too, which keeps it when the cards are not separated by New line.
    deck = make_deck(
        make_card("lines", Basic("term", "line one<br>line two")),
        make_card("mc", MultipleChoice("Pick one", ("x", "y"), ("B",), "")),
    )
    text, separators = quizlet_text(deck)
    assert separators == Separators("\t", ";;;")
    assert text == "term\tline one\nline two;;;Pick one\nA. x\nB. y\tB. y"


def test_quizlet_keeps_tab_and_new_line_when_every_field_is_one_line() -> None:
    deck = make_deck(make_card("a", Basic("term", "one line")), make_card("b", Basic("c", "d")))
    text, separators = quizlet_text(deck)
    assert separators == Separators("\t", "\n")
    assert text == "term\tone line\nc\td\n"


def test_choose_separators_keeps_new_line_when_no_field_has_several_lines() -> None:
    assert choose_separators([("a", "b"), ("c, d", "e; f")]) == Separators("\t", "\n")


def test_choose_separators_never_picks_a_separator_found_in_a_field() -> None:
    pairs = [("a\tb", "uses ;;; inside"), ("c :: d", "and ||| too")]
    separators = choose_separators(pairs)
    assert separators.card in CARD_SEPARATORS
    assert separators.term not in ("\t", " :: ")
    assert not any(
        sep in text for pair in pairs for text in pair for sep in (separators.card, separators.term)
    )


def test_choose_separators_keeps_lines_when_every_custom_separator_occurs() -> None:
    everything = " ".join(CARD_SEPARATORS)
    deck = make_deck(
        make_card("all", Basic(f"line one<br>{everything}", "back")),
        make_card("other", Basic("a", "b")),
    )
    text, separators = quizlet_text(deck)
    assert separators == Separators(" ^^^^ ", "~~~~")  # the longer runs: found in no card
    assert text == f"line one\n{everything} ^^^^ back~~~~a ^^^^ b"


def test_separators_describe_what_to_pick_in_quizlets_dialog() -> None:
    assert Separators("\t", "\n").describe() == (
        "between term and definition: Tab; between cards: New line"
    )
    assert "between cards: Custom: ;;;" in Separators("\t", ";;;").describe()


def test_quizlet_removes_html_and_decodes_entities() -> None:
    card = make_card(
        "html",
        Basic(
            "<b>bold</b> &amp; <i>italic</i>&nbsp;2 &lt; 3 &quot;q&quot; "
            '<img src="x.png"> [sound:y.wav]',
            "<ul><li>one</li><li>two &gt; one</li></ul><script>alert(1)</script>",
        ),
    )
    term, definition = quizlet_pair(card)
    assert term == 'bold & italic 2 < 3 "q"'
    assert definition == "one\ntwo > one"
    for text in (term, definition):
        assert not re.search(r"</?[a-z]", text)
        assert not re.search(r"&(amp|lt|gt|quot|nbsp);", text)
        assert "[sound:" not in text


def test_quizlet_shows_bare_markup_characters_as_typed(deck: Deck) -> None:
    term, definition = quizlet_pair(card_of(deck, "basic-tricky-text"))
    assert term == "Is 2 < 3 & 5 > 4?\tA tab, a comma, \"double\" and 'single' quotes"
    assert definition == "Yes, and List<T> is a generic type.\nA second line with an emoji 🎉"


def test_quizlet_keeps_right_to_left_text(deck: Deck) -> None:
    assert quizlet_pair(card_of(deck, "basic-rtl")) == (
        "Arabic: مرحبا بالعالم",
        "Hebrew: שלום עולם",
    )


def test_quizlet_reversed_card_is_a_single_pair(deck: Deck) -> None:
    assert quizlet_pair(card_of(deck, "reversed-greeting")) == ("hello, world", "bonjour, le monde")


def test_quizlet_type_in_definition_is_the_answer(deck: Deck) -> None:
    assert quizlet_pair(card_of(deck, "type-in-product")) == ("7 × 8 = ?", "56")


def test_multiple_choice_definition_is_the_letter_and_text_of_the_right_answer(deck: Deck) -> None:
    term, definition = quizlet_pair(card_of(deck, "mc-single-answer"))
    assert term == "Which of these is a generic type?\nA. List<T>\nB. int\nC. 2 < 3\nD. A & B"
    assert definition == "A. List<T>"


def test_multiple_choice_with_a_list_answer_names_every_right_answer(deck: Deck) -> None:
    term, definition = quizlet_pair(card_of(deck, "mc-list-answer"))
    assert term == "Which numbers are prime?\nA. 2\nB. 4\nC. 5\nD. 9"
    assert definition == "A. 2; C. 5"


def test_cloze_becomes_the_text_with_blanks_and_the_answers(deck: Deck) -> None:
    term, definition = quizlet_pair(card_of(deck, "cloze-capital"))
    assert term == f"{BLANK} (a city) is the capital of {BLANK}; {BLANK} lies on the Seine."
    assert not re.search(r"\{\{|Paris|France", term)
    answers = definition.split("; ")
    assert answers == ["Paris", "France", "Paris"]
    assert len(answers) == term.count(BLANK)


def test_open_card_pairs_prompt_and_hint_with_answer_and_concepts(deck: Deck) -> None:
    term, definition = quizlet_pair(card_of(deck, "open-fine-tuning"))
    assert term == (
        "Explain in your own words why fine-tuning adapts a model to a domain.\n"
        "Hint: Think about what the weights learn from the new data."
    )
    answer, concepts = definition.split("\n")
    assert answer.startswith("Fine-tuning continues training on domain examples")
    assert concepts.startswith("Key concepts (4): The weights are updated on domain data; ")
    assert "vocabulary & style" in concepts


def test_quizlet_pair_drops_pictures(deck: Deck) -> None:
    assert quizlet_pair(card_of(deck, "basic-two-pictures")) == (
        "Which picture is red?",
        "Not this blue one:",
    )
