"""What you write is what learners see (issue 15): a line break between two lines of a field is a
line break on the card, in Anki, the CSV, the preview and Quizlet alike.

The rule (README "HTML in fields"): each line break between two lines of a field becomes `<br>`,
unless the field holds `<br>` or HTML that lays out its own lines (`<ul>`, `<p>`, `<pre>`…), which
its author controls; line breaks before the first line and after the last are left alone. A deck
kept exactly as Anki had it (`exactly_as_written`) is never changed. The decks are built and read
back with Anki's own importers (the `anki` package).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from anki.collection import Collection
from anki.notes import Note

from conftest import FIXTURES, import_apkg, import_csv
from deckkit import build, validate
from deckkit.exporters.quizlet import Separators

# Reaches inside: the preview's cards and the note GUIDs deckkit gives each card.
from deckkit.model import deck_from_source, note_guid
from deckkit.preview import preview_cards

LINE_BREAKS = FIXTURES / "line-breaks" / "line-breaks.yaml"
KEPT = FIXTURES / "line-breaks" / "as-anki-had-it" / "kept.yaml"

# Each card's fields as Anki holds them once the .apkg is imported.
EXPECTED_FIELDS = {
    "two-lines": ["What does a YAML block keep?", "first line<br>second line\n"],
    "blank-line": ["A paragraph break", "one paragraph<br><br>another paragraph\n"],
    "one-line-block": ["A block of one line", "only one line\n"],  # as before: nothing to break
    "author-lists": [
        "HTML that lays out its own lines",
        "<ul>\n  <li>kept as written</li>\n  <li>no line break added</li>\n</ul>\n",
    ],
    "author-breaks": ["Breaks written as br", "one<br>\ntwo"],
    # Not inside the tag; and a YAML plain scalar folds its lines into one.
    "tag-over-lines": [
        '<span\n  class="term">term</span> 2 &lt; 3<br>next line\n',
        "plain folded lines stay one line",
    ],
    "cloze-lines": ["{{c1::Commit}} records a snapshot<br>{{c2::Push}} sends it\n", ""],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built")
    result = build([LINE_BREAKS, KEPT], out, lockfile=out / "deckkit.lock")
    assert result.ok, result.problems
    return out


def anki_note(col: Collection, deck_id: str, card_id: str) -> Note:
    """The note deckkit made for a card, found by the GUID it gives it."""
    guid = note_guid(deck_id, card_id)
    return col.get_note(col.db.scalar("select id from notes where guid = ?", guid))


def anki_fields(col: Collection, deck_id: str, card_id: str) -> list[str]:
    return list(anki_note(col, deck_id, card_id).fields)


def test_anki_holds_a_line_break_in_a_field_as_br(built: Path, collection: Collection) -> None:
    import_apkg(collection, built / "line-breaks.apkg")
    for card_id, fields in EXPECTED_FIELDS.items():
        assert anki_fields(collection, "line-breaks", card_id)[:2] == fields, card_id


def test_anki_shows_the_two_lines_on_the_card(built: Path, collection: Collection) -> None:
    import_apkg(collection, built / "line-breaks.apkg")
    answer = anki_note(collection, "line-breaks", "two-lines").cards()[0].answer()
    assert "first line<br>second line" in answer
    question = anki_note(collection, "line-breaks", "choice-lines").cards()[0].question()
    assert "Which command<br>shows history?" in question


def test_the_csv_gives_anki_the_same_fields(built: Path, collection: Collection) -> None:
    """Imported after the .apkg (whose note types it uses), the CSV updates nothing: its fields
    are the .apkg's, line breaks as <br> included."""
    import_apkg(collection, built / "line-breaks.apkg")
    import_csv(collection, built / "line-breaks.csv")
    assert collection.note_count() == len(EXPECTED_FIELDS) + 1
    for card_id, fields in EXPECTED_FIELDS.items():
        assert anki_fields(collection, "line-breaks", card_id)[:2] == fields, card_id


def test_the_preview_shows_the_two_lines() -> None:
    [source] = validate([LINE_BREAKS]).sources
    cards = {card.card.id: card for card in preview_cards(deck_from_source(source))}
    assert "first line<br>second line" in cards["two-lines"].back
    assert "one paragraph<br><br>another paragraph" in cards["blank-line"].back
    assert "<br>" not in cards["author-lists"].back.split("<hr id=answer>")[-1]


def test_quizlet_gets_the_two_lines(built: Path) -> None:
    text = (built / "line-breaks.quizlet.txt").read_text("utf-8")
    separators = Separators("\t", ";;;")  # New line cannot separate cards that have lines
    pairs = [tuple(card.split(separators.term)) for card in text.split(separators.card)]
    by_term = dict(pairs)
    assert by_term["What does a YAML block keep?"] == "first line\nsecond line"
    assert by_term["A paragraph break"] == "one paragraph\nanother paragraph"
    assert by_term["HTML that lays out its own lines"] == "kept as written\nno line break added"
    assert by_term["Which command\nshows history?\nA. git log\nB. git push"] == "A. git log"
    assert " / " not in text


def test_a_deck_kept_exactly_as_anki_had_it_keeps_its_line_breaks(
    built: Path, collection: Collection
) -> None:
    import_apkg(collection, built / "kept-exactly.apkg")
    assert anki_fields(collection, "kept-exactly", "raw-line-break") == [
        "As Anki had it",
        "first line\nsecond line",
    ]
