"""Benchmark for issue 16: how soon a one-card edit shows in the preview `deckkit watch` serves.

    PYTHONPATH=src .venv/bin/python bench/watch.py [--cards 10000] [--edits 5] [--no-browser]

What it does:

1. Generates bench/run.py's deterministic deck of ``--cards`` cards in one file (the benchmark's
   "one file" layout, media included) and copies it into a scratch project.
2. Starts ``python -m deckkit watch --port 0`` there as a real process and waits for its first
   build and the address it prints.
3. Opens the preview in headless Chromium (/usr/bin/chromium, driven as tests/chromium.py does)
   and times its first load.
4. ``--edits`` times: saves the deck with the first card's back changed (written beside it and
   renamed over it, as editors save), then times, from the rename:
   - **watch's CPU**: the CPU time watch's own process used until the signal (what the machine's
     other load cannot inflate, unlike the wall times below);
   - **signalled**: the server's event stream announces a new version (the preview is written);
   - **served**: the served page holds the new text (checked once, after the signal);
   - **shown**: the open page in Chromium has reloaded and shows the new text (the first card:
     on screen whatever the page loads first);
   - **decks**: watch prints that it wrote the .apkg (the packages are built after the preview).
5. Prints a markdown table of every edit and the medians, and writes it to
   ``bench/results-watch.md`` (``--results`` to change).

With ``--no-browser`` the "shown" column is left out: the figure is then "served".
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from run import LAYOUTS, generate  # bench/run.py: the house's deck generator

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests"))
from chromium import CHROMIUM, Browser, Page  # noqa: E402 - tests/chromium.py, found above

PATIENCE = 120.0
URL = re.compile(r"^preview: (http://127\.0\.0\.1:(\d+)/) ", re.MULTILINE)
FIRST_BACK = re.compile(r"^(    back: )(.*)$", re.MULTILINE)  # the first card's back


@dataclass
class Edit:
    cpu: float  # CPU seconds deckkit watch's own process used from the save to the signal
    signalled: float
    served: float
    shown: float | None
    decks: float


class Watch:
    """`deckkit watch` in ``folder``, its stdout in a file read while it runs."""

    def __init__(self, folder: Path) -> None:
        self.log = (folder / "watch.out").open("w+b")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deckkit", "watch", "--port", "0"],
            cwd=folder,
            env=env,
            stdout=self.log,
            stderr=subprocess.DEVNULL,
        )

        self.wrote: list[float] = []  # when each "wrote" line was first seen
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        while self.process.poll() is None:
            seen = self.stdout().count("wrote ")
            self.wrote += [time.perf_counter()] * (seen - len(self.wrote))
            time.sleep(0.01)

    def wrote_at(self, before: int) -> float:
        """When the first "wrote" line after the first ``before`` ones was seen."""
        wait_for(lambda: len(self.wrote) > before, "the packages")
        return self.wrote[before]

    def stdout(self) -> str:
        with open(self.log.name, "rb") as log:
            return log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(PATIENCE)
        self.log.close()


def wait_for(outcome, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        value = outcome()
        if value:
            return value
        time.sleep(0.01)
    raise SystemExit(f"bench/watch.py: gave up waiting for {what}")


def save(deck: Path, text: str) -> float:
    """Save ``text`` as an editor does; returns the time of the rename."""
    temporary = deck.with_name(f".{deck.name}.saving")
    temporary.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    temporary.replace(deck)
    return started


def events(port: int) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
    connection.request("GET", "/__deckkit/events")
    return connection.getresponse()


def next_version(stream: http.client.HTTPResponse) -> str:
    while True:
        line = stream.readline().decode()
        if line.startswith("data: "):
            return line.removeprefix("data: ").strip()


def served_page(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
    connection.request("GET", "/")
    page = connection.getresponse().read().decode("utf-8")
    connection.close()
    return page


def shows(page: Page, text: str) -> bool:
    """Whether the page shows ``text``: rendered text only (not a script's or template's)."""
    return bool(page.js(f"!!document.body?.innerText.includes({text!r})"))


def measure(folder: Path, edits: int, browser: bool) -> tuple[list[Edit], float | None]:
    deck = folder / "sources" / "deck.yaml"
    watch = Watch(folder)
    opened: Browser | None = None
    try:
        found = wait_for(lambda: URL.search(watch.stdout()), "deckkit watch's first build")
        url, port = found[1], int(found[2])
        page = None
        first_load = None
        if browser:
            opened = Browser(folder / "chromium-profile")
            page = Page(opened)
            loading = time.perf_counter()
            page.goto(url)
            first_load = time.perf_counter() - loading
        stream = events(port)
        next_version(stream)  # the current one
        results = []
        for number in range(edits):
            settle(page)
            marker = f"edited-{number}-{os.getpid()}"
            text = FIRST_BACK.sub(rf"\g<1>{marker}", deck.read_text("utf-8"), count=1)
            wrote = watch.stdout().count("wrote ")
            cpu = cpu_seconds(watch.process.pid)
            started = save(deck, text)
            next_version(stream)
            signalled = time.perf_counter() - started
            cpu = cpu_seconds(watch.process.pid) - cpu
            assert marker in served_page(port), "the served page lacks the edit"
            served = time.perf_counter() - started
            shown = None
            if page is not None:
                page.browser.wait_for("Page.loadEventFired", PATIENCE)  # the reload
                while not shows(page, marker):  # a page may show its cards after its load event
                    page.browser.pump(0.05)
                shown = time.perf_counter() - started
            decks = watch.wrote_at(wrote) - started
            results.append(Edit(cpu, signalled, served, shown, decks))
            print(f"edit {number + 1}: {results[-1]}", file=sys.stderr)
        stream.close()
        return results, first_load
    finally:
        if opened is not None:
            opened.close()
        watch.stop()


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process used so far (Linux: /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(page: Page | None) -> None:
    """Let the machine go quiet before an edit: the browser done with the last page, if any."""
    if page is not None:
        page.browser.pump(2.0)
        page.browser._pending.clear()  # this edit's reload is the next load event
    else:
        time.sleep(0.5)


def table(results: list[Edit], cards: int, first_load: float | None) -> list[str]:
    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f} s"

    lines = [
        f"One-card edit in a {cards:,}-card deck (one file), `deckkit watch` on {platform.node()}"
        f" ({os.cpu_count()} cores, Python {platform.python_version()}), "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        "| edit | watch's CPU to the signal | signalled | served | shown in Chromium "
        "| decks (.apkg, .csv, .quizlet.txt) |",
        "|---|---|---|---|---|---|",
    ]
    for number, edit in enumerate(results, 1):
        lines.append(
            f"| {number} | {cell(edit.cpu)} | {cell(edit.signalled)} | {cell(edit.served)} "
            f"| {cell(edit.shown)} | {cell(edit.decks)} |"
        )
    shown = [e.shown for e in results if e.shown is not None]
    lines.append(
        f"| **median** | **{cell(statistics.median(e.cpu for e in results))}** "
        f"| **{cell(statistics.median(e.signalled for e in results))}** "
        f"| **{cell(statistics.median(e.served for e in results))}** "
        f"| **{cell(statistics.median(shown) if shown else None)}** "
        f"| **{cell(statistics.median(e.decks for e in results))}** |"
    )
    if first_load is not None:
        lines += ["", f"First load of the preview in headless Chromium: {first_load:.2f} s."]
    load = os.getloadavg()[0]
    lines += ["", f"Load average (1 min) at the end: {load:.2f} on {os.cpu_count()} cores."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--results", type=Path, default=BENCH / "results-watch.md")
    options = parser.parse_args()
    browser = not options.no_browser
    if browser and not Path(CHROMIUM).exists():
        raise SystemExit("bench/watch.py: needs chromium (or pass --no-browser)")
    generated = generate(options.cards, LAYOUTS[0])
    with tempfile.TemporaryDirectory(prefix="deckkit-bench-watch-") as scratch:
        folder = Path(scratch)
        shutil.copytree(generated, folder / "sources")
        results, first_load = measure(folder, options.edits, browser)
    lines = table(results, options.cards, first_load)
    command = "PYTHONPATH=src python bench/watch.py " + " ".join(sys.argv[1:])
    report = "\n".join(["# `deckkit watch`: edit to preview", "", f"`{command.strip()}`", ""])
    report += "\n".join(lines) + "\n"
    options.results.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
