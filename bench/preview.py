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
- search answered: as soon as the first cards are there, the search box is set to the id of the
  last card (with the input event typing sends); when the page had shown its count and that
  card, what the search itself took, and when the card's sides were shown (they may come later);
- filter answered: then the search is cleared and the deck filter set to the last deck;
- last page: then the filter is cleared and the last page of all the cards asked for (its last
  card shown);
- everything read: the page's ``dk-all-sides`` mark (the browser has read the whole file), and
  the load event.

The actions run one after the other, each asked for over the DevTools protocol once the one before
has answered, so a time "answered" includes those before it. Each figure is the median of the
runs. ``--rev REV`` builds the preview with deckkit as committed
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
    """One opening of the page: milliseconds since the navigation began, and how long each
    action itself took in the page."""

    first_cards: float
    search: float
    search_took: float
    search_sides: float
    filter: float
    filter_took: float
    last_page: float | None
    last_page_took: float | None
    all_sides: float | None
    load: float
    checks: dict[str, Any] = field(default_factory=dict)


def wait_for(tab: Page, expression: str) -> Any:
    """Evaluate ``expression`` until it is not null, and return it."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            reply = tab.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        except TimeoutError:  # a page busy for 30 s on end (the old page of 100,000 notes)
            continue
        value = reply["result"].get("value")
        if value is not None:
            return value
        time.sleep(POLL)
    raise TimeoutError(expression)


def timed(tab: Page, control: str, value: str, event: str, result: str) -> list[Any]:
    """Set a control as a reader would, in the page: [when it began, when the page had answered
    (the listeners run at once), ``result`` then]."""
    return list(
        tab.js(
            f"(() => {{ const c = document.getElementById({json.dumps(control)});"
            f" const start = performance.now(); c.value = {value};"
            f" c.dispatchEvent(new Event({json.dumps(event)}, {{bubbles: true}}));"
            f" return [start, performance.now(), {result}]; }})()"
        )
    )


def visit(browser: Browser, page: Path, last_id: str, last_deck: str) -> Visit:
    tab = Page(browser)
    try:
        tab.send("Page.navigate", {"url": page.as_uri()})
        first_cards = wait_for(tab, FIRST_CARDS)
        selector = json.dumps(f'.dk-card[data-card="{last_id}"]')
        count = "document.getElementById('dk-count').textContent"
        search = timed(
            tab,
            "dk-search",
            json.dumps(last_id),
            "input",
            f"[{count}, document.querySelector({selector}) !== null]",
        )
        search_sides = wait_for(
            tab,
            f"document.querySelector({selector} + ':not([data-pending])')"
            " ? performance.now() : null",
        )
        timed(tab, "dk-search", "''", "input", "null")
        decks = (
            "new Set([...document.querySelectorAll('.dk-card:not([hidden])')]"
            ".map(c => c.dataset.deck)).size"
        )
        filtered = timed(tab, "dk-deck", json.dumps(last_deck), "change", f"[{count}, {decks}]")
        timed(tab, "dk-deck", "''", "change", "null")
        last_page: list[Any] = [None, None, None]
        if tab.js("document.getElementById('dk-page') !== null"):
            last_page = timed(
                tab, "dk-page", "c.max", "change", f"document.querySelector({selector}) !== null"
            )
        load = wait_for(
            tab,
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return n && n.loadEventStart > 0 ? n.loadEventStart : null; })()",
        )
        all_sides = tab.js(
            "(performance.getEntriesByName('dk-all-sides')[0] || {startTime: null}).startTime"
        )
        checks = {
            "search": search[2],
            "filter": filtered[2],
            "last card on the last page": last_page[2],
            "errors": tab.js("document.getElementById('dk-errors').textContent"),
        }
        return Visit(
            first_cards,
            search[1],
            search[1] - search[0],
            search_sides,
            filtered[1],
            filtered[1] - filtered[0],
            last_page[1],
            None if last_page[0] is None else last_page[1] - last_page[0],
            all_sides,
            load,
            checks,
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
        values: list[float | None] = [getattr(v, name) for v in self.visits]
        known = [value for value in values if value is not None]
        return statistics.median(known) if len(known) == len(values) else None


def chromium_version() -> str:
    return subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


def seconds(milliseconds: float | None) -> str:
    return "–" if milliseconds is None else f"{milliseconds / 1000:.2f}"


def ms(milliseconds: float | None) -> str:
    return "–" if milliseconds is None else f"{milliseconds:.0f} ms"


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| notes | Anki cards | page MB | build s | build peak MB | first cards s "
        "| search answered s (took; its sides s) | filter answered s (took) "
        "| last page s (took) | everything read s | load event s |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.notes:,} | {row.cards:,} | {row.megabytes:.1f} | {row.build.wall:.1f} "
            f"| {row.build.peak_mb:.0f} | {seconds(row.median('first_cards'))} "
            f"| {seconds(row.median('search'))} ({ms(row.median('search_took'))}; "
            f"{seconds(row.median('search_sides'))}) "
            f"| {seconds(row.median('filter'))} ({ms(row.median('filter_took'))}) "
            f"| {seconds(row.median('last_page'))} ({ms(row.median('last_page_took'))}) "
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
