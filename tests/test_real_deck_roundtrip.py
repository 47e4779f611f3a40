"""Issue 13's promises, proved with decks made by Anki itself (tests/fixtures/anki_made).

The journey (tests/anki_journey.py): a learner imports a deck into Anki with the desktop
defaults, studies some cards and edits a note; then the deck goes through ``deckkit import`` and
``deckkit build``, and the learner imports the rebuilt deck. Checked at each step with the `anki`
package:

- the rebuilt package, seen by a fresh collection, is the original: every field byte for byte,
  the note types exactly (id, fields and their options, templates, CSS, LaTeX, sort field),
  tags, decks, card counts, and every file under its own name (``_`` files, LaTeX images);
- re-importing it into the learner's collection changes nothing: 0 new, 0 updated, the
  learner's edit and reviews kept; an edit the author makes afterwards reaches the learner, and
  only that one (millisecond times included);
- a reference to an image the package never had is a warning, not an error.

Each deck's journey runs once per module (about a second each), every test reads it.
"""

from __future__ import annotations

import importlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from anki.collection import Collection

from anki_journey import (
    ANKI_MADE,
    CONTENT,
    SCHEDULING,
    Journey,
    author_edit,
    changed_media,
    compare,
    import_package,
    learner_edit_kept,
    notes_with_changed_fields,
    open_collection,
    package_media,
    package_note_type_times,
    package_snapshot,
    reimport,
    run_journey,
    snapshot,
)

DECKS = [
    "language.apkg",
    "language-reviewed.apkg",
    "cloze.apkg",
    "latex.apkg",
    "code.apkg",
    "mdanki.apkg",
    "everything.colpkg",
]
# Per deck: a piece of text the author changes after the conversion, and the note holding it
# (never the note the learner edited: that is the first GUID, see anki_journey).
AUTHOR_EDITS = {
    "language.apkg": ("I walk with the dog.", "I walk the dog.", "dk13-inu"),
    "language-reviewed.apkg": ("I walk with the dog.", "I walk the dog.", "dk13-inu"),
    "cloze.apkg": ("Makes ATP.", "Makes most ATP.", "dk13-mito"),
    "latex.apkg": ("area of a triangle", "area of a right triangle", "dk13-integral"),
    "code.apkg": ("does not allocate", "does not allocate memory", "dk13-vec"),
    "mdanki.apkg": ("Show staged changes", "Show the staged changes", "dk13-md2"),  # ms mods
    "everything.colpkg": ("Show staged changes", "Show the staged changes", "dk13-md2"),
}


@pytest.fixture(scope="module")
def journeys(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Journey]:
    """Each deck's journey, run the first time a test asks for it."""
    done: dict[str, Journey] = {}

    def journey_of(name: str) -> Journey:
        if name not in done:
            done[name] = run_journey(ANKI_MADE / name, tmp_path_factory.mktemp(name))
        return done[name]

    return journey_of


@pytest.fixture(params=DECKS)
def journey(request: pytest.FixtureRequest, journeys: Callable[[str], Journey]) -> Journey:
    return journeys(request.param)


def converted(journey: Journey) -> Journey:
    """The journey, once it is known that the deck came in, was built and Anki took it."""
    assert journey.refusal is None, journey.refusal
    assert journey.rebuilt_view is not None
    assert journey.learner_after is not None
    assert journey.counts is not None
    return journey


def lines(differences: list[str], limit: int = 40) -> str:
    more = f"\n… and {len(differences) - limit} more" if len(differences) > limit else ""
    return "\n".join(differences[:limit]) + more


# --- the fixtures are what Anki made (these hold today) ---------------------------------------


def test_the_packages_carry_template_files_latex_images_and_lack_the_missing_image() -> None:
    assert {"_highlight.js", "_highlight_dark.css", "_mono.woff2"} <= package_media(
        ANKI_MADE / "code.apkg"
    ).keys()
    latex = package_media(ANKI_MADE / "latex.apkg")
    assert len(latex) == 8
    assert all(name.startswith("latex-") and name.endswith(".png") for name in latex)
    language = package_media(ANKI_MADE / "language.apkg")
    assert "missing-photo.jpg" not in language
    assert "水 strokes.png" in language
    assert any(name.startswith("paste-") and name.endswith(".jpg") for name in language)


def test_the_packages_hold_what_the_script_describes(tmp_path: Path) -> None:
    language = package_snapshot(ANKI_MADE / "language.apkg", tmp_path / "language")
    vocab = language.note_types["Japanese Vocab (dk13)"]
    assert len(vocab.fields) == 9
    assert vocab.sort_field == 2
    assert dict(vocab.fields[8][1])["rtl"] is True
    assert language.decks == {"Japanese::N5", "Japanese::N4"}
    assert len(language.cards) == 9  # 5 Recognition + 4 Reading (one note has no Reading)
    assert 'src="missing-photo.jpg"' in language.notes["dk13-shashin"].fields[6]
    code = package_snapshot(ANKI_MADE / "code.apkg", tmp_path / "code")
    assert code.notes["dk13-list"].fields[1].startswith("List<T> items")
    mdanki = package_snapshot(ANKI_MADE / "mdanki.apkg", tmp_path / "mdanki")
    assert all(note.mod > 10**12 for note in mdanki.notes.values())  # milliseconds
    latex = package_snapshot(ANKI_MADE / "latex.apkg", tmp_path / "latex")
    pre = latex.note_types["LaTeX Maths (dk13)"].latex_pre
    assert "\\usepackage{tikz}" in pre
    assert "\\usepackage{graphicx}" in pre
    reviewed = ANKI_MADE / "language-reviewed.apkg"
    with zipfile.ZipFile(reviewed) as archive:
        assert "collection.anki21b" in archive.namelist()  # Anki's own current format
    col = open_collection(tmp_path / "reviewed")
    try:
        import_package(col, reviewed, with_scheduling=True)
        assert col.db.scalar("select count() from revlog") >= 2
    finally:
        col.close()


def test_the_script_makes_the_committed_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """make_decks.py and the committed packages agree (ids and times aside)."""
    monkeypatch.syspath_prepend(str(ANKI_MADE))
    make_decks = importlib.import_module("make_decks")
    made = {path.name: path for path in make_decks.build(tmp_path / "made")}
    assert sorted(made) == sorted(DECKS)
    for name in ("language.apkg", "code.apkg"):
        ours = package_snapshot(made[name], tmp_path / f"ours-{name}")
        committed = package_snapshot(ANKI_MADE / name, tmp_path / f"committed-{name}")
        assert not compare(
            committed, ours, ("notes", "note_types", "decks", "cards.deck", "media"),
            ignore=("mod", "note_type.mod", "note_type.id"),
        )  # fmt: skip


# --- the journey of each deck ----------------------------------------------------------------


def test_the_deck_comes_in_whole_and_builds(journey: Journey) -> None:
    converted(journey)
    assert "skipped" not in journey.conversion.imported.stdout, journey.conversion.imported.stdout
    lost = journey.original_view.notes.keys() - journey.rebuilt_view.notes.keys()  # type: ignore[union-attr]
    assert not lost, f"notes not in the rebuilt deck: {sorted(lost)}"


def test_every_field_is_byte_identical(journey: Journey) -> None:
    rebuilt = converted(journey).rebuilt_view
    assert rebuilt is not None
    changed = notes_with_changed_fields(journey.original_view, rebuilt)
    differences = [
        line
        for line in compare(journey.original_view, rebuilt, ("notes",), ignore=("mod",))
        if " field " in line
    ]
    assert not changed, lines(differences)


def test_note_types_are_kept_exactly(journey: Journey) -> None:
    """Same id, fields and their options, templates, CSS, LaTeX, sort field."""
    rebuilt = converted(journey).rebuilt_view
    assert rebuilt is not None
    differences = compare(
        journey.original_view, rebuilt, ("note_types",), ignore=("note_type.mod",)
    )
    assert not differences, lines(differences)


def test_the_first_build_gives_note_types_their_original_times(journey: Journey) -> None:
    """Spec 5: from the lockfile the import wrote, so Anki leaves the learner's note types
    alone (read from the packages: a fresh collection stamps a legacy package's note types)."""
    converted(journey)
    original = package_note_type_times(journey.original)
    rebuilt: dict[int, int] = {}
    for package in journey.conversion.packages:
        rebuilt.update(package_note_type_times(package))
    used = {nt.id for nt in journey.original_view.note_types.values()}
    assert {i: rebuilt.get(i) for i in used} == {i: original[i] for i in used}


def test_tags_decks_and_card_counts_are_identical(journey: Journey) -> None:
    rebuilt = converted(journey).rebuilt_view
    assert rebuilt is not None
    original = journey.original_view
    tags = {
        guid: (note.tags, rebuilt.notes[guid].tags)
        for guid, note in original.notes.items()
        if guid in rebuilt.notes and note.tags != rebuilt.notes[guid].tags
    }
    assert not tags, tags
    assert rebuilt.decks == original.decks
    assert not (differences := compare(original, rebuilt, ("cards.deck",))), lines(differences)
    assert rebuilt.card_counts == original.card_counts


def test_every_file_of_the_package_is_kept_under_its_own_name(journey: Journey) -> None:
    """Including files only templates load (``_*.js``, ``_*.css``, fonts) and LaTeX images;
    no file renamed, none added."""
    converted(journey)
    original, rebuilt = journey.original_media, journey.rebuilt_media
    assert not changed_media(original, rebuilt), (
        f"lost or changed: {changed_media(original, rebuilt)}; "
        f"added: {sorted(rebuilt.keys() - original.keys())}"
    )
    assert sorted(rebuilt) == sorted(original)
    assert journey.rebuilt_view is not None  # and a fresh collection takes in the same files
    assert not (differences := compare(journey.original_view, journey.rebuilt_view, ("media",))), (
        lines(differences)
    )


def test_reimport_into_the_learner_s_collection_changes_nothing(journey: Journey) -> None:
    counts = converted(journey).counts
    assert counts is not None
    assert (counts.new, counts.updated, counts.conflicting) == (0, 0, 0), counts
    assert journey.learner_after is not None
    assert not (differences := compare(journey.learner_before, journey.learner_after, CONTENT)), (
        lines(differences)
    )


def test_the_learner_s_edit_made_before_the_conversion_is_kept(journey: Journey) -> None:
    converted(journey)
    assert journey.learner_after is not None
    guid = journey.learner.edited_guid
    assert learner_edit_kept(journey), (
        f"{guid}: {journey.learner.edited_text!r} became "
        f"{journey.learner_after.notes[guid].fields[0]!r}"
    )


def test_the_learner_s_reviews_are_kept(journey: Journey) -> None:
    converted(journey)
    assert journey.learner.studied > 0
    assert journey.learner_before.revlog >= journey.learner.studied
    assert journey.learner_after is not None
    assert not (
        differences := compare(journey.learner_before, journey.learner_after, SCHEDULING)
    ), lines(differences)


def test_a_later_edit_by_the_author_reaches_the_learner_and_only_it(
    journey: Journey, tmp_path: Path
) -> None:
    """Promise 6: after the conversion, what the author changes reaches learners (also for
    notes whose original times are in milliseconds), and nothing else does."""
    converted(journey)
    old, new, guid = AUTHOR_EDITS[journey.original.name]
    built, packages = author_edit(journey.conversion, old, new, tmp_path / "edited")
    assert built.ok, built.describe()
    col = Collection(journey.learner.path)
    try:
        counts = reimport(col, packages)
        after = snapshot(col)
    finally:
        col.close()
    assert journey.learner_after is not None
    assert (counts.new, counts.updated, counts.conflicting) == (0, 1, 0), counts
    assert any(new in field for field in after.notes[guid].fields), after.notes[guid]
    changed = notes_with_changed_fields(journey.learner_after, after)
    assert changed == [guid]
    assert after.notes[journey.learner.edited_guid].fields[0] == journey.learner.edited_text


# --- single decks ----------------------------------------------------------------------------


def test_an_image_the_package_never_had_is_a_warning_not_an_error(
    journeys: Callable[[str], Journey],
) -> None:
    journey = journeys("language.apkg")
    imported = journey.conversion.imported
    assert imported.ok, imported.describe()
    assert "missing-photo.jpg" in imported.stdout + imported.stderr, imported.describe()
    built = journey.conversion.built
    assert built is not None
    assert built.ok, built.describe()
    warned = [
        line for line in (built.stdout + built.stderr).splitlines() if "missing-photo" in line
    ]
    assert warned, built.describe()
    assert all("error" not in line.lower() for line in warned), warned


def test_a_bare_generic_stays_as_written(journeys: Callable[[str], Journey]) -> None:
    journey = converted(journeys("code.apkg"))
    assert journey.rebuilt_view is not None
    code, explanation = journey.rebuilt_view.notes["dk13-list"].fields[1::2]
    assert code == "List<T> items = new ArrayList<>();"
    assert explanation == "A List<T> of items; a && b stays as written."


def test_the_lockfile_records_the_original_times(journeys: Callable[[str], Journey]) -> None:
    """Millisecond times included: the lockfile of the imported mdanki deck holds an entry for
    every note (whatever form deckkit keeps the times in) and its note type's original time."""
    journey = converted(journeys("mdanki.apkg"))
    lock = json.loads(journey.conversion.lockfile.read_text("utf-8"))
    notes = [entry for deck in lock["notes"].values() for entry in deck.values()]
    assert len(notes) == len(journey.original_view.notes)
    ((model_id, mod),) = package_note_type_times(journey.original).items()
    entries = lock["note_types"]
    assert str(model_id) in entries, f"no entry for {model_id}: {sorted(entries)}"
    assert entries[str(model_id)]["mod"] == mod
