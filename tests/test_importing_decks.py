"""`deckkit import`: existing decks back to sources, checked with Anki's own `anki` package.

- Round trip: what deckkit built comes back as the same cards, and rebuilding gives the same notes.
- Decks made elsewhere (genanki, a real Anki collection exported by Anki) come in with their card
  types, tags, levels and media; rebuilding them updates the very notes of that collection.
- Anki's text/CSV export and Quizlet's export text.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import sqlite3
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import genanki
import pytest
import yaml
from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions
from click.testing import CliRunner

from conftest import FIXTURES, REPO, import_apkg
from deckkit import BuildResult, build, validate
from deckkit.cli import main
from deckkit.errors import TargetExists, UnknownImportFormat
from deckkit.fieldtext.markup import escape_bare_markup, line_breaks_as_html
from deckkit.importers import ImportResult, detect_format, import_file

# Stages inside an import, tested one at a time (planning from hand-made notes, escaping, slugs).
from deckkit.importers.escaping import readable_html
from deckkit.importers.ids import slugify
from deckkit.importers.plan import plan_import
from deckkit.importers.types import Collected, NoteTypeInfo, SourceNote
from deckkit.importers.write import write_plan
from deckkit.lockfile import lock_from_text
from deckkit.notetypes import NOTE_TYPES
from deckkit.sources.loader import load_source

ALL_TYPES = FIXTURES / "good" / "all-types.yaml"
IMPORT_FIXTURES = FIXTURES / "import"
_MEDIA_REF = re.compile(r"""(src=["'])([^"']+)(["'])|(\[sound:)([^\]]+)(\])""")


# --- helpers ---------------------------------------------------------------------------------


def source_data(path: Path) -> dict[str, Any]:
    """A source as deckkit's own loader reads it (after checking it validates)."""
    source = load_source(path)
    assert not source.problems, source.problems
    data: dict[str, Any] = source.data
    return data


def as_built(text: Any) -> Any:
    """A key's text with its line breaks as the build writes them: a source's two lines come
    back from Anki as the `<br>` the build made of them (README "HTML in fields")."""
    if isinstance(text, list):
        return [as_built(item) for item in text]
    return line_breaks_as_html(text) if isinstance(text, str) else text


def comparable_cards(path: Path) -> dict[str, dict[str, Any]]:
    """Cards by id with the type made explicit, every tag the card gets, media by content and
    line breaks as built."""
    data = source_data(path)
    folder = path.parent

    def media_by_content(text: Any) -> Any:
        if isinstance(text, list):
            return [media_by_content(item) for item in text]
        if not isinstance(text, str):
            return text

        def digest(match: re.Match[str]) -> str:
            head, ref, tail = (match.group(1), match.group(2), match.group(3))
            if head is None:
                head, ref, tail = match.group(4), match.group(5), match.group(6)
            content = hashlib.sha256((folder / ref).read_bytes()).hexdigest()
            return f"{head}sha256:{content}{tail}"

        return _MEDIA_REF.sub(digest, text)

    cards = {}
    for card in data["cards"]:
        fields = {
            key: media_by_content(as_built(value))
            for key, value in card.items()
            if key not in ("id", "type", "tags", "level", "guid")
        }
        cards[card["id"]] = {
            "type": card.get("type", "basic"),
            "level": card.get("level"),
            "tags": set(data.get("tags") or ()) | set(card.get("tags") or ()),
            "guid": card.get("guid"),
            **fields,
        }
    return cards


def package_notes(package: Path) -> dict[str, tuple[int, str, frozenset[str]]]:
    """GUID → (note type id, fields, tags) as stored in a legacy .apkg that deckkit wrote."""
    with zipfile.ZipFile(package) as archive:
        data = archive.read("collection.anki2")
    scratch = package.with_suffix(".anki2")
    scratch.write_bytes(data)
    connection = sqlite3.connect(scratch)
    try:
        rows = connection.execute("select guid, mid, flds, tags from notes").fetchall()
    finally:
        connection.close()
        scratch.unlink()
    return {guid: (mid, flds, frozenset(tags.split())) for guid, mid, flds, tags in rows}


def package_media(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as archive:
        names = json.loads(archive.read("media"))
        return {name: archive.read(entry) for entry, name in names.items()}


def cards_of(path: Path) -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = source_data(path)["cards"]
    return cards


def by_front(cards: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    first = ("front", "text", "question", "prompt")
    return {next(card[k] for k in first if k in card): card for card in cards}


# --- 1. round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("sources", [ALL_TYPES, REPO / "sources"], ids=["all-types", "sources"])
def test_importing_a_build_gives_back_the_sources_and_rebuilding_the_same_notes(
    tmp_path: Path, sources: Path
) -> None:
    lock = tmp_path / "deckkit.lock"
    built = build([sources], tmp_path / "built", formats=["apkg"], lockfile=lock)
    assert built.ok, built.problems
    imported_dir = tmp_path / "imported"
    for package in built.written:
        result = import_file(package, imported_dir, lockfile=lock)
        assert result.ok, result.problems
        assert not result.skipped

    originals = [sources] if sources.is_file() else sorted(sources.glob("*.yaml"))
    originals = [path for path in originals if "deck" in source_data(path)]  # no note-type file
    assert len(originals) == len(built.written)
    for original in originals:
        original_data = source_data(original)
        copy = imported_dir / f"{original_data['id']}.yaml"
        copy_data = source_data(copy)
        assert copy.read_text("utf-8").startswith(
            "# yaml-language-server: $schema=deck.schema.json\n"
        )
        assert copy_data["deck"] == original_data["deck"]
        assert copy_data.get("description") == original_data.get("description")
        assert set(copy_data.get("tags") or ()) == set(original_data.get("tags") or ())
        # Card by card: ids, types, fields, tags and levels, media by content; no guid needed.
        assert list(comparable_cards(copy).items()) == list(comparable_cards(original).items())
    assert (imported_dir / "deck.schema.json").read_text("utf-8") == (
        REPO / "schemas" / "deck.schema.json"
    ).read_text("utf-8")

    rebuilt = build([imported_dir], tmp_path / "rebuilt", formats=["apkg"], lockfile=lock)
    assert rebuilt.ok, rebuilt.problems
    assert sorted(p.name for p in rebuilt.written) == sorted(p.name for p in built.written)
    for package in built.written:
        again = tmp_path / "rebuilt" / package.name
        # Fields and GUIDs byte for byte; tags as a set (Anki sorts a note's tags on import).
        assert package_notes(again) == package_notes(package)
        assert package_media(again) == package_media(package)


def test_round_trip_of_media_that_share_a_name_keeps_both_files(tmp_path: Path) -> None:
    lock = tmp_path / "deckkit.lock"
    built = build([ALL_TYPES], tmp_path / "built", formats=["apkg"], lockfile=lock)
    result = import_file(built.written[0], tmp_path / "imported", lockfile=lock)
    names = sorted(str(p.relative_to(tmp_path / "imported")) for p in result.media)
    # The packed names come back as the author's names; the second pic.png goes into a folder
    # named by its hash, so a rebuild packs it under the same flat name as before.
    assert len(names) == 3
    assert {"media/bell.wav", "media/pic.png"} < set(names)
    assert any(re.fullmatch(r"media/[0-9a-f]{10}/pic\.png", name) for name in names)


# --- 2. decks made elsewhere -----------------------------------------------------------------

SIMPLE = genanki.Model(
    1_600_000_001,
    "Simple",
    fields=[{"name": "Question"}, {"name": "Answer"}],
    templates=[
        {"name": "Card 1", "qfmt": "{{Question}}", "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"}
    ],
)
BOTH_WAYS = genanki.Model(
    1_600_000_002,
    "Both ways",
    fields=[{"name": "Word"}, {"name": "Meaning"}],
    templates=[
        {"name": "Forward", "qfmt": "{{Word}}", "afmt": "{{FrontSide}}<hr id=answer>{{Meaning}}"},
        {"name": "Backward", "qfmt": "{{Meaning}}", "afmt": "{{FrontSide}}<hr id=answer>{{Word}}"},
    ],
)
SPELL = genanki.Model(
    1_600_000_003,
    "Spell it",
    fields=[{"name": "Prompt"}, {"name": "Spelling"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Prompt}}<br>{{type:Spelling}}",
            "afmt": "{{Prompt}}<hr id=answer>{{type:Spelling}}",
        }
    ],
)
MY_CLOZE = genanki.Model(
    1_600_000_004,
    "My cloze",
    fields=[{"name": "Text"}, {"name": "Notes"}],
    templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}<br>{{Notes}}"}],
    model_type=genanki.Model.CLOZE,
)
VOCAB = genanki.Model(  # three fields shown together: no deckkit card type fits
    1_600_000_005,
    "Vocab with example",
    fields=[{"name": "Word"}, {"name": "Meaning"}, {"name": "Example"}],
    templates=[{"name": "Card 1", "qfmt": "{{Word}}", "afmt": "{{Meaning}}<br>{{Example}}"}],
)
CAT_PNG = b"\x89PNG\r\n\x1a\n" + b"a cat, honestly" * 4


def genanki_package(tmp_path: Path) -> Path:
    """A deck with sub-deck, made with genanki directly, as other tools make them."""
    languages = genanki.Deck(2_000_000_001, "Languages", description="Words <i>and</i> phrases")
    verbs = genanki.Deck(2_000_000_002, "Languages::Verbs")
    languages.add_note(
        genanki.Note(
            SIMPLE,
            ["What is 2 &lt; 3?", "true"],
            tags=["maths", "level::beginner"],
            guid="g-simple-1",
        )
    )
    languages.add_note(
        genanki.Note(
            SIMPLE,
            ['Which animal? <img src="cat.png">', "a cat"],
            tags=["animals"],
            guid="g-simple-2",
        )
    )
    languages.add_note(
        genanki.Note(
            BOTH_WAYS, ["bonjour", "hello"], tags=["french", "level::advanced"], guid="g-both-1"
        )
    )
    languages.add_note(
        genanki.Note(
            MY_CLOZE, ["{{c1::Paris}} is in {{c2::France}}", "geography"], guid="g-cloze-1"
        )
    )
    verbs.add_note(
        genanki.Note(SPELL, ["to be (French)", "être"], tags=["french"], guid="g-spell-1")
    )
    verbs.add_note(genanki.Note(VOCAB, ["aller", "to go", "je vais"], guid="g-vocab-1"))
    verbs.add_note(genanki.Note(VOCAB, ["venir", "to come", "je viens"], guid="g-vocab-2"))
    (tmp_path / "cat.png").write_bytes(CAT_PNG)
    package = genanki.Package([languages, verbs], media_files=[str(tmp_path / "cat.png")])
    target = tmp_path / "made-with-genanki.apkg"
    # Notes made an hour ago, as a deck downloaded earlier would be.
    package.write_to_file(str(target), timestamp=time.time() - 3600)
    return target


def test_a_genanki_deck_comes_in_with_types_tags_levels_and_media(tmp_path: Path) -> None:
    lock = tmp_path / "deckkit.lock"
    result = import_file(genanki_package(tmp_path), tmp_path / "sources", lockfile=lock)
    assert result.ok, result.problems
    assert [(d.name, d.id, d.path.name) for d in result.decks] == [
        ("Languages", "languages", "languages.yaml"),
        ("Languages::Verbs", "languages-verbs", "languages-verbs.yaml"),
    ]
    # Every note comes in: those of a note type no card shape fits give their fields by name.
    assert dict(result.cards_by_type()) == {
        "basic": 2, "reversed": 1, "cloze": 1, "type_in": 1, "fields": 2,
    }  # fmt: skip
    assert result.skipped == ()
    languages = source_data(tmp_path / "sources" / "languages.yaml")
    assert languages["description"] == "Words <i>and</i> phrases"
    assert languages["exactly_as_written"] is True
    assert "tags" not in languages  # no tag is on every card
    cards = languages["cards"]
    # The fields' text as genanki wrote it, media references as they were.
    assert cards == [
        {"id": "what-is-2-3", "guid": "g-simple-1", "note_type": "Simple", "level": "beginner",
         "tags": ["maths"], "front": "What is 2 &lt; 3?", "back": "true"},
        {"id": "which-animal", "guid": "g-simple-2", "note_type": "Simple", "tags": ["animals"],
         "front": 'Which animal? <img src="cat.png">', "back": "a cat"},
        {"id": "bonjour", "guid": "g-both-1", "type": "reversed", "note_type": "Both ways",
         "level": "advanced", "tags": ["french"], "front": "bonjour", "back": "hello"},
        {"id": "paris-is-in-france", "guid": "g-cloze-1", "type": "cloze",
         "note_type": "My cloze", "text": "{{c1::Paris}} is in {{c2::France}}",
         "extra": "geography"},
    ]  # fmt: skip
    # Each note type the cards keep, as genanki wrote it: id, fields, templates, CSS.
    simple, both_ways, my_cloze = languages["note_types"]
    assert simple == {
        "name": "Simple", "id": 1_600_000_001, "kind": "basic", "cloze": False,
        "fields": [{"name": "Question", "role": "front"}, {"name": "Answer", "role": "back"}],
        "templates": [{"name": "Card 1", "front": "{{Question}}",
                       "back": "{{FrontSide}}<hr id=answer>{{Answer}}"}],
        "css": SIMPLE.css,
    }  # fmt: skip
    # Its time is in the lockfile: when genanki wrote the package.
    times = json.loads(lock.read_text("utf-8"))["note_types"]
    assert abs(times["1600000001"]["mod"] - (time.time() - 3600)) < 600
    assert (both_ways["name"], both_ways["id"], both_ways["kind"]) == (
        "Both ways",
        1_600_000_002,
        "reversed",
    )
    assert [t["name"] for t in both_ways["templates"]] == ["Forward", "Backward"]
    assert (my_cloze["kind"], my_cloze["cloze"], my_cloze["fields"]) == (
        "cloze",
        True,
        [{"name": "Text", "role": "text"}, {"name": "Notes", "role": "extra"}],
    )
    assert (tmp_path / "sources" / "media" / "cat.png").read_bytes() == CAT_PNG
    verbs = source_data(tmp_path / "sources" / "languages-verbs.yaml")
    assert verbs["cards"] == [
        {"id": "to-be-french", "guid": "g-spell-1", "type": "type_in", "note_type": "Spell it",
         "tags": ["french"], "front": "to be (French)", "answer": "être"},
        {"id": "aller", "guid": "g-vocab-1", "note_type": "Vocab with example",
         "fields": {"Word": "aller", "Meaning": "to go", "Example": "je vais"}},
        {"id": "venir", "guid": "g-vocab-2", "note_type": "Vocab with example",
         "fields": {"Word": "venir", "Meaning": "to come", "Example": "je viens"}},
    ]  # fmt: skip
    assert [(n["name"], n.get("kind"), n["fields"]) for n in verbs["note_types"]] == [
        ("Spell it", "type_in",
         [{"name": "Prompt", "role": "front"}, {"name": "Spelling", "role": "answer"}]),
        ("Vocab with example", None, ["Word", "Meaning", "Example"]),
    ]  # fmt: skip
    assert result.conversions == ()  # nothing to do in Anki
    assert result.kept == (
        ("Simple", 2), ("Both ways", 1), ("My cloze", 1), ("Spell it", 1),
        ("Vocab with example", 2),
    )  # fmt: skip


def test_rebuilding_a_genanki_deck_updates_the_same_notes_in_the_collection(
    tmp_path: Path, collection: Collection
) -> None:
    package = genanki_package(tmp_path)
    import_apkg(collection, package)
    assert collection.note_count() == 7
    state = _learner_state(collection)

    sources = tmp_path / "sources"
    lock = tmp_path / "deckkit.lock"
    result = import_file(package, sources, lockfile=lock)
    assert result.ok, result.problems
    assert result.conversions == ()
    rebuilt = _rebuild(sources, tmp_path, lock)

    # No manual step: with Anki's default options the rebuilt deck changes nothing (the lockfile
    # gave each note its time in the package), and an edit reaches the very note it came from.
    logs = [import_apkg(collection, package) for package in rebuilt.written]
    _assert_updated_in_place(collection, logs, state, updated=0)
    note = collection.get_note(
        collection.db.scalar("select id from notes where guid = ?", "g-both-1")
    )
    assert note.note_type()["name"] == "Both ways"
    assert note.fields == ["bonjour", "hello"]
    image = collection.get_note(
        collection.db.scalar("select id from notes where guid = ?", "g-simple-2")
    )
    (name,) = re.findall(r'src="([^"]+)"', image["Question"])
    assert collection.media.have(name)

    _edit_rebuild_reimport(
        collection, sources / "languages.yaml", tmp_path, lock, guid="g-both-1", key="back",
        old="hello", new="hello, or salut among friends", note_ids=state.note_ids,
    )  # fmt: skip


def test_importing_a_rebuilt_genanki_deck_gives_back_the_same_sources(tmp_path: Path) -> None:
    first = import_file(genanki_package(tmp_path), tmp_path / "sources")
    rebuilt = _rebuild(tmp_path / "sources", tmp_path, tmp_path / "deckkit.lock")
    for package in rebuilt.written:
        again = import_file(package, tmp_path / "again")
        assert again.ok, again.problems
        assert again.kept
        assert not again.conversions
    for deck in first.decks:
        mine = (tmp_path / "again" / deck.path.name).read_text("utf-8")
        theirs = deck.path.read_text("utf-8")
        # All but the line naming the file it came from.
        assert mine.splitlines()[3:] == theirs.splitlines()[3:]


def anki_collection_deck(col: Collection, tmp_path: Path, *, reverse_asked: bool = True) -> int:
    """Notes made in Anki itself: stock note types, sub-decks, tags, a level tag and an image.

    ``reverse_asked``: with a "Basic (optional reversed card)" note asking for its reverse card,
    the one kind of note that cannot keep its note type.
    """
    french = col.decks.id("Languages::French")
    verbs = col.decks.id("Languages::French::Verbs")
    col.decks.save(col.decks.get(french) | {"desc": "French words &amp; phrases"})
    image = col.media.write_data("eiffel tower.png", b"\x89PNG\r\n\x1a\nthe tower")

    def add(note_type: str, fields: list[str], tags: list[str], deck: int) -> None:
        note = col.new_note(col.models.by_name(note_type))
        for position, value in enumerate(fields):
            note.fields[position] = value
        note.tags = tags
        col.add_note(note, deck)

    add(
        "Basic",
        ['Where is this? <img src="' + image + '">', "Paris"],
        ["landmarks", "level::advanced"],
        french,
    )
    add("Basic", ["chat", "cat"], ["animals"], french)
    add("Basic (and reversed card)", ["merci", "thank you"], ["politeness"], french)
    if reverse_asked:
        add("Basic (optional reversed card)", ["oui", "yes", "y"], [], french)
    add("Basic (optional reversed card)", ["non", "no", ""], [], french)
    add("Basic (type in the answer)", ["to have", "avoir"], ["verbs"], verbs)
    add("Cloze", ["Je {{c1::suis}} content", "être, present tense"], ["verbs"], verbs)
    custom = col.models.new("Conjugation table")
    for name in ("Verb", "Je", "Tu", "Il"):
        col.models.add_field(custom, col.models.new_field(name))
    template = col.models.new_template("Card 1")
    template["qfmt"], template["afmt"] = "{{Verb}}", "{{Je}} {{Tu}} {{Il}}"
    col.models.add_template(custom, template)
    col.models.add(custom)
    add("Conjugation table", ["aller", "vais", "vas", "va"], ["verbs"], verbs)
    return col.decks.id("Languages")


def export_deck(col: Collection, deck_id: int, target: Path) -> Path:
    """What File > Export > "Anki Deck Package" writes, with scheduling and media."""
    options = ExportAnkiPackageOptions(
        with_scheduling=True, with_deck_configs=False, with_media=True, legacy=False
    )
    col.export_anki_package(out_path=str(target), options=options, limit=DeckIdLimit(deck_id))
    return target


def test_a_deck_exported_by_anki_comes_in_with_types_tags_levels_and_its_note_types(
    tmp_path: Path, collection: Collection
) -> None:
    languages = anki_collection_deck(collection, tmp_path)
    package = export_deck(collection, languages, tmp_path / "from-anki.apkg")

    sources = tmp_path / "sources"
    result = import_file(package, sources)
    assert result.ok, result.problems
    assert [(d.name, d.path.name) for d in result.decks] == [
        ("Languages::French", "languages-french.yaml"),
        ("Languages::French::Verbs", "languages-french-verbs.yaml"),
    ]
    assert dict(result.cards_by_type()) == {
        "basic": 2, "reversed": 1, "type_in": 1, "cloze": 1, "fields": 3,
    }  # fmt: skip
    assert result.skipped == ()
    french = source_data(sources / "languages-french.yaml")
    assert french["description"] == "French words &amp; phrases"  # as Anki has it
    cards = {card["id"]: card for card in french["cards"]}
    image = 'Where is this? <img src="eiffel tower.png">'
    assert cards["where-is-this"]["front"] == image
    assert cards["where-is-this"]["level"] == "advanced"
    assert cards["where-is-this"]["tags"] == ["landmarks"]
    assert (sources / "media" / "eiffel tower.png").read_bytes() == b"\x89PNG\r\n\x1a\nthe tower"
    assert cards["merci"]["type"] == "reversed"
    # "Basic (optional reversed card)": one note asks for its reverse card ("Add Reverse"), which
    # no card shape holds, so both its notes give their fields by name and keep their note type.
    assert cards["oui"] == {
        "id": "oui", "guid": cards["oui"]["guid"], "note_type": "Basic (optional reversed card)",
        "fields": {"Front": "oui", "Back": "yes", "Add Reverse": "y"},
    }  # fmt: skip
    assert cards["non"]["fields"] == {"Front": "non", "Back": "no"}
    assert all(card["guid"] for card in french["cards"])
    verbs_data = source_data(sources / "languages-french-verbs.yaml")
    assert verbs_data["tags"] == ["verbs"]  # on every card of that deck
    verbs = {card["id"]: card for card in verbs_data["cards"]}
    assert verbs["to-have"] == {
        "id": "to-have", "guid": verbs["to-have"]["guid"], "type": "type_in",
        "note_type": "Basic (type in the answer)", "front": "to have", "answer": "avoir",
    }  # fmt: skip
    assert verbs["je-suis-content"]["extra"] == "être, present tense"
    assert verbs["aller"]["fields"] == {"Verb": "aller", "Je": "vais", "Tu": "vas", "Il": "va"}

    # Every card keeps its Anki note type, declared as the collection has it.
    models = {m["name"]: m for m in collection.models.all()}
    assert {card["id"]: card["note_type"] for card in french["cards"]} == {
        "where-is-this": "Basic", "chat": "Basic", "merci": "Basic (and reversed card)",
        "oui": "Basic (optional reversed card)", "non": "Basic (optional reversed card)",
    }  # fmt: skip
    declared = {n["name"]: n for n in french["note_types"] + verbs_data["note_types"]}
    assert sorted(declared) == [
        "Basic", "Basic (and reversed card)", "Basic (optional reversed card)",
        "Basic (type in the answer)", "Cloze", "Conjugation table",
    ]  # fmt: skip
    for name, note_type in declared.items():
        model = models[name]
        assert "mod" not in note_type  # the lockfile holds its time
        assert (note_type["id"], note_type["css"]) == (model["id"], model["css"])
        assert [_field_name(f) for f in note_type["fields"]] == [f["name"] for f in model["flds"]]
        assert note_type["templates"] == [
            {"name": t["name"], "front": t["qfmt"], "back": t["afmt"]} for t in model["tmpls"]
        ]
    assert declared["Basic (optional reversed card)"]["fields"] == [
        {"name": "Front", "font": "Arial"}, {"name": "Back", "font": "Arial"},
        {"name": "Add Reverse", "font": "Arial"},
    ]  # fmt: skip
    assert declared["Cloze"]["fields"] == [
        {"name": "Text", "role": "text", "font": "Arial"},
        {"name": "Back Extra", "role": "extra", "font": "Arial"},
    ]
    assert result.conversions == ()


def _field_name(field: Any) -> str:
    return field if isinstance(field, str) else str(field["name"])


def test_rebuilding_a_deck_exported_by_anki_updates_those_notes_in_place(
    tmp_path: Path, collection: Collection
) -> None:
    languages = anki_collection_deck(collection, tmp_path, reverse_asked=False)
    package = export_deck(collection, languages, tmp_path / "from-anki.apkg")
    state = _learner_state(collection)

    sources = tmp_path / "sources"
    lock = tmp_path / "deckkit.lock"
    result = import_file(package, sources, lockfile=lock)
    assert result.ok, result.problems
    assert result.conversions == ()
    rebuilt = _rebuild(sources, tmp_path, lock)

    logs = [import_apkg(collection, package) for package in rebuilt.written]
    _assert_updated_in_place(collection, logs, state, updated=0)  # 'Conjugation table' too
    for nid in state.note_ids:  # every image a note shows is in the collection
        for name in re.findall(r'src="([^"]+)"', "".join(collection.get_note(nid).fields)):
            assert collection.media.have(name), name
    non = collection.get_note(collection.find_notes('"Front:non"')[0])
    assert non.note_type()["name"] == "Basic (optional reversed card)"
    assert non.fields == ["non", "no", ""]
    assert len(non.cards()) == 1  # no reverse card was asked for, none was made

    guid = by_front(cards_of(sources / "languages-french.yaml"))["chat"]["guid"]
    _edit_rebuild_reimport(
        collection, sources / "languages-french.yaml", tmp_path, lock, guid=guid, key="back",
        old="cat", new="cat (the animal)", note_ids=state.note_ids,
    )  # fmt: skip


def test_an_optional_reverse_card_note_asking_for_its_reverse_keeps_its_note_type(
    tmp_path: Path, collection: Collection
) -> None:
    """The note that once had to be changed to deckkit's note type in Anki: nothing to do now."""
    languages = anki_collection_deck(collection, tmp_path)
    package = export_deck(collection, languages, tmp_path / "from-anki.apkg")
    state = _learner_state(collection)
    sources = tmp_path / "sources"
    lock = tmp_path / "deckkit.lock"
    result = import_file(package, sources, lockfile=lock)
    assert result.conversions == ()
    rebuilt = _rebuild(sources, tmp_path, lock)
    logs = [import_apkg(collection, package) for package in rebuilt.written]
    _assert_updated_in_place(collection, logs, state, updated=0)
    oui = collection.get_note(collection.find_notes('"Front:oui"')[0])
    assert oui.note_type()["name"] == "Basic (optional reversed card)"
    assert oui.fields == ["oui", "yes", "y"]
    assert [card.reps for card in oui.cards()] == [1, 1]

    _edit_rebuild_reimport(
        collection, sources / "languages-french.yaml", tmp_path, lock, guid=oui.guid,
        key="Add Reverse", old="y", new="yes please", note_ids=state.note_ids,
    )  # fmt: skip
    assert collection.get_note(oui.id)["Add Reverse"] == "yes please"


def test_a_collection_package_comes_in_like_a_deck_package(tmp_path: Path) -> None:
    (tmp_path / "col").mkdir()
    col = Collection(str(tmp_path / "col" / "collection.anki2"))
    anki_collection_deck(col, tmp_path)
    col.export_collection_package(
        str(tmp_path / "everything.colpkg"), include_media=True, legacy=False
    )
    col.close()  # the export closed it for a full sync; this releases the backend

    result = import_file(tmp_path / "everything.colpkg", tmp_path / "sources")
    assert result.ok, result.problems
    assert result.format == "colpkg"
    assert dict(result.cards_by_type()) == {
        "basic": 2, "reversed": 1, "type_in": 1, "cloze": 1, "fields": 3,
    }  # fmt: skip
    assert [name for name, _count in result.kept] == [
        "Basic", "Basic (and reversed card)", "Basic (optional reversed card)",
        "Basic (type in the answer)", "Cloze", "Conjugation table",
    ]  # fmt: skip
    assert (tmp_path / "sources" / "media" / "eiffel tower.png").is_file()


# --- 3. text exports -------------------------------------------------------------------------


def test_an_anki_csv_export_comes_in_with_guids_types_and_media(
    tmp_path: Path, collection: Collection
) -> None:
    languages = anki_collection_deck(collection, tmp_path)
    export = tmp_path / "notes.csv"
    collection.export_note_csv(
        out_path=str(export), limit=DeckIdLimit(languages), with_html=True, with_tags=True,
        with_deck=True, with_notetype=True, with_guid=True,
    )  # fmt: skip
    result = import_file(export, tmp_path / "sources", media_dir=Path(collection.media.dir()))
    assert result.ok, result.problems
    assert result.format == "csv"
    assert dict(result.cards_by_type()) == {"basic": 3, "reversed": 2, "type_in": 1, "cloze": 1}
    assert [s.describe() for s in result.skipped] == [
        "skipped: 1 note of note type 'Conjugation table' (not in the file, and a text import "
        "cannot create note types: import the .apkg)"
    ]
    guids = {collection.get_note(nid).guid for nid in collection.find_notes("")}
    french = cards_of(tmp_path / "sources" / "languages-french.yaml")
    assert {card["guid"] for card in french} <= guids
    assert by_front(french)["chat"]["back"] == "cat"
    assert (tmp_path / "sources" / "media" / "eiffel_tower.png").is_file()
    # A text export names its note types but does not hold them (ids, templates): the cards get
    # deckkit's note types, and the summary says how to change the notes to them in Anki.
    assert not any("note_type" in card for card in french)
    assert "note_types" not in source_data(tmp_path / "sources" / "languages-french.yaml")
    assert result.kept == ()
    assert {c.note_type for c in result.conversions} == {
        "Basic", "Basic (and reversed card)", "Basic (optional reversed card)",
        "Basic (type in the answer)", "Cloze",
    }  # fmt: skip


def test_deckkit_s_own_csv_comes_back_with_every_card_type(tmp_path: Path) -> None:
    lock = tmp_path / "deckkit.lock"
    built = build([ALL_TYPES], tmp_path / "built", formats=["csv"], lockfile=lock)
    result = import_file(built.written[0], tmp_path / "sources", lockfile=lock)
    assert not result.skipped
    # Media cannot travel in a CSV: the references stay as they were and are reported.
    assert any("media file(s) referenced but not in the input" in n for n in result.notices)
    assert {p.code for p in result.problems} == {"check.media-missing"}
    copy = cards_of(tmp_path / "sources" / "all-types.yaml")
    original = cards_of(ALL_TYPES)
    assert [c["id"] for c in copy] == [c["id"] for c in original]
    for mine, theirs in zip(copy, original, strict=True):
        if "media/" not in str(theirs):
            assert {k: as_built(v) for k, v in mine.items()} == {
                k: as_built(v) for k, v in theirs.items()
            }


def test_a_hand_written_anki_text_file_with_headers(tmp_path: Path) -> None:
    result = import_file(IMPORT_FIXTURES / "anki-notes.txt", tmp_path / "sources")
    assert result.ok, result.problems
    assert result.format == "csv"
    data = source_data(tmp_path / "sources" / "imported-hand-written.yaml")
    assert data["deck"] == "Imported::Hand written"
    assert data["tags"] == ["handwritten"]
    assert data["cards"] == [
        {"id": "what-is-6-7", "level": "beginner", "tags": ["maths"],
         "front": "What is 6 × 7?", "back": "42"},
        {"id": "capital-of-japan", "tags": ["geography"],
         "front": "Capital of Japan?", "back": "<b>Tokyo</b>"},
    ]  # fmt: skip


def test_a_quizlet_export_with_the_default_separators(tmp_path: Path) -> None:
    result = import_file(IMPORT_FIXTURES / "quizlet-tab.txt", tmp_path / "sources", fmt="quizlet")
    assert result.ok, result.problems
    data = source_data(tmp_path / "sources" / "quizlet-tab.yaml")
    assert data["deck"] == "quizlet-tab"
    assert [(c["id"], c["front"], c["back"]) for c in data["cards"]] == [
        ("bonjour", "bonjour", "hello"),
        ("merci", "merci", "thank you"),
        # Quizlet text is plain: what looks like a tag stays text.
        ("2-3-5-4", "2 < 3 & 5 > 4", "an inequality written as &lt;b>plain text&lt;/b>"),
        ("chat", "chat 🐱", "cat"),
    ]
    assert "guid" not in data["cards"][0]
    assert result.notices == (
        "1 card(s) of quizlet-tab.txt hold no term/definition separator (Tab) and were left out; "
        "pass the separators chosen in Quizlet's export dialog",
    )
    built = build([tmp_path / "sources"], tmp_path / "build", formats=["quizlet"])
    assert built.ok
    assert (tmp_path / "build" / "quizlet-tab.quizlet.txt").read_text("utf-8").splitlines()[2] == (
        "2 < 3 & 5 > 4\tan inequality written as <b>plain text</b>"
    )


def test_a_quizlet_export_with_custom_separators(tmp_path: Path) -> None:
    result = import_file(
        IMPORT_FIXTURES / "quizlet-custom.txt",
        tmp_path / "sources",
        term_separator=" - ",
        card_separator=";",
        deck_name="Biology::Cells",
    )
    assert result.ok, result.problems
    assert result.format == "quizlet"  # separators given
    data = source_data(tmp_path / "sources" / "biology-cells.yaml")
    assert data["deck"] == "Biology::Cells"
    assert [(c["id"], c["front"], c["back"]) for c in data["cards"]] == [
        ("photosynthesis", "photosynthesis", "how plants turn light into sugar"),
        ("mitochondria", "mitochondria", "the cell's power plant<br>with a second line"),
        ("osmosis", "osmosis", "water crossing a membrane"),
    ]


# --- the command line and its errors ---------------------------------------------------------


def test_cli_prints_a_summary_of_what_it_wrote_kept_and_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the lockfile is ./deckkit.lock, as for `deckkit build`
    package = genanki_package(tmp_path)
    out = Path("sources")
    result = CliRunner().invoke(main, ["import", str(package), "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # stderr: that the default lockfile is used
    assert lines[0] == (
        f"imported 2 deck(s) from {package.name} (Anki package): "
        "7 cards (2 basic, 1 cloze, 2 by field name, 1 reversed, 1 type_in)"
    )
    assert lines[1:] == [
        "wrote:",
        f"  {out / 'languages.yaml'}  (Languages: 4 cards)",
        f"  {out / 'languages-verbs.yaml'}  (Languages::Verbs: 3 cards)",
        f"  {out / 'deck.schema.json'}",
        f"media: 1 file(s) extracted into {out / 'media'} under their names in the package",
        "note types kept (under note_types: the rebuilt deck updates these notes): "
        "'Simple' (2 notes), 'Both ways' (1 note), 'My cloze' (1 note), 'Spell it' (1 note), "
        "'Vocab with example' (2 notes)",
        "lockfile: deckkit.lock records the times in the package of 7 note(s) and 5 note "
        "type(s): the first build changes nothing in a learner's collection; commit it with "
        "the sources",
        f"next: deckkit validate {out} && deckkit build {out}",
    ]
    assert validate([out]).ok
    assert sorted(json.loads(Path("deckkit.lock").read_text("utf-8"))["notes"]) == [
        "languages", "languages-verbs",
    ]  # fmt: skip


def test_cli_refuses_to_overwrite_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    package = genanki_package(tmp_path)
    out = tmp_path / "sources"
    out.mkdir()
    (out / "languages.yaml").write_text("deck: mine\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["import", str(package), "-o", str(out)])
    assert refused.exit_code == 2
    assert refused.output.splitlines()[-1] == (
        f"Error: not overwriting existing files: {out / 'languages.yaml'}; "
        "use --force to replace them"
    )
    assert (out / "languages.yaml").read_text("utf-8") == "deck: mine\n"
    assert not (out / "languages-verbs.yaml").exists()  # nothing written at all
    forced = CliRunner().invoke(main, ["import", str(package), "-o", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert source_data(out / "languages.yaml")["deck"] == "Languages"
    # Importing the same thing again over identical files is fine.
    again = CliRunner().invoke(main, ["import", str(package), "-o", str(out)])
    assert again.exit_code == 0, again.output


def test_the_library_says_what_is_wrong_and_the_command_line_which_option_to_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    package = genanki_package(tmp_path)
    out = tmp_path / "sources"
    out.mkdir()
    (out / "languages.yaml").write_text("deck: mine\n", encoding="utf-8")
    with pytest.raises(TargetExists) as refused:
        import_file(package, out)
    assert str(refused.value) == f"not overwriting existing files: {out / 'languages.yaml'}"
    assert refused.value.paths == (out / "languages.yaml",)
    unknown = tmp_path / "deck.json"
    unknown.write_bytes(b"{}")
    with pytest.raises(UnknownImportFormat) as unrecognised:
        import_file(unknown, tmp_path / "out")
    assert str(unrecognised.value) == (
        "cannot tell what kind of export deck.json is from its extension"
    )
    cli = CliRunner().invoke(main, ["import", str(unknown), "-o", str(tmp_path / "out")])
    assert cli.output.splitlines()[-1] == (
        "Error: cannot tell what kind of export deck.json is from its extension; "
        "use --from apkg, colpkg, csv or quizlet"
    )
    quizlet = IMPORT_FIXTURES / "quizlet-tab.txt"
    args = ["import", str(quizlet), "--from", "quizlet", "-o", str(tmp_path / "q")]
    assert CliRunner().invoke(main, args).output.splitlines()[-2] == (
        "note: 1 card(s) of quizlet-tab.txt hold no term/definition separator (Tab) and were "
        "left out; pass the separators chosen in Quizlet's export dialog "
        "(--term-separator, --card-separator)"
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.apkg", b"not a zip file", "cannot read"),
        ("broken.colpkg", b"PK\x03\x04 truncated", "cannot read"),
        ("deck.json", b"{}", "use --from apkg, colpkg, csv or quizlet"),
        ("latin1.txt", "caf\xe9\tcoffee\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_cli_unreadable_inputs_are_usage_errors_without_traceback(
    tmp_path: Path, name: str, content: bytes, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "deckkit.lock").exists()


def test_cli_quizlet_separators_by_their_names_in_quizlet_s_dialog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    export = tmp_path / "set.txt"
    export.write_text("chien,dog;chat,cat;oiseau,bird", encoding="utf-8")
    out = tmp_path / "sources"
    args = ["import", str(export), "-o", str(out), "--term-separator", "comma"]
    result = CliRunner().invoke(main, [*args, "--card-separator", "semicolon", "--deck", "Animals"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"imported 1 deck(s) from {export.name} (Quizlet export): 3 cards (3 basic)"
    )
    data = source_data(out / "animals.yaml")
    assert [(c["front"], c["back"]) for c in data["cards"]] == [
        ("chien", "dog"),
        ("chat", "cat"),
        ("oiseau", "bird"),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anki-notes.txt", "csv"),  # starts with # header lines
        ("anki-without-header.txt", "csv"),  # three columns: Anki before 2.1.55, with tags
        ("quizlet-export.txt", "quizlet"),  # Quizlet's default export: two columns
        ("quizlet-tab.txt", "quizlet"),  # two columns, and a line of a definition's second line
        ("quizlet-custom.txt", "quizlet"),  # no tab at all
    ],
)
def test_the_reader_is_chosen_by_extension_and_first_lines(name: str, expected: str) -> None:
    assert detect_format(IMPORT_FIXTURES / name) == expected
    assert detect_format(Path("deck.APKG")) == "apkg"
    assert detect_format(Path("all.colpkg")) == "colpkg"
    assert detect_format(Path("notes.tsv")) == "csv"


def test_cli_missing_file_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["import", str(tmp_path / "nope.apkg")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_without_the_anki_package_an_apkg_import_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    package = genanki_package(tmp_path)
    monkeypatch.setitem(sys.modules, "anki.collection", None)  # makes `import anki.collection` fail
    result = CliRunner().invoke(main, ["import", str(package), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "pip install 'deckkit[anki]'" in result.output
    # Quizlet text needs no Anki at all.
    quizlet = CliRunner().invoke(
        main,
        [
            "import",
            str(IMPORT_FIXTURES / "quizlet-tab.txt"),
            "--from",
            "quizlet",
            "-o",
            str(tmp_path / "q"),
        ],
    )
    assert quizlet.exit_code == 0, quizlet.output


def test_quizlet_s_default_export_is_recognised_without_the_anki_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: a tab between term and definition and a new line between cards looks like an
    Anki text file; without Anki's header lines and with two columns it is Quizlet's."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "anki.collection", None)  # makes `import anki.collection` fail
    export = IMPORT_FIXTURES / "quizlet-export.txt"
    result = CliRunner().invoke(main, ["import", str(export), "-o", str(tmp_path / "sources")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"imported 1 deck(s) from {export} (Quizlet export): 7 cards (7 basic)"
    )
    cards = cards_of(tmp_path / "sources" / "quizlet-export.yaml")
    assert (cards[0]["front"], cards[0]["back"]) == (
        "commit",
        "a snapshot of the project, with a message saying why",
    )
    assert cards[4]["back"] == "files Git should not track, such as build/ & *.pyc"


def test_a_text_file_taken_for_anki_s_says_how_to_read_it_as_quizlet_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three columns make a .txt without header lines Anki's (an export before Anki 2.1.55, tags
    last); a Quizlet export with a tab inside a card looks the same: each message says how."""
    monkeypatch.chdir(tmp_path)
    export = IMPORT_FIXTURES / "anki-without-header.txt"
    read = import_file(export, tmp_path / "read")
    assert read.format == "csv"
    assert read.notices[-1] == (
        "anki-without-header.txt was read as an Anki text export: a line has more than two "
        "columns (tabs), and Quizlet's has two; if it is a Quizlet export, pass --from quizlet"
    )
    monkeypatch.setitem(sys.modules, "anki.collection", None)  # makes `import anki.collection` fail
    result = CliRunner().invoke(main, ["import", str(export), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].endswith(
        "pip install 'deckkit[anki]'; anki-without-header.txt was taken for an Anki text export "
        "(a line has more than two columns): if it is a Quizlet export, pass --from quizlet"
    )
    # A header line says it is Anki's: no such hint.
    headed = CliRunner().invoke(
        main, ["import", str(IMPORT_FIXTURES / "anki-notes.txt"), "-o", str(tmp_path / "h")]
    )
    assert headed.exit_code == 2
    assert "--from quizlet" not in headed.output


def test_a_deck_id_another_source_in_the_folder_uses_is_not_taken_again(tmp_path: Path) -> None:
    lock = tmp_path / "deckkit.lock"
    built = build([ALL_TYPES], tmp_path / "built", formats=["apkg"], lockfile=lock)
    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copy(ALL_TYPES, sources / "original.yaml")
    shutil.copytree(FIXTURES / "good" / "media", sources / "media")
    result = import_file(built.written[0], sources, lockfile=lock)
    # The lockfile's deck id is taken by original.yaml: the copy gets its own id and keeps GUIDs.
    assert [deck.id for deck in result.decks] == ["deckkit-tests-all-types"]
    copy = cards_of(sources / "deckkit-tests-all-types.yaml")
    assert all(card["guid"] for card in copy)
    assert validate([sources]).ok


def test_a_lockfile_that_does_not_exist_yet_is_made_with_the_package_s_times(
    tmp_path: Path,
) -> None:
    package = genanki_package(tmp_path)
    lock = tmp_path / "new.lock"
    result = import_file(package, tmp_path / "out", lockfile=lock)
    assert result.lock is not None
    assert (result.lock.path, result.lock.notes, result.lock.note_types) == (lock, 7, 5)
    assert sum(len(cards) for cards in json.loads(lock.read_text("utf-8"))["notes"].values()) == 7


def test_an_import_adds_its_entries_to_a_lockfile_and_keeps_the_others(tmp_path: Path) -> None:
    lock = tmp_path / "deckkit.lock"
    built = build([ALL_TYPES], tmp_path / "built", formats=["apkg"], lockfile=lock)
    assert built.ok, built.problems
    before = json.loads(lock.read_text("utf-8"))
    import_file(genanki_package(tmp_path), tmp_path / "sources", lockfile=lock)
    after = json.loads(lock.read_text("utf-8"))
    assert after["notes"]["all-types"] == before["notes"]["all-types"]
    assert {k: v for k, v in after["note_types"].items() if k in before["note_types"]} == (
        before["note_types"]
    )
    assert {"languages", "languages-verbs"} < set(after["notes"])


# --- cards that keep their note type -------------------------------------------------------

KEPT_SOURCE = """\
deck: Kept
id: kept
cards:
  - id: spell
    type: type_in
    note_type: Spell it
    front: to be
    answer: être
  - id: plain
    front: a deckkit card
    back: beside them
note_types:
  - name: Spell it
    id: 1600000003
    mod: 1700000123
    kind: type_in
    fields:
      - {name: Prompt, role: front}
      - {name: Notes, role: null}
      - {name: Spelling, role: answer}
    templates:
      - name: Card 1
        front: "{{Prompt}}<br>{{type:Spelling}}"
        back: "{{Prompt}}<hr id=answer>{{type:Spelling}} {{Notes}}"
    css: |
      .card { color: navy; }
      /* a < b & c, kept as written */
"""


def package_models(package: Path) -> dict[int, dict[str, Any]]:
    """Note type id → note type, from a legacy .apkg that deckkit wrote."""
    with zipfile.ZipFile(package) as archive:
        data = archive.read("collection.anki2")
    scratch = package.with_suffix(".models.anki2")
    scratch.write_bytes(data)
    connection = sqlite3.connect(scratch)
    try:
        (models,) = connection.execute("select models from col").fetchone()
    finally:
        connection.close()
        scratch.unlink()
    return {int(key): value for key, value in json.loads(models).items()}


@pytest.mark.parametrize(
    "css",
    [
        ".card {\n    color: black;\n}\n",
        "  .a { x: y; }   \n\ttabbed\r\nwindows line\n\n\n",  # spaces, tabs, CR, blank lines
        "/* 2 < 3 & a &lt; b */ .c::after { content: '{{x}}: \"y\"'; }",
        "",
    ],
)
def test_a_kept_note_type_s_templates_and_css_come_back_exactly(tmp_path: Path, css: str) -> None:
    info = NoteTypeInfo(
        id=1_500_000_000_001,
        name="Odd: one",
        fields=("Front", "Back"),
        templates=((" {{Front}}\n", "{{FrontSide}}\r\n<hr id=answer>  \n{{Back}}"),),
        mod=1_600_000_000,
        template_names=("Card: 1",),
        css=css,
    )
    note = SourceNote("g-1", info, ("front &lt; text", "back"), (), "Deck")
    plan = plan_import(Collected(notes=(note,), note_types_are_original=True))
    written = write_plan(plan, tmp_path)
    data = source_data(written.decks[0].path)
    assert data["note_types"] == [
        {"name": "Odd: one", "id": 1_500_000_000_001, "kind": "basic", "cloze": False,
         "fields": [{"name": "Front", "role": "front"}, {"name": "Back", "role": "back"}],
         "templates": [{"name": "Card: 1", "front": " {{Front}}\n",
                        "back": "{{FrontSide}}\r\n<hr id=answer>  \n{{Back}}"}],
         "css": css},
    ]  # fmt: skip
    assert validate([tmp_path]).ok


@pytest.mark.parametrize("with_lockfile", [True, False], ids=["lockfile", "no-lockfile"])
def test_a_kept_note_type_is_exported_as_declared(tmp_path: Path, with_lockfile: bool) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "kept.yaml").write_text(KEPT_SOURCE, encoding="utf-8")
    lock = tmp_path / "deckkit.lock" if with_lockfile else None
    built = build([tmp_path / "sources"], tmp_path / "build", lockfile=lock)
    assert built.ok, built.problems
    package = tmp_path / "build" / "kept.apkg"
    models = package_models(package)
    assert sorted(models) == [1_600_000_003, NOTE_TYPES["basic"].id]
    kept = models[1_600_000_003]
    # Its own id, name, fields, templates and CSS exactly, and the declared modification time
    # (not the build's), so that Anki leaves the learner's copy of it as it is.
    assert (kept["name"], kept["mod"], kept["type"]) == ("Spell it", 1_700_000_123, 0)
    assert [f["name"] for f in kept["flds"]] == ["Prompt", "Notes", "Spelling"]
    assert [(t["name"], t["qfmt"], t["afmt"]) for t in kept["tmpls"]] == [
        ("Card 1", "{{Prompt}}<br>{{type:Spelling}}",
         "{{Prompt}}<hr id=answer>{{type:Spelling}} {{Notes}}"),
    ]  # fmt: skip
    assert kept["css"] == ".card { color: navy; }\n/* a < b & c, kept as written */\n"
    # Each field filled by its role; a field without one is left empty.
    notes = {mid: flds.split("\x1f") for mid, flds, _tags in package_notes(package).values()}
    assert notes[1_600_000_003] == ["to be", "", "être"]
    assert notes[NOTE_TYPES["basic"].id] == ["a deckkit card", "beside them"]
    rows = list(csv.reader((tmp_path / "build" / "kept.csv").read_text("utf-8").splitlines()[6:]))
    assert [row[1:2] + row[4:] for row in rows] == [
        ["Spell it", "to be", "", "être"],
        ["deckkit Basic", "a deckkit card", "beside them", ""],
    ]
    if with_lockfile:
        assert lock is not None
        # The declared time becomes the note type's entry: it moves only when the note type does.
        entry = lock_from_text(lock.read_text("utf-8")).note_types["1600000003"]
        assert entry.mod == 1_700_000_123


def test_a_kept_note_type_is_part_of_the_note_hash(tmp_path: Path) -> None:
    """Moving a card to its original note type (or off it) changes the note, so its time moves."""
    (tmp_path / "sources").mkdir()
    source = tmp_path / "sources" / "kept.yaml"
    source.write_text(KEPT_SOURCE, encoding="utf-8")
    lock = tmp_path / "deckkit.lock"
    build([tmp_path / "sources"], tmp_path / "build", lockfile=lock, clock=lambda: 1_800_001_000)
    text = KEPT_SOURCE.replace(
        "  - {name: Notes, role: null}\n", "  - {name: Notes, role: extra}\n"
    )
    source.write_text(
        text.replace("    answer: être\n", "    answer: être\n    extra: irregular\n")
    )
    build([tmp_path / "sources"], tmp_path / "build", lockfile=lock, clock=lambda: 1_800_002_000)
    mods = {
        card: entry["mod"] for card, entry in json.loads(lock.read_text())["notes"]["kept"].items()
    }
    assert mods == {"spell": 1_800_002_000, "plain": 1_800_001_000}


# --- field text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "2 < 3 & 5 > 4",
        "List<T> and Map<K, V>",
        "<b>bold</b> & <i>italic</i> &amp; an entity",
        "&lt;b> is how you write a tag",
        "a <!-- comment --> & <br> break",
        "AT&T, R&D, &c.",
        "x &lt; y written as an entity",
        "&amp;lt; double",
        "",
    ],
)
def test_readable_html_is_the_exact_inverse_of_deckkit_s_escaping(written: str) -> None:
    exported = escape_bare_markup(written)
    readable = readable_html(exported)
    assert escape_bare_markup(readable) == exported  # a rebuild gives the same HTML
    if "&lt;" not in written and "&amp;" not in written:
        assert readable == written


def test_readable_html_keeps_editor_escaping_as_it_is() -> None:
    # Anki's editor escapes '>' too; undoing only '<' would leave "List<T&gt;".
    assert readable_html("List&lt;T&gt;") == "List&lt;T&gt;"
    assert readable_html("&lt;b>bold?&lt;/b>") == "&lt;b>bold?&lt;/b>"


def test_slugs_are_readable_and_valid_ids() -> None:
    assert (
        slugify("What is the capital of France?", fallback="x") == "what-is-the-capital-of-france"
    )
    assert slugify("Café crème", fallback="x") == "cafe-creme"
    assert slugify("مرحبا", fallback="card-3") == "card-3"
    long = slugify("word " * 40, fallback="x", limit=48)
    assert len(long) <= 48
    assert not long.endswith("-")


# --- shared steps ----------------------------------------------------------------------------


def _review_every_card(col: Collection) -> None:
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        card.reps = 1
        col.update_card(card)


@dataclass(frozen=True)
class _LearnerState:
    """A collection after the learner used it: every card reviewed, one due in 7 days."""

    note_ids: set[int]
    card_ids: set[int]
    note_types: list[tuple[int, str, int, str]]  # (id, name, mod, css)
    due_card: int
    due: int


def _note_types(col: Collection) -> list[tuple[int, str, int, str]]:
    return sorted((m["id"], m["name"], m["mod"], m["css"]) for m in col.models.all())


def _learner_state(col: Collection) -> _LearnerState:
    _review_every_card(col)
    due_card = min(col.find_cards(""))
    col.sched.set_due_date([due_card], "7")
    return _LearnerState(
        note_ids=set(col.find_notes("")),
        card_ids=set(col.find_cards("")),
        note_types=_note_types(col),
        due_card=due_card,
        due=col.get_card(due_card).due,
    )


def _rebuild(sources: Path, tmp_path: Path, lock: Path) -> BuildResult:
    """`deckkit build` with a lockfile, a minute after the learner's last change."""
    later = time.time() + 60
    rebuilt = build(
        [sources], tmp_path / "build", formats=["apkg"], lockfile=lock, clock=lambda: later
    )
    assert rebuilt.ok, rebuilt.problems
    return rebuilt


def _assert_updated_in_place(
    col: Collection, logs: list[Any], state: _LearnerState, *, updated: int
) -> None:
    """Imported with Anki's defaults: the notes updated, nothing added, nothing conflicting, the
    review state kept, and the learner's note types left as they were (none forked as "X+")."""
    assert sum(len(log.new) for log in logs) == 0
    assert sum(len(log.conflicting) for log in logs) == 0
    assert sum(len(log.updated) for log in logs) == updated
    assert set(col.find_notes("")) == state.note_ids
    assert set(col.find_cards("")) == state.card_ids
    assert all(col.get_card(cid).reps >= 1 for cid in state.card_ids)
    assert col.get_card(state.due_card).due == state.due
    assert _note_types(col) == state.note_types
    assert not any(name.endswith("+") for _id, name, _mod, _css in _note_types(col))


def _import_then_change_note_types(
    col: Collection, packages: tuple[Path, ...], sources: Path, result: ImportResult
) -> None:
    """What the summary tells the learner to do once: import (the notes conflict: another note
    type), change the note type of those notes as listed, import again: nothing conflicts."""
    before = col.note_count()
    first = [import_apkg(col, package) for package in packages]
    assert sum(len(log.conflicting) for log in first) == sum(c.count for c in result.conversions)
    assert sum(len(log.new) for log in first) == 0
    targets = {
        card["guid"]: card.get("type", "basic")
        for path in sources.glob("*.yaml")
        for card in cards_of(path)
    }
    kinds = {nt.name: kind for kind, nt in NOTE_TYPES.items()}
    for conversion in result.conversions:
        old = col.models.by_name(conversion.note_type)
        new = col.models.by_name(conversion.target)
        assert old, conversion
        assert new, conversion
        note_ids = [
            nid
            for nid in col.models.nids(old["id"])
            if targets.get(col.get_note(nid).guid) == kinds[conversion.target]
        ]
        assert len(note_ids) == conversion.count
        request = col.models.change_notetype_info(
            old_notetype_id=old["id"], new_notetype_id=new["id"]
        ).input
        old_fields = [f["name"] for f in old["flds"]]
        mapping = dict((theirs, mine) for mine, theirs in conversion.fields)
        del request.new_fields[:]
        request.new_fields.extend(
            old_fields.index(mapping[f["name"]]) if f["name"] in mapping else -1
            for f in new["flds"]
        )
        request.note_ids.extend(note_ids)
        col.models.change_notetype_of_notes(request)
    col.models._clear_cache()
    again = [import_apkg(col, package) for package in packages]
    assert sum(len(log.conflicting) + len(log.new) for log in again) == 0
    assert col.note_count() == before


def _edit_rebuild_reimport(
    col: Collection, source: Path, tmp_path: Path, lock: Path, *, guid: str, key: str, old: str,
    new: str, note_ids: set[int],
) -> None:  # fmt: skip
    """Edit one field in the YAML (a card key, or a field the card gives by name), rebuild,
    import with Anki's defaults: that note is updated."""
    text = source.read_text("utf-8")
    data = yaml.safe_load(text)
    card = next(c for c in data["cards"] if c.get("guid") == guid)
    by_name = key not in card
    assert (card["fields"] if by_name else card)[key] == old
    indent = " " * (6 if by_name else 4)
    line = f"{indent}{key}: {old}\n"
    assert text.count(line) == 1
    source.write_text(text.replace(line, f"{indent}{key}: {new}\n"), encoding="utf-8")
    later = (
        time.time() + 120
    )  # after the first rebuild, and after Anki stamped the notes it updated
    rebuilt = build(
        [source.parent], tmp_path / "build", formats=["apkg"], lockfile=lock, clock=lambda: later
    )
    assert rebuilt.ok, rebuilt.problems
    package = tmp_path / "build" / f"{data['id']}.apkg"
    log = import_apkg(col, package)
    assert len(log.updated) == 1
    assert len(log.new) == 0
    assert len(log.conflicting) == 0
    assert set(col.find_notes("")) == note_ids
    note = col.get_note(col.db.scalar("select id from notes where guid = ?", guid))
    field_index = 1 if key == "back" else 0
    assert (note[key] if by_name else note.fields[field_index]) == new


def test_import_result_lists_every_file_written(tmp_path: Path) -> None:
    result: ImportResult = import_file(genanki_package(tmp_path), tmp_path / "sources")
    on_disk = sorted(p for p in (tmp_path / "sources").rglob("*") if p.is_file())
    assert sorted(result.written) == on_disk
