"""A build with nothing changed (issue 15): it reads neither the lockfile nor unchanged files and
loads nothing that builds, yet every change is still noticed and its result is a full build's.

Timings are in bench/results-issue15.md; these tests pin down what makes the shortcut safe.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Reaches inside: these tests must tell whether the lockfile was read, and make the racy rule's
# margin zero so that files a test has just written count as settled (it cannot age them).
import deckkit.lockfile
import deckkit.pipeline.file_digests
from deckkit import BuildResult, build
from deckkit.pipeline.cache import CACHE_NAME
from deckkit.pipeline.file_digests import RACY_MARGIN_NS, FileDigests, settled

INCREMENTAL = Path(__file__).parent / "fixtures" / "incremental"
CLOCK = 1_700_000_000
# Modules building a deck loads: a settled build must load none of them, nor the validators.
BUILDERS = ("genanki", "yaml", "deckkit.model", "deckkit.lockfile")
VALIDATORS = ("jsonschema", "jsonschema_rs")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(INCREMENTAL, tmp_path / "sources")
    return tmp_path


def run(project: Path, *paths: str, **options: object) -> BuildResult:
    result = build(
        [project / p for p in paths or ("sources",)],
        project / "out",
        lockfile=options.pop("lockfile", project / "deckkit.lock"),  # type: ignore[arg-type]
        clock=lambda: CLOCK,
        **options,  # type: ignore[arg-type]
    )
    assert result.ok, result.problems
    return result


class LockfileRead(Exception):
    """Raised instead of reading the lockfile."""


@pytest.fixture
def no_racy_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deckkit.pipeline.file_digests, "RACY_MARGIN_NS", 0)


def rewrite_keeping_size_and_time(path: Path, old: bytes, new: bytes) -> None:
    """Change ``path``'s bytes without changing its size or modification time."""
    assert len(old) == len(new)
    status = path.stat()
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size
    assert path.stat().st_mtime_ns == status.st_mtime_ns


def written(result: BuildResult) -> list[str]:
    return sorted(path.name for path in result.written)


def test_the_second_build_is_settled_and_says_what_a_full_no_change_build_says(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(project)
    settled_build, full = settled_then_full(project, monkeypatch)

    assert settled_build.written == full.written == ()
    assert settled_build.problems == full.problems
    assert any(p.code == "check.quizlet-media" for p in full.problems)  # warnings are kept
    assert settled_build.decks == full.decks
    assert settled_build.unchanged == full.unchanged
    assert len(full.unchanged) == 9
    assert settled_build.quizlet_separators == full.quizlet_separators
    assert settled_build.removed_cards == full.removed_cards == ()


def settled_then_full(project: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[BuildResult, ...]:
    """A build that must be settled (it may not read the lockfile), twice (what the first
    saves keeps the second settled), then the same build made to read the lockfile (the cache's
    record of it removed)."""
    with monkeypatch.context() as patch:
        patch.setattr(deckkit.lockfile, "read_lockfile", _refuse)
        settled_build = run(project)
        assert run(project) == settled_build
    cache = project / "out" / CACHE_NAME
    data = json.loads(cache.read_text(encoding="utf-8"))
    data["settled_lock"] = None
    cache.write_text(json.dumps(data), encoding="utf-8")
    return settled_build, run(project)


SHARED = Path(__file__).parent / "fixtures" / "note_types" / "shared"


@pytest.mark.parametrize("edited", ["course/back.html", "course.notetypes.yaml", "verbs.yaml"])
def test_after_a_change_to_declared_note_types_the_next_build_is_settled_and_rebuilds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: str
) -> None:
    shutil.copytree(SHARED, tmp_path / "sources")
    run(tmp_path)
    path = tmp_path / "sources" / edited
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert run(tmp_path).written != ()  # the change is built and the lockfile may move

    settled_build, full = settled_then_full(tmp_path, monkeypatch)

    assert settled_build.written == full.written == ()
    assert settled_build.problems == full.problems
    assert settled_build.decks == full.decks


def _refuse(path: Path) -> None:
    raise LockfileRead(path)


CHANGES: dict[str, Callable[[Path], object]] = {
    "the lockfile's bytes": lambda p: rewrite_keeping_size_and_time(
        p / "deckkit.lock", str(CLOCK).encode(), str(CLOCK - 1).encode()
    ),
    "a source": lambda p: rewrite_keeping_size_and_time(
        p / "sources" / "deck2.yaml", b"Answer 2", b"Answer 9"
    ),
    "a media file": lambda p: (p / "sources" / "media" / "pic.png").write_bytes(b"new picture"),
    "the options": lambda p: None,  # strict, below
    "a deleted source": lambda p: (p / "sources" / "deck3.yaml").unlink(),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_leaves_the_settled_path_and_the_lockfile_is_read(
    project: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    run(project)
    run(project)  # settled from now on
    CHANGES[change](project)
    monkeypatch.setattr(deckkit.lockfile, "read_lockfile", _refuse)
    with pytest.raises(LockfileRead):
        run(project, strict=change == "the options")


@pytest.mark.parametrize("edited", ["course/style.css", "course.notetypes.yaml", "spare.yaml"])
def test_a_note_type_file_or_its_template_changed_leaves_the_settled_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: str
) -> None:
    shutil.copytree(SHARED, tmp_path / "sources")
    # A note-type file no deck names: only its own check stands for it.
    shutil.copy(tmp_path / "sources" / "course.notetypes.yaml", tmp_path / "sources" / "spare.yaml")
    run(tmp_path)
    settled_then_full(tmp_path, monkeypatch)  # settled, once every file was read
    path = tmp_path / "sources" / edited
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    monkeypatch.setattr(deckkit.lockfile, "read_lockfile", _refuse)
    with pytest.raises(LockfileRead):
        run(tmp_path)


def test_a_build_of_other_paths_or_with_another_lockfile_reads_the_lockfile(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(project)
    shutil.copy(project / "deckkit.lock", project / "other.lock")
    monkeypatch.setattr(deckkit.lockfile, "read_lockfile", _refuse)
    with pytest.raises(LockfileRead):
        run(project, "sources/deck1.yaml")
    with pytest.raises(LockfileRead):
        run(project, lockfile=project / "other.lock")
    # No paths given: the same folder, but a build that covers even decks an older lockfile
    # records no source for.
    monkeypatch.chdir(project)
    with pytest.raises(LockfileRead):
        build(output_dir=Path("out"), lockfile=Path("deckkit.lock"), clock=lambda: CLOCK)


def test_an_edited_lockfile_with_its_old_size_and_time_rebuilds_with_its_times(
    project: Path, no_racy_margin: None
) -> None:
    run(project)
    run(project)
    lock = project / "deckkit.lock"
    old = str(CLOCK).encode()
    rewrite_keeping_size_and_time(lock, old, str(CLOCK - 1).encode())
    edited = lock.read_text(encoding="utf-8")

    result = run(project)

    assert written(result) != []  # a deck whose note kept the old time in the lockfile is rebuilt
    assert lock.read_text(encoding="utf-8") == edited  # and the lockfile's time is what it carries


def test_a_source_rewritten_with_its_old_size_and_time_is_rebuilt(
    project: Path, no_racy_margin: None
) -> None:
    run(project)
    run(project)  # every file's digest is remembered by its state now
    rewrite_keeping_size_and_time(project / "sources" / "deck2.yaml", b"Answer 2", b"Answer 9")

    result = run(project)

    assert written(result) == [
        "incremental-2.apkg",
        "incremental-2.csv",
        "incremental-2.quizlet.txt",
    ]


def test_a_media_file_rewritten_with_its_old_size_and_time_rebuilds_its_decks(
    project: Path, no_racy_margin: None
) -> None:
    run(project)
    run(project)
    picture = project / "sources" / "media" / "pic.png"
    data = picture.read_bytes()
    rewrite_keeping_size_and_time(picture, data[-4:], bytes(b ^ 1 for b in data[-4:]))

    result = run(project)

    assert len(result.written) == 9  # every deck shows the picture


def test_a_deleted_source_still_leaves_the_lockfile(project: Path) -> None:
    run(project)
    run(project)
    (project / "sources" / "deck3.yaml").unlink()

    result = run(project)

    assert result.removed_cards != ()
    assert all(card.startswith("incremental-3/") for card in result.removed_cards)


def test_a_file_changed_just_before_it_is_read_is_not_trusted_later(tmp_path: Path) -> None:
    path = tmp_path / "fresh.yaml"
    path.write_text("id: a\n", encoding="utf-8")
    digests = FileDigests()
    digests.digest(path)
    assert digests.records() == {}  # written within the racy margin: read again next time

    status = path.stat()
    state = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, status.st_dev)
    latest = max(status.st_mtime_ns, status.st_ctime_ns)
    assert not settled(state, latest + RACY_MARGIN_NS - 1)
    assert settled(state, latest + RACY_MARGIN_NS)


def test_a_remembered_digest_is_used_only_while_the_state_holds(
    tmp_path: Path, no_racy_margin: None
) -> None:
    path = tmp_path / "deck.yaml"
    path.write_text("id: a\n", encoding="utf-8")
    first = FileDigests()
    digest = first.digest(path)
    records = first.records()
    assert list(records) == [str(path)]
    forged = {str(path): (*records[str(path)][:5], "00" * 32)}  # a digest the file does not have

    assert FileDigests(forged).digest(path) == bytes(32)  # the state holds: trusted
    path.write_text("id: b\n", encoding="utf-8")  # same size; ctime and mtime move
    assert FileDigests(forged).digest(path) != bytes(32)
    assert FileDigests(forged).digest(path) != digest


def test_a_build_with_nothing_changed_loads_nothing_that_builds(project: Path) -> None:
    command = [sys.executable, "-c", _WHAT_IS_LOADED, "build", "sources", "--lockfile", "x.lock"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    again = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)

    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    loaded_first, loaded_again = json.loads(first.stdout), json.loads(again.stdout)
    assert set(BUILDERS) <= set(loaded_first)  # the first build builds: it loads them all
    assert set(BUILDERS + VALIDATORS) & set(loaded_again) == set()


def test_a_library_build_without_a_lockfile_with_nothing_changed_loads_nothing_that_builds(
    project: Path,
) -> None:
    command = [sys.executable, "-c", _LIBRARY_BUILD]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    again = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)

    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert set(BUILDERS) - {"deckkit.lockfile"} <= set(json.loads(first.stdout))
    assert set(BUILDERS + VALIDATORS) & set(json.loads(again.stdout)) == set()


# Builds sources/ into out/ without a lockfile, then prints the names of the modules loaded.
_LIBRARY_BUILD = """
import json, sys
from pathlib import Path
import deckkit
result = deckkit.build([Path("sources")], Path("out"))
assert result.ok, result.problems
print(json.dumps(sorted(sys.modules)))
"""


# Runs `deckkit ARGS...` in this process, then prints the names of the modules loaded as JSON.
_WHAT_IS_LOADED = """
import contextlib, io, json, sys
from deckkit.cli.entry import main
sys.argv = ["deckkit", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as ended:
        if ended.code:
            raise
print(json.dumps(sorted(sys.modules)))
"""
