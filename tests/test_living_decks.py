"""Rebuilding and re-importing: Anki updates what changed in the sources and nothing else."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest
from anki.collection import Collection

# Reaches inside: deckkit's note types are changed here to stand for a new deckkit release.
import deckkit.notetypes
from conftest import import_apkg
from deckkit import LockOutdated, build
from deckkit.notetypes import NOTE_TYPES

LIVING = Path(__file__).parent / "fixtures" / "living"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the living deck's folder, free to edit."""
    shutil.copytree(LIVING, tmp_path / "sources")
    return tmp_path


def build_into(
    project: Path, out: str, clock: float | None = None, *, clock_behind: bool = False
) -> Path:
    result = build(
        [project / "sources"],
        project / out,
        lockfile=project / "deckkit.lock",
        clock=(lambda: clock) if clock is not None else time.time,
        clock_behind=clock_behind,
    )
    assert result.ok, result.problems
    return project / out / "living-deck.apkg"


def edit_source(project: Path, old: str, new: str) -> None:
    path = project / "sources" / "deck.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def note_by_front(col: Collection, front: str):  # type: ignore[no-untyped-def]
    (note_id,) = col.find_notes(f'"Front:{front}"')
    return col.get_note(note_id)


def digests(folder: Path) -> dict[str, str]:
    """The outputs' hashes; the hidden incremental-build cache is not an output."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if not p.name.startswith(".")
    }


def test_reimport_updates_the_changed_card_and_keeps_the_learners_edit(
    project: Path, collection: Collection
) -> None:
    first = build_into(project, "build1")
    assert len(import_apkg(collection, first).new) == 7
    note_count, model_count = collection.note_count(), len(collection.models.all_names_and_ids())

    # The learner fixes a note in Anki and reviews a card of the card the author will change.
    learner_note = note_by_front(collection, "A card the learner edits in Anki")
    learner_note["Back"] = "my own words"
    collection.update_note(learner_note)
    edited_note = note_by_front(collection, "A card the author edits in the sources")
    (card_id,) = [card.id for card in edited_note.cards()]
    collection.sched.set_due_date([card_id], "7")
    due_before = collection.get_card(card_id).due

    edit_source(project, "back: first version", "back: second version")
    log = import_apkg(collection, build_into(project, "build2"))

    assert len(log.new) == 0
    assert len(log.updated) == 1
    assert note_by_front(collection, "A card the author edits in the sources")["Back"] == (
        "second version"
    )
    assert note_by_front(collection, "A card the learner edits in Anki")["Back"] == "my own words"
    card = collection.get_card(card_id)
    assert card.type == 2  # still a review card,
    assert card.due == due_before  # with the same schedule
    assert collection.note_count() == note_count
    assert len(collection.models.all_names_and_ids()) == model_count
    assert not [m.name for m in collection.models.all_names_and_ids() if m.name.endswith("+")]


def test_unchanged_rebuild_updates_nothing(project: Path, collection: Collection) -> None:
    import_apkg(collection, build_into(project, "build1"))
    log = import_apkg(collection, build_into(project, "build2", clock=time.time() + 3600))
    assert (len(log.new), len(log.updated)) == (0, 0)


def test_same_sources_and_lockfile_give_identical_bytes_whatever_the_clock(project: Path) -> None:
    build_into(project, "build1", clock=1_800_000_000)
    build_into(project, "build2", clock=1_900_000_000)
    first, second = digests(project / "build1"), digests(project / "build2")
    assert set(first) == {"living-deck.apkg", "living-deck.csv", "living-deck.quizlet.txt"}
    assert first == second


def test_edit_moves_only_that_notes_time_forward_even_if_the_clock_went_back(
    project: Path,
) -> None:
    build_into(project, "build1", clock=1_800_000_000)
    edit_source(project, "back: first version", "back: second version")
    build_into(project, "build2", clock=1_700_000_000, clock_behind=True)  # the author said so
    lock = (project / "deckkit.lock").read_text()
    assert '"edited": {"hash"' in lock
    assert lock.count('"mod": 1800000001') == 1  # the edited note, one second newer
    assert lock.count('"mod": 1800000000') == 6 + len(NOTE_TYPES)


def test_frozen_build_fails_and_writes_nothing_when_the_lockfile_is_stale(project: Path) -> None:
    build_into(project, "build1")
    lock_before = (project / "deckkit.lock").read_bytes()
    edit_source(project, "back: first version", "back: second version")
    with pytest.raises(LockOutdated, match="living-deck/edited"):
        build(
            [project / "sources"],
            project / "frozen",
            lockfile=project / "deckkit.lock",
            frozen=True,
        )
    assert not (project / "frozen").exists()
    assert (project / "deckkit.lock").read_bytes() == lock_before


def test_frozen_build_succeeds_with_an_up_to_date_lockfile(project: Path) -> None:
    build_into(project, "build1")
    result = build(
        [project / "sources"], project / "frozen", lockfile=project / "deckkit.lock", frozen=True
    )
    assert result.ok
    assert digests(project / "frozen") == digests(project / "build1")


def test_a_styling_upgrade_updates_the_note_type_in_place(
    project: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_apkg(collection, build_into(project, "build1"))
    ids_before = sorted(m.id for m in collection.models.all_names_and_ids())
    monkeypatch.setattr(deckkit.notetypes, "CSS", deckkit.notetypes.CSS + "\n.upgraded { }\n")
    log = import_apkg(collection, build_into(project, "build2", clock=time.time() + 60))
    assert (len(log.new), len(log.updated)) == (0, 0)
    basic = collection.models.by_name("deckkit Basic")
    assert basic is not None
    assert ".upgraded" in basic["css"]
    assert sorted(m.id for m in collection.models.all_names_and_ids()) == ids_before


# The note types are a contract with every collection that imported a deckkit deck: a change to
# an id, a field name or a template name makes Anki fork the note type. Change these only on
# purpose, with a migration note in the README.
PINNED_NOTE_TYPES = {
    "basic": (1_731_402_101, "deckkit Basic", ("Front", "Back"), ("Card 1",)),
    "reversed": (
        1_731_402_102,
        "deckkit Basic (and reversed card)",
        ("Front", "Back"),
        ("Card 1", "Card 2"),
    ),
    "cloze": (1_731_402_103, "deckkit Cloze", ("Text", "Extra"), ("Cloze",)),
    "type_in": (1_731_402_104, "deckkit Type-in", ("Front", "Answer", "Extra"), ("Card 1",)),
    "multiple_choice": (
        1_731_402_105,
        "deckkit Multiple choice",
        ("Question", "Choices", "Marked choices", "Correct", "Explanation"),
        ("Card 1",),
    ),
    "open": (
        1_731_402_106,
        "deckkit Explain",
        ("Prompt", "Hint", "Concepts", "Answer"),
        ("Card 1",),
    ),
}


def test_note_types_keep_their_ids_fields_and_template_names() -> None:
    actual = {
        kind: (t.id, t.name, t.fields, tuple(name for name, _, _ in t.templates))
        for kind, t in NOTE_TYPES.items()
    }
    assert actual == PINNED_NOTE_TYPES


def test_the_committed_lockfile_is_up_to_date_with_the_repositorys_sources(tmp_path: Path) -> None:
    """CI's `deckkit build --frozen`: a source edit must come with its lockfile update."""
    repo = Path(__file__).parent.parent
    lock = tmp_path / "deckkit.lock"
    shutil.copy(repo / "deckkit.lock", lock)
    result = build([repo / "sources"], tmp_path / "out", lockfile=lock, frozen=True)
    assert result.ok
    assert lock.read_bytes() == (repo / "deckkit.lock").read_bytes()
