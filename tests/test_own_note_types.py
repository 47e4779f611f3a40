"""Note types of the author's own (``note_types``, note-type files, cards giving ``fields``) and
decks kept exactly as Anki had them, read back through Anki's own importer."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection

from conftest import FIXTURES, import_apkg
from deckkit import build, validate
from deckkit.lockfile import Entry, LockfileError, deck_lines, lock_from_text

OWN = FIXTURES / "own_note_types"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """The course folder (two decks sharing a note-type file), built with a lockfile."""
    shutil.copytree(OWN / "course", tmp_path / "sources")
    result = build([tmp_path / "sources"], tmp_path / "build", lockfile=tmp_path / "deckkit.lock")
    assert result.ok, result.problems
    return tmp_path


def test_a_declared_note_type_reaches_anki_with_its_fields_options_templates_and_latex(
    course: Path, collection: Collection
) -> None:
    log = import_apkg(collection, course / "build" / "japanese-n5.apkg")
    assert len(log.new) == 3
    vocab = collection.models.by_name("Vocab")
    assert vocab is not None
    assert vocab["id"] == 1764230000042
    fields = {f["name"]: f for f in vocab["flds"]}
    assert [f["name"] for f in vocab["flds"]] == ["Word", "Reading", "Meaning", "Arabic"]
    assert (fields["Word"]["font"], fields["Word"]["size"]) == ("Noto Sans JP", 28)
    assert fields["Meaning"]["description"] == "In English"
    arabic = fields["Arabic"]
    assert arabic["rtl"]
    assert arabic["sticky"]
    assert arabic["plainText"]
    assert arabic["collapsed"]
    assert arabic["excludeFromSearch"]
    assert vocab["sortf"] == 2  # Meaning
    assert "\\usepackage{tikz}" in vocab["latexPre"]
    assert vocab["latexPost"].endswith("% vocab")
    assert vocab["latexsvg"] is True
    front_file = (OWN / "course" / "templates" / "vocab-front.html").read_text("utf-8")
    assert vocab["tmpls"][0]["qfmt"] == front_file  # the template file, byte for byte
    assert vocab["tmpls"][0]["bqfmt"] == "{{Word}}"
    assert (vocab["tmpls"][0]["bfont"], vocab["tmpls"][0]["bsize"]) == ("Arial", 12)
    assert vocab["css"] == (OWN / "course" / "templates" / "vocab.css").read_text("utf-8")
    assert "_vocab.js" in {p.name for p in Path(collection.media.dir()).iterdir()}


def test_cards_give_fields_by_name_and_anki_makes_the_cards_their_templates_ask_for(
    course: Path, collection: Collection
) -> None:
    import_apkg(collection, course / "build" / "japanese-n5.apkg")
    notes = {
        collection.get_note(n)["Word"]: collection.get_note(n)
        for n in collection.find_notes("note:Vocab")
    }
    assert notes["猫"]["Reading"] == "ねこ"
    assert notes["猫"]["Meaning"] == "cat"
    assert notes["猫"]["Arabic"] == ""
    # The Production card's front shows Meaning only: no Meaning, no card (Anki's own rule).
    assert len(notes["猫"].cards()) == 2
    assert len(notes["犬"].cards()) == 1


def test_a_card_giving_deckkit_basics_fields_by_name_is_the_same_note_as_a_basic_card(
    course: Path,
) -> None:
    def notes(apkg: Path) -> dict[str, tuple[str, int, str]]:
        with zipfile.ZipFile(apkg) as package:
            data = package.read("collection.anki2")
        path = course / "probe.anki2"
        path.write_bytes(data)
        with sqlite3.connect(path) as db:
            rows = db.execute("select guid, mid, flds from notes").fetchall()
        path.unlink()
        return {guid: (guid, mid, flds) for guid, mid, flds in rows}

    by_fields = notes(course / "build" / "japanese-n5.apkg")
    assert len(by_fields) == 3
    # The same card written as a basic card: the same GUID, note type and fields.
    (course / "sources" / "japanese.yaml").write_text(
        (course / "sources" / "japanese.yaml")
        .read_text("utf-8")
        .replace(
            "    note_type: deckkit Basic    # one of deckkit's six, its fields given by name\n"
            "    fields: {Front: What is the capital of Japan?, Back: Tokyo}\n",
            "    front: What is the capital of Japan?\n    back: Tokyo\n",
        ),
        "utf-8",
    )
    result = build([course / "sources"], course / "build", lockfile=course / "deckkit.lock")
    assert result.ok
    assert notes(course / "build" / "japanese-n5.apkg") == by_fields


def test_a_cloze_note_type_of_six_fields_makes_one_card_per_deletion(
    course: Path, collection: Collection
) -> None:
    import_apkg(collection, course / "build" / "history.apkg")
    cloze = collection.models.by_name("Six-field cloze")
    assert cloze is not None
    assert cloze["type"] == 1
    (note_id,) = collection.find_notes("note:Six-field*")
    note = collection.get_note(note_id)
    assert note["Source"] == "Textbook p. 12"
    assert sorted(card.ord for card in note.cards()) == [0, 1]


def test_the_lockfile_holds_each_declared_note_type_once_with_its_schema(course: Path) -> None:
    lock = lock_from_text((course / "deckkit.lock").read_text("utf-8"))
    entry = lock.note_types["1764230000042"]
    assert entry.schema is not None
    assert set(lock.notes) == {"japanese-n5", "history"}


def test_an_unchanged_rebuild_changes_nothing_in_the_learners_collection(
    course: Path, collection: Collection
) -> None:
    import_apkg(collection, course / "build" / "japanese-n5.apkg")
    lock_before = (course / "deckkit.lock").read_text("utf-8")
    shutil.rmtree(course / "build")
    assert build([course / "sources"], course / "build", lockfile=course / "deckkit.lock").ok
    assert (course / "deckkit.lock").read_text("utf-8") == lock_before
    log = import_apkg(collection, course / "build" / "japanese-n5.apkg")
    assert (len(log.new), len(log.updated)) == (0, 0)
    assert len(collection.models.all_names_and_ids()) == len(
        {m.name for m in collection.models.all_names_and_ids()}
    )


def test_editing_a_template_file_rebuilds_every_deck_that_uses_it(course: Path) -> None:
    css = course / "sources" / "templates" / "vocab.css"
    css.write_text(css.read_text("utf-8") + ".card { color: teal; }\n", "utf-8")
    result = build([course / "sources"], course / "build", lockfile=course / "deckkit.lock")
    assert result.ok
    rewritten = {path.name for path in result.written}
    assert {"japanese-n5.apkg", "history.apkg"} <= rewritten
    # The note type's time moved once, for both decks.
    lock = lock_from_text((course / "deckkit.lock").read_text("utf-8"))
    assert lock.note_types["1764230000042"].mod > 0


def test_a_deck_kept_exactly_as_anki_had_it_goes_out_byte_for_byte(
    tmp_path: Path, collection: Collection
) -> None:
    shutil.copytree(OWN / "as_written", tmp_path / "sources")
    result = build([tmp_path / "sources"], tmp_path / "build")
    assert result.ok
    codes = [p.code for p in result.problems]
    # Warnings: the original lacked the file too; Quizlet gets the card without its images.
    assert sorted(codes) == ["check.missing-media-known", "check.quizlet-media"]
    import_apkg(collection, tmp_path / "build" / "programming.apkg")
    (note_id,) = collection.find_notes("")
    note = collection.get_note(note_id)
    assert note.guid == "dk13-code0"
    assert note["Question"] == "What does <code>List<T></code> mean? a && b"
    assert note["Answer"] == ('A list of T. <img src=paste-76ef.jpg> <img src="missing-photo.jpg">')
    media = {p.name for p in Path(collection.media.dir()).iterdir()}
    assert {"paste-76ef.jpg", "latex-3a1f.png"} <= media  # under their own names
    assert "missing-photo.jpg" not in media


def test_a_missing_file_not_listed_in_missing_media_is_still_an_error(tmp_path: Path) -> None:
    shutil.copytree(OWN / "as_written", tmp_path / "sources")
    (tmp_path / "sources" / "media" / "paste-76ef.jpg").unlink()
    result = build([tmp_path / "sources"], tmp_path / "build")
    assert not result.ok
    assert [p.code for p in result.problems if p.severity == "error"] == ["check.media-missing"]
    assert not (tmp_path / "build" / "programming.apkg").exists()


def test_a_note_type_file_has_no_outputs_of_its_own(course: Path) -> None:
    assert sorted(p.name for p in (course / "build").glob("*.apkg")) == [
        "history.apkg",
        "japanese-n5.apkg",
    ]


# --- millisecond times ---------------------------------------------------------------------


def test_a_note_learners_hold_in_milliseconds_keeps_its_time_until_changed_then_gets_ms() -> None:
    from deckkit.lockfile import _next

    imported = Entry("aa", 1_795_678_849, ms=True)  # the original 1795678849326 ms, in seconds
    assert _next(imported, Entry("aa", 0), now=1_800_000_000) == imported
    changed = _next(imported, Entry("bb", 0), now=1_800_000_000)
    assert changed.mod == 1_800_000_000_000
    assert changed.ms
    again = _next(changed, Entry("cc", 0), now=1_700_000_000)  # a clock behind: never backwards
    assert again.mod == changed.mod + 1


def test_lock_entries_round_trip_with_ms_and_schema() -> None:
    text = (
        '{"version": 1, "note_types": {"17": {"hash": "ab", "mod": 5, "schema": "cd"}}, '
        '"notes": {"d": {"c": {"hash": "ef", "mod": 6, "ms": true}}}}'
    )
    lock = lock_from_text(text)
    assert lock.note_types["17"] == Entry("ab", 5, schema="cd")
    assert lock.notes["d"]["c"] == Entry("ef", 6, ms=True)
    assert json.loads("{" + "".join(deck_lines(lock.notes["d"])) + "}") == {
        "c": {"hash": "ef", "mod": 6, "ms": True}
    }


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ('{"hash": "ef", "mod": 6, "ms": false}', "the ms of notes.d.c is not true"),
        ('{"hash": "ef", "mod": 6, "schema": "ab"}', "unknown key 'schema'"),
        ('{"hash": "ef", "mod": 6, "ms": true, "x": 1}', "unknown key 'x'"),
    ],
)
def test_a_note_entry_with_a_wrong_extra_key_is_refused(entry: str, reason: str) -> None:
    text = f'{{"version": 1, "note_types": {{}}, "notes": {{"d": {{"c": {entry}}}}}}}'
    with pytest.raises(LockfileError, match=reason):
        lock_from_text(text)


# --- files a note type is read from: the one path rule ---------------------------------------


def test_note_type_files_and_template_files_outside_the_folder_are_refused() -> None:
    result = validate([OWN / "outside" / "deck"])
    shown = [(p.line, p.column, p.code, p.message.split(" ")[0:3]) for p in result.problems]
    assert shown == [
        (3, 19, "check.file-outside", ["note-type", "file", "'../shared.notetypes.yaml'"]),
        (3, 45, "check.file-missing", ["note-type", "file", "'missing.notetypes.yaml'"]),
        (9, 21, "check.file-outside", ["template", "file", "'../secret.html'"]),
        (10, 20, "check.file-outside", ["template", "file", "'/etc/passwd'"]),
    ]


def test_a_template_file_linked_to_a_file_outside_is_refused_and_never_packed(
    tmp_path: Path,
) -> None:
    shutil.copytree(OWN / "course", tmp_path / "sources")
    (tmp_path / "secret.txt").write_text("secret", "utf-8")
    link = tmp_path / "sources" / "templates" / "vocab.css"
    link.unlink()
    link.symlink_to(tmp_path / "secret.txt")
    result = build([tmp_path / "sources"], tmp_path / "build")
    assert not result.ok
    # (and a warning: the front template file loads a script)
    assert {p.code for p in result.problems if p.severity == "error"} == {"check.file-outside"}
    assert not (tmp_path / "build").exists() or not list((tmp_path / "build").glob("*.apkg"))


# --- decks kept exactly as Anki had them: what Anki holds is a warning -----------------------


def test_what_anki_holds_in_a_kept_deck_is_a_warning_and_the_deck_builds(
    tmp_path: Path, collection: Collection
) -> None:
    shutil.copytree(OWN / "anki_holds_it", tmp_path / "sources")
    result = build([tmp_path / "sources"], tmp_path / "build")
    assert result.ok
    assert sorted((p.code, p.severity) for p in result.problems) == [
        ("check.cloze-without-deletion", "warning"),
        ("check.unknown-template-field", "warning"),
    ]
    log = import_apkg(collection, tmp_path / "build" / "anki-holds-it.apkg")
    assert len(log.new) == 2
    # The cloze note without a deletion comes as Anki held it: a note without cards (Anki
    # would make an error card for it if the package had one).
    (cloze_note,) = collection.find_notes('"note:My Cloze"')
    assert collection.get_note(cloze_note).cards() == []
    assert len(collection.find_cards("")) == 1


def test_the_same_deck_written_by_an_author_is_refused(tmp_path: Path) -> None:
    shutil.copytree(OWN / "anki_holds_it", tmp_path / "sources")
    source = tmp_path / "sources" / "kept.yaml"
    source.write_text(source.read_text("utf-8").replace("exactly_as_written: true\n", ""), "utf-8")
    result = validate([tmp_path / "sources"])
    assert sorted((p.code, p.severity) for p in result.problems) == [
        ("check.cloze-without-deletion", "error"),
        ("check.unknown-template-field", "error"),
    ]
