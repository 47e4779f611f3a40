"""Issue 16, point 4: how soon the preview of a 100,000-card project is usable in a browser.

    PYTHONPATH=src python bench/preview.py [--sizes 300,25000,100000] [--runs 3] [--rev REV]

For each size N, generates the sources of bench/run.py (N cards in 100 deck files: every card
type, HTML, non-ASCII text, images; a note makes 1 to 3 Anki cards, so N notes make about 1.3 N
cards), times ``deckkit preview DIR -o OUT`` (wall time and the child's peak memory), then opens
the page from disk (``file://``) in headless Chromium (Debian's ``chromium``, driven over the
DevTools protocol by ``tests/chromium.py``), in a fresh tab each run, and measures in the page's
own clock (``performance.now()``, from the start of the navigation):

- first cards: when the cards of the first page are in the page with their front and back (the
  page's ``dk-first-cards`` mark; before issue 16, when the page's script had moved every card's
  sides out of their templates, which it does at the end of the page);
- search answered: the search box gets the id of the last card, typed as soon as the first cards
  are there; when the count and the card were shown (and when its sides were, which may be later);
- filter answered: then the search is cleared and the deck filter set to the last deck;
- last page: then the filter cleared and the last page of all the cards asked for (its last card
  shown);
- everything read: the page's ``dk-all-sides`` mark (the browser has read the whole file), and
  the load event.

Each figure is the median of the runs. ``--rev REV`` builds the preview with deckkit as committed
at REV (bench/run.py's ``git archive``), to measure the page as it was; that page has no pager and
no marks (the last-page column is then empty). Prints a markdown table; ``--results FILE`` also
writes it there.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tests")]

# bench/run.py (the sources, the process timing) and tests/chromium.py (headless Chromium)
import run as bench_run  # noqa: E402  (found through the path above)

from chromium import CHROMIUM, Browser, Page  # noqa: E402  (found through the path above)

LAYOUT = bench_run.LAYOUTS[1]  # 100 deck files: the deck filter has 100 decks to choose from
POLL = 0.01  # seconds between looks at the page
TIMEOUT = 600.0

# True once the first cards are shown with their sides: this page's mark, or the old page's
# script having moved every side out of its template.
FIRST_CARDS = """(performance.getEntriesByName('dk-first-cards').length > 0
  || (document.readyState !== 'loading' && document.querySelector('.dk-card') !== null
      && document.querySelector('template.dk-html') === null)) ? performance.now() : null"""


@dataclass
class Visit:
    """One opening of the page: milliseconds since the navigation began."""

    first_cards: float
    search: float
    search_sides: float
    filter: float
    last_page: float | None
    all_sides: float | None
    load: float
    checks: dict[str, Any] = field(default_factory=dict)


def wait_for(tab: Page, expression: str) -> Any:
    """Evaluate ``expression`` until it is not null, and return it."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        reply = tab.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        value = reply["result"].get("value")
        if value is not None:
            return value
        time.sleep(POLL)
    raise TimeoutError(expression)


def visit(browser: Browser, page: Path, last_id: str, last_deck: str) -> Visit:
    tab = Page(browser)
    try:
        tab.send("Page.navigate", {"url": page.as_uri()})
        first_cards = wait_for(tab, FIRST_CARDS)
        tab.js("document.getElementById('dk-search').focus()")
        tab.send("Input.insertText", {"text": last_id})
        selector = json.dumps(f'.dk-card[data-card="{last_id}"]')
        search = wait_for(
            tab,
            f"document.querySelector({selector}) ? [performance.now(),"
            " document.getElementById('dk-count').textContent] : null",
        )
        search_sides = wait_for(
            tab,
            f"document.querySelector({selector} + ':not([data-pending])')"
            " ? performance.now() : null",
        )
        tab.js(
            "(() => { const q = document.getElementById('dk-search'); q.value = '';"
            " q.dispatchEvent(new Event('input', {bubbles: true})); })()"
        )
        tab.choose("dk-deck", last_deck)
        filtered = tab.js(
            "[performance.now(), document.getElementById('dk-count').textContent,"
            " new Set([...document.querySelectorAll('.dk-card:not([hidden])')]"
            ".map(c => c.dataset.deck)).size]"
        )
        tab.choose("dk-deck", "")
        last_page = None
        if tab.js("document.getElementById('dk-page') !== null"):
            last_page = tab.js(
                "(() => { const p = document.getElementById('dk-page'); p.value = p.max;"
                " p.dispatchEvent(new Event('change', {bubbles: true}));"
                f" return document.querySelector({selector}) ? performance.now() : null; }})()"
            )
        load = wait_for(
            tab,
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return n && n.loadEventStart > 0 ? n.loadEventStart : null; })()",
        )
        all_sides = tab.js(
            "(performance.getEntriesByName('dk-all-sides')[0] || {startTime: null}).startTime"
        )
        checks = {"search count": search[1], "filter count": filtered[1], "decks": filtered[2]}
        checks["errors"] = tab.js("document.getElementById('dk-errors').textContent")
        return Visit(
            first_cards, search[0], search_sides, filtered[0], last_page, all_sides, load, checks
        )
    finally:
        tab.close()


@dataclass
class Row:
    notes: int
    cards: int
    megabytes: float
    build: bench_run.Run
    visits: list[Visit]

    def median(self, name: str) -> float | None:
        values = [getattr(v, name) for v in self.visits]
        if any(value is None for value in values):
            return None
        return statistics.median(values)


def chromium_version() -> str:
    return subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


def seconds(milliseconds: float | None) -> str:
    return "–" if milliseconds is None else f"{milliseconds / 1000:.2f}"


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| notes | Anki cards | page MB | build s | build peak MB | first cards s "
        "| search answered s (its sides s) | filter answered s | last page s "
        "| everything read s | load event s |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.notes:,} | {row.cards:,} | {row.megabytes:.1f} | {row.build.wall:.1f} "
            f"| {row.build.peak_mb:.0f} | {seconds(row.median('first_cards'))} "
            f"| {seconds(row.median('search'))} ({seconds(row.median('search_sides'))}) "
            f"| {seconds(row.median('filter'))} | {seconds(row.median('last_page'))} "
            f"| {seconds(row.median('all_sides'))} | {seconds(row.median('load'))} |"
        )
    return lines


def measure_size(notes: int, runs: int, env: dict[str, str], browser: Browser) -> Row:
    sources = bench_run.generate(notes, LAYOUT)
    out = bench_run.DATA / "preview" / str(notes)
    shutil.rmtree(out, ignore_errors=True)
    log = bench_run.DATA / "runs" / f"preview-{notes}.log"
    command = [sys.executable, "-m", "deckkit", "preview", str(sources), "-o", str(out)]
    build = bench_run.measure(command, log, env)
    said = log.read_text("utf-8")
    cards = int(said.split("previewed ", 1)[1].split(" ", 1)[0])
    last_deck_file = sorted(sources.glob("*.yaml"))[-1].read_text("utf-8")
    last_deck = last_deck_file.split("\nid: ", 1)[1].split("\n", 1)[0].strip().strip('"')
    last_id = [line for line in last_deck_file.splitlines() if line.startswith("  - id: ")][-1]
    last_id = last_id.removeprefix("  - id: ").strip().strip('"')
    page = out / "index.html"
    visits = []
    for _ in range(runs):
        visits.append(visit(browser, page, last_id, last_deck))
        print(f"  {notes:,} notes: {visits[-1]}", file=sys.stderr)
    return Row(notes, cards, page.stat().st_size / bench_run.MB, build, visits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="300,25000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rev", help="build the preview with deckkit as committed at REV")
    parser.add_argument("--results", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    env, label = bench_run.deckkit_environment(args.rev)
    if args.rev is None:  # this tree's deckkit, whichever the environment has installed
        env["PYTHONPATH"] = str(BENCH.parent / "src")
    profile = bench_run.DATA / "chromium" / "profile"
    shutil.rmtree(profile.parent, ignore_errors=True)
    profile.parent.mkdir(parents=True)
    rows = []
    browser = Browser(profile)
    try:
        for notes in (int(size) for size in args.sizes.split(",")):
            rows.append(measure_size(notes, args.runs, env, browser))
    finally:
        browser.close()
    command = "python bench/preview.py " + " ".join(sys.argv[1:])
    lines = [
        f"Made by `{command.strip()}` with deckkit's {label}; Chromium "
        f"{chromium_version()}, {args.runs} run(s) per size (medians).",
        "",
        *table(rows),
        "",
        "What the page showed (last run of each size): "
        + "; ".join(f"{row.notes:,} notes: {row.visits[-1].checks}" for row in rows),
    ]
    print("\n".join(lines))
    if args.results:
        args.results.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
