"""Nothing lost (issue 6 §4): interrupted, killed and concurrent builds, with real processes.

A large deck is built once (the "old" outputs); its source is edited and a second build is killed
with SIGKILL or interrupted with SIGINT at several moments: while loading, while the staged files
are being written, just after an output was replaced. Every output must then be byte for byte
either the old file or the file a clean build of the edited source writes (the "new" one), never a
partial file, and the next build must succeed, write the new outputs and leave no temporary file.

To compare bytes, the outputs must not depend on the clock: every modification time in the lockfile
is moved into the future before the edited source is built, so an edited note gets that time + 1
whenever it is built (see ``deckkit.lockfile._next``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

# Reaches inside: the console script and its Ctrl-C handling are what is under test.
import deckkit.cli
from conftest import REPO
from deckkit.atomic import BUSY_NAME
from deckkit.cli import entry as console_entry
from deckkit.cli import interrupt as ctrl_c

FUTURE = 4_000_000_000  # seconds since the epoch, in 2096: later than any build's clock
# The builds' clock: the lockfile is moved to FUTURE, and a build whose clock reads earlier than
# its lockfile is refused (deckkit.errors.ClockBehind).
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "SOURCE_DATE_EPOCH": str(FUTURE)}
CARDS = 30_000
SUFFIXES = (".apkg", ".csv", ".quizlet.txt")
TEMP_SUFFIX = ".tmp"
NO_PROJECT_NOTE = "note: no deckkit.toml in this folder or above"  # said on stderr without one


def deck_text(deck_id: str, cards: int, *, edited: bool) -> str:
    """A deck of basic cards; the edited version changes every back."""
    suffix = " (edited)" if edited else ""
    lines = [f"deck: Interruptions::{deck_id}", f"id: {deck_id}", "cards:"]
    for number in range(cards):
        lines += [
            f"  - id: card-{number}",
            f'    front: "Question {number}: what is <b>{number}</b> & more?"',
            f'    back: "Answer {number}{suffix}, with List<T> and 2 < 3"',
        ]
    return "\n".join(lines) + "\n"


class Build:
    """`python -m deckkit ARGS` running in its own session, so that it and its worker processes
    can be signalled together. Its output goes to files, not pipes: a pipe stays open for as long
    as any worker the build left behind holds it, and waiting for it would hide such workers."""

    def __init__(self, cwd: Path, *args: str) -> None:
        # Closed by stop_all(), which the autouse fixture calls after every test.
        self.stdout = tempfile.TemporaryFile()  # noqa: SIM115
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deckkit", *args],
            cwd=cwd,
            env=ENV,
            stdout=self.stdout,
            stderr=self.stderr,
            start_new_session=True,
        )
        STARTED.append(self)

    def wait(self, timeout: float) -> int:
        """Wait for the build's main process (not for workers it may have left)."""
        return self.process.wait(timeout)

    def output(self) -> tuple[str, str]:
        """What it printed so far: stdout and stderr."""
        texts = []
        for handle in (self.stdout, self.stderr):
            handle.seek(0)
            texts.append(handle.read().decode("utf-8", "replace"))
        return texts[0], texts[1]

    def stop_all(self) -> None:
        """Kill what is left of this build: its process group (the build and its workers)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.stdout.close()
        self.stderr.close()


STARTED: list[Build] = []


@pytest.fixture(autouse=True)
def stop_every_build() -> Iterator[None]:
    """After each test, end whatever its builds left running (only those started here)."""
    yield
    while STARTED:
        STARTED.pop().stop_all()


def run(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a build or validate to its end; raises TimeoutExpired after ``timeout`` seconds."""
    build = Build(cwd, *args)
    try:
        code = build.wait(timeout)
        stdout, stderr = build.output()
    finally:
        STARTED.remove(build)
        build.stop_all()
    return subprocess.CompletedProcess(build.process.args, code, stdout, stderr)


def outputs(folder: Path) -> dict[str, str]:
    """SHA-256 of every output file (not hidden) in ``folder``."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if not path.name.startswith(".")
    }


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(TEMP_SUFFIX))


def move_lock_into_the_future(lockfile: Path) -> None:
    lock = json.loads(lockfile.read_text("utf-8"))
    for entry in lock["note_types"].values():
        entry["mod"] = FUTURE
    for deck in lock["notes"].values():
        for entry in deck.values():
            entry["mod"] = FUTURE
    lockfile.write_text(json.dumps(lock, indent=2), encoding="utf-8")


@dataclass(frozen=True)
class Decks:
    """A folder holding old outputs of `sources/`, and the hashes of the old and new outputs."""

    pristine: Path  # cwd with sources/ (old text), out/ (old outputs) and deckkit.lock
    edited: dict[str, str]  # source file name → edited text
    old: dict[str, str]
    new: dict[str, str]
    seconds: float  # how long a clean build of the edited sources takes
    args: tuple[str, ...]

    def work_copy(self, folder: Path) -> Path:
        """A copy of the pristine folder with the edited sources (outputs still old)."""
        shutil.copytree(self.pristine, folder, symlinks=True)
        for name, text in self.edited.items():
            (folder / "sources" / name).write_text(text, encoding="utf-8")
        return folder


def make_decks(base: Path, sizes: dict[str, int], *args: str) -> Decks:
    pristine = base / "pristine"
    (pristine / "sources").mkdir(parents=True)
    for deck_id, cards in sizes.items():
        (pristine / "sources" / f"{deck_id}.yaml").write_text(
            deck_text(deck_id, cards, edited=False), encoding="utf-8"
        )
    first = run(pristine, "build", "sources", "-o", "out", *args)
    assert first.returncode == 0, first.stderr
    move_lock_into_the_future(pristine / "deckkit.lock")
    edited = {f"{d}.yaml": deck_text(d, cards, edited=True) for d, cards in sizes.items()}

    reference = base / "reference"
    (reference / "sources").mkdir(parents=True)
    shutil.copy2(pristine / "deckkit.lock", reference / "deckkit.lock")
    for name, text in edited.items():
        (reference / "sources" / name).write_text(text, encoding="utf-8")
    started = time.monotonic()
    clean = run(reference, "build", "sources", "-o", "out", *args)
    seconds = time.monotonic() - started
    assert clean.returncode == 0, clean.stderr

    old, new = outputs(pristine / "out"), outputs(reference / "out")
    names = {f"{d}{suffix}" for d in sizes for suffix in SUFFIXES}
    assert set(old) == set(new) == names
    assert all(old[name] != new[name] for name in names)
    # A second clean build gives the same bytes: the comparison below is meaningful.
    again = base / "again"
    shutil.copytree(reference, again, ignore=shutil.ignore_patterns("out"))
    shutil.copy2(pristine / "deckkit.lock", again / "deckkit.lock")
    assert run(again, "build", "sources", "-o", "out", *args).returncode == 0
    assert outputs(again / "out") == new
    return Decks(pristine, edited, old, new, seconds, args)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Decks:
    """One source of 30,000 cards."""
    return make_decks(tmp_path_factory.mktemp("big"), {"big": CARDS})


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Decks:
    """Two sources of 15,000 cards each, built by two worker processes (-j 2)."""
    return make_decks(
        tmp_path_factory.mktemp("pair"), {"left": CARDS // 2, "right": CARDS // 2}, "-j", "2"
    )


# --- moments to interrupt a build at -----------------------------------------------------------

Trigger = Callable[[Path, float], bool]  # (output folder, seconds since start) → now?


def after(fraction: float) -> Callable[[Decks], Trigger]:
    """A fraction of a clean build's duration after the start."""
    return lambda decks: lambda out, elapsed: elapsed >= fraction * decks.seconds


def temp_file(prefix: str = "", *, with_data: bool = False) -> Callable[[Decks], Trigger]:
    """As soon as a staged file (whose name starts with ``prefix``) exists (and holds data)."""

    def trigger(out: Path, elapsed: float) -> bool:
        for path in out.glob(f".deckkit-{prefix}*{TEMP_SUFFIX}"):
            try:
                if not with_data or path.stat().st_size > 0:
                    return True
            except FileNotFoundError:
                pass
        return False

    return lambda decks: trigger


def output_replaced(name: str) -> Callable[[Decks], Trigger]:
    """As soon as an output's file has been replaced (its inode changes)."""

    def make(decks: Decks) -> Trigger:
        inode: list[int] = []

        def trigger(out: Path, elapsed: float) -> bool:
            current = (out / name).stat().st_ino
            if not inode:
                inode.append(current)
            return current != inode[0]

        return trigger

    return make


def folder_held() -> Callable[[Decks], Trigger]:
    """As soon as the build holds the output folder: it is past start-up and reading the sources.

    Probed with a non-blocking lock of the folder's busy file, released at once if it was free
    (the build, waiting for it, is delayed by no more than that).
    """

    def trigger(out: Path, elapsed: float) -> bool:
        try:
            with (out / BUSY_NAME).open("a") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        except BlockingIOError:
            return True
        return False

    return lambda decks: trigger


KILL_MOMENTS = {
    "while-loading": after(0.15),
    "half-way": after(0.5),
    "first-staged-file-created": temp_file(),
    "apkg-being-written": temp_file("big.apkg.", with_data=True),
    # "last staged file created": test_a_build_killed_before_publishing_leaves_every_old_output
    "just-after-apkg-replaced": output_replaced("big.apkg"),
}
INTERRUPT_MOMENTS = {
    # Not a time after the start: a Ctrl-C during Python's own start-up, before deckkit runs,
    # ends it with a KeyboardInterrupt traceback, and on a busy machine start-up can take long.
    "while-loading": folder_held(),
    "apkg-being-written": temp_file("big.apkg.", with_data=True),
    "last-staged-file-created": temp_file("big.quizlet.txt."),
}


@dataclass(frozen=True)
class Interrupted:
    exit_code: int
    stderr: str
    outputs: dict[str, str]
    temp_files: list[str]


def interrupt(
    decks: Decks, work: Path, when: Callable[[Decks], Trigger], how: signal.Signals, *, group: bool
) -> Interrupted:
    """Start a build of the edited sources in ``work``; send ``how`` at ``when``."""
    out = work / "out"
    trigger = when(decks)
    build = Build(work, "build", "sources", "-o", "out", *decks.args)
    started = time.monotonic()
    while not trigger(out, time.monotonic() - started):
        assert build.process.poll() is None, "the build finished before the moment to interrupt it"
        assert time.monotonic() - started < 120, "the moment never came"
        time.sleep(0.001)
    (os.killpg if group else os.kill)(build.process.pid, how)
    code = build.wait(60)
    _, stderr = build.output()
    return Interrupted(code, stderr, outputs(out), temp_files(out))


def assert_old_or_new(decks: Decks, found: dict[str, str]) -> None:
    assert set(found) == set(decks.old)
    for name, digest in found.items():
        assert digest in (decks.old[name], decks.new[name]), f"{name} is neither old nor new"


def assert_next_build_completes(decks: Decks, work: Path) -> None:
    # A clean build takes decks.seconds; waiting much longer means it waits for something else.
    timeout = max(20.0, 6 * decks.seconds)
    try:
        result = run(work, "build", "sources", "-o", "out", *decks.args, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the next build did not finish within {timeout:.0f} s")
    assert result.returncode == 0, result.stderr
    assert outputs(work / "out") == decks.new
    assert temp_files(work / "out") == []


# --- SIGKILL ---------------------------------------------------------------------------------


@pytest.mark.parametrize("moment", list(KILL_MOMENTS))
def test_a_killed_build_leaves_old_or_new_outputs_and_the_next_build_completes(
    moment: str, big: Decks, tmp_path: Path
) -> None:
    work = big.work_copy(tmp_path / "work")
    killed = interrupt(big, work, KILL_MOMENTS[moment], signal.SIGKILL, group=False)
    assert killed.exit_code == -signal.SIGKILL  # it was still running
    assert_old_or_new(big, killed.outputs)
    assert_next_build_completes(big, work)


def test_a_build_killed_before_publishing_leaves_every_old_output(
    big: Decks, tmp_path: Path
) -> None:
    work = big.work_copy(tmp_path / "work")
    killed = interrupt(big, work, temp_file("big.quizlet.txt."), signal.SIGKILL, group=False)
    assert killed.outputs == big.old
    assert killed.temp_files  # what it was writing is left for the next build to remove
    assert_next_build_completes(big, work)


def test_a_killed_parallel_build_does_not_block_the_next_build(pair: Decks, tmp_path: Path) -> None:
    # Only the main process is killed (as by the OOM killer or `kill -9 PID`): its worker
    # processes must not keep the output folder busy, or every later build waits forever.
    work = pair.work_copy(tmp_path / "work")
    killed = interrupt(pair, work, temp_file(), signal.SIGKILL, group=False)
    assert killed.exit_code == -signal.SIGKILL
    assert_old_or_new(pair, killed.outputs)
    assert_next_build_completes(pair, work)


# --- SIGINT ----------------------------------------------------------------------------------


@pytest.mark.parametrize("moment", list(INTERRUPT_MOMENTS))
def test_ctrl_c_ends_a_build_cleanly_and_keeps_every_old_output(
    moment: str, big: Decks, tmp_path: Path
) -> None:
    work = big.work_copy(tmp_path / "work")
    stopped = interrupt(big, work, INTERRUPT_MOMENTS[moment], signal.SIGINT, group=True)
    assert stopped.exit_code == 130, stopped.stderr
    assert "Traceback" not in stopped.stderr, stopped.stderr
    assert console_entry.INTERRUPTED in stopped.stderr.splitlines(), stopped.stderr
    assert stopped.outputs == big.old
    assert stopped.temp_files == []
    assert_next_build_completes(big, work)


def test_ctrl_c_in_a_parallel_build_keeps_every_old_output(pair: Decks, tmp_path: Path) -> None:
    work = pair.work_copy(tmp_path / "work")
    stopped = interrupt(pair, work, temp_file(), signal.SIGINT, group=True)
    assert stopped.exit_code != 0
    assert console_entry.INTERRUPTED in stopped.stderr.splitlines(), stopped.stderr
    assert stopped.outputs == pair.old
    assert_next_build_completes(pair, work)


def test_sigint_to_a_parallel_build_leaves_no_staged_files(pair: Decks, tmp_path: Path) -> None:
    # `kill -INT PID` reaches the main process only; the files its workers staged must be gone
    # too, or the next build would find them.
    work = pair.work_copy(tmp_path / "work")
    stopped = interrupt(pair, work, after(0.15), signal.SIGINT, group=False)
    # 130 from deckkit's handler; on a loaded machine the signal can still meet Python's own
    # start-up (seen once in CI), which then ends by the signal itself (-2). Either way it stopped.
    assert stopped.exit_code in (130, -signal.SIGINT), stopped.stderr
    assert stopped.outputs == pair.old
    assert stopped.temp_files == []


@pytest.mark.parametrize("group", [False, True], ids=["kill-pid", "timeout"])
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_sigterm_or_sighup_to_a_parallel_build_ends_it_like_ctrl_c(
    how: signal.Signals, group: bool, pair: Decks, tmp_path: Path
) -> None:
    # `kill PID` reaches the main process; `timeout` and a closed terminal reach the whole group,
    # whose workers leave the decision to the main process, as for Ctrl-C.
    work = pair.work_copy(tmp_path / "work")
    stopped = interrupt(pair, work, temp_file(), how, group=group)
    assert stopped.exit_code == 128 + how, stopped.stderr
    # Besides the note that the default lockfile is used (no project file here), one message.
    said = [line for line in stopped.stderr.splitlines() if not line.startswith(NO_PROJECT_NOTE)]
    assert said == [console_entry.interrupted_message(how)]
    assert stopped.outputs == pair.old
    assert stopped.temp_files == []
    assert_next_build_completes(pair, work)


# A Ctrl-C can strike anywhere, also inside a library that turns it into an error of its own
# (zipfile, interrupted in writestr, raises ValueError on the way out; seen in the test above).
# The console script reports every such end as an interruption: these pin that rule directly.


@pytest.fixture
def console_script(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[BaseException], None]]:
    """Run the console script's entry with a command line that ends by raising ``error``."""

    def run_with(error: BaseException) -> None:
        def command_line(**_: object) -> None:
            raise error

        monkeypatch.setattr(deckkit.cli, "main", command_line)
        console_entry.main()

    yield run_with
    ctrl_c.uninstall()


def ctrl_c_received() -> None:
    """A real Ctrl-C (SIGINT) to this process, through the console script's handler."""
    ctrl_c.install()
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)  # the handler runs before raise_signal returns
    assert ctrl_c.received()


@pytest.mark.parametrize(
    "error",
    [ValueError("Can't close the ZIP file"), SystemExit(1), KeyboardInterrupt(), click.Abort()],
    ids=["library-error", "exit-1", "keyboard-interrupt", "click-abort"],
)
def test_any_end_after_a_ctrl_c_is_reported_as_an_interruption(
    error: BaseException,
    console_script: Callable[[BaseException], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctrl_c_received()
    with pytest.raises(SystemExit) as ended:
        console_script(error)
    assert ended.value.code == 130
    assert capsys.readouterr().err.strip() == console_entry.INTERRUPTED


def test_without_a_ctrl_c_an_error_is_left_as_it_is(
    console_script: Callable[[BaseException], None],
) -> None:
    with pytest.raises(ValueError, match="a real bug"):
        console_script(ValueError("a real bug"))
    with pytest.raises(SystemExit) as ended:
        console_script(SystemExit(1))
    assert ended.value.code == 1


def test_the_handler_remembers_a_ctrl_c(console_script: Callable[[BaseException], None]) -> None:
    with contextlib.suppress(SystemExit):
        console_script(SystemExit(0))  # installs the handler
    assert not ctrl_c.received()
    with pytest.raises(KeyboardInterrupt):
        sigint_to_self()
    assert ctrl_c.received()


def test_ctrl_c_in_any_command_gives_the_one_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Inside a command, as click passes it on (not standalone): no "Aborted!", status 130.
    @click.command()
    def command_line() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(deckkit.cli, "main", command_line)
    monkeypatch.setattr(sys, "argv", ["deckkit"])
    try:
        with pytest.raises(SystemExit) as ended:
            console_entry.main()
    finally:
        ctrl_c.uninstall()
    assert ended.value.code == 130
    err = capsys.readouterr().err
    assert err.strip() == console_entry.INTERRUPTED
    assert "Aborted" not in err


def test_sigterm_ends_like_ctrl_c_with_its_own_status_and_one_message(
    console_script: Callable[[BaseException], None], capsys: pytest.CaptureFixture[str]
) -> None:
    ctrl_c.install()
    with pytest.raises(ctrl_c.Terminated):
        signal.raise_signal(signal.SIGTERM)
    # Already ending: a SIGHUP on top (a closed terminal) must not cut the cleaning up short.
    signal.raise_signal(signal.SIGHUP)
    with pytest.raises(SystemExit) as ended:
        console_script(ctrl_c.Terminated())
    assert ended.value.code == 128 + signal.SIGTERM
    assert capsys.readouterr().err == console_entry.interrupted_message(signal.SIGTERM) + "\n"
    assert console_entry.interrupted_message(signal.SIGTERM).startswith("interrupted by SIGTERM: ")


def sigint_to_self() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(1)  # the handler runs here, between two bytecodes


# --- two builds at once ----------------------------------------------------------------------


def test_two_builds_at_once_into_one_folder_both_succeed_with_complete_outputs(
    big: Decks, tmp_path: Path
) -> None:
    work = big.work_copy(tmp_path / "work")
    first = Build(work, "build", "sources", "-o", "out")
    second = Build(work, "build", "sources", "-o", "out")
    codes = (first.wait(120), second.wait(120))
    assert codes == (0, 0), [first.output(), second.output()]
    assert outputs(work / "out") == big.new
    assert temp_files(work / "out") == []


def test_two_builds_of_different_decks_at_once_into_one_folder_keep_both(
    big: Decks, tmp_path: Path
) -> None:
    work = big.work_copy(tmp_path / "work")
    (work / "other").mkdir()
    (work / "other" / "small.yaml").write_text(deck_text("small", 50, edited=False), "utf-8")
    reference = tmp_path / "reference"
    reference.mkdir()
    shutil.copytree(work / "other", reference / "other")
    shutil.copy2(work / "deckkit.lock", reference / "deckkit.lock")
    assert run(reference, "build", "other", "-o", "out").returncode == 0

    first = Build(work, "build", "sources", "-o", "out")
    time.sleep(0.3)  # the small build starts while the big one is busy
    second = Build(work, "build", "other", "-o", "out")
    codes = (first.wait(120), second.wait(120))
    assert codes == (0, 0), [first.output(), second.output()]
    found = outputs(work / "out")
    small = outputs(reference / "out")
    assert {name: found[name] for name in small if not name.endswith(".apkg")} == {
        name: digest for name, digest in small.items() if not name.endswith(".apkg")
    }
    assert set(found) == set(big.new) | set(small)
    assert {name: found[name] for name in big.new} == big.new
    assert temp_files(work / "out") == []


# --- validate writes nothing -----------------------------------------------------------------


def listing(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry below ``folder``, hidden ones included: (mode, size, mtime)."""
    return {
        path.relative_to(folder).as_posix(): (
            path.lstat().st_mode,
            path.lstat().st_size,
            path.lstat().st_mtime_ns,
        )
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def validate_folder(tmp_path: Path) -> Path:
    """A project folder with sources, earlier outputs, a lockfile and a killed build's leftover."""
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "deck.yaml").write_text(deck_text("deck", 20, edited=False), "utf-8")
    assert run(tmp_path, "build", "-o", "build").returncode == 0
    (tmp_path / "build" / ".deck.apkg.abc123.tmp").write_bytes(b"left by a killed build")
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [(), ("sources",), ("--strict",), ("--format", "json"), ("--format", "github")],
    ids=["default", "folder", "strict", "json", "github"],
)
def test_validate_creates_changes_and_removes_nothing(
    args: tuple[str, ...], validate_folder: Path
) -> None:
    before = listing(validate_folder)
    result = run(validate_folder, "validate", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert listing(validate_folder) == before


def test_validate_of_broken_sources_writes_nothing(validate_folder: Path) -> None:
    (validate_folder / "sources" / "broken.yaml").write_bytes(b"deck: [\x00")
    before = listing(validate_folder)
    result = run(validate_folder, "validate")
    assert result.returncode == 1
    assert listing(validate_folder) == before
