"""A note's Anki cards that are not the ones its templates make (issue 13: the round trip keeps
them): a card deleted by hand in Anki, kept away; recorded by `deckkit import` as `cards`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from anki.collection import Collection, ExportAnkiPackageOptions

from conftest import import_apkg, run_deckkit


def made_with_anki(folder: Path) -> Path:
    """A package made by Anki: two notes of 'Basic (and reversed card)', the reverse card of
    one deleted by hand (Browse > Delete), as authors do with reverse cards they do not want."""
    (folder / "col").mkdir(parents=True)
    col = Collection(str(folder / "col" / "collection.anki2"))
    try:
        model = col.models.by_name("Basic (and reversed card)")
        assert model is not None
        deck_id = col.decks.id("Words")
        assert deck_id is not None
        for front, back in (("chat", "cat"), ("chien", "dog")):
            note = col.new_note(model)
            note["Front"], note["Back"] = front, back
            col.add_note(note, deck_id)
        (chien,) = col.find_notes("Front:chien")
        reverse = [c.id for c in col.get_note(chien).cards() if c.ord == 1]
        col.remove_cards_and_orphaned_notes(reverse)
        package = folder / "words.apkg"
        col.export_anki_package(
            out_path=str(package),
            options=ExportAnkiPackageOptions(with_media=True, legacy=False),
            limit=None,
        )
        return package
    finally:
        col.close()


def deckkit(cwd: Path, *args: str) -> None:
    done = run_deckkit(cwd, *args)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_card_deleted_in_anki_stays_deleted_through_import_and_build(
    tmp_path: Path, collection: Collection
) -> None:
    package = made_with_anki(tmp_path / "made")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(package, work / "words.apkg")
    deckkit(work, "import", "words.apkg", "-o", "sources")
    written = (work / "sources" / "words.yaml").read_text("utf-8")
    assert "cards: [Card 1]" in written  # only the note whose reverse card is gone
    assert written.count("cards: [") == 1
    deckkit(work, "build", "sources", "--format", "apkg")
    import_apkg(collection, work / "build" / "words.apkg")
    by_front = {
        collection.get_note(n)["Front"]: collection.get_note(n) for n in collection.find_notes("")
    }
    assert sorted(c.ord for c in by_front["chien"].cards()) == [0]
    assert sorted(c.ord for c in by_front["chat"].cards()) == [0, 1]


def test_cards_naming_no_card_of_the_note_type_is_a_problem(tmp_path: Path) -> None:
    source = tmp_path / "deck.yaml"
    source.write_text(
        "deck: D\nid: d\ncards:\n  - id: a\n    type: reversed\n    cards: [Card 3]\n"
        "    front: x\n    back: y\n",
        "utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "deckkit", "validate", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "deck.yaml:6:" in done.stdout
    assert "has no card template 'Card 3'" in done.stdout
    assert "[check.card-name]" in done.stdout
