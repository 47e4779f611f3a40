"""A declared note type across builds, as learners get it (issue 13, "Identity and updates").

Each case builds `fixtures/note_types/vocab.yaml` (the deck learners have), imports it into a
real Anki collection where every card is then answered once, changes the deck to one of the other
fixture files (each that deck after one change), builds again with the same deckkit.lock and
imports the new package as Anki desktop does by default (`conftest.import_apkg`), or with its
"Merge note types" option ticked where that is what the build tells learners to do. Where the
order in time matters (Anki updates a note only from a newer one), the builds run on the
library's clock as they would in life: the learner's deck and the changed one built before the
learner imports them (`FIRST`, `CHANGED`), an author's later edit after (`AFTER`).

What Anki 26.9's importer does (rslib/src/import_export/package/apkg/import/notes.rs), proven
below: it finds the learner's note type by id and, with the default options, updates it in place
only when its field names and template names are the same in the same order; otherwise it adds
"Vocab+" and skips every note as conflicting. "Merge note types" adds new fields and templates to
the learner's note type but never removes one nor changes its order.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from anki.errors import BackendError
from anki.import_export_pb2 import (
    IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS,
    ImportAnkiPackageRequest,
)
from anki.scheduler.v3 import CardAnswer
from click.testing import CliRunner, Result

import deckkit
from conftest import FIXTURES, default_import_options, import_apkg
from deckkit.cli import main

HERE = FIXTURES / "note_types"
VOCAB = 1764230000001  # the id vocab.yaml gives its note type
PACKAGE = Path("build/vocab.apkg")
SCHEMA_CHANGES = sorted(path.stem for path in (HERE / "schema").glob("*.yaml"))
APPENDED = ["field-appended", "template-appended"]  # what "Merge note types" carries in place
FIRST, CHANGED, AFTER = -7200, -3600, 60  # build times, in seconds from the learner's imports


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project (sources/, and deckkit.lock and build/ once built), the current folder."""
    (tmp_path / "sources").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def use(fixture: str, as_name: str = "vocab.yaml") -> None:
    """Make a fixture file the project's source ``as_name``: the author's edit."""
    shutil.copy(HERE / fixture, Path("sources") / as_name)


def cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def build(*options: str) -> Result:
    """`deckkit build sources --format apkg`, which must succeed."""
    result = cli("build", "sources", "--format", "apkg", *options)
    assert result.exit_code == 0, result.output
    return result


def build_at(offset: int, *accept: str, types: tuple[str, ...] = ()) -> deckkit.BuildResult:
    """`deckkit build` as the library runs it, its clock ``offset`` seconds from now."""
    when = time.time() + offset
    result = deckkit.build(
        [Path("sources")], Path("build"), formats=["apkg"], lockfile=Path("deckkit.lock"),
        clock=lambda: when, accept_note_type_changes=accept, accept_type_changes=types,
    )  # fmt: skip
    assert result.ok, result.problems
    return result


def import_merging(col: Collection, package: Path, *, always: bool = False) -> Any:
    """Import as Anki desktop does with "Merge note types" ticked (and "Update notes" set to
    "Always", with ``always``), the other options as they are by default."""
    options = default_import_options(col)
    options.merge_notetypes = True
    if always:
        options.update_notes = IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS
    request = ImportAnkiPackageRequest(package_path=str(package), options=options)
    log = col.import_anki_package(request).log
    col.models._clear_cache()
    return log


def answer_every_card(col: Collection) -> None:
    """The learner studies: every card answered "Good" once, so the review log has an entry."""
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        card.start_timer()
        states = col._backend.get_scheduling_states(card.id)
        answer = col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD)
        col.sched.answer_card(answer)


@dataclass(frozen=True)
class Learner:
    """What a learner's collection holds: notes by id, each card's reviews, the note types."""

    notes: dict[int, dict[str, str]]
    reviews: dict[int, int]  # card id -> entries in the review log
    note_types: dict[int, tuple[str, list[str], list[str]]]  # id -> name, fields, templates

    def vocab(self) -> tuple[str, list[str], list[str]]:
        return self.note_types[VOCAB]


def seen(col: Collection) -> Learner:
    notes = {nid: dict(col.get_note(nid).items()) for nid in col.find_notes("")}
    reviews = {
        cid: col.db.scalar("select count() from revlog where cid = ?", cid)
        for cid in col.find_cards("")
    }
    note_types = {
        model["id"]: (
            model["name"],
            [field["name"] for field in model["flds"]],
            [template["name"] for template in model["tmpls"]],
        )
        for model in col.models.all()
        if model["name"].startswith("Vocab")
    }
    return Learner(notes, reviews, note_types)


@pytest.fixture
def learner(project: Path, collection: Collection) -> Collection:
    """The learner's collection after importing vocab.yaml's deck and studying every card."""
    use("vocab.yaml")
    build_at(FIRST)
    import_apkg(collection, PACKAGE)
    answer_every_card(collection)
    return collection


def vocab_model(col: Collection) -> Any:
    model = col.models.get(VOCAB)
    assert model is not None
    return model


# --- styling: templates, CSS, LaTeX, field options -------------------------------------------

STYLING = {
    "template.yaml": lambda m: m["tmpls"][0]["qfmt"] == '<div class="word big">{{Word}}</div>',
    "css.yaml": lambda m: ".big { font-size: 48px; }" in m["css"],
    "latex.yaml": lambda m: "\\usepackage{tikz}" in m["latexPre"],
    "font.yaml": lambda m: m["flds"][0]["font"] == "Noto Serif JP",
    "sort-field.yaml": lambda m: m["sortf"] == 2,
}


@pytest.mark.parametrize("change", sorted(STYLING))
def test_a_styling_change_updates_the_learners_note_type_in_place(
    learner: Collection, change: str
) -> None:
    before = seen(learner)
    old_mod = vocab_model(learner)["mod"]
    schema_mod = learner.db.scalar("select scm from col")
    use(f"styling/{change}")
    build()

    log = import_apkg(learner, PACKAGE)

    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
    assert len(log.duplicate) == 3  # the notes are untouched
    assert seen(learner) == before  # same notes, cards, reviews; no "Vocab+"
    model = vocab_model(learner)
    assert STYLING[change](model)
    assert model["mod"] > old_mod
    lock = json.loads(Path("deckkit.lock").read_text())
    assert lock["note_types"][str(VOCAB)]["mod"] == model["mod"]
    # Anki counts a new sort field as a change of the collection's schema: the learner's next
    # sync asks for a one-way sync. The other changes do not.
    one_way_sync = learner.db.scalar("select scm from col") != schema_mod
    assert one_way_sync == (change == "sort-field.yaml")


def test_an_unchanged_rebuild_changes_nothing_for_learners(learner: Collection) -> None:
    before = seen(learner)
    model = vocab_model(learner)
    lock = Path("deckkit.lock").read_bytes()
    shutil.rmtree("build")  # not the incremental build's doing: a fresh build of the same sources

    build()
    log = import_apkg(learner, PACKAGE)

    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
    assert seen(learner) == before
    assert vocab_model(learner) == model  # its mod too
    assert Path("deckkit.lock").read_bytes() == lock


def test_templates_and_css_kept_in_files_update_the_learners_note_type_in_place(
    project: Path, collection: Collection
) -> None:
    shutil.copytree(HERE / "files", "sources", dirs_exist_ok=True)
    build()
    import_apkg(collection, PACKAGE)
    answer_every_card(collection)
    before = seen(collection)
    with Path("sources/vocab/style.css").open("a", encoding="utf-8") as css:
        css.write(".meaning { font-weight: bold; }\n")
    with Path("sources/vocab/back.html").open("a", encoding="utf-8") as back:
        back.write('<div class="word">{{Word}}</div>\n')

    rebuilt = build()
    log = import_apkg(collection, PACKAGE)

    assert "build/vocab.apkg" in rebuilt.output
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
    assert len(log.duplicate) == 2
    assert seen(collection) == before
    model = vocab_model(collection)
    assert model["css"].endswith(".meaning { font-weight: bold; }\n")
    assert model["tmpls"][0]["afmt"].endswith('<div class="word">{{Word}}</div>\n')
    assert "up to date" in build().output  # and nothing to do after that


# --- note types shared by decks ----------------------------------------------------------------


def test_editing_a_shared_note_type_file_rebuilds_each_deck_using_it_and_moves_its_time_once(
    project: Path, collection: Collection
) -> None:
    shutil.copytree(HERE / "shared", "sources", dirs_exist_ok=True)
    build()
    for deck in ("animals", "verbs"):
        import_apkg(collection, Path(f"build/{deck}.apkg"))
    answer_every_card(collection)
    before = seen(collection)
    old_mod = vocab_model(collection)["mod"]
    Path("sources/course/style.css").write_text(".card { font-size: 30px; }\n", encoding="utf-8")

    rebuilt = build()
    logs = [import_apkg(collection, Path(f"build/{deck}.apkg")) for deck in ("animals", "verbs")]

    said = rebuilt.output.splitlines()
    written = [line.split(" ")[1].rstrip(",") for line in said if line.startswith("wrote ")]
    assert written == ["build/animals.apkg", "build/verbs.apkg"]  # not grammar's
    lock = json.loads(Path("deckkit.lock").read_text())
    new_mod = lock["note_types"][str(VOCAB)]["mod"]
    assert new_mod > old_mod
    assert vocab_model(collection)["mod"] == new_mod  # both packages carry the one new time
    assert vocab_model(collection)["css"] == ".card { font-size: 30px; }\n"
    assert sum(len(log.updated) + len(log.new) + len(log.conflicting) for log in logs) == 0
    assert seen(collection) == before
    assert "up to date" in build().output
    assert json.loads(Path("deckkit.lock").read_text()) == lock


def test_one_note_type_declared_differently_by_two_decks_is_an_error_naming_both(
    project: Path,
) -> None:
    shutil.copytree(HERE / "shared", "sources", dirs_exist_ok=True)
    build()
    outputs = {path: path.read_bytes() for path in Path("build").iterdir()}
    use("conflict/verbs.yaml", "verbs.yaml")  # animals.yaml is not rebuilt: its cache has it
    expected = (HERE / "conflict" / "problems.expected").read_text(encoding="utf-8")

    validated = cli("validate", "sources")
    built = cli("build", "sources", "--format", "apkg")

    assert validated.exit_code == 1
    assert validated.stdout == expected
    assert built.exit_code == 1
    assert built.stdout == expected
    assert {path: path.read_bytes() for path in Path("build").iterdir()} == outputs


def test_a_damaged_record_of_a_decks_note_types_in_the_cache_means_a_rebuild_not_a_conflict(
    project: Path,
) -> None:
    shutil.copytree(HERE / "shared", "sources", dirs_exist_ok=True)
    build()
    cache_file = Path("build/.deckkit-cache.json")
    cache = json.loads(cache_file.read_text())
    animals = next(deck for deck in cache["decks"].values() if deck["deck_id"] == "animals")
    note_type_id, _fingerprint, name, _path, index = animals["note_types"][0]
    animals["note_types"] = [[note_type_id, "0", name, "/dev/zero", index]]
    cache_file.write_text(json.dumps(cache), encoding="utf-8")

    rebuilt = build()

    assert "build/animals.apkg" in rebuilt.output
    assert "up to date" in rebuilt.output  # grammar and verbs were not rebuilt


# --- schema changes: what Anki does, and what the build does -----------------------------------


def build_elsewhere(fixture: str) -> Path:
    """The changed deck built as a fresh project would (its own lockfile, a later time): what
    learners would get if deckkit did not refuse the change."""
    other = Path("elsewhere")
    (other / "sources").mkdir(parents=True)
    shutil.copy(HERE / fixture, other / "sources" / "vocab.yaml")
    result = cli(
        "build", str(other / "sources"), "-o", str(other / "build"), "--format", "apkg",
        "--lockfile", str(other / "deckkit.lock"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return other / "build" / "vocab.apkg"


@pytest.mark.parametrize("change", SCHEMA_CHANGES)
def test_with_default_options_anki_forks_the_note_type_and_skips_every_note(
    learner: Collection, change: str
) -> None:
    before = seen(learner)
    package = build_elsewhere(f"schema/{change}.yaml")

    log = import_apkg(learner, package)

    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 3)
    after = seen(learner)
    assert (after.notes, after.reviews) == (before.notes, before.reviews)
    assert after.vocab() == before.vocab()
    assert sorted(name for name, _f, _t in after.note_types.values()) == ["Vocab", "Vocab+"]


@pytest.mark.parametrize("change", SCHEMA_CHANGES)
def test_merge_note_types_leaves_the_learners_note_type_as_the_package_has_it_only_for_appends(
    learner: Collection, change: str
) -> None:
    """Why the build carries appended fields and templates only: after one import with "Merge
    note types" the learner's note type is the package's again, so later imports with the
    default options update it; after any other change it is not, and every later one forks."""
    before = seen(learner)
    package = build_elsewhere(f"schema/{change}.yaml")
    shipped = note_type_in(package)

    log = import_merging(learner, package)
    after = seen(learner)

    assert (len(log.new), len(log.conflicting)) == (0, 0)
    assert after.notes.keys() == before.notes.keys()
    assert all(after.reviews[card] == count for card, count in before.reviews.items())
    assert list(after.note_types) == [VOCAB]
    assert (after.vocab() == shipped) == (change in APPENDED)


def note_type_in(package: Path) -> tuple[str, list[str], list[str]]:
    """The Vocab note type as a package holds it: imported into a collection of its own."""
    Path("probe").mkdir()
    probe = Collection(str(Path("probe/collection.anki2").resolve()))
    try:
        import_apkg(probe, package)
        return seen(probe).vocab()
    finally:
        probe.close()


def refusal(change: str) -> str:
    return (HERE / "schema" / f"{change}.expected").read_text(encoding="utf-8")


@pytest.mark.parametrize("change", SCHEMA_CHANGES)
def test_a_schema_change_is_refused_at_the_declaration_with_what_changed_and_the_ways_through(
    learner: Collection, change: str
) -> None:
    outputs = {path: path.read_bytes() for path in Path("build").iterdir()}
    lock = Path("deckkit.lock").read_bytes()
    use(f"schema/{change}.yaml")

    result = cli("build", "sources", "--format", "apkg")

    assert result.exit_code == 1
    assert result.stdout == refusal(change)
    assert {path: path.read_bytes() for path in Path("build").iterdir()} == outputs
    assert Path("deckkit.lock").read_bytes() == lock


@pytest.mark.parametrize("change", sorted(set(SCHEMA_CHANGES) - set(APPENDED)))
def test_accepting_a_change_that_merging_cannot_carry_is_still_refused(
    learner: Collection, change: str
) -> None:
    use(f"schema/{change}.yaml")

    result = cli("build", "sources", "--accept-note-type-change", "Vocab")

    assert result.exit_code == 1
    assert result.stdout == refusal(change).replace(
        " [check.note-type-schema-change]",
        " (--accept-note-type-change carries only fields and templates added after the existing"
        " ones: Anki's \"Merge note types\" keeps removed fields and templates and the learner's"
        " order, so later imports would conflict again) [check.note-type-schema-change]",
    )


def edit_meaning_of_neko(text: str = "cat (the animal)") -> None:
    """The author edits one note."""
    source = Path("sources/vocab.yaml")
    old = source.read_text(encoding="utf-8")
    new = old.replace(": cat\n", f": {text}\n", 1).replace(": cat (the animal)\n", f": {text}\n")
    assert new != old
    source.write_text(new, encoding="utf-8")


def edit_inu_as_the_learner(col: Collection) -> None:
    """The learner's own edit of one note, made in Anki."""
    note = col.get_note(col.find_notes("Word:犬")[0])
    note["Meaning"] = "dog (my own note)"
    col.update_note(note)


def note_of(learner: Learner, word: str) -> dict[str, str]:
    return next(fields for fields in learner.notes.values() if fields["Word"] == word)


def accepted(change: str) -> str:
    return (HERE / "schema" / f"{change}.accepted").read_text(encoding="utf-8")


@pytest.mark.parametrize("change", APPENDED)
def test_an_accepting_build_says_what_learners_must_do(learner: Collection, change: str) -> None:
    use(f"schema/{change}.yaml")

    result = cli("build", "sources", "--accept-note-type-change", "Vocab")

    assert result.exit_code == 0
    said = result.stdout.splitlines(keepends=True)
    assert said[-2] == accepted(change)  # before the build's total


@pytest.mark.parametrize("change", APPENDED)
def test_an_accepted_append_reaches_learners_in_place_when_they_merge_once(
    learner: Collection, change: str
) -> None:
    before = seen(learner)
    schema_mod = learner.db.scalar("select scm from col")
    edit_inu_as_the_learner(learner)
    use(f"schema/{change}.yaml")
    edit_meaning_of_neko()

    built = build_at(CHANGED, "Vocab")
    log = import_merging(learner, PACKAGE)

    assert [c.instructions() + "\n" for c in built.note_type_changes] == [accepted(change)]
    assert (len(log.new), len(log.conflicting)) == (0, 0)
    after = seen(learner)
    assert after.notes.keys() == before.notes.keys()
    assert all(after.reviews[card] == count for card, count in before.reviews.items())
    assert after.note_types == {VOCAB: note_type_in(PACKAGE)}
    assert learner.db.scalar("select scm from col") != schema_mod  # a one-way sync, as said
    assert note_of(after, "犬")["Meaning"] == "dog (my own note)"
    if change == "field-appended":  # Anki marked the notes modified: this import kept them
        assert note_of(after, "猫") == {
            "Word": "猫",
            "Reading": "ねこ",
            "Meaning": "cat",
            "Example": "",
        }
    else:  # the edit came, and a card of the new template for each note, not yet reviewed
        assert note_of(after, "猫")["Meaning"] == "cat (the animal)"
        assert sorted(after.reviews.values()) == [0, 0, 0, 1, 1, 1, 1, 1, 1]
    lock = json.loads(Path("deckkit.lock").read_text())["note_types"][str(VOCAB)]
    assert (lock["fields"], lock["templates"]) == tuple(after.vocab()[1:])

    edit_meaning_of_neko("a cat")  # a later build changing that note again
    build_at(AFTER)  # the lockfile has the new note type: nothing to accept
    later = import_apkg(learner, PACKAGE)

    assert (len(later.new), len(later.updated), len(later.conflicting)) == (0, 1, 0)
    now = seen(learner)
    assert list(now.note_types) == [VOCAB]
    assert note_of(now, "猫")["Meaning"] == "a cat"
    if change == "field-appended":
        assert note_of(now, "猫")["Example"] == "猫が好きです。"


def test_an_accepted_field_comes_with_its_text_to_learners_who_also_update_notes_always(
    learner: Collection,
) -> None:
    """The other choice the build offers: every note's text now, the learner's own edits gone."""
    before = seen(learner)
    edit_inu_as_the_learner(learner)
    use("schema/field-appended.yaml")
    build_at(CHANGED, "Vocab")

    log = import_merging(learner, PACKAGE, always=True)

    assert (len(log.new), len(log.conflicting)) == (0, 0)
    after = seen(learner)
    assert after.notes.keys() == before.notes.keys()
    assert after.reviews == before.reviews
    assert note_of(after, "猫")["Example"] == "猫が好きです。"
    assert note_of(after, "犬")["Meaning"] == "dog"


def test_a_learner_who_first_imports_an_accepted_append_with_default_options_can_still_merge(
    learner: Collection,
) -> None:
    before = seen(learner)
    use("schema/field-appended.yaml")
    build_at(CHANGED, "Vocab")

    first = import_apkg(learner, PACKAGE)
    forked = seen(learner)
    again = import_merging(learner, PACKAGE)

    assert len(first.conflicting) == 3
    assert sorted(name for name, _f, _t in forked.note_types.values()) == ["Vocab", "Vocab+"]
    assert (len(again.new), len(again.conflicting)) == (0, 0)
    after = seen(learner)
    assert after.note_types == {VOCAB: note_type_in(PACKAGE)}  # "Vocab+" folded back in
    assert after.notes.keys() == before.notes.keys()
    assert after.reviews == before.reviews


def change_note_type(col: Collection, old_name: str, new_name: str) -> None:
    """What the refusal tells learners to do once: Browse > Notes > Change Note Type, each field
    to the field at its place in the new note type."""
    old, new = col.models.by_name(old_name), col.models.by_name(new_name)
    assert old is not None
    assert new is not None
    request = col.models.change_notetype_info(
        old_notetype_id=old["id"], new_notetype_id=new["id"]
    ).input
    del request.new_fields[:]
    request.new_fields.extend(range(len(new["flds"])))
    request.note_ids.extend(col.models.nids(old["id"]))
    col.models.change_notetype_of_notes(request)
    col.models._clear_cache()


def test_a_new_note_type_for_the_same_cards_keeps_learners_notes_until_they_change_note_type(
    learner: Collection,
) -> None:
    before = seen(learner)
    use("new-note-type/same-cards.yaml")  # Meaning renamed English: a new id and name
    refused = deckkit.build(
        [Path("sources")], Path("build"), formats=["apkg"], lockfile=Path("deckkit.lock"),
        clock=lambda: time.time() + CHANGED,
    )  # fmt: skip
    assert {p.code for p in refused.problems} == {"lock.note-type-changed"}  # one per card
    accepted = build_at(CHANGED, types=("vocab/*",))
    assert "Notes > Change Note Type" in accepted.type_changes[0].instructions()

    skipped = import_apkg(learner, PACKAGE)

    assert (len(skipped.new), len(skipped.updated), len(skipped.conflicting)) == (0, 0, 3)
    kept = seen(learner)
    assert kept.notes == before.notes
    assert kept.reviews == before.reviews
    assert kept.vocab() == before.vocab()

    schema_mod = learner.db.scalar("select scm from col")
    change_note_type(learner, "Vocab", "Vocab (English)")
    assert learner.db.scalar("select scm from col") != schema_mod  # a one-way sync, as said
    edit_meaning_of_neko()
    build_at(AFTER)
    later = import_apkg(learner, PACKAGE)

    assert (len(later.new), len(later.updated), len(later.conflicting)) == (0, 1, 0)
    after = seen(learner)
    assert after.notes.keys() == before.notes.keys()
    assert after.reviews == before.reviews
    assert sorted(fields["English"] for fields in after.notes.values()) == [
        "bird",
        "cat (the animal)",
        "dog",
    ]


def test_a_new_note_type_with_new_card_ids_gives_learners_new_notes_beside_the_old(
    learner: Collection,
) -> None:
    before = seen(learner)
    use("new-note-type/new-cards.yaml")
    build()

    log = import_apkg(learner, PACKAGE)

    assert (len(log.new), len(log.updated), len(log.conflicting)) == (3, 0, 0)
    after = seen(learner)
    assert {nid: after.notes[nid] for nid in before.notes} == before.notes
    assert sorted(fields.get("English", "") for fields in after.notes.values()) == [
        "", "", "", "bird", "cat", "dog",
    ]  # fmt: skip
    assert sorted(after.reviews.values()) == [0] * 6 + [1] * 6  # new cards beside the studied


# --- lockfiles written before the names were recorded -------------------------------------------


def rewrite_vocab_entry(**keep: bool) -> dict[str, Any]:
    """deckkit.lock as an older deckkit wrote it: the Vocab entry without some of its keys."""
    lock = json.loads(Path("deckkit.lock").read_text())
    entry = lock["note_types"][str(VOCAB)]
    lock["note_types"][str(VOCAB)] = {k: v for k, v in entry.items() if keep.get(k, True)}
    Path("deckkit.lock").write_text(json.dumps(lock), encoding="utf-8")
    return dict(entry)


def test_a_lockfile_with_only_the_old_schema_hash_still_refuses_a_change(
    learner: Collection,
) -> None:
    rewrite_vocab_entry(fields=False, templates=False)
    use("schema/field-renamed.yaml")

    result = cli("build", "sources")

    assert result.exit_code == 1
    assert (
        "changed since the last build (deckkit.lock): its fields or templates changed (the "
        "lockfile does not record their old names); fields now 'Word', 'Reading', 'English', "
        "templates now 'Recognition', 'Production'. Imported with"
    ) in result.stdout


@pytest.mark.parametrize("old", ["names", "schema"])
def test_a_build_with_an_older_lockfile_records_the_names_and_changes_nothing_else(
    learner: Collection, old: str
) -> None:
    entry = rewrite_vocab_entry(fields=False, templates=False, schema=old != "schema")
    shutil.rmtree("build")

    build()

    assert json.loads(Path("deckkit.lock").read_text())["note_types"][str(VOCAB)] == entry


def test_a_change_of_kind_is_refused_and_anki_cannot_merge_it(learner: Collection) -> None:
    before = seen(learner)
    use("kind/cloze.yaml")

    result = cli("build", "sources", "--accept-note-type-change", "Vocab")
    package = build_elsewhere("kind/cloze.yaml")

    assert result.exit_code == 1
    assert result.stdout.startswith(
        "sources/vocab.yaml:35:7: error: note type 'Vocab' (id 1764230000001) changed since the "
        "last build (deckkit.lock): template 'Cloze' added, templates 'Recognition', 'Production' "
        "removed, now a cloze note type. Imported with"
    )
    with pytest.raises(BackendError, match="Cloze note types cannot be merged"):
        import_merging(learner, package)
    assert seen(learner) == before
    assert len(import_apkg(learner, package).conflicting) == 3
