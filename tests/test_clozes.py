"""Cloze notes reach Anki with every card Anki itself makes for them (issue 3: every part of a
page carried faithfully), shared deletions (``{{c1,2::...}}``) and nested ones included.

genanki numbers cloze cards with ``{{c(\\d+)::.+?}}``, which sees neither: a note written
``{{c1,2::Paris}} ... {{c3::France}}`` arrived with card 3 only, until Anki's Check Database
added the others. Here each built deck is imported with the `anki` package and compared with
what Anki makes by itself: from the CSV (Anki's importer generates the cards) and after Check
Database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from anki.collection import Collection

from conftest import FIXTURES, import_apkg, import_csv
from deckkit import BuildResult, build, validate

# Reaches inside: the Quizlet text of one card and the GUID deckkit gives a note are compared with
# what Anki made of the same cloze.
from deckkit.exporters.quizlet import quizlet_pair
from deckkit.importers import import_file
from deckkit.model import deck_from_source, note_guid

SOURCE = FIXTURES / "clozes" / "clozes.yaml"
DECK_ID = "clozes"
# card id → the ordinals (card number - 1) of the cards Anki makes for the note
EXPECTED = {
    "simple": [0],
    "shared": [0, 1, 2],
    "shared-only": [0, 1],
    "nested": [0, 1],
    "nested-shared": [0, 1, 2, 3],
    "numbers-in-extra": [0, 6],
    "dropped-deletion": [0],
}


@pytest.fixture
def built(tmp_path: Path) -> BuildResult:
    result = build([SOURCE], tmp_path / "out")
    assert result.ok, result.problems
    assert [(p.line, p.code) for p in result.problems] == [(26, "check.cloze-in-extra")]
    return result


def ordinals_by_card_id(collection: Collection) -> dict[str, list[int]]:
    by_guid = {note_guid(DECK_ID, card_id): card_id for card_id in EXPECTED}
    found = {}
    for note_id in collection.find_notes(""):
        note = collection.get_note(note_id)
        found[by_guid[note.guid]] = sorted(card.ord for card in note.cards())
    return found


def test_the_apkg_holds_every_card_anki_makes(
    built: BuildResult, collection: Collection, tmp_path: Path
) -> None:
    import_apkg(collection, tmp_path / "out" / "clozes.apkg")
    assert ordinals_by_card_id(collection) == EXPECTED
    assert collection.card_count() == built.anki_cards() == sum(map(len, EXPECTED.values()))
    # Anki's Check Database makes the cards a note lacks and removes those it should not have.
    collection.fix_integrity()
    assert ordinals_by_card_id(collection) == EXPECTED


def test_the_csv_import_makes_the_same_cards_as_the_apkg(
    built: BuildResult, collection: Collection, tmp_path: Path
) -> None:
    import_apkg(collection, tmp_path / "out" / "clozes.apkg")
    for note_id in list(collection.find_notes("")):
        collection.remove_notes([note_id])  # keep the note type, lose the notes
    assert collection.card_count() == 0
    import_csv(collection, tmp_path / "out" / "clozes.csv")
    assert ordinals_by_card_id(collection) == EXPECTED


def test_quizlet_blanks_each_outermost_deletion_once() -> None:
    (source,) = validate([SOURCE]).sources
    pairs = {card.id: quizlet_pair(card) for card in deck_from_source(source).cards}
    assert pairs["shared"] == ("_____ is the capital of _____ (a country).", "Paris; France")
    assert pairs["nested"] == ("_____.", "The Seine flows through Paris")
    assert pairs["nested-shared"] == ("_____ and _____", "outer inner text; more")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("No deletion at all.", "cloze text has no deletion"),
        ("{{c1::never closed", "cloze text has no complete deletion"),
        ("{{c0::numbered 0}}", "cloze text has no complete deletion"),
    ],
)
def test_a_cloze_without_a_card_to_make_is_an_error(
    text: str, message: str, tmp_path: Path
) -> None:
    source = tmp_path / "deck.yaml"
    source.write_text(
        f"deck: D\nid: d\ncards:\n  - id: c\n    type: cloze\n    text: {text!r}\n",
        encoding="utf-8",
    )
    problems = validate([source]).problems
    assert [(p.line, p.code) for p in problems] == [(6, "check.cloze-without-deletion")]
    assert message in problems[0].message


def test_an_anki_deck_with_shared_deletions_is_imported_whole(
    built: BuildResult, tmp_path: Path
) -> None:
    result = import_file(tmp_path / "out" / "clozes.apkg", tmp_path / "imported")
    assert result.skipped == ()
    assert len(result.decks) == 1
    rebuilt = build([tmp_path / "imported"], tmp_path / "again")
    assert rebuilt.ok, rebuilt.problems
    assert rebuilt.anki_cards() == built.anki_cards()
