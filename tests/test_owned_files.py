"""deckkit writes and removes only files it owns, and leaves none behind (issue 12).

- Temporary files are ``.deckkit-<name>.<16 hex digits>.tmp``; a build removes a killed build's,
  and never the user's own ``.*.tmp``.
- The output folder's busy marker is never followed through a symlink nor waited on as a FIFO:
  anything but a regular file there is refused, naming it (exit 2).
- SIGTERM and SIGHUP end a command as Ctrl-C does: its scratch folder and temporary files are
  removed, one message, exit status 128 + the signal's number; a SIGHUP ignored by ``nohup``
  stays ignored. The scratch folder of an import that was killed outright (SIGKILL) is removed by
  the next import, and only when its process is gone.

Real processes (``python -m deckkit``), each with a private TMPDIR to look into; the large package
they import is built by deckkit at test time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, REPO
from deckkit.cli import main

ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}
CARDS = 30_000  # an import of this many takes seconds: long enough to be interrupted
SMALL_IMPORT = FIXTURES / "import" / "anki-notes.txt"
SCRATCH_PREFIX = "deckkit-import-"
VALID = "deck: Deck\nid: deck\ncards:\n  - id: one\n    front: f\n    back: b\n"


def big_deck(cards: int) -> str:
    lines = ["deck: Big", "id: big", "cards:"]
    for number in range(cards):
        lines += [
            f"  - id: card-{number}",
            f'    front: "Question {number}: what is <b>{number}</b>?"',
            f"    back: Answer {number}",
        ]
    return "\n".join(lines) + "\n"


class Deckkit:
    """`python -m deckkit ARGS` in its own session, with TMPDIR set to ``tmp``; its output goes
    to files, read once it ended."""

    def __init__(
        self, cwd: Path, tmp: Path, *args: str, preexec: Callable[[], None] | None = None
    ) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deckkit", *args],
            cwd=cwd,
            env={**ENV, "TMPDIR": str(tmp)},
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            start_new_session=True,
            preexec_fn=preexec,
        )
        RUNNING.append(self)

    def wait(self) -> int:
        return self.process.wait(timeout=120)

    def error_output(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.stderr.close()


RUNNING: list[Deckkit] = []


@pytest.fixture(autouse=True)
def stop_every_process() -> Iterator[None]:
    """After each test, end what its processes left running (only those started here)."""
    yield
    while RUNNING:
        RUNNING.pop().stop()


def finished(cwd: Path, tmp: Path, *args: str) -> tuple[int, str]:
    """Run deckkit to its end: exit status and stderr."""
    process = Deckkit(cwd, tmp, *args)
    code = process.wait()
    return code, process.error_output()


@pytest.fixture(scope="module")
def big_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An .apkg of 30,000 cards, built by deckkit."""
    folder = tmp_path_factory.mktemp("package")
    (folder / "big.yaml").write_text(big_deck(CARDS), encoding="utf-8")
    code, stderr = finished(folder, folder, "build", "big.yaml", "-o", "out", "--format", "apkg")
    assert code == 0, stderr
    return folder / "out" / "big.apkg"


@pytest.fixture
def private_tmp(tmp_path: Path) -> Path:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return tmp


def scratch_folders(tmp: Path) -> list[str]:
    """deckkit's scratch folders in ``tmp``, also one made but not yet named."""
    return sorted(p.name for p in tmp.iterdir() if p.name.lstrip(".").startswith(SCRATCH_PREFIX))


def importing(cwd: Path, tmp: Path, package: Path, **options: Callable[[], None]) -> Deckkit:
    """Start importing ``package``; returns once Anki is reading it into the scratch folder."""
    process = Deckkit(cwd, tmp, "import", str(package), "-o", "sources", **options)
    started = time.monotonic()
    while not any(tmp.glob(f"{SCRATCH_PREFIX}*/collection.anki2")):
        assert process.process.poll() is None, process.error_output()
        assert time.monotonic() - started < 120, "the import never started reading"
        time.sleep(0.01)
    time.sleep(0.3)  # well inside Anki's import of the package
    assert process.process.poll() is None, "the import ended before it could be interrupted"
    return process


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


# --- temporary files -----------------------------------------------------------------------------


def test_a_build_removes_a_killed_build_s_temporary_files_and_only_those(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "deck.yaml").write_text(VALID, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    mine = {
        ".notes.tmp": b"the user's own",
        ".deck.apkg.abc123.tmp": b"named like deckkit's, before they had a prefix",
        ".deckkit-notes.tmp": b"deckkit's prefix, but not a name deckkit makes",
    }
    for name, data in mine.items():
        (out / name).write_bytes(data)
    leftover = out / ".deckkit-deck.apkg.0123456789abcdef.tmp"  # what a killed build leaves
    leftover.write_bytes(b"half an apkg")
    result = CliRunner().invoke(main, ["build", "sources", "-o", "out"])
    assert result.exit_code == 0, result.output
    assert not leftover.exists()
    assert {name: (out / name).read_bytes() for name in mine} == mine
    assert temp_files(out) == sorted(mine)


# --- the busy marker -----------------------------------------------------------------------------


def symlink_to_missing(marker: Path, outside: Path) -> None:
    marker.symlink_to(outside / "created-by-deckkit")


def symlink_to_file(marker: Path, outside: Path) -> None:
    (outside / "precious").write_text("precious", encoding="utf-8")
    marker.symlink_to(outside / "precious")


def fifo(marker: Path, outside: Path) -> None:
    os.mkfifo(marker)


def folder(marker: Path, outside: Path) -> None:
    marker.mkdir()


def symlink_to_fifo(marker: Path, outside: Path) -> None:
    os.mkfifo(outside / "pipe")
    marker.symlink_to(outside / "pipe")


MARKERS = {
    "symlink-to-a-missing-file": (symlink_to_missing, "a symbolic link"),
    "symlink-to-a-file": (symlink_to_file, "a symbolic link"),
    "fifo": (fifo, "a named pipe (FIFO)"),
    "symlink-to-a-fifo": (symlink_to_fifo, "a symbolic link"),
    "folder": (folder, "a folder"),
}


@pytest.mark.parametrize("kind", list(MARKERS))
def test_a_busy_marker_that_is_not_a_regular_file_is_refused_quickly(
    kind: str, tmp_path: Path, private_tmp: Path
) -> None:
    # A real process: before, a FIFO made the build wait forever for a reader.
    make, described = MARKERS[kind]
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "deck.yaml").write_text(VALID, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    make(out / ".deckkit-busy", outside)
    before = {p.name: p.read_bytes() for p in outside.iterdir() if p.is_file()}
    code, stderr = finished(tmp_path, private_tmp, "build", "sources", "-o", "out")
    assert code == 2, stderr
    assert stderr.splitlines()[-1] == (
        f"Error: out/.deckkit-busy is {described}, not the marker file deckkit keeps there; "
        "deckkit neither follows nor replaces it: remove it; choose another with -o"
    )
    assert {p.name: p.read_bytes() for p in outside.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in out.iterdir()) == [".deckkit-busy"]
    assert not (tmp_path / "deckkit.lock").exists()


# --- SIGTERM and SIGHUP ---------------------------------------------------------------------------

ENDING = {
    signal.SIGTERM: "interrupted by SIGTERM: each output is either as it was or complete and new",
    signal.SIGHUP: "interrupted by SIGHUP: each output is either as it was or complete and new",
}


@pytest.mark.parametrize("signum", list(ENDING), ids=lambda s: s.name)
def test_a_signal_mid_import_ends_it_cleanly_leaving_no_scratch_folder(
    signum: signal.Signals, big_package: Path, tmp_path: Path, private_tmp: Path
) -> None:
    process = importing(tmp_path, private_tmp, big_package)
    os.kill(process.process.pid, signum)
    code = process.wait()
    stderr = process.error_output()
    assert code == 128 + signum, stderr
    assert "Traceback" not in stderr
    # Besides the note that no project file was found (the defaults are used), only the ending.
    said = [line for line in stderr.splitlines() if not line.startswith("note: no deckkit.toml")]
    assert said == [ENDING[signum]]
    assert scratch_folders(private_tmp) == []
    assert not (tmp_path / "sources").exists()  # nothing written, not even a folder


def test_an_import_under_nohup_is_not_ended_by_a_sighup(
    big_package: Path, tmp_path: Path, private_tmp: Path
) -> None:
    def nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    process = importing(tmp_path, private_tmp, big_package, preexec=nohup)
    os.kill(process.process.pid, signal.SIGHUP)
    assert process.wait() == 0, process.error_output()
    assert (tmp_path / "sources" / "big.yaml").is_file()
    assert scratch_folders(private_tmp) == []


def test_sigterm_mid_build_keeps_the_old_outputs_and_leaves_no_temporary_file(
    tmp_path: Path, private_tmp: Path
) -> None:
    (tmp_path / "big.yaml").write_text(big_deck(CARDS), encoding="utf-8")
    code, stderr = finished(tmp_path, private_tmp, "build", "big.yaml", "-o", "out")
    assert code == 0, stderr
    old = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    (tmp_path / "big.yaml").write_text(big_deck(CARDS).replace("Answer", "Reply"), "utf-8")
    process = Deckkit(tmp_path, private_tmp, "build", "big.yaml", "-o", "out")
    started = time.monotonic()
    while not list((tmp_path / "out").glob(".deckkit-big.*.tmp")):
        assert process.process.poll() is None, process.error_output()
        assert time.monotonic() - started < 120
        time.sleep(0.001)
    os.kill(process.process.pid, signal.SIGTERM)
    assert process.wait() == 128 + signal.SIGTERM
    assert process.error_output().splitlines()[-1] == ENDING[signal.SIGTERM]
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == old
    assert list(private_tmp.iterdir()) == []


# --- scratch folders of killed imports -----------------------------------------------------------


def test_the_next_import_removes_the_scratch_folder_of_a_killed_one(
    big_package: Path, tmp_path: Path, private_tmp: Path
) -> None:
    killed = importing(tmp_path, private_tmp, big_package)
    os.kill(killed.process.pid, signal.SIGKILL)
    killed.wait()
    assert len(scratch_folders(private_tmp)) == 1  # SIGKILL cannot be handled
    code, stderr = finished(tmp_path, private_tmp, "import", str(SMALL_IMPORT), "-o", "small")
    assert code == 0, stderr
    assert scratch_folders(private_tmp) == []


def test_the_scratch_folder_of_a_running_import_is_left_alone(
    big_package: Path, tmp_path: Path, private_tmp: Path
) -> None:
    running = importing(tmp_path, private_tmp, big_package)
    (folder_in_use,) = scratch_folders(private_tmp)
    code, stderr = finished(tmp_path, private_tmp, "import", str(SMALL_IMPORT), "-o", "small")
    assert code == 0, stderr
    assert scratch_folders(private_tmp) == [folder_in_use]
    assert running.wait() == 0, running.error_output()
    assert (tmp_path / "sources" / "big.yaml").is_file()
    assert scratch_folders(private_tmp) == []


def test_only_deckkit_s_abandoned_scratch_folders_are_removed(
    tmp_path: Path, private_tmp: Path
) -> None:
    gone = 999_999_999  # above any pid_max: no such process
    long_ago = time.time() - 3600
    abandoned = private_tmp / f"{SCRATCH_PREFIX}{gone}-abandoned"  # no marker: died making it
    abandoned.mkdir()
    (abandoned / "collection.anki2").write_bytes(b"left behind")
    kept = {
        "not-deckkit": "folder",
        f"{SCRATCH_PREFIX}nopid": "folder",
        f"{SCRATCH_PREFIX}{os.getpid()}-alive": "folder",  # its process is this test
        f"{SCRATCH_PREFIX}{gone}-young": "young",  # made a moment ago: perhaps still starting
        f"{SCRATCH_PREFIX}{gone}-link": "symlink",
        f"{SCRATCH_PREFIX}{gone}-odd-marker": "marker-symlink",
    }
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep", encoding="utf-8")
    for name, kind in kept.items():
        path = private_tmp / name
        if kind == "symlink":
            path.symlink_to(elsewhere, target_is_directory=True)
            continue
        path.mkdir()
        if kind == "marker-symlink":
            (path / ".deckkit-busy").symlink_to(elsewhere / "keep.txt")
        if kind != "young":
            os.utime(path, (long_ago, long_ago))
    os.utime(abandoned, (long_ago, long_ago))
    code, stderr = finished(tmp_path, private_tmp, "import", str(SMALL_IMPORT), "-o", "small")
    assert code == 0, stderr
    assert sorted(p.name for p in private_tmp.iterdir()) == sorted(kept)
    assert (elsewhere / "keep.txt").read_text(encoding="utf-8") == "keep"
