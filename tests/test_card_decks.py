"""Each Anki card in its own deck (``card_decks``): Anki keeps a deck per card, not per note.

Proved with the `anki` package on ``tests/fixtures/card_decks/hanzi.apkg``, made by Anki itself
(``make_deck.py`` beside it: a note type with Reading and Writing templates, every Writing card
moved to a sub-deck of its own, one of them studied in a filtered deck, a cloze note's card 2
moved too), and on a hand-written source (``good/hanzi.yaml``):

- ``deckkit import`` writes the deck of each card beyond the first under ``card_decks``, by the
  card's name in Anki's browser, a filtered card counted in its home deck;
- the rebuilt package gives a fresh collection every card in the deck the original gave it;
- a learner who already has the deck gets 0 new and 0 updated notes, no card moved, reviews kept;
- the checks name a template the note type lacks (did you mean) and an empty deck name; the
  lockfile's note hashes leave a card's deck out; the CSV keeps the file's deck; the preview
  shows each card's own deck.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from anki.collection import Collection
from click.testing import CliRunner

from anki_journey import (
    Conversion,
    convert,
    import_package,
    learner_collection,
    open_collection,
    reimport,
    snapshot,
    wait_past,
)
from conftest import FIXTURES, REPO, import_apkg
from deckkit.cli import main
from preview_page import page_data

HERE = FIXTURES / "card_decks"
HANZI_APKG = HERE / "hanzi.apkg"
GOOD = HERE / "good" / "hanzi.yaml"
READING, WRITING = "Chinese::Mini::Reading", "Chinese::Mini::Writing"


def home_decks(col: Collection) -> dict[tuple[str, int], str]:
    """Each card's deck by (note GUID, card ordinal); a card in a filtered deck by its home."""
    query = (
        "select n.guid, c.ord, c.did, c.odid from cards c join notes n on n.id = c.nid"
        " order by n.guid, c.ord"
    )
    return {
        (guid, ordinal): col.decks.name(odid or did)
        for guid, ordinal, did, odid in col.db.all(query)
    }


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Conversion:
    """hanzi.apkg through ``deckkit import`` and ``deckkit build``."""
    conversion = convert(HANZI_APKG, tmp_path_factory.mktemp("hanzi"))
    assert conversion.ok, conversion.failure()
    return conversion


def written_cards(conversion: Conversion) -> dict[str, dict[str, Any]]:
    (source,) = conversion.sources.glob("*.yaml")
    data = yaml.safe_load(source.read_text("utf-8"))
    assert data["deck"] == READING
    return {card["guid"]: card for card in data["cards"]}


# --- import ----------------------------------------------------------------------------------


def test_import_names_the_deck_of_each_card_beyond_the_first(converted: Conversion) -> None:
    cards = written_cards(converted)
    for guid in ("hz-ren", "hz-shan", "hz-huo"):
        assert cards[guid]["card_decks"] == {"Writing": WRITING}


def test_a_card_in_a_filtered_deck_counts_in_its_home_deck(converted: Conversion) -> None:
    # hz-shui's Writing card was being studied in "Custom Study Session" when it was exported.
    assert written_cards(converted)["hz-shui"]["card_decks"] == {"Writing": WRITING}


def test_a_cloze_card_is_named_as_anki_browser_names_it(converted: Conversion) -> None:
    assert written_cards(converted)["hz-cloze"]["card_decks"] == {"Cloze 2": WRITING}


# --- the rebuilt deck in Anki ------------------------------------------------------------------


def test_a_fresh_collection_gets_every_card_in_the_deck_the_original_gave_it(
    converted: Conversion, tmp_path: Path
) -> None:
    original = open_collection(tmp_path / "original")
    rebuilt = open_collection(tmp_path / "rebuilt")
    try:
        # With scheduling, so that the filtered card shows its home deck (Anki's default import
        # would make "Custom Study Session" a regular deck and leave the card in it).
        import_package(original, HANZI_APKG, with_scheduling=True)
        (package,) = converted.packages
        import_apkg(rebuilt, package)
        expected = home_decks(original)
        assert expected[("hz-shui", 1)] == WRITING
        assert home_decks(rebuilt) == expected
        assert set(expected.values()) == {READING, WRITING}
        assert snapshot(rebuilt).notes.keys() == snapshot(original).notes.keys()
    finally:
        original.close()
        rebuilt.close()


def test_a_learner_who_has_the_deck_sees_no_card_move_and_keeps_the_reviews(
    converted: Conversion, tmp_path: Path
) -> None:
    learner = learner_collection(tmp_path, HANZI_APKG)
    col = learner.col
    try:
        before = snapshot(col)
        assert before.revlog > 0
        wait_past(learner.edited_at)
        counts = reimport(col, converted.packages)
        assert (counts.new, counts.updated, counts.conflicting) == (0, 0, 0)
        after = snapshot(col)
        assert after.cards == before.cards  # every card in its deck, its scheduling as it was
        assert after.revlog == before.revlog
        assert after.notes == before.notes  # the learner's edit too
    finally:
        col.close()


# --- a source written by hand ------------------------------------------------------------------


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """good/hanzi.yaml built into .apkg and .csv, with a lockfile, in a folder of its own."""
    (tmp_path / "sources").mkdir()
    shutil.copy(GOOD, tmp_path / "sources" / GOOD.name)
    monkeypatch.chdir(tmp_path)
    code, out = run("build", "sources", "-o", "build", "--format", "apkg", "--format", "csv")
    assert code == 0, out
    return tmp_path


def test_a_built_package_puts_each_card_in_the_deck_its_source_names(
    built: Path, collection: Collection
) -> None:
    log = import_apkg(collection, built / "build" / "hanzi.apkg")
    assert len(log.new) == 4
    query = (
        "select n.sfld, c.ord, c.did from cards c join notes n on n.id = c.nid"
        " order by n.sfld, c.ord"
    )
    placed = {
        (str(sort_field), ordinal): collection.decks.name(did)
        for sort_field, ordinal, did in collection.db.all(query)
    }
    top = "Chinese::Hanzi"
    assert placed == {
        ("人", 0): f"{top}::Reading",
        ("人", 1): f"{top}::Writing",
        ("山", 0): f"{top}::Reading",
        ("山", 1): f"{top}::Writing",
        ("水", 0): f"{top}::Reading",
        ("水", 1): f"{top}::Backwards",
        ("{{c1::火}} means {{c2::fire}}", 0): f"{top}::Reading",
        ("{{c1::火}} means {{c2::fire}}", 1): f"{top}::Writing",
    }


def test_the_csv_keeps_every_note_in_the_deck_of_its_file(built: Path) -> None:
    lines = (built / "build" / "hanzi.csv").read_text("utf-8").splitlines()
    rows = list(csv.reader(line for line in lines if not line.startswith("#")))
    assert len(rows) == 4
    assert {row[2] for row in rows} == {"Chinese::Hanzi::Reading"}


def test_moving_a_card_to_another_deck_leaves_the_lockfile_as_it_was(
    built: Path, collection: Collection
) -> None:
    lock = (built / "deckkit.lock").read_bytes()
    source = built / "sources" / GOOD.name
    source.write_text(
        source.read_text("utf-8").replace("Chinese::Hanzi::Backwards", "Chinese::Elsewhere"),
        "utf-8",
    )
    code, out = run("build", "sources", "-o", "build", "--format", "apkg")
    assert code == 0, out
    assert (built / "deckkit.lock").read_bytes() == lock
    import_apkg(collection, built / "build" / "hanzi.apkg")
    (did,) = collection.db.list(
        "select c.did from cards c join notes n on n.id = c.nid where n.sfld = '水' and c.ord = 1"
    )
    assert collection.decks.name(did) == "Chinese::Elsewhere"  # the package has it moved


def test_the_preview_shows_each_cards_own_deck(tmp_path: Path) -> None:
    code, out = run("preview", str(GOOD), "-o", str(tmp_path / "preview"))
    assert code == 0, out
    html = (tmp_path / "preview" / "index.html").read_text("utf-8")
    index, _ = page_data(html)  # a row: deck, deck name, card id, ordinal, ...
    decks = {(row[2], str(row[3])): index["deckNames"][row[1]] for row in index["cards"]}
    assert decks[("ren", "1")] == "Chinese::Hanzi::Reading"
    assert decks[("ren", "2")] == "Chinese::Hanzi::Writing"
    assert decks[("both-ways", "2")] == "Chinese::Hanzi::Backwards"
    assert decks[("two-deletions", "2")] == "Chinese::Hanzi::Writing"


# --- checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted((HERE / "bad").glob("*.yaml")), ids=lambda p: p.stem)
def test_a_wrong_card_deck_gives_exactly_the_expected_lines(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    code, out = run("validate", case.relative_to(REPO).as_posix())
    assert code == 1
    assert out.splitlines() == case.with_suffix(".expected").read_text("utf-8").splitlines()


def test_the_good_source_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out = run("validate", GOOD.relative_to(REPO).as_posix())
    assert code == 0, out
