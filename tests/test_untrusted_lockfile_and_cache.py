"""Lockfiles and the build cache, damaged or hostile (issue 12).

A lockfile is edited and merged by people: it is read strictly, and anything that is not a
lockfile deckkit could have written is one line naming the file, exit status 2, with nothing
written (each case in `fixtures/lockfiles/bad/` with its exact line beside it). It is written
only through JSON's string encoder. The build cache (`build/.deckkit-cache.json`) only makes
builds faster: whatever its damage, a build is a full build that gives what a clean one gives.

The attacks that cost memory or time when they succeed run `python -m deckkit` in a real
process capped at 120 s and 2 GB of address space.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import FIXTURES, REPO
from deckkit import build
from deckkit.cli import main

# The writer's own guarantee, which no public path reaches any more (reading refuses such a
# hash first): tested on the functions that make the lockfile's text.
from deckkit.lockfile import Entry, Lock, lock_to_text

LOCKFILES = FIXTURES / "lockfiles"
BAD = sorted(path.stem for path in (LOCKFILES / "bad").glob("*.lock"))
SOURCES = FIXTURES / "incremental"  # three decks, one with an image
CACHE = ".deckkit-cache.json"
CLOCK = 1_800_000_000


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def deckkit(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m deckkit ARGS` in its own process, at most 120 s and 2 GB of address space."""
    return subprocess.run(
        [sys.executable, "-m", "deckkit", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_cap_address_space,
    )


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def error_line(stderr: str) -> str:
    """The one error line of a usage error, and no traceback."""
    assert "Traceback" not in stderr, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(SOURCES, tmp_path / "sources")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def tree(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


# --- lockfiles -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD)
def test_a_lockfile_deckkit_could_not_have_written_is_one_line_and_exit_2(
    project: Path, name: str
) -> None:
    lock = project / f"{name}.lock"
    shutil.copy(LOCKFILES / "bad" / f"{name}.lock", lock)
    before = lock.read_bytes()

    result = invoke("build", "sources", "-o", "out", "--lockfile", lock.name)

    assert result.exit_code == 2, result.output
    expected = (LOCKFILES / "bad" / f"{name}.expected").read_text(encoding="utf-8")
    assert result.output.splitlines()[-1] == expected.rstrip("\n")
    assert lock.read_bytes() == before
    assert not (project / "out").exists()


def test_a_lockfile_nested_100000_deep_is_one_line_not_a_recursion_error(project: Path) -> None:
    lock = project / "deep.lock"
    lock.write_text('{"version": 1, "note_types": {}, "notes": ' + "[" * 100_000 + "]" * 100_000)

    result = invoke("build", "sources", "-o", "out", "--lockfile", lock.name)

    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == (
        "Error: cannot use lockfile deep.lock: not a deckkit lockfile (nested too deeply)"
    )


def test_a_lockfile_deck_id_cannot_make_an_import_write_outside_its_folder(project: Path) -> None:
    # The lockfile gives the CSV's note (by its GUID) the deck id '../lock-escape', which
    # deckkit import used to take as the source's file name: out/../lock-escape.yaml.
    shutil.copy(LOCKFILES / "lock-escape.lock", project)
    shutil.copy(LOCKFILES / "lock-escape.csv", project)

    result = invoke("import", "lock-escape.csv", "-o", "out", "--lockfile", "lock-escape.lock")

    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == (
        "Error: cannot use lockfile lock-escape.lock: deck id '../lock-escape' is not an id "
        "(letters, digits, '-', '_' and '.', starting with a letter or digit, without '..')"
    )
    assert not (project / "lock-escape.yaml").exists()
    assert not (project / "out").exists()


def test_a_crafted_hash_written_back_stays_one_json_string() -> None:
    hash_text = '0a", "mod": 1}, "injected": {"hash": "0b'
    text = lock_to_text(Lock(notes={"deck": {"card": Entry(hash_text, 5)}}))
    assert json.loads(text)["notes"] == {"deck": {"card": {"hash": hash_text, "mod": 5}}}


def test_the_lockfile_of_a_build_reads_back_and_keeps_its_bytes(project: Path) -> None:
    lock = project / "deckkit.lock"
    assert build([project / "sources"], project / "out", lockfile=lock, clock=lambda: CLOCK).ok
    written = lock.read_bytes()
    shutil.rmtree(project / "out")
    assert build([project / "sources"], project / "out", lockfile=lock, clock=lambda: CLOCK).ok
    assert lock.read_bytes() == written


def test_a_note_at_the_largest_time_stays_there_when_it_changes(project: Path) -> None:
    lock = project / "deckkit.lock"
    assert build([project / "sources"], project / "out", lockfile=lock, clock=lambda: CLOCK).ok
    lock.write_text(lock.read_text().replace(f'"mod": {CLOCK}', f'"mod": {2**53}'))
    deck = project / "sources" / "deck1.yaml"
    deck.write_text(deck.read_text().replace("back:", "back: changed", 1))

    # The clock is far behind the lockfile's largest time: the author builds anyway.
    assert build(
        [project / "sources"],
        project / "out",
        lockfile=lock,
        clock=lambda: CLOCK,
        clock_behind=True,
    ).ok

    assert build([project / "sources"], project / "again", lockfile=lock, clock_behind=True).ok
    assert str(2**53 + 1) not in lock.read_text()


def test_a_324_mb_lockfile_is_refused_by_its_size_unread(tmp_path: Path) -> None:
    shutil.copytree(SOURCES, tmp_path / "sources")
    entry = '"c{:07d}": {{"hash": "0123456789abcdef0123", "mod": 1800000000}},\n'
    with (tmp_path / "big.lock").open("w") as lock:
        lock.write('{"version": 1, "note_types": {}, "notes": {"deck": {\n')
        for start in range(0, 5_000_000, 100_000):
            lock.write("".join(entry.format(n) for n in range(start, start + 100_000)))
        lock.write('"last": {"hash": "00", "mod": 1}}}}\n')
    assert (tmp_path / "big.lock").stat().st_size > 320_000_000

    run = deckkit("build", "sources", "-o", "out", "--lockfile", "big.lock", cwd=tmp_path)

    assert run.returncode == 2, run.stderr[-3000:]
    assert error_line(run.stderr) == (
        "Error: big.lock holds 310 MiB, more than 64 MiB, deckkit's cap for a lockfile; "
        "set DECKKIT_MAX_LOCKFILE_BYTES to raise it"
    )
    assert not (tmp_path / "out").exists()


def test_the_lockfile_cap_is_set_by_its_environment_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build([project / "sources"], project / "out", lockfile=project / "deckkit.lock").ok
    monkeypatch.setenv("DECKKIT_MAX_LOCKFILE_BYTES", "1K")
    assert invoke("build", "sources", "-o", "out", "--lockfile", "deckkit.lock").exit_code == 2
    monkeypatch.setenv("DECKKIT_MAX_LOCKFILE_BYTES", "1M")
    assert invoke("build", "sources", "-o", "out", "--lockfile", "deckkit.lock").exit_code == 0


def test_a_lockfile_linked_to_dev_zero_is_refused_unread(tmp_path: Path) -> None:
    shutil.copytree(SOURCES, tmp_path / "sources")
    (tmp_path / "deckkit.lock").symlink_to("/dev/zero")

    run = deckkit("build", "sources", "-o", "out", "--lockfile", "deckkit.lock", cwd=tmp_path)

    assert run.returncode == 2, run.stderr[-3000:]
    assert error_line(run.stderr) == (
        "Error: cannot use lockfile deckkit.lock: it is a device, not a regular file"
    )


def test_a_lockfile_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    shutil.copytree(SOURCES, tmp_path / "sources")
    os.mkfifo(tmp_path / "deckkit.lock")

    run = deckkit("build", "sources", "-o", "out", "--lockfile", "deckkit.lock", cwd=tmp_path)

    assert run.returncode == 2, run.stderr[-3000:]
    assert error_line(run.stderr) == (
        "Error: cannot use lockfile deckkit.lock: it is a FIFO, not a regular file"
    )


# --- the build cache -------------------------------------------------------------------------


def first_build(project: Path) -> dict[str, str]:
    """Build into out/ with a lockfile; what a clean build gives."""
    result = build([project / "sources"], project / "out", lockfile=project / "deckkit.lock")
    assert result.ok, result.problems
    assert (project / "out" / CACHE).is_file()
    return tree(project / "out")


def edit_cache(project: Path, change: Callable[[dict[str, Any]], object]) -> None:
    path = project / "out" / CACHE
    data = json.loads(path.read_text(encoding="utf-8"))
    for entry in data["decks"].values():
        change(entry)
    path.write_text(json.dumps(data), encoding="utf-8")


def replace_in_cache(project: Path, old: str, new: str) -> None:
    path = project / "out" / CACHE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


DAMAGES: dict[str, Callable[[Path], object]] = {
    "wrong type": lambda p: edit_cache(p, lambda e: e.update(anki_cards="many")),
    "Infinity": lambda p: replace_in_cache(p, '"anki_cards": ', '"anki_cards": Infinity, "x": '),
    "1e400": lambda p: replace_in_cache(p, '"anki_cards": ', '"anki_cards": 1e400, "x": '),
    "2**70": lambda p: edit_cache(p, lambda e: e.update(anki_cards=2**70)),
    "a negative size": lambda p: edit_cache(
        p, lambda e: e["outputs"].update({k: [-1, v[1]] for k, v in e["outputs"].items()})
    ),
    "an output path": lambda p: edit_cache(
        p, lambda e: e.update(outputs={"../../escape": [1, 1], **e["outputs"]})
    ),
    "a media list of numbers": lambda p: edit_cache(p, lambda e: e.update(media=[1, 2])),
    "a short position": lambda p: edit_cache(p, lambda e: e.update(id_position=[1])),
    "separators not text": lambda p: edit_cache(p, lambda e: e.update(separators=[1, 2])),
    "a deck id that is not one": lambda p: edit_cache(p, lambda e: e.update(deck_id="../x")),
    "deep nesting": lambda p: replace_in_cache(
        p, '"decks": ', '"decks": ' + "[" * 100_000 + "]" * 100_000 + ', "x": '
    ),
    "a file record of two numbers": lambda p: replace_in_cache(
        p, '"files": {', '"files": {"sources/x.yaml": [1, 2], '
    ),
    "a lockfile record that is a list": lambda p: replace_in_cache(
        p, '"settled_lock": {', '"settled_lock": [1], "x": {'
    ),
    "a checked file that is a number": lambda p: replace_in_cache(
        p, '"checked": {', '"checked": {"sources/x.yaml": 1'
    ),
    "not a JSON object": lambda p: (p / "out" / CACHE).write_text("[1, 2]"),
    "not UTF-8": lambda p: (p / "out" / CACHE).write_bytes(b"\xff\xfe{}"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_cache_means_a_full_build_equal_to_a_clean_one(
    project: Path, damage: str
) -> None:
    clean = first_build(project)
    DAMAGES[damage](project)

    result = build([project / "sources"], project / "out", lockfile=project / "deckkit.lock")

    assert result.ok, result.problems
    assert len(result.written) == 9
    assert tree(project / "out") == clean
    json.loads((project / "out" / CACHE).read_text(encoding="utf-8"))  # a good one again


def test_a_cache_larger_than_its_cap_means_a_full_build(project: Path) -> None:
    first_build(project)
    path = project / "out" / CACHE
    path.write_text(path.read_text(encoding="utf-8") + " " * (65 << 20), encoding="utf-8")

    result = build([project / "sources"], project / "out", lockfile=project / "deckkit.lock")

    assert result.ok, result.problems
    assert len(result.written) == 9


@pytest.mark.parametrize("kind", ["a link to /dev/zero", "a FIFO", "media /dev/zero"])
def test_a_cache_that_would_hang_or_fill_memory_means_a_full_build(
    tmp_path: Path, kind: str
) -> None:
    shutil.copytree(SOURCES, tmp_path / "sources")
    command = ("build", "sources", "-o", "out", "--lockfile", "deckkit.lock")
    assert deckkit(*command, cwd=tmp_path).returncode == 0
    cache = tmp_path / "out" / CACHE
    if kind == "media /dev/zero":
        # A cache otherwise intact: its media are read to see whether they changed.
        edit_cache(tmp_path, lambda entry: entry.update(media=["/dev/zero"]))
    else:
        cache.unlink()
        cache.symlink_to("/dev/zero") if kind == "a link to /dev/zero" else os.mkfifo(cache)

    run = deckkit(*command, cwd=tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    rebuilt = [line for line in run.stdout.splitlines() if line.startswith("wrote out/")]
    assert len(rebuilt) == 3, run.stdout  # every deck
