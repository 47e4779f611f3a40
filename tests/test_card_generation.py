"""Which cards a note of a declared note type makes is what Anki makes: conditional fronts
(``{{#A}}``, ``{{^A}}``), filters, comments, special fields and what Anki counts as an empty
field, tried against Anki's own card generation (the ``anki`` package) on random templates."""

from __future__ import annotations

import random
from pathlib import Path

from anki.collection import Collection

import deckkit
from conftest import FIXTURES, import_apkg
from deckkit.notetypes import AnkiNoteType, card_ordinals, original_note_type

FIELDS = ("A", "B", "C")
VALUES = ("", " ", "<br>", "<div> </div>", "x", "<b></b>", "&nbsp;")
# Pieces of a front: a field as Anki writes it, with filters and spaces, or what shows no field.
SHOWN = ("{{A}}", "{{B}}", "{{ C }}", "{{text:B}}", "{{{A}}}", "{{hint:C}}")
NOT_SHOWN = ("text", "<!-- {{C}} -->", "{{Tags}}", "{{Card}}", "")


def random_front(rng: random.Random, depth: int = 0) -> str:
    """A front Anki accepts: balanced sections around pieces, some of them fields."""
    parts = []
    for _ in range(rng.randint(1, 3)):
        if depth < 3 and rng.random() < 0.45:
            field = rng.choice(FIELDS)
            opening = rng.choice(("#", "^", " #", "# "))
            parts.append(f"{{{{{opening}{field}}}}}{random_front(rng, depth + 1)}{{{{/{field}}}}}")
        else:
            parts.append(rng.choice(SHOWN if rng.random() < 0.6 else NOT_SHOWN))
    return "".join(parts)


def add_note_type(col: Collection, rng: random.Random, name: str) -> AnkiNoteType:
    """A note type of random fronts that Anki accepts, added to ``col``."""
    while True:
        fronts = [random_front(rng) for _ in range(3)]
        models = col.models
        model = models.new(name)
        for field in FIELDS:
            models.add_field(model, models.new_field(field))
        for ordinal, front in enumerate(fronts):
            template = models.new_template(f"Card {ordinal + 1}")
            template["qfmt"], template["afmt"] = front, "{{FrontSide}}"
            models.add_template(model, template)
        try:
            models.add(model)  # refused: a front showing no field, two identical fronts
        except Exception:  # Anki says why; any reason will do here
            continue
        return AnkiNoteType(
            name=name,
            id=models.by_name(name)["id"],
            mod=None,
            kind=None,
            fields=tuple((field, None) for field in FIELDS),
            templates=tuple(
                (f"Card {i + 1}", front, "{{FrontSide}}") for i, front in enumerate(fronts)
            ),
        )


def anki_ordinals(col: Collection, name: str, values: list[str], tags: list[str]) -> list[int]:
    """The cards Anki makes of a note: those it adds that its Empty Cards would not remove (it
    adds card 1 to a note that would have none)."""
    note = col.new_note(col.models.by_name(name))
    note.fields = values
    note.tags = tags
    col.add_note(note, col.decks.id("Default"))
    empty = {card for report in col.get_empty_cards().notes for card in report.card_ids}
    ordinals = sorted(card.ord for card in note.cards() if card.id not in empty)
    col.remove_notes([note.id])
    return ordinals


def test_the_cards_of_a_note_are_those_anki_makes(collection: Collection) -> None:
    rng = random.Random(13)
    compared = 0
    for number in range(25):
        declared = add_note_type(collection, rng, f"T{number}")
        note_type = original_note_type(declared)
        for _ in range(12):
            values = [rng.choice(VALUES) for _ in FIELDS]
            tags = ["t"] if rng.random() < 0.3 else []
            expected = anki_ordinals(collection, declared.name, values, tags)
            assert card_ordinals(note_type, values, tagged=bool(tags)) == expected, (
                declared.templates,
                values,
                tags,
            )
            compared += 1
    assert compared == 300


def test_a_front_genanki_cannot_work_out_builds_and_imports(
    tmp_path: Path, collection: Collection
) -> None:
    """genanki gave up on ``{{#A}}{{B}}{{/A}}{{#C}}{{D}}{{/C}}`` with a traceback."""
    source = FIXTURES / "note_types" / "good" / "either-pair.yaml"
    result = deckkit.build([source], tmp_path / "out")
    assert result.ok, result.problems
    import_apkg(collection, tmp_path / "out" / "either-pair.apkg")
    cards = {
        collection.get_note(collection.get_card(card_id).nid)["Word"]: collection.get_card(
            card_id
        ).ord
        for card_id in collection.find_cards("")
    }
    assert cards == {"with reading": 0, "with meaning": 0}
    assert collection.note_count() == 2
