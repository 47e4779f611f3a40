"""Incremental and parallel builds give exactly what a clean, serial build gives."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

import deckkit.pipeline.cache
from deckkit import BuildResult, build
from deckkit.lockfile import lock_from_text, lock_to_text
from deckkit.pipeline import source_build
from deckkit.pipeline.cache import OUTPUT_LIBRARIES, library_releases

INCREMENTAL = Path(__file__).parent / "fixtures" / "incremental"
CLOCK = 1_700_000_000  # earlier than the real clock of any later build in these tests


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(INCREMENTAL, tmp_path / "sources")
    return tmp_path


def run(project: Path, out: str = "out", **options: object) -> BuildResult:
    result = build(
        [project / "sources"],
        project / out,
        lockfile=project / "deckkit.lock",
        clock=lambda: CLOCK,
        **options,  # type: ignore[arg-type]
    )
    assert result.ok, result.problems
    return result


def outputs(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if not p.name.startswith(".")
    }


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if not p.name.startswith(".")}


def clean_build_of(project: Path) -> dict[str, str]:
    """What a build into a fresh folder, without any cache, gives for the sources as they are."""
    fresh = project / "clean"
    shutil.rmtree(fresh, ignore_errors=True)
    run(project, "clean", jobs=1)
    return outputs(fresh)


def edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / "sources" / name
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_a_rebuild_with_nothing_changed_rewrites_nothing(project: Path) -> None:
    run(project)
    before = mtimes(project / "out")
    second = run(project)
    assert second.written == ()
    assert len(second.unchanged) == 9
    assert mtimes(project / "out") == before
    assert [deck.id for deck in second.decks] == ["incremental-1", "incremental-2", "incremental-3"]
    assert second.anki_cards() == 6


def test_changing_one_source_rebuilds_only_its_deck(project: Path) -> None:
    run(project)
    before = mtimes(project / "out")
    edit(project, "deck2.yaml", "Answer 2", "Answer two")
    second = run(project)
    assert sorted(p.name for p in second.written) == [
        "incremental-2.apkg",
        "incremental-2.csv",
        "incremental-2.quizlet.txt",
    ]
    after = mtimes(project / "out")
    assert {n for n in after if after[n] != before[n]} == {p.name for p in second.written}
    assert outputs(project / "out") == clean_build_of(project)


def test_changing_a_media_file_rebuilds_the_decks_using_it(project: Path) -> None:
    run(project)
    media = project / "sources" / "media" / "pic.png"
    media.write_bytes(media.read_bytes() + b"\0")
    second = run(project)
    assert len(second.written) == 9
    assert outputs(project / "out") == clean_build_of(project)


def test_changing_the_options_rebuilds(project: Path) -> None:
    run(project, formats=["csv"])
    second = run(project)
    assert len(second.written) == 9
    assert outputs(project / "out") == clean_build_of(project)


def test_changing_deckkit_itself_rebuilds(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(project)
    # Reaches inside: installing another deckkit version is what this stands for, and a test
    # cannot do that cheaply.
    monkeypatch.setattr(
        deckkit.pipeline.cache, "code_fingerprint", lambda: "another deckkit version"
    )
    assert len(run(project).written) == 9


@pytest.fixture
def fingerprint_again() -> Iterator[None]:
    """deckkit's fingerprint taken afresh in the test and after it (it is taken once a process)."""
    deckkit.pipeline.cache.code_fingerprint.cache_clear()
    yield
    deckkit.pipeline.cache.code_fingerprint.cache_clear()


def test_a_new_release_of_a_library_making_the_outputs_rebuilds(
    project: Path, monkeypatch: pytest.MonkeyPatch, fingerprint_again: None
) -> None:
    run(project)
    assert run(project).written == ()
    # Reaches inside: upgrading comrak (the Markdown's HTML) is what this stands for.
    upgraded = [r.replace("comrak-0.", "comrak-9.") for r in library_releases()]
    monkeypatch.setattr(deckkit.pipeline.cache, "library_releases", lambda: upgraded)
    deckkit.pipeline.cache.code_fingerprint.cache_clear()
    assert len(run(project).written) == 9
    assert outputs(project / "out") == clean_build_of(project)


def test_the_libraries_releases_are_read_as_installed() -> None:
    releases = library_releases()
    assert len(releases) == len(OUTPUT_LIBRARIES)
    for (name, _module), release in zip(OUTPUT_LIBRARIES, releases, strict=True):
        assert f"-{metadata.version(name)}.dist-info" in release, release


def test_a_deleted_or_edited_output_is_rebuilt(project: Path) -> None:
    run(project)
    (project / "out" / "incremental-1.csv").unlink()
    (project / "out" / "incremental-3.apkg").write_bytes(b"damaged")
    second = run(project)
    assert sorted(p.name for p in second.written) == [
        "incremental-1.apkg",
        "incremental-1.csv",
        "incremental-1.quizlet.txt",
        "incremental-3.apkg",
        "incremental-3.csv",
        "incremental-3.quizlet.txt",
    ]
    assert outputs(project / "out") == clean_build_of(project)


def test_a_lockfile_edited_behind_the_caches_back_rebuilds(project: Path) -> None:
    run(project)
    lock = project / "deckkit.lock"
    lock.write_text(lock.read_text().replace(f'"mod": {CLOCK}', f'"mod": {CLOCK - 5}', 1))
    assert run(project).written != ()


def test_a_damaged_cache_only_costs_a_full_build(project: Path) -> None:
    run(project)
    (project / "out" / deckkit.pipeline.cache.CACHE_NAME).write_text("{not json")
    assert len(run(project).written) == 9
    assert outputs(project / "out") == clean_build_of(project)


def test_parallel_build_equals_serial_build(project: Path) -> None:
    serial = run(project, "serial", jobs=1)
    parallel = run(project, "parallel", jobs=2)
    assert outputs(project / "serial") == outputs(project / "parallel")
    assert serial.decks == parallel.decks
    assert serial.quizlet_separators == parallel.quizlet_separators


def test_a_failed_parallel_build_leaves_no_temporary_files(project: Path) -> None:
    run(project)
    edit(project, "deck1.yaml", "Answer 1", "")
    result = build(
        [project / "sources"], project / "out", lockfile=project / "deckkit.lock", jobs=2
    )
    assert not result.ok
    assert not [p for p in (project / "out").iterdir() if p.name.endswith(".tmp")]


def test_a_large_decks_formats_written_by_two_processes_equal_a_serial_build(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reaches inside: only a deck of 5,000 cards shares its work with a second process.
    monkeypatch.setattr(source_build, "PARALLEL_EXPORT_MIN_CARDS", 1)
    (project / "sources" / "deck2.yaml").unlink()
    (project / "sources" / "deck3.yaml").unlink()  # one deck: its formats are split instead
    serial = run(project, "serial", jobs=1)
    split = run(project, "split", jobs=2)
    assert outputs(project / "serial") == outputs(project / "split")
    assert len(outputs(project / "split")) == 3
    assert serial.quizlet_separators == split.quizlet_separators


def test_a_large_deck_checked_in_a_child_process_still_fails_on_a_check(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reaches inside: only a deck of 5,000 cards shares its work with a second process.
    monkeypatch.setattr(source_build, "PARALLEL_EXPORT_MIN_CARDS", 1)
    (project / "sources" / "deck2.yaml").unlink()
    (project / "sources" / "deck3.yaml").unlink()
    run(project, "out", jobs=2)
    before = outputs(project / "out")
    edit(project, "deck1.yaml", "media/pic.png", "media/missing.png")  # found by a check only
    result = build(
        [project / "sources"], project / "out", lockfile=project / "deckkit.lock", jobs=2
    )
    assert [p.code for p in result.problems] == ["check.media-missing"]
    assert outputs(project / "out") == before
    assert not [p for p in (project / "out").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_lockfile_a_build_writes_is_the_canonical_text_of_its_entries(
    project: Path, jobs: int
) -> None:
    # A build reuses the entry lines it made for each deck's cache fingerprint: they must be
    # exactly what writing the lock from scratch gives, after a first build and after an edit.
    run(project, jobs=jobs)
    edit(project, "deck1.yaml", "back:", "back: changed")
    build([project / "sources"], project / "out", lockfile=project / "deckkit.lock", jobs=jobs)
    text = (project / "deckkit.lock").read_text(encoding="utf-8")
    assert text == lock_to_text(lock_from_text(text))
    assert len(lock_from_text(text).notes) == 3
