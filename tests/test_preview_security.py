"""A stranger's deck in `deckkit preview` (issue 12): the page runs none of the deck's code and
fetches nothing from the network.

Each file of tests/fixtures/preview-attacks/ is one attack: a deck whose card, or whose kept note
type's template or CSS, tries to run a script (each sets the page's title to "ran <attack>") or to
load something from `__HOST__`, which the test replaces with a local HTTP server. The preview is
written through the public API, opened in headless Chromium (`chromium.py`), every link and button
of the cards is clicked and every player played; then the server must have received nothing, no
request may have left the page (the DevTools Network domain's record), the title and the page's
own parts must be as deckkit wrote them.
"""

from __future__ import annotations

import http.server
import json
import random
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chromium import Browser, Page, needs_chromium
from conftest import FIXTURES
from deckkit import write_preview

ATTACKS = FIXTURES / "preview-attacks"
NAMES = sorted(path.stem for path in ATTACKS.glob("*.yaml"))  # the CSS ones so far
# The page untouched: the body's own background, no border (the CSS attacks give it one).
PAGE_BACKGROUND = "rgb(233, 237, 241)"  # preview.css: #e9edf1
SECONDS_TO_ACT = 1.0  # for a refresh, a fetch or a load to start


class Server:
    """A local web server that records each request's path and answers it with a script."""

    def __init__(self) -> None:
        hits: list[str] = []
        self.hits = hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<script>document.title = 'ran remote'</script>")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    running = Browser(tmp_path_factory.mktemp("chromium") / "profile")
    try:
        yield running
    finally:
        running.close()


def attack_preview(name: str, folder: Path, host: str) -> Path:
    """The preview of one attack deck, its __HOST__ pointing at ``host``."""
    sources = folder / "sources"
    sources.mkdir(parents=True)
    shutil.copytree(ATTACKS / "media", sources / "media")
    text = (ATTACKS / f"{name}.yaml").read_text("utf-8").replace("__HOST__", host)
    (sources / f"{name}.yaml").write_text(text, encoding="utf-8")
    result = write_preview([sources], folder / "preview")
    assert result.ok, [p.as_text() for p in result.problems]
    assert result.page is not None
    return result.page


# Everything a reader could do to a card: click each link, button and control, play each player.
ACT = """(() => {
  for (const el of document.querySelectorAll(
      '.dk-card a, .dk-card button, .dk-card input, .dk-card summary, .dk-card [onclick]')) {
    el.click();
  }
  for (const player of document.querySelectorAll('audio, video')) {
    player.play().catch(() => {});
  }
})()"""


def visit(browser: Browser, page: Path) -> dict[str, object]:
    """Open the page in a new tab, act on every card, and say what the page looks like then."""
    tab = Page(browser)
    try:
        tab.goto(page.as_uri())
        tab.send("Runtime.evaluate", {"expression": ACT})
        browser.pump(SECONDS_TO_ACT)
        seen = tab.send(
            "Runtime.evaluate",
            {
                "expression": """({
                  url: location.href,
                  title: document.title,
                  background: getComputedStyle(document.body).backgroundColor,
                  border: getComputedStyle(document.body).borderTopWidth,
                  bar: getComputedStyle(document.querySelector('.dk-bar') || document.body)
                    .visibility,
                  templates: document.querySelectorAll('template').length,
                  count: (document.getElementById('dk-count') || {}).textContent,
                  markers: [...document.querySelectorAll('.dk-script, .dk-blocked')]
                    .map(m => m.textContent),
                })""",
                "returnByValue": True,
            },
        )["result"].get("value", {})
        seen["sent"] = tab.requests_sent()
        return dict(seen)
    finally:
        tab.close()


def assert_harmless(seen: dict[str, object], server: Server, page: Path) -> None:
    assert server.hits == [], "the deck reached the network"
    assert seen["url"] == page.as_uri(), "the page was sent elsewhere"
    assert str(seen["title"]).startswith("deckkit preview"), "the deck's code ran"
    sent = seen["sent"]
    assert isinstance(sent, list)
    assert [url for url in sent if urlsplit(url).scheme not in ("file", "data")] == []
    assert seen["background"] == PAGE_BACKGROUND, "the deck's CSS styled the page"
    assert seen["border"] == "0px", "the deck's CSS styled the page"
    assert seen["bar"] == "visible", "the deck's CSS hid the page's filter bar"
    assert seen["templates"] == 0, "deckkit's own script did not run to its end"
    assert seen["count"] == "1 of 1 cards"


@needs_chromium
@pytest.mark.parametrize("name", NAMES)
def test_a_hostile_deck_runs_nothing_and_fetches_nothing(
    name: str, browser: Browser, server: Server, tmp_path: Path
) -> None:
    server.hits.clear()
    page = attack_preview(name, tmp_path, server.host)
    assert_harmless(visit(browser, page), server, page)


CSS_PIECES = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    '"',
    "'",
    "\\",
    "/*",
    "*/",
    "url(",
    "u\\72l(",
    "\\75 rl(",
    "url( ",
    'url("',
    "\n",
    " ",
    "\r",
    "\f",
    "\0",
    "a",
    "1",
    "-",
    "--",
    "@",
    "#",
    ".",
    "+",
    "e",
    "%",
    "\\7d",
    "\\7d ",
    "\\}",
    "<!--",
    "-->",
    ";",
    ":",
    "\\\n",
    "</style>",
    "@media",
    "b{",
    "1e3",
    "-.5",
    "\\0",
    "u+1url(",
    "1url(",
    "#url(",
    "@url(",
    "-url(",
    "\\\\",
]


@needs_chromium
@pytest.mark.parametrize("seed", range(3))
def test_random_css_of_a_kept_note_type_never_leaves_its_scope(
    seed: int, browser: Browser, tmp_path: Path
) -> None:
    """Chromium's own CSS parser reads each note type's scoped CSS, then a rule after it: the
    rule after it must be read as written, whatever the CSS before."""
    # Reaches inside: thousands of CSS texts, each through the page's wrapping, read by the
    # browser in one go (a page per text would take hours).
    from deckkit.preview.css import scoped_css

    rng = random.Random(seed)
    texts = [
        "".join(rng.choice(CSS_PIECES) for _ in range(rng.randint(1, 30))) for _ in range(3000)
    ]
    sheets = [scoped_css(text, ".x") + "\n.after { color: red }" for text in texts]
    (tmp_path / "blank.html").write_text("<!DOCTYPE html><title>css</title>", encoding="utf-8")
    tab = Page(browser)
    try:
        tab.goto((tmp_path / "blank.html").as_uri())
        escaped = tab.js(
            f"({json.dumps(sheets)}).flatMap((text, i) => {{ const sheet = new CSSStyleSheet();"
            " sheet.replaceSync(text); const rules = sheet.cssRules;"
            " return rules.length === 2 && rules[0] instanceof CSSScopeRule"
            " && rules[1].selectorText === '.after' ? [] : [i]; })"
        )
    finally:
        tab.close()
    assert [texts[i] for i in escaped] == []
