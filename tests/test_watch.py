"""`deckkit watch`, run as the author runs it: a real process watching a copy of
tests/fixtures/watch/, whose saves are the files of saves/ copied over its deck.

Nothing here times anything: each test waits, by polling with a generous deadline, for the
outcome it expects (a file's new content, a line printed).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from anki.collection import Collection

from chromium import needs_chromium, open_page
from conftest import REPO, import_apkg, run_deckkit
from deckkit.pipeline import BuildResult
from deckkit.watching import Builds
from preview_page import sides_html

FIXTURE = Path(__file__).parent / "fixtures" / "watch"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"}
PATIENCE = 60.0  # seconds to wait for an outcome (a loaded machine builds slowly)
URL = re.compile(r"^preview: (http://127\.0\.0\.1:(\d+)/) ", re.MULTILINE)


class Watch:
    """`python -m deckkit watch --port 0` in ``folder``; its output goes to files read while it
    runs."""

    def __init__(self, folder: Path, *args: str, env: dict[str, str] = ENV) -> None:
        self.folder = folder
        self.stdout = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deckkit", "watch", "--port", "0", *args],
            cwd=folder,
            env=env,
            stdout=self.stdout,
            stderr=self.stderr,
        )
        self.url, self.port = self.wait_for_url()

    def output(self) -> tuple[str, str]:
        """What it printed so far: stdout and stderr. Read with pread, which leaves the offset
        it shares with the process alone (a seek would make its next line overwrite the first)."""
        texts = []
        for handle in (self.stdout, self.stderr):
            size = os.fstat(handle.fileno()).st_size
            texts.append(os.pread(handle.fileno(), size, 0).decode("utf-8", "replace"))
        return texts[0], texts[1]

    def wait_for_url(self) -> tuple[str, int]:
        found = wait_until(lambda: URL.search(self.output()[0]), self)
        return found[1], int(found[2])

    def printed(self, text: str, *, after: str = "") -> str:
        """Wait until stdout holds ``text`` (after the first ``after``); returns stdout from
        there."""

        def printed_yet() -> str | None:
            stdout = self.output()[0]
            if after not in stdout:
                return None
            rest = stdout.split(after, 1)[1] if after else stdout
            return rest if text in rest else None

        found = wait_until(printed_yet, self)
        assert isinstance(found, str)
        return found

    def save(self, name: str) -> None:
        """Save saves/``name`` as the deck, as an editor does: a new file renamed over it."""
        temporary = self.folder / "sources" / ".deck.yaml.saving"
        shutil.copyfile(self.folder / "saves" / name, temporary)
        temporary.replace(self.folder / "sources" / "deck.yaml")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stdout.close()
        self.stderr.close()


def wait_until(outcome: Callable[[], object], watch: Watch) -> object:
    """The first true value of ``outcome()``, polled until PATIENCE runs out."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        value = outcome()
        if value:
            return value
        if watch.process.poll() is not None:
            break
        time.sleep(0.05)
    stdout, stderr = watch.output()
    raise AssertionError(f"not seen (exit {watch.process.poll()}):\n{stdout}\n{stderr}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(FIXTURE, folder)
    return folder


@pytest.fixture
def watch(project: Path) -> Iterator[Watch]:
    started = Watch(project)
    yield started
    started.stop()


def csv_of(project: Path) -> str:
    path = project / "build" / "capitals.csv"
    return path.read_text("utf-8") if path.exists() else ""


def csv_holds(project: Path, text: str) -> Callable[[], bool]:
    return lambda: text in csv_of(project)


def test_a_saved_edit_is_rebuilt(watch: Watch, project: Path, collection: Collection) -> None:
    assert "Lima" in csv_of(project)
    watch.save("edited.yaml")
    wait_until(lambda: "Lima, on the Pacific coast" in csv_of(project), watch)
    stdout = watch.printed("wrote build/capitals.apkg", after="changed: sources/deck.yaml\n")
    assert "preview updated" in stdout
    assert ".deck.yaml.saving" not in watch.output()[0]  # the editor's file came and went
    import_apkg(collection, project / "build" / "capitals.apkg")
    backs = {collection.get_note(n)["Back"] for n in collection.find_notes("")}
    assert backs == {"Paris", "Lima, on the Pacific coast"}


def test_after_edits_the_preview_and_decks_are_those_a_build_writes(
    watch: Watch, project: Path
) -> None:
    # Each save is read again card by card, and cards left alone keep what was made of them:
    # what watch writes is still what 'deckkit preview' and 'deckkit build' write from scratch.
    for name, back in [("edited.yaml", "on the Pacific"), ("fixed.yaml", "by the Rímac")] * 2:
        watch.save(name)
        wait_until(csv_holds(project, f"Lima, {back}"), watch)
    assert deckkit(project, "preview", "-o", "fresh/preview").returncode == 0
    built = deckkit(project, "build", "-o", "fresh", "--lockfile", "fresh.lock", "--format", "csv")
    assert built.returncode == 0
    for name in ("preview/index.html", "capitals.csv"):
        assert (project / "build" / name).read_bytes() == (project / "fresh" / name).read_bytes()


def test_a_half_typed_save_says_where_and_keeps_the_last_outputs(
    watch: Watch, project: Path
) -> None:
    outputs = [project / "build" / name for name in ("capitals.apkg", "capitals.csv")]
    outputs.append(project / "build" / "preview" / "index.html")
    before = [path.read_bytes() for path in outputs]
    watch.save("half-typed.yaml")
    stdout = watch.printed("sources/deck.yaml:8:12: error: YAML syntax error")
    wait_until(lambda: "not rebuilt: the last good outputs" in watch.output()[1], watch)
    assert [path.read_bytes() for path in outputs] == before
    assert "Traceback" not in stdout + watch.output()[1]
    # Saved as it was before: nothing to rewrite, and watch says that all is well again.
    shutil.copyfile(FIXTURE / "sources" / "deck.yaml", project / "saves" / "as-before.yaml")
    watch.save("as-before.yaml")
    watch.printed("up to date: 1 deck in build/, nothing rewritten", after="YAML syntax error")
    assert [path.read_bytes() for path in outputs] == before
    watch.save("fixed.yaml")
    wait_until(lambda: "Lima, by the Rímac river" in csv_of(project), watch)
    wait_until(lambda: "Rímac" in preview_sides(project), watch)


def preview_sides(project: Path) -> str:
    """Every card's sides in the preview watch wrote."""
    return sides_html((project / "build" / "preview" / "index.html").read_text("utf-8"))


def test_a_changed_media_file_is_rebuilt(watch: Watch, project: Path) -> None:
    picture = project / "sources" / "media" / "pic.png"
    new_picture = picture.read_bytes() + b"\0"  # another file's bytes: another packed name
    packed = f"pic-{hashlib.sha256(new_picture).hexdigest()[:10]}.png"
    assert packed not in csv_of(project)
    picture.write_bytes(new_picture)
    wait_until(lambda: packed in csv_of(project), watch)
    wait_until(lambda: (project / "build" / "preview" / "media" / packed).is_file(), watch)
    stdout = watch.printed("wrote build/capitals.apkg", after="changed: sources/media/pic.png\n")
    assert "preview updated" in stdout


def get(port: int, path: str, host: str = "127.0.0.1") -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
    connection.request("GET", path, headers={"Host": f"{host}:{port}"})
    response = connection.getresponse()
    body = response.read().decode("utf-8")
    connection.close()
    return response.status, body


def test_the_preview_is_served_on_localhost_with_the_reload_script_beside_it(
    watch: Watch, project: Path
) -> None:
    assert watch.url == f"http://127.0.0.1:{watch.port}/"
    status, page = get(watch.port, "/")
    assert status == 200
    assert "Capital of Peru?" in page
    assert re.search(r'<meta name="deckkit-watch-version" content="[0-9a-f]+-\d+">', page)
    assert "/__deckkit/events" in page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy is not None
    assert "connect-src 'self'" in policy[1]
    assert "default-src 'none'" in policy[1]
    # The files on disk are the preview's own: the script is added to the served copy only.
    assert "deckkit-watch" not in (project / "build" / "preview" / "index.html").read_text()
    assert get(watch.port, "/media/")[0] == 404  # no folder listing
    assert get(watch.port, "/", host="attacker.example")[0] == 421
    with socket.socket() as elsewhere:
        # Bound to 127.0.0.1 alone: a server on every interface (0.0.0.0) would answer here too.
        assert elsewhere.connect_ex(("127.0.0.2", watch.port)) != 0


def test_the_event_stream_signals_a_change(watch: Watch) -> None:
    _, page = get(watch.port, "/")
    served = re.search(r'name="deckkit-watch-version" content="([^"]+)"', page)
    assert served is not None
    connection = http.client.HTTPConnection("127.0.0.1", watch.port, timeout=PATIENCE)
    connection.request("GET", "/__deckkit/events")
    stream = connection.getresponse()
    assert stream.getheader("Content-Type") == "text/event-stream"
    assert stream.readline().decode().strip() == f"data: {served[1]}"
    watch.save("edited.yaml")
    line = b""
    while not line.startswith(b"data:"):  # keep-alive comments may come first
        line = stream.readline()
    assert line.decode().strip() != f"data: {served[1]}"
    _, reloaded = get(watch.port, "/")
    assert "Lima, on the Pacific coast" in reloaded
    assert f'content="{line.decode().strip().removeprefix("data: ")}"' in reloaded
    connection.close()


@needs_chromium
def test_an_open_page_reloads_itself_after_a_save(watch: Watch, tmp_path: Path) -> None:
    with open_page(tmp_path / "chromium") as page:
        page.goto(watch.url)
        assert "Capital of Peru?" in page.js("document.body.innerText")
        watch.save("edited.yaml")
        deadline = time.monotonic() + PATIENCE
        # While the page reloads, it has no body for a moment.
        while "Pacific coast" not in page.js("document.body?.innerText ?? ''"):
            assert time.monotonic() < deadline, "the page did not reload"
            page.browser.pump(0.1)
        assert not [e for e in page.errors() if "Content Security Policy" in e]


def test_ctrl_c_stops_watching_cleanly(watch: Watch) -> None:
    watch.process.send_signal(signal.SIGINT)
    assert watch.process.wait(PATIENCE) == 0
    stdout, stderr = watch.output()
    assert "Traceback" not in stdout + stderr
    assert stderr.rstrip().endswith("stopped watching")
    with socket.socket() as client:  # the server has let go of its port
        assert client.connect_ex(("127.0.0.1", watch.port)) != 0


def test_without_a_project_file_it_names_the_defaults_it_uses_as_build_does(
    project: Path,
) -> None:
    watching = Watch(project, "-o", "out")
    try:
        stderr = watching.output()[1]
    finally:
        watching.stop()
    built = deckkit(project, "build", "-o", "out").stderr
    note = "using the defaults in the working folder: sources/, deckkit.lock ("
    assert note in stderr
    assert [line for line in stderr.splitlines() if note in line] == [
        line for line in built.splitlines() if note in line
    ]


def deckkit(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_deckkit(cwd, *args, env=ENV, timeout=PATIENCE)


def test_help_lists_watch_with_an_example(project: Path) -> None:
    assert "  watch " in deckkit(project, "--help").stdout
    usage = deckkit(project, "watch", "--help").stdout
    assert "deckkit watch [OPTIONS] [PATHS]..." in usage
    assert "deckkit watch" in usage.split("Examples:", 1)[1]


def test_a_missing_source_is_a_usage_error(project: Path) -> None:
    ended = deckkit(project, "watch", "no-such-deck.yaml")
    assert ended.returncode == 2
    assert "no-such-deck.yaml does not exist" in ended.stderr


def test_a_port_in_use_is_a_usage_error_naming_the_option(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        ended = deckkit(project, "watch", "--port", port)
    assert ended.returncode == 2
    assert f"cannot serve the preview on 127.0.0.1:{port}" in ended.stderr
    assert "--port" in ended.stderr
    assert not (project / "build").exists()  # refused before building anything


def test_before_the_first_good_build_the_address_waits_for_the_preview(project: Path) -> None:
    shutil.copyfile(project / "saves" / "half-typed.yaml", project / "sources" / "deck.yaml")
    watch = Watch(project)
    try:
        assert "sources/deck.yaml:8:12: error: YAML syntax error" in watch.output()[0]
        status, page = get(watch.port, "/")
        assert status == 200
        assert "No preview yet" in page
        assert "/__deckkit/events" in page
        watch.save("fixed.yaml")
        watch.printed("preview updated")
        assert "Rímac" in sides_html(get(watch.port, "/")[1])
    finally:
        watch.stop()


def test_the_decks_build_in_the_background_one_build_at_a_time(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    builds_done = tmp_path / "builds"

    def build_behind_the_gate() -> BuildResult:  # runs in the forked child
        while not gate.exists():
            time.sleep(0.01)
        with builds_done.open("a") as done:
            done.write("built\n")
        return BuildResult(problems=())

    builds = Builds(build_behind_the_gate)
    assert builds.request() is None  # started, not awaited
    assert builds.finished() is None  # still waiting at the gate: the caller goes on meanwhile
    assert builds.request() is None  # a save during the build: built after it
    gate.touch()
    first = wait_for_value(builds.finished)
    assert first == BuildResult(problems=())
    assert builds.finished(wait=True) == BuildResult(problems=())  # the one asked for meanwhile
    assert builds.finished() is None
    assert builds_done.read_text() == "built\nbuilt\n"


def wait_for_value(poll: Callable[[], object]) -> object:
    deadline = time.monotonic() + PATIENCE
    while (value := poll()) is None:
        assert time.monotonic() < deadline, "nothing came"
        time.sleep(0.01)
    return value


def children_of(pid: int) -> list[int]:
    """The processes ``pid`` forked and has not yet reaped (Linux)."""
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def test_ctrl_c_during_a_build_lets_it_finish_and_leaves_complete_outputs(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    cards = [f"  - id: c{n}\n    front: Question {n}?\n    back: Answer {n}" for n in range(4000)]
    deck = "deck: Watch::Big\nid: big\ncards:\n" + "\n".join(cards) + "\n"
    (tmp_path / "sources" / "big.yaml").write_text(deck, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "deckkit", "watch", "--port", "0"],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + PATIENCE
        while not children_of(process.pid):  # the first build, forked after the preview
            assert process.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.005)
        builder = children_of(process.pid)[0]
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=PATIENCE)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stdout + stderr
    assert not Path(f"/proc/{builder}").exists()  # waited for, not left running
    out = tmp_path / "build"
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert (out / "big.csv").read_text("utf-8").count("Answer") == 4000
    assert (out / "big.apkg").stat().st_size > 0


def test_a_build_that_fails_says_why_and_watching_goes_on(project: Path) -> None:
    # A lockfile written by a build whose clock read 2096: today's clock is behind it.
    future = {**ENV, "SOURCE_DATE_EPOCH": "4000000000"}
    subprocess.run([sys.executable, "-m", "deckkit", "build"], cwd=project, env=future, check=True)
    before = (project / "build" / "capitals.csv").read_bytes()
    watch = Watch(project)
    try:
        wait_until(lambda: "error: the clock reads" in watch.output()[1], watch)
        assert "pass --clock-behind" in watch.output()[1]
        watch.save("edited.yaml")
        watch.printed("preview updated")  # the preview goes on; the decks wait for the clock
        wait_until(lambda: watch.output()[1].count("error: the clock reads") == 2, watch)
        assert (project / "build" / "capitals.csv").read_bytes() == before
        assert "Traceback" not in "".join(watch.output())
        assert watch.process.poll() is None
    finally:
        watch.stop()
    clock_behind = Watch(project, "--clock-behind")
    try:
        wait_until(lambda: "Lima, on the Pacific coast" in csv_of(project), clock_behind)
    finally:
        clock_behind.stop()


def test_open_opens_the_preview_in_the_browser(project: Path) -> None:
    # Python's webbrowser runs $BROWSER with the address: here, a command that writes it down.
    opened = project / "opened.txt"
    record = f"{sys.executable} -c \"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\""
    watch = Watch(project, "--open", env={**ENV, "BROWSER": f"{record} %s"})
    try:
        wait_until(lambda: opened.exists() and opened.read_text(), watch)
        assert opened.read_text() == watch.url
    finally:
        watch.stop()


MARKDOWN_PROJECT = Path(__file__).parent / "fixtures" / "projects" / "markdown"


def test_a_project_whose_text_is_markdown_is_previewed_rendered(tmp_path: Path) -> None:
    project = Path(shutil.copytree(MARKDOWN_PROJECT, tmp_path / "markdown"))
    watch = Watch(project)
    try:
        served = sides_html(get(watch.port, "/")[1])
        assert "<strong>git add</strong>" in served
        assert "<code>a file</code>" in served
        assert "**as written**" in served  # the deck and the card that say they are HTML
        # The same page as 'deckkit preview' writes with the same project file.
        assert deckkit(project, "preview", "-o", "by-preview").returncode == 0
        by_watch = (project / "build" / "preview" / "index.html").read_text("utf-8")
        assert by_watch == (project / "by-preview" / "index.html").read_text("utf-8")
    finally:
        watch.stop()


def test_a_changed_project_file_asks_for_a_restart(tmp_path: Path) -> None:
    project = Path(shutil.copytree(MARKDOWN_PROJECT, tmp_path / "markdown"))
    watch = Watch(project)
    try:
        saving = project / ".deckkit.toml.saving"  # saved as an editor saves
        saving.write_text("markdown = false\n", encoding="utf-8")
        saving.replace(project / "deckkit.toml")
        wait_until(lambda: "deckkit.toml changed" in watch.output()[1], watch)
        stderr = watch.output()[1]
        assert "restart it (Ctrl-C, then 'deckkit watch')" in stderr
        assert stderr.count("deckkit.toml changed") == 1  # one line
        assert watch.process.poll() is None  # and watching goes on
    finally:
        watch.stop()
