"""Every author action is safe for learners who re-import every build, or refused with a way
through (issue 14), proven with Anki's own importer (the `anki` package, default options).

The learner imported the first build, studied every card and edited some notes; the author then
changes the sources and builds again, later. The deck is tests/fixtures/learner_safety/base.yaml
(cards c1, c2, c3); each other file there is one author's action.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from anki.import_export_pb2 import ImportAnkiPackageRequest
from anki.scheduler.v3 import Scheduler
from anki.scheduler_pb2 import CardAnswer
from click.testing import CliRunner, Result

import deckkit
from conftest import FIXTURES, default_import_options, import_apkg
from deckkit.cli import main
from deckkit.lockfile import lock_from_text, read_lockfile
from deckkit.model import note_guid

HERE = FIXTURES / "learner_safety"
NOW = int(time.time())
FIRST = NOW - 2 * 86_400  # the first build, which the learner imported and studied
LATER = NOW + 3_600  # the author's next build, after the learner's edits
LATEST = NOW + 7_200
PACKAGE = Path("build") / "course.apkg"
C1_GUID = "rE?HcwU(Y("  # note_guid("course", "c1"), the GUID learners know c1's note by


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "sources").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def use(fixture: str) -> None:
    """The author's action: the deck's source becomes this fixture."""
    shutil.copy(HERE / fixture, Path("sources") / "course.yaml")


def build(at: int, **options: Any) -> deckkit.BuildResult:
    return deckkit.build(
        [Path("sources")],
        Path("build"),
        formats=["apkg"],
        lockfile=Path("deckkit.lock"),
        clock=lambda: at,
        **options,
    )


def cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def lock_times() -> dict[str, int]:
    return {card: e.mod for card, e in read_lockfile(Path("deckkit.lock")).notes["course"].items()}


def errors(result: deckkit.BuildResult) -> list[deckkit.Problem]:
    return [p for p in result.problems if p.severity == "error"]


def answer_every_card(col: Collection) -> None:
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        card.start_timer()
        states = col._backend.get_scheduling_states(card.id)
        scheduler = col.sched
        assert isinstance(scheduler, Scheduler)
        answer = scheduler.build_answer(card=card, states=states, rating=CardAnswer.GOOD)
        scheduler.answer_card(answer)


def note(col: Collection, front: str) -> Any:
    (note_id,) = col.find_notes(f'"Front:{front}"')
    return col.get_note(note_id)


def edit(col: Collection, front: str, back: str) -> None:
    """The learner edits a note's Back in Anki (which stamps it with the time of the edit)."""
    learners_note = note(col, front)
    learners_note["Back"] = back
    col.update_note(learners_note)


def reviews(col: Collection) -> int:
    assert col.db is not None
    return int(col.db.scalar("select count() from revlog"))


def decks_of(col: Collection, fronts: Iterable[str]) -> set[str]:
    names = set()
    for front in fronts:
        for card in note(col, front).cards():
            names.add(col.decks.name(card.did))
    return names


@pytest.fixture
def studied(project: Path, collection: Collection) -> Collection:
    """The learner's collection: the first build imported, every card studied once."""
    use("base.yaml")
    assert build(FIRST).ok
    import_apkg(collection, PACKAGE)
    answer_every_card(collection)
    return collection


@pytest.fixture
def learner(studied: Collection) -> Collection:
    """The learner also edited c1 and c2 in Anki, after the first build."""
    edit(studied, "one", "un (mine)")
    edit(studied, "two", "deux (mine)")
    return studied


# --- a deck renamed ----------------------------------------------------------------------------


def test_renaming_a_deck_restamps_no_note_and_the_learners_edits_stay(learner: Collection) -> None:
    use("renamed-deck.yaml")  # Course::A -> Course::B, and a new card c4
    result = build(LATER)

    assert result.ok, result.problems
    assert set(lock_times().values()) == {FIRST, LATER}
    assert lock_times()["c4"] == LATER
    log = import_apkg(learner, PACKAGE)
    assert (len(log.new), len(log.updated)) == (1, 0)
    assert note(learner, "two")["Back"] == "deux (mine)"
    assert note(learner, "one")["Back"] == "un (mine)"
    assert reviews(learner) == 3
    # What the warning says Anki does: old cards stay in the old deck, the new one goes to a new.
    assert decks_of(learner, ["one", "two", "three"]) == {"Course::A"}
    assert decks_of(learner, ["four"]) == {"Course::B"}


def test_a_deck_rename_is_a_warning_whose_advice_keeps_one_deck(learner: Collection) -> None:
    use("renamed-deck.yaml")
    result = build(LATER)

    (warning,) = [p for p in result.problems if p.code == "lock.deck-renamed"]
    assert (warning.severity, warning.path, warning.line, warning.column) == (
        "warning",
        "sources/course.yaml",
        2,
        7,
    )
    assert "'Course::A'" in warning.message
    assert "'Course::B'" in warning.message
    assert "before importing" in warning.message
    assert "Change Deck" in warning.message
    # The advice: the learner renames the deck in Anki first, then imports.
    old_deck = learner.decks.id_for_name("Course::A")
    assert old_deck is not None
    learner.decks.rename(old_deck, "Course::B")
    import_apkg(learner, PACKAGE)
    assert decks_of(learner, ["one", "two", "three", "four"]) == {"Course::B"}
    assert reviews(learner) == 3
    assert note(learner, "two")["Back"] == "deux (mine)"
    # Said once: the next build compares with the name this one recorded.
    assert not [p for p in build(LATEST).problems if p.code == "lock.deck-renamed"]


# --- a card's note type changed ----------------------------------------------------------------


def test_changing_a_cards_note_type_is_refused_naming_the_card_and_the_ways_through(
    studied: Collection,
) -> None:
    lock_before = Path("deckkit.lock").read_bytes()
    use("c1-reversed.yaml")
    result = build(LATER)

    (refusal,) = errors(result)
    assert (refusal.code, refusal.path, refusal.line, refusal.column) == (
        "lock.note-type-changed",
        "sources/course.yaml",
        6,
        11,
    )
    for said in (
        "card 'c1'",
        "'deckkit Basic' → 'deckkit Basic (and reversed card)'",
        "conflicting",
    ):
        assert said in refusal.message
    assert "--accept-type-change course/c1" in refusal.message
    assert '"Merge note types" ticked (then untick it)' in refusal.message
    assert Path("deckkit.lock").read_bytes() == lock_before


def merging_import(col: Collection, package: Path) -> Any:
    """An import with "Merge note types" ticked, the rest as Anki's defaults."""
    options = default_import_options(col)
    options.merge_notetypes = True
    log = col.import_anki_package(
        ImportAnkiPackageRequest(package_path=str(package), options=options)
    ).log
    col.models._clear_cache()
    return log


def test_an_accepted_basic_to_reversed_change_reaches_learners_with_one_merging_import(
    learner: Collection,
) -> None:
    use("c1-reversed.yaml")
    result = build(LATER, accept_type_changes=["c1"])

    assert result.ok, result.problems
    (accepted,) = result.type_changes
    assert '"Merge note types" ticked' in accepted.instructions()
    assert "then untick it" in accepted.instructions()
    skipped = import_apkg(learner, PACKAGE)  # what the instructions say a default import does
    assert len(skipped.conflicting) == 1
    merged = merging_import(learner, PACKAGE)
    assert (len(merged.new), len(merged.updated), len(merged.conflicting)) == (0, 1, 0)
    c1 = note(learner, "one")
    assert c1.note_type()["name"] == "deckkit Basic (and reversed card)"
    assert sorted(card.reps for card in c1.cards()) == [0, 1]  # its review kept, a new card
    assert len(learner.find_notes("")) == 3
    assert note(learner, "two")["Back"] == "deux (mine)"

    use("c1-reversed-edited.yaml")
    assert build(LATEST).ok
    later = import_apkg(learner, PACKAGE)  # Anki's default options again
    assert (len(later.updated), len(later.conflicting)) == (1, 0)
    assert note(learner, "one")["Back"] == "un (1)"


def test_a_type_change_anki_cannot_merge_is_carried_only_with_change_note_type(
    studied: Collection,
) -> None:
    use("c1-type-in.yaml")
    (refusal,) = errors(build(LATER))
    assert "Change Note Type" in refusal.message
    assert "cannot carry this change" in refusal.message

    result = build(LATER, accept_type_changes=["course/*"])
    assert result.ok, result.problems
    (accepted,) = result.type_changes
    assert "Notes > Change Note Type…, to 'deckkit Type-in'" in accepted.instructions()
    assert "Merge note types" not in accepted.instructions()


# --- cards removed, and restored ---------------------------------------------------------------


def test_a_removed_card_restored_unchanged_gets_its_old_time_and_the_learners_edit_stays(
    learner: Collection,
) -> None:
    use("without-c2.yaml")
    removed = build(LATER)
    import_apkg(learner, PACKAGE)

    use("base.yaml")  # the author reverts the deletion
    restored = build(LATEST)

    assert lock_times()["c2"] == FIRST
    log = import_apkg(learner, PACKAGE)
    assert len(log.updated) == 0
    assert note(learner, "two")["Back"] == "deux (mine)"
    assert removed.removed_cards == ("course/c2",)
    assert restored.removed_cards == ()
    assert read_lockfile(Path("deckkit.lock")).removed == {}  # back among the notes


def test_a_removed_card_restored_changed_is_newer_than_before_even_with_a_clock_behind(
    studied: Collection,
) -> None:
    use("without-c2.yaml")
    assert build(LATER).ok
    use("c2-changed.yaml")
    result = build(FIRST - 3_600, clock_behind=True)  # a laptop whose clock is wrong

    assert result.ok, result.problems
    assert lock_times()["c2"] == FIRST + 1
    log = import_apkg(studied, PACKAGE)
    assert len(log.updated) == 1
    assert note(studied, "two")["Back"] == "deux (2)"


def test_a_removed_cards_id_reused_for_another_note_type_is_noticed(studied: Collection) -> None:
    use("without-c2.yaml")
    assert build(LATER).ok
    use("c2-reused.yaml")  # c2 again, now a cloze: learners still hold the old basic c2

    (refusal,) = errors(build(LATEST))
    assert refusal.code == "lock.note-type-changed"
    assert "card 'c2'" in refusal.message
    assert "'deckkit Basic' → 'deckkit Cloze'" in refusal.message
    # Why: the learner's Anki still has c2's note, and skips the new one as conflicting.
    assert build(LATEST, accept_type_changes=["c2"]).ok
    log = import_apkg(studied, PACKAGE)
    assert len(log.conflicting) == 1


def test_the_build_lists_removed_cards_and_anki_keeps_them(
    studied: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    use("without-c2.yaml")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(LATER))
    result = cli("build", "sources", "--format", "apkg")

    assert result.exit_code == 0, result.output
    assert (
        "removed since the last build: course/c2: learners keep these notes with their reviews "
        "(Anki never deletes notes on import); tell them which to delete"
    ) in result.output
    import_apkg(studied, PACKAGE)
    assert note(studied, "two")["Back"] == "deux"  # still there, with its review
    assert reviews(studied) == 3
    gone = read_lockfile(Path("deckkit.lock")).removed["course"]["c2"]
    assert (gone.guid, gone.mod) == (note_guid("course", "c2"), FIRST)  # how it is found again


# --- ids renamed -------------------------------------------------------------------------------


def test_a_card_under_a_new_id_is_refused_naming_both_ids_and_the_old_guid(
    studied: Collection,
) -> None:
    use("renamed-card.yaml")
    result = build(LATER)

    (refusal,) = errors(result)
    assert (refusal.code, refusal.line, refusal.column) == ("lock.renamed-card", 5, 9)
    assert "card 'c1-new' has the content of card 'c1'" in refusal.message
    assert note_guid("course", "c1") == C1_GUID
    assert f"guid: '{C1_GUID}'" in refusal.message
    assert "--accept-new-ids" in refusal.message
    # What it says learners would get: a duplicate, without reviews.
    accepted = build(LATER, accept_new_ids=True)
    assert accepted.ok
    (warning,) = accepted.problems
    assert (warning.code, warning.severity) == ("lock.renamed-card", "warning")
    assert "learners get the new notes beside their old ones" in warning.message
    log = import_apkg(studied, PACKAGE)
    assert len(log.new) == 1
    assert len(studied.find_notes('"Front:one"')) == 2


def test_the_old_guid_keeps_the_learners_note_its_reviews_and_their_edit(
    learner: Collection,
) -> None:
    use("renamed-card-guid.yaml")
    result = build(LATER)

    assert result.ok, result.problems
    assert lock_times()["c1-new"] == FIRST  # the old note's time: nothing changed for learners
    log = import_apkg(learner, PACKAGE)
    assert (len(log.new), len(log.updated)) == (0, 0)
    assert note(learner, "one")["Back"] == "un (mine)"
    assert len(learner.find_notes("")) == 3
    assert reviews(learner) == 3
    assert result.removed_cards == ()  # c1's entry was taken, not removed
    assert read_lockfile(Path("deckkit.lock")).removed == {}


def test_a_new_deck_id_is_refused_once_for_the_deck(studied: Collection) -> None:
    use("renamed-deck-id.yaml")
    result = build(LATER)

    (refusal,) = errors(result)
    assert (refusal.code, refusal.line, refusal.column) == ("lock.renamed-deck", 3, 5)
    assert "deck id 'course-2' is new and deck 'course' leaves" in refusal.message
    assert f"guid: '{C1_GUID}'" in refusal.message
    assert build(LATER, accept_new_ids=True).ok
    log = import_apkg(studied, Path("build") / "course-2.apkg")
    assert len(log.new) == 3  # duplicates of every note, as the refusal says


# --- --frozen, and lockfiles written before ----------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "pending"),
    [("renamed-deck.yaml", "deck course renamed"), ("without-c2.yaml", "removed course/c2")],
)
def test_frozen_fails_while_what_protects_learners_is_not_in_the_lockfile(
    studied: Collection, fixture: str, pending: str
) -> None:
    use(fixture)
    result = cli("build", "sources", "--format", "apkg", "--frozen")
    assert result.exit_code == 1
    assert pending in result.output


def test_a_lockfile_from_before_is_upgraded_without_a_new_time(
    project: Path, collection: Collection
) -> None:
    shutil.copy(HERE / "before-issue-14.lock", "deckkit.lock")
    old = json.loads(Path("deckkit.lock").read_text())["notes"]["course"]
    use("base.yaml")
    frozen = cli("build", "sources", "--format", "apkg", "--frozen")
    assert frozen.exit_code == 0, frozen.output  # an upgrade is not a pending change
    assert Path("deckkit.lock").read_bytes() == (HERE / "before-issue-14.lock").read_bytes()
    import_apkg(collection, PACKAGE)
    edit(collection, "two", "deux (mine)")

    assert build(LATER).ok
    lock = read_lockfile(Path("deckkit.lock"))
    assert {card: entry.mod for card, entry in lock.notes["course"].items()} == {
        card: entry["mod"] for card, entry in old.items()
    }
    assert {entry.type for entry in lock.notes["course"].values()} == {1731402101}
    assert lock.decks == {"course": "Course::A"}
    log = import_apkg(collection, PACKAGE)
    assert len(log.updated) == 0
    assert note(collection, "two")["Back"] == "deux (mine)"


def test_deckkit_import_writes_entries_as_a_build_does(project: Path) -> None:
    """An imported deck's lockfile holds each note's type and GUID and the deck's name, so that
    the first build changes none of them (one place makes a note's entry)."""
    use("base.yaml")
    assert build(FIRST).ok
    shutil.move("build/course.apkg", "shared.apkg")
    shutil.rmtree("sources")
    Path("deckkit.lock").unlink()
    imported = cli("import", "shared.apkg", "-o", "sources", "--lockfile", "deckkit.lock")
    assert imported.exit_code == 0, imported.output
    lock = read_lockfile(Path("deckkit.lock"))
    assert lock.decks == {"course-a": "Course::A"}  # the id import gives the deck
    assert {e.type for e in lock.notes["course-a"].values()} == {1731402101}
    assert lock.notes["course-a"]["one"].guid == C1_GUID  # the imported card gives its GUID

    assert build(LATER).ok
    rebuilt = read_lockfile(Path("deckkit.lock"))
    assert (rebuilt.notes, rebuilt.decks, rebuilt.removed) == (lock.notes, lock.decks, {})


def test_a_type_change_is_noticed_in_the_build_that_upgrades_an_older_lockfile(
    project: Path,
) -> None:
    shutil.copy(HERE / "before-issue-14.lock", "deckkit.lock")
    use("c1-reversed.yaml")

    (refusal,) = errors(build(LATER))
    assert refusal.code == "lock.note-type-changed"
    assert "'deckkit Basic' → 'deckkit Basic (and reversed card)'" in refusal.message


def test_a_deck_renamed_in_the_build_that_upgrades_an_older_lockfile_restamps_no_note(
    project: Path,
) -> None:
    """An older lockfile's hashes hold the deck's name, which it does not keep: the name comes
    from the last build into the output folder."""
    shutil.copy(HERE / "before-issue-14.lock", "deckkit.lock")
    use("base.yaml")
    frozen = cli("build", "sources", "--format", "apkg", "--frozen")  # the lockfile as it was
    assert frozen.exit_code == 0, frozen.output
    use("renamed-deck.yaml")

    result = build(LATER)

    assert result.ok, result.problems
    assert [p.code for p in result.problems] == ["lock.deck-renamed"]
    assert {card: mod for card, mod in lock_times().items() if card != "c4"} == {
        "c1": 1_790_000_000,
        "c2": 1_790_000_000,
        "c3": 1_790_000_000,
    }


# --- a build of some sources only -------------------------------------------------------------


def test_a_build_of_one_source_leaves_the_other_decks_as_they_are(tmp_path: Path) -> None:
    """`deckkit build sources/a.yaml` does not read the other decks: they have not left."""
    shutil.copytree(FIXTURES / "own_note_types" / "course", tmp_path / "sources")
    lock = tmp_path / "deckkit.lock"
    everything = deckkit.build([tmp_path / "sources"], tmp_path / "out", lockfile=lock)
    assert everything.ok
    before = lock_from_text(lock.read_text("utf-8"))
    one = deckkit.build([tmp_path / "sources" / "japanese.yaml"], tmp_path / "out", lockfile=lock)
    assert one.ok, one.problems
    assert one.removed_cards == ()
    after = lock_from_text(lock.read_text("utf-8"))
    assert after.notes == before.notes
    assert after.removed == {}
    # Its source gone, a build of the folder finds the deck left, and says so.
    (tmp_path / "sources" / "history.yaml").unlink()
    folder = deckkit.build([tmp_path / "sources"], tmp_path / "out", lockfile=lock)
    assert folder.ok
    assert folder.removed_cards == ("history/capital", "history/meiji")


def test_a_lockfile_without_sources_counts_decks_as_left_only_in_a_default_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(FIXTURES / "own_note_types" / "course", tmp_path / "sources")
    lock = tmp_path / "deckkit.lock"
    assert deckkit.build([tmp_path / "sources"], tmp_path / "out", lockfile=lock).ok
    text = json.loads(lock.read_text("utf-8"))
    del text["sources"]  # as an older deckkit wrote it
    lock.write_text(json.dumps(text), "utf-8")
    (tmp_path / "sources" / "history.yaml").unlink()
    given = deckkit.build([tmp_path / "sources"], tmp_path / "out", lockfile=lock)
    assert given.ok
    assert given.removed_cards == ()  # paths given: the lockfile cannot tell what they cover
    monkeypatch.chdir(tmp_path)
    default = deckkit.build(lockfile=Path("deckkit.lock"), output_dir=Path("out"))
    assert default.ok
    assert default.removed_cards == ("history/capital", "history/meiji")
