"""The build's clock: SOURCE_DATE_EPOCH, and a clock behind the lockfile refused (issue 14)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from anki.collection import Collection

from conftest import FIXTURES, import_apkg
from deckkit.lockfile import lock_from_text

DECK = FIXTURES / "own_note_types" / "course"
DAY = 86_400
T1 = 1_790_000_000  # a build on some day
BEHIND = T1 - DAY  # a laptop whose clock is a day late


def deckkit(
    project: Path, *args: str, epoch: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    return subprocess.run(
        [sys.executable, "-m", "deckkit", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(DECK, tmp_path / "sources")
    built = deckkit(tmp_path, "build", "sources", "--format", "apkg", epoch=T1)
    assert built.returncode == 0, built.stderr
    return tmp_path


def lock_times(project: Path) -> dict[str, int]:
    lock = lock_from_text((project / "deckkit.lock").read_text("utf-8"))
    return {card: entry.mod for card, entry in lock.notes["japanese-n5"].items()}


def edit_a_card(project: Path) -> None:
    source = project / "sources" / "japanese.yaml"
    source.write_text(source.read_text("utf-8").replace("Meaning: cat", "Meaning: a cat"), "utf-8")


def test_source_date_epoch_is_the_build_time(project: Path) -> None:
    assert set(lock_times(project).values()) == {T1}


def test_a_clock_behind_the_lockfile_is_refused_and_nothing_is_written(project: Path) -> None:
    edit_a_card(project)
    lock_before = (project / "deckkit.lock").read_bytes()
    package_before = (project / "build" / "japanese-n5.apkg").read_bytes()
    refused = deckkit(project, "build", "sources", "--format", "apkg", epoch=BEHIND)
    assert refused.returncode == 1
    assert "clock" in refused.stderr
    assert "--clock-behind" in refused.stderr
    assert (project / "deckkit.lock").read_bytes() == lock_before
    assert (project / "build" / "japanese-n5.apkg").read_bytes() == package_before


def test_with_clock_behind_a_changed_note_still_moves_forward_and_reaches_the_learner(
    project: Path, collection: Collection
) -> None:
    import_apkg(collection, project / "build" / "japanese-n5.apkg")
    edit_a_card(project)
    built = deckkit(project, "build", "sources", "--format", "apkg", "--clock-behind", epoch=BEHIND)
    assert built.returncode == 0, built.stderr
    times = lock_times(project)
    assert times["neko"] == T1 + 1  # newer than what learners have, although the clock is late
    assert times["inu-no-meaning"] == T1
    log = import_apkg(collection, project / "build" / "japanese-n5.apkg")
    assert len(log.updated) == 1
    (note_id,) = collection.find_notes("Word:猫")
    assert collection.get_note(note_id)["Meaning"] == "a cat"


def test_an_unchanged_build_with_a_clock_behind_is_refused_too(project: Path) -> None:
    refused = deckkit(project, "build", "sources", "--format", "apkg", epoch=BEHIND)
    assert refused.returncode == 1
    assert "the clock reads" in refused.stderr


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5e9"])
def test_a_source_date_epoch_that_is_not_a_time_is_a_usage_error(project: Path, value: str) -> None:
    env_value: str = value
    result = subprocess.run(
        [sys.executable, "-m", "deckkit", "build", "sources"],
        cwd=project,
        env={**os.environ, "SOURCE_DATE_EPOCH": env_value},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "SOURCE_DATE_EPOCH" in result.stderr


def test_builds_within_one_second_that_change_one_note_are_not_a_clock_behind(
    project: Path,
) -> None:
    for meaning in ("a cat", "the cat", "one cat"):
        source = project / "sources" / "japanese.yaml"
        text = source.read_text("utf-8")
        source.write_text(text.replace("Meaning: cat", f"Meaning: {meaning}", 1), "utf-8")
        built = deckkit(project, "build", "sources", "--format", "apkg", epoch=T1)
        assert built.returncode == 0, built.stderr
        source.write_text(text, "utf-8")
    assert lock_times(project)["neko"] == T1 + 3
