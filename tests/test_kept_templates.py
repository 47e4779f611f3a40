"""A kept note type's templates: what Anki renders is what deckkit builds, and what Anki cannot
render is refused by validate, never a traceback in the build."""

from __future__ import annotations

from pathlib import Path

from anki.collection import Collection

import deckkit
from conftest import FIXTURES, import_apkg

SPACED = FIXTURES / "kept-templates" / "spaced-sections.yaml"
BROKEN = FIXTURES / "bad" / "note-type-template-syntax.yaml"


def test_spaced_section_tags_make_the_cards_anki_makes(
    tmp_path: Path, collection: Collection
) -> None:
    result = deckkit.build([SPACED], tmp_path / "out")
    assert result.ok, result.problems
    assert result.anki_cards() == 2  # the reverse card's section holds a filled field
    import_apkg(collection, tmp_path / "out" / "kept-spaced-sections.apkg")
    assert collection.card_count() == 2
    assert collection.note_count() == 1


def test_a_template_anki_cannot_render_is_refused_before_the_build(tmp_path: Path) -> None:
    result = deckkit.build([BROKEN], tmp_path / "out")
    assert not result.ok
    assert {p.code for p in result.problems} == {"check.template-syntax"}
    assert not (tmp_path / "out").exists()
