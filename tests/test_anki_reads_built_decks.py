"""Built decks read back by Anki itself: the `anki` package imports each .apkg and CSV into a fresh
collection, as Anki desktop does, and renders every card."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
from anki.collection import Collection

from conftest import FIXTURES, REPO, import_apkg, import_csv
from deckkit import BuildResult, build, validate

# Reaches inside: some decks here are made in code and written by one exporter at a time, to pin
# what Anki reads from each format on its own.
from deckkit.cardtypes import Basic
from deckkit.exporters.apkg import write_apkg
from deckkit.exporters.csv import write_csv
from deckkit.model import Card, Deck, deck_from_source, note_guid
from deckkit.notetypes import NOTE_TYPES
from deckkit.sources.declared import is_note_type_file
from deckkit.sources.discovery import SOURCE_SUFFIXES
from deckkit.sources.loader import load_source
from deckkit.stamps import Stamps

GOOD = FIXTURES / "good"
ALL_TYPES = GOOD / "all-types.yaml"
DECK_ID = "all-types"
DECK_NAME = "deckkit Tests::All types"

# What Anki writes into a rendered card when a template or a note is broken.
TEMPLATE_ERRORS = (
    "The front of this card is blank",
    "there is no field called",
    "No cloze",
    "{{",
)
# Anki cards per note, by card id in all-types.yaml.
EXPECTED_CARDS = {
    "basic-tricky-text": 1,
    "basic-rtl": 1,
    "reversed-greeting": 2,
    "cloze-capital": 2,
    "type-in-product": 1,
    "mc-single-answer": 1,
    "mc-list-answer": 1,
    "open-fine-tuning": 1,
    "basic-two-pictures": 1,
}
EXPECTED_NOTE_TYPES = {
    "basic-tricky-text": "deckkit Basic",
    "basic-rtl": "deckkit Basic",
    "reversed-greeting": "deckkit Basic (and reversed card)",
    "cloze-capital": "deckkit Cloze",
    "type-in-product": "deckkit Type-in",
    "mc-single-answer": "deckkit Multiple choice",
    "mc-list-answer": "deckkit Multiple choice",
    "open-fine-tuning": "deckkit Explain",
    "basic-two-pictures": "deckkit Basic",
}
DECK_TAGS = {"deckkit-test", "fixtures::good"}
EXPECTED_TAGS = {
    "basic-tricky-text": DECK_TAGS | {"markup", "level::beginner"},
    "basic-rtl": DECK_TAGS | {"rtl"},
    "reversed-greeting": DECK_TAGS | {"level::intermediate"},
    "cloze-capital": DECK_TAGS | {"level::beginner"},
    "type-in-product": DECK_TAGS,
    "mc-single-answer": DECK_TAGS | {"level::intermediate"},
    "mc-list-answer": DECK_TAGS | {"several-right", "level::advanced"},
    "open-fine-tuning": DECK_TAGS | {"level::advanced"},
    "basic-two-pictures": DECK_TAGS | {"media"},
}

_STYLE = re.compile(r"<style>.*?</style>", re.DOTALL)
_BLOCK_TAG = re.compile(r"</?(?:br|div|p|li|ul|ol|hr|tr|td|h[1-6])\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_IMG_SRC = re.compile(r"""<img\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_SOUND = re.compile(r"\[sound:([^\]]+)\]")


# --- helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """One Anki card as the reviewer shows it: card template name, question and answer HTML."""

    card_id: str
    template: str
    ord: int
    question: str
    answer: str

    @property
    def question_body(self) -> str:
        return _STYLE.sub("", self.question)

    @property
    def answer_body(self) -> str:
        return _STYLE.sub("", self.answer)


def visible_text(html: str) -> str:
    """The text a learner sees: styles and tags removed, entities decoded, spaces collapsed."""
    text = _TAG.sub("", _BLOCK_TAG.sub(" ", _STYLE.sub("", html)))
    return " ".join(unescape(text).split())


def card_ids_by_guid(deck_id: str, card_ids: Iterator[str] | list[str]) -> dict[str, str]:
    return {note_guid(deck_id, card_id): card_id for card_id in card_ids}


GUID_TO_CARD_ID = card_ids_by_guid(DECK_ID, list(EXPECTED_CARDS))


def render_all(col: Collection, guid_to_id: dict[str, str]) -> list[Rendered]:
    """Every card in the collection, rendered, sorted by source card id and template order."""
    rendered = []
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        note = card.note()
        rendered.append(
            Rendered(
                card_id=guid_to_id.get(note.guid, note.guid),
                template=card.template()["name"],
                ord=card.ord,
                question=card.question(),
                answer=card.answer(),
            )
        )
    return sorted(rendered, key=lambda r: (r.card_id, r.ord))


def rendering_problems(rendered: list[Rendered]) -> list[str]:
    """What is wrong with each rendered card: a blank side, an unrendered field, Anki's errors."""
    found = []
    for card in rendered:
        name = f"{card.card_id}/{card.template}"
        for side, html in (("question", card.question_body), ("answer", card.answer_body)):
            has_media = bool(_IMG_SRC.search(html) or _SOUND.search(html))
            if not visible_text(html) and not has_media:
                found.append(f"{name}: blank {side}")
            for error in TEMPLATE_ERRORS:
                if error in html:
                    found.append(f"{name}: {side} contains {error!r}: {html[:300]!r}")
    return found


def notes_by_card_id(col: Collection) -> dict[str, object]:
    return {
        GUID_TO_CARD_ID.get(col.get_note(nid).guid, col.get_note(nid).guid): col.get_note(nid)
        for nid in col.find_notes("")
    }


def snapshot(col: Collection) -> dict[str, tuple[str, tuple[str, ...], frozenset[str]]]:
    """Per note GUID: note type name, fields and tags."""
    result = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        result[note.guid] = (note.note_type()["name"], tuple(note.fields), frozenset(note.tags))
    return result


def note_id_for_guid(col: Collection, guid: str) -> int:
    """The id of the note with this GUID (GUIDs hold characters Anki's search syntax reserves)."""
    (nid,) = [nid for nid in col.find_notes("") if col.get_note(nid).guid == guid]
    return nid


def only_card(rendered: list[Rendered], card_id: str, ord: int = 0) -> Rendered:
    matches = [r for r in rendered if r.card_id == card_id and r.ord == ord]
    assert len(matches) == 1, f"expected one card {card_id} ord {ord}, found {matches}"
    return matches[0]


def built_deck(result: BuildResult, out: Path, suffix: str) -> Path:
    assert result.ok, "\n".join(str(p) for p in result.problems)
    path = out / f"{result.decks[0].id}{suffix}"
    assert path in result.written
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


@pytest.fixture
def built(out: Path) -> BuildResult:
    """all-types.yaml built into a fresh folder."""
    result = build([ALL_TYPES], out)
    assert result.ok, "\n".join(str(p) for p in result.problems)
    return result


@pytest.fixture
def imported(collection: Collection, built: BuildResult, out: Path) -> Collection:
    """A fresh collection with all-types.apkg imported."""
    log = import_apkg(collection, out / f"{DECK_ID}.apkg")
    assert len(log.new) == len(EXPECTED_CARDS)
    return collection


# --- the .apkg -------------------------------------------------------------------------------


def test_apkg_import_creates_the_deck_as_a_sub_deck(imported: Collection) -> None:
    names = {d.name for d in imported.decks.all_names_and_ids()}
    assert {"deckkit Tests", DECK_NAME} <= names
    deck_id = imported.decks.id_for_name(DECK_NAME)
    assert deck_id
    assert set(imported.find_cards("")) == set(imported.find_cards(f'"deck:{DECK_NAME}"'))


def test_apkg_import_brings_the_six_deckkit_note_types(imported: Collection) -> None:
    names = {m.name for m in imported.models.all_names_and_ids()}
    expected = {note_type.name for note_type in NOTE_TYPES.values()}
    assert len(expected) == 6
    assert expected <= names
    for note_type in NOTE_TYPES.values():
        model = imported.models.by_name(note_type.name)
        assert model is not None
        assert [f["name"] for f in model["flds"]] == list(note_type.fields)


def test_each_card_becomes_one_note_of_its_note_type(imported: Collection) -> None:
    notes = notes_by_card_id(imported)
    assert set(notes) == set(EXPECTED_CARDS)
    assert imported.note_count() == len(EXPECTED_CARDS)
    assert {card_id: note.note_type()["name"] for card_id, note in notes.items()} == (  # type: ignore[attr-defined]
        EXPECTED_NOTE_TYPES
    )


def test_reversed_makes_two_cards_and_cloze_one_per_deletion_number(
    imported: Collection, built: BuildResult
) -> None:
    notes = notes_by_card_id(imported)
    cards_per_note = {card_id: len(note.cards()) for card_id, note in notes.items()}  # type: ignore[attr-defined]
    assert cards_per_note == EXPECTED_CARDS
    assert imported.card_count() == sum(EXPECTED_CARDS.values()) == built.anki_cards()


def test_every_card_renders_without_blank_sides_or_template_errors(imported: Collection) -> None:
    rendered = render_all(imported, GUID_TO_CARD_ID)
    assert len(rendered) == sum(EXPECTED_CARDS.values())
    assert rendering_problems(rendered) == []


def test_bare_less_than_and_ampersand_render_as_literal_text(imported: Collection) -> None:
    card = only_card(render_all(imported, GUID_TO_CARD_ID), "basic-tricky-text")
    assert "2 &lt; 3 &amp; 5 " in card.question_body
    assert re.search(r"List&lt;T(&gt;|>)", card.answer_body)
    assert "<T>" not in card.answer_body
    assert "2 < 3 & 5 > 4?" in visible_text(card.question)
    assert "List<T> is a generic type." in visible_text(card.answer)


def test_tabs_quotes_commas_and_newlines_survive_the_import(imported: Collection) -> None:
    note = notes_by_card_id(imported)["basic-tricky-text"]
    front, back = note.fields  # type: ignore[attr-defined]
    assert "?\tA tab, a comma, \"double\" and 'single' quotes" in front
    # Written on two lines: Anki gets the line break as one it shows (README "HTML in fields").
    assert back == "Yes, and List&lt;T> is a generic type.<br>A second line with an emoji 🎉"


def test_emoji_and_right_to_left_text_render_unchanged(imported: Collection) -> None:
    rendered = render_all(imported, GUID_TO_CARD_ID)
    rtl = only_card(rendered, "basic-rtl")
    assert "Arabic: مرحبا بالعالم" in rtl.question_body
    assert "Hebrew: שלום עולם" in rtl.answer_body
    assert "🎉" in only_card(rendered, "basic-tricky-text").answer_body


def test_reversed_note_asks_once_each_way(imported: Collection) -> None:
    rendered = render_all(imported, GUID_TO_CARD_ID)
    forward = only_card(rendered, "reversed-greeting", 0)
    backward = only_card(rendered, "reversed-greeting", 1)
    assert visible_text(forward.question) == "hello, world"
    assert visible_text(backward.question) == "bonjour, le monde"
    assert "bonjour, le monde" in visible_text(forward.answer)
    assert "hello, world" in visible_text(backward.answer)


def test_cloze_cards_hide_one_deletion_number_each_and_show_the_hint(imported: Collection) -> None:
    rendered = render_all(imported, GUID_TO_CARD_ID)
    first = only_card(rendered, "cloze-capital", 0)
    second = only_card(rendered, "cloze-capital", 1)
    # c1 appears twice: the first occurrence carries the hint, the second a plain blank.
    assert (
        visible_text(first.question)
        == "[a city] is the capital of France; [...] lies on the Seine."
    )
    assert (
        visible_text(second.question) == "Paris is the capital of [...]; Paris lies on the Seine."
    )
    assert "Paris is the capital of France; Paris lies on the Seine." in visible_text(first.answer)
    for card in (first, second):
        assert "Two deletion numbers, so two cards; 2 &lt; 3 here too." in card.answer_body


def test_type_in_card_asks_for_the_typed_answer(imported: Collection) -> None:
    card = only_card(render_all(imported, GUID_TO_CARD_ID), "type-in-product")
    assert "7 × 8 = ?" in card.question_body
    assert "[[type:Answer]]" in card.question_body
    assert "[[type:Answer]]" in card.answer_body
    assert "Times tables." in card.answer_body
    note = notes_by_card_id(imported)["type-in-product"]
    assert note["Answer"] == "56"  # type: ignore[index]


def test_type_in_extra_plays_the_packed_sound_on_the_back(imported: Collection) -> None:
    note = notes_by_card_id(imported)["type-in-product"]
    card = note.cards()[0]  # type: ignore[attr-defined]
    output = card.render_output()
    assert output.question_av_tags == []
    sounds = [tag.filename for tag in output.answer_av_tags]
    assert len(sounds) == 1
    assert re.fullmatch(r"bell-[0-9a-f]+\.wav", sounds[0])


def _choice_items(html: str) -> dict[str, str]:
    """letter → the <li> element's opening tag and content, from a rendered choices list."""
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r'<li data-letter="([A-H])"[^>]*>.*?</li>', html, re.DOTALL)
    }


def test_multiple_choice_front_lists_the_choices_without_revealing_the_answer(
    imported: Collection,
) -> None:
    card = only_card(render_all(imported, GUID_TO_CARD_ID), "mc-single-answer")
    items = _choice_items(card.question_body)
    assert list(items) == ["A", "B", "C", "D"]
    assert "Which of these is a generic type?" in card.question_body
    assert "correct" not in card.question_body
    assert "List&lt;T" in items["A"]
    assert "2 &lt; 3" in items["C"]
    assert "A &amp; B" in items["D"]


def test_multiple_choice_back_marks_the_right_choice(imported: Collection) -> None:
    card = only_card(render_all(imported, GUID_TO_CARD_ID), "mc-single-answer")
    items = _choice_items(card.answer_body)
    marked = [letter for letter, item in items.items() if 'class="correct"' in item]
    assert marked == ["A"]
    assert "List&lt;T" in items["A"]
    assert "Answer: A" in visible_text(card.answer)
    assert "List&lt;T&gt; takes a type parameter T." in card.answer_body or (
        "List&lt;T> takes a type parameter T." in card.answer_body
    )


def test_multiple_choice_with_a_list_answer_marks_every_right_choice(imported: Collection) -> None:
    card = only_card(render_all(imported, GUID_TO_CARD_ID), "mc-list-answer")
    items = _choice_items(card.answer_body)
    marked = [letter for letter, item in items.items() if 'class="correct"' in item]
    assert marked == ["A", "C"]
    assert "Answer: A, C" in visible_text(card.answer)


def test_open_front_shows_the_prompt_and_a_hint_link(imported: Collection) -> None:
    card = only_card(render_all(imported, GUID_TO_CARD_ID), "open-fine-tuning")
    body = card.question_body
    assert "Explain in your own words why fine-tuning adapts a model to a domain." in body
    # Anki's {{hint:}} filter: a link, and the hint in a hidden block it reveals.
    assert re.search(r"<a class=hint[^>]*>\s*Hint</a>", body)
    assert re.search(r'style="display: none">Think about what the weights learn', body)
    assert "Key concepts" not in body


def test_open_back_shows_the_concept_count_the_concepts_and_the_model_answer(
    imported: Collection,
) -> None:
    card = only_card(render_all(imported, GUID_TO_CARD_ID), "open-fine-tuning")
    text = visible_text(card.answer)
    assert "Key concepts: 4" in text
    for concept in (
        "The weights are updated on domain data",
        "The model learns the domain's vocabulary & style",
        "Pre-trained knowledge is kept as a starting point",
        "Fewer examples are needed than training from scratch",
    ):
        assert concept in text
    assert card.answer_body.count('type="checkbox"') == 4
    assert "Fine-tuning continues training on domain examples" in text


def test_media_are_in_the_collection_under_the_names_the_fields_use(imported: Collection) -> None:
    media_dir = Path(imported.media.dir())
    references = []
    for nid in imported.find_notes(""):
        for field in imported.get_note(nid).fields:
            references += _IMG_SRC.findall(field) + _SOUND.findall(field)
    assert len(references) == 3
    for name in references:
        assert "/" not in name, f"{name} still has a folder"
        assert (media_dir / name).is_file(), f"{name} is referenced but not in the collection"


def test_two_pictures_with_one_name_are_packed_under_different_names(imported: Collection) -> None:
    note = notes_by_card_id(imported)["basic-two-pictures"]
    media_dir = Path(imported.media.dir())
    (front_pic,) = _IMG_SRC.findall(note["Front"])  # type: ignore[index]
    (back_pic,) = _IMG_SRC.findall(note["Back"])  # type: ignore[index]
    assert front_pic != back_pic
    assert (media_dir / front_pic).read_bytes() == (GOOD / "media" / "a" / "pic.png").read_bytes()
    assert (media_dir / back_pic).read_bytes() == (GOOD / "media" / "b" / "pic.png").read_bytes()


def test_sound_file_in_the_collection_is_the_source_file(imported: Collection) -> None:
    note = notes_by_card_id(imported)["type-in-product"]
    (sound,) = _SOUND.findall(note["Extra"])  # type: ignore[index]
    assert (Path(imported.media.dir()) / sound).read_bytes() == (
        GOOD / "media" / "bell.wav"
    ).read_bytes()


def test_package_media_map_holds_each_packed_file_once(built: BuildResult, out: Path) -> None:
    import zipfile

    with zipfile.ZipFile(out / f"{DECK_ID}.apkg") as archive:
        media_map = json.loads(archive.read("media"))
    assert len(media_map) == 3
    assert len(set(media_map.values())) == 3


def test_tags_include_deck_card_and_level_tags(imported: Collection) -> None:
    tags = {card_id: set(note.tags) for card_id, note in notes_by_card_id(imported).items()}  # type: ignore[attr-defined]
    assert tags == EXPECTED_TAGS


# --- the CSV, after the .apkg ----------------------------------------------------------------


def test_csv_after_apkg_adds_no_note_and_keeps_fields_and_tags(
    imported: Collection, out: Path
) -> None:
    before = snapshot(imported)
    cards_before = imported.card_count()
    log = import_csv(imported, out / f"{DECK_ID}.csv")
    assert list(log.new) == []
    assert list(log.conflicting) == []
    assert list(log.missing_notetype) == []
    assert len(log.duplicate) + len(log.updated) == len(EXPECTED_CARDS)
    assert imported.note_count() == len(EXPECTED_CARDS)
    assert imported.card_count() == cards_before
    assert snapshot(imported) == before


def test_csv_carries_every_field_and_tag_by_itself(imported: Collection, out: Path) -> None:
    """Stale the collection's notes, then the CSV alone must restore what the .apkg brought."""
    expected = snapshot(imported)
    for nid in imported.find_notes(""):
        note = imported.get_note(nid)
        note.fields = [f"{value} (stale)" for value in note.fields]
        note.tags = ["stale"]
        imported.update_note(note)
    assert snapshot(imported) != expected
    log = import_csv(imported, out / f"{DECK_ID}.csv")
    assert list(log.new) == []
    assert len(log.updated) == len(EXPECTED_CARDS)
    assert snapshot(imported) == expected


def test_csv_row_whose_guid_starts_with_hash_updates_its_note(
    collection: Collection, tmp_path: Path
) -> None:
    """A GUID starting with '#' must not turn the row into a comment line."""
    cards = (
        Card("hash", "basic", "#starts-with-hash", Basic("hash front", "hash back"), ("t",), None),
        Card("plain", "basic", "plain-guid", Basic("plain front", "plain back"), (), None),
    )
    deck = Deck("hash-deck", "Hash deck", "", 1_234_567_890, cards, (), tmp_path / "x.yaml")
    write_apkg(deck, tmp_path / "hash.apkg", Stamps(default=1_700_000_000))
    write_csv(deck, tmp_path / "hash.csv")
    import_apkg(collection, tmp_path / "hash.apkg")
    note = collection.get_note(collection.find_notes('"hash front"')[0])
    note["Back"] = "changed in Anki"
    collection.update_note(note)
    log = import_csv(collection, tmp_path / "hash.csv")
    assert list(log.new) == []
    assert collection.note_count() == 2
    note = collection.get_note(note.id)
    assert note.guid == "#starts-with-hash"
    assert note["Back"] == "hash back"


# --- rebuilding after an edit ----------------------------------------------------------------


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """A copy of the good fixtures, to edit; copytree keeps the files' modification times."""
    copy = tmp_path / "sources"
    shutil.copytree(GOOD, copy)
    return copy / ALL_TYPES.name


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    previous = path.stat().st_mtime
    path.write_text(text.replace(old, new), encoding="utf-8")
    later = max(previous, path.stat().st_mtime) + 60
    os.utime(path, (later, later))


def test_rebuilt_deck_updates_the_edited_note_in_place(
    collection: Collection, source_copy: Path, tmp_path: Path
) -> None:
    first = build([source_copy], tmp_path / "out1")
    import_apkg(collection, built_deck(first, tmp_path / "out1", ".apkg"))
    guid = note_guid(DECK_ID, "basic-rtl")
    nid = note_id_for_guid(collection, guid)
    cards_before = collection.card_count()

    _edit(source_copy, 'back: "Hebrew: שלום עולם"', 'back: "Hebrew, edited: שלום עולם"')
    second = build([source_copy], tmp_path / "out2")
    log = import_apkg(collection, built_deck(second, tmp_path / "out2", ".apkg"))

    assert list(log.new) == []
    assert collection.note_count() == len(EXPECTED_CARDS)
    assert collection.card_count() == cards_before
    note = collection.get_note(nid)
    assert note.guid == guid
    assert note["Back"] == "Hebrew, edited: שלום עולם"
    assert note["Front"] == "Arabic: مرحبا بالعالم"


def test_rebuilt_cloze_with_a_new_deletion_number_gains_a_card(
    collection: Collection, source_copy: Path, tmp_path: Path
) -> None:
    first = build([source_copy], tmp_path / "out1")
    import_apkg(collection, built_deck(first, tmp_path / "out1", ".apkg"))
    guid = note_guid(DECK_ID, "cloze-capital")
    nid = note_id_for_guid(collection, guid)

    _edit(source_copy, "lies on the Seine.", "lies on the {{c3::Seine}}.")
    second = build([source_copy], tmp_path / "out2")
    log = import_apkg(collection, built_deck(second, tmp_path / "out2", ".apkg"))

    assert list(log.new) == []
    note = collection.get_note(nid)
    assert "{{c3::Seine}}" in note["Text"]
    assert sorted(card.ord for card in note.cards()) == [0, 1, 2]
    assert collection.card_count() == sum(EXPECTED_CARDS.values()) + 1 == second.anki_cards()


def test_reimporting_an_unchanged_rebuild_updates_nothing(
    collection: Collection, source_copy: Path, tmp_path: Path
) -> None:
    first = build([source_copy], tmp_path / "out1")
    import_apkg(collection, built_deck(first, tmp_path / "out1", ".apkg"))
    second = build([source_copy], tmp_path / "out2")  # a fresh output folder
    log = import_apkg(collection, built_deck(second, tmp_path / "out2", ".apkg"))
    assert list(log.new) == []
    assert list(log.updated) == []
    assert len(log.duplicate) == len(EXPECTED_CARDS)


# --- the repository's own decks --------------------------------------------------------------


def _repository_decks() -> list[object]:
    sources = REPO / "sources"
    found = (
        sorted(
            p
            for p in sources.rglob("*")
            if p.suffix in SOURCE_SUFFIXES
            and p.is_file()
            # A note-type file is read by the decks naming it; it has no cards of its own.
            and not is_note_type_file(load_source(p).data)
        )
        if sources.is_dir()
        else []
    )
    params: list[object] = [pytest.param(p, id=str(p.relative_to(REPO))) for p in found]
    # The starter deck `deckkit init` writes is a deck of the repository too; it also keeps this
    # test from being an empty (skipped) parametrization while sources/ is still being written.
    init = REPO / "src" / "deckkit" / "data" / "init" / "example.yaml"
    params.append(pytest.param(init, id="deckkit-init-example"))
    return params


@pytest.mark.parametrize("source", _repository_decks())
def test_repository_deck_imports_with_every_card_rendering(
    source: Path, collection: Collection, tmp_path: Path
) -> None:
    result = build([source], tmp_path / "out")
    assert result.ok, "\n".join(str(p) for p in result.problems)
    (summary,) = result.decks
    deck = deck_from_source(validate([source]).sources[0])
    assert (summary.id, summary.notes) == (deck.id, len(deck.cards))
    log = import_apkg(collection, built_deck(result, tmp_path / "out", ".apkg"))
    assert len(log.new) == len(deck.cards)
    assert collection.note_count() == len(deck.cards)
    assert collection.card_count() == result.anki_cards()
    assert deck.name in {d.name for d in collection.decks.all_names_and_ids()}
    guid_to_id = {card.guid: card.id for card in deck.cards}
    rendered = render_all(collection, guid_to_id)
    assert {r.card_id for r in rendered} == set(guid_to_id.values())
    assert rendering_problems(rendered) == []
    media_dir = Path(collection.media.dir())
    for media in deck.media:
        assert (media_dir / media.packed_name).read_bytes() == media.source.read_bytes()

    before = snapshot(collection)
    csv_log = import_csv(collection, built_deck(result, tmp_path / "out", ".csv"))
    assert list(csv_log.new) == []
    assert snapshot(collection) == before
