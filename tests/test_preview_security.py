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
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chromium import Browser, Page, needs_chromium
from conftest import FIXTURES, REPO
from deckkit import validate, write_preview
from preview_page import sides_html

ATTACKS = FIXTURES / "preview-attacks"
NAMES = sorted(path.stem for path in ATTACKS.glob("*.yaml"))
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
                  sides: document.querySelectorAll('.dk-grid > .dk-card > .dk-side > .card')
                    .length,
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
    assert seen["templates"] == 0, "a template was left in the page"
    assert seen["sides"] == 2, "deckkit's own script did not show the card"
    assert seen["count"] == "1 of 1 cards", "deckkit's own script did not run to its end"


@needs_chromium
@pytest.mark.parametrize("name", NAMES)
def test_a_hostile_deck_runs_nothing_and_fetches_nothing(
    name: str, browser: Browser, server: Server, tmp_path: Path
) -> None:
    server.hits.clear()
    page = attack_preview(name, tmp_path, server.host)
    assert_harmless(visit(browser, page), server, page)


def test_every_attack_has_its_fixture() -> None:
    assert len(NAMES) >= 30
    for name in NAMES:
        text = (ATTACKS / f"{name}.yaml").read_text("utf-8")
        assert text.startswith("# Attack: ")
        assert f"id: attack-{name}\n" in text


# --- the Content-Security-Policy alone ------------------------------------------------------------
#
# The second wall. These attacks are shown to fail with the sanitiser switched off, the deck's HTML
# put into the page as written: the policy alone stops every handler, script, javascript: URL,
# frame, plug-in, form, <base> and remote load. (Not a refresh, a plain link, names that clobber
# the page's own, nor CSS that styles the page: those are the sanitiser's and the CSS balancer's.)

CSP_ALONE = [
    "audio-onerror",
    "base-href",
    "css-font-face",
    "css-url",
    "details-ontoggle",
    "embed-src",
    "form-action",
    "iframe-src",
    "iframe-srcdoc",
    "img-onerror",
    "img-remote",
    "img-srcset",
    "input-image",
    "javascript-link",
    "javascript-link-obfuscated",
    "link-prefetch",
    "link-stylesheet",
    "math-mxss",
    "noscript-mxss",
    "object-data",
    "onclick-link",
    "sound-remote",
    "style-attribute-url",
    "style-import",
    "svg-onload",
    "svg-style-mxss",
    "table-background",
    "template-script",
    "video-poster",
    "video-source",
]


@needs_chromium
@pytest.mark.parametrize("name", CSP_ALONE)
def test_the_page_s_security_policy_alone_stops_the_attack(
    name: str, browser: Browser, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reaches inside: the sanitiser is replaced by one that keeps the deck's HTML as it is, to
    # show that the policy would stop the attack on its own.
    import deckkit.preview.data

    monkeypatch.setattr(deckkit.preview.data, "safe_html", lambda html, media: html)
    server.hits.clear()
    page = attack_preview(name, tmp_path, server.host)
    seen = visit(browser, page)
    assert server.hits == [], "the deck reached the network"
    assert str(seen["title"]).startswith("deckkit preview"), "the deck's code ran"
    sent = seen["sent"]
    assert isinstance(sent, list)
    assert [url for url in sent if urlsplit(url).scheme not in ("file", "data")] == []


def test_the_page_declares_its_security_policy(tmp_path: Path) -> None:
    result = write_preview([FIXTURES / "good" / "all-types.yaml"], tmp_path / "preview")
    assert result.page is not None
    html = result.page.read_text("utf-8")
    (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    assert html.index("Content-Security-Policy") < html.index("<script")
    assert html.index("Content-Security-Policy") < html.index("<style")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    scripts = directives["script-src"].split()
    assert len(scripts) == 2
    assert all(s.startswith("'sha256-") for s in scripts)
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'none'"
    assert directives["img-src"] == directives["media-src"] == directives["font-src"] == "'self'"
    for open_door in ("connect-src", "frame-src", "object-src", "child-src", "worker-src"):
        assert open_door not in directives  # default-src 'none' holds for them
    assert "unsafe-inline" not in directives["script-src"]


# --- what the reader sees instead ---------------------------------------------------------------


def page_text(name: str, tmp_path: Path) -> str:
    """The cards' sides as the page holds them."""
    page = attack_preview(name, tmp_path, "example.invalid")
    html = page.read_text("utf-8")
    assert "<base" not in html
    return sides_html(html)


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("template-script", '<span class="dk-script" title="A script: Anki runs it, the preview'),
        ("iframe-srcdoc", '<span class="dk-blocked" title="Another page: the preview does not'),
        ("object-data", '<span class="dk-blocked" title="An embedded object: the preview does'),
        ("svg-onload", '<span class="dk-blocked" title="An inline SVG drawing: the preview does'),
        ("img-remote", "the preview shows only the deck&#x27;s own media (http://example.invalid"),
        ("sound-remote", '">sound</span><audio controls="" preload="none"></audio>'),
        ("remote-link", 'title="Not followed in the preview: http://example.invalid/remote-link"'),
    ],
)
def test_what_the_preview_leaves_out_is_marked_in_its_place(
    name: str, marker: str, tmp_path: Path
) -> None:
    assert marker in page_text(name, tmp_path)


def test_the_deck_s_own_images_are_kept_and_named_in_the_media_folder(tmp_path: Path) -> None:
    html = page_text("base-href", tmp_path)
    (src,) = set(re.findall(r'<img src="([^"]*)">', html))  # front, and again on the back
    assert re.fullmatch(r"media/pic-[0-9a-f]{10}\.png", src)
    assert (tmp_path / "preview" / src).is_file()
    assert "<base" not in html


@needs_chromium
def test_a_remote_resource_in_a_kept_note_type_s_css_is_reported_not_loaded(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    server.hits.clear()
    page = attack_preview("css-url", tmp_path, server.host)
    tab = Page(browser)
    try:
        tab.goto(page.as_uri())
        browser.pump(SECONDS_TO_ACT)
        report = tab.js("document.getElementById('dk-errors').textContent")
    finally:
        tab.close()
    assert server.hits == []
    assert report == (
        f"not loaded (the preview fetches nothing from the network): http://{server.host}/css-url"
    )


# --- random input ---------------------------------------------------------------------------------
#
# Markup and CSS made of the pieces that confuse parsers, through the same public API, then read by
# Chromium's own parsers: no element, attribute or URL outside what the sanitiser allows, nothing
# after the side's <template>, no CSS outside its @scope.

HTML_PIECES = [
    "<",
    ">",
    "</",
    "/>",
    "<!--",
    "-->",
    "--!>",
    "<!",
    "<?",
    '"',
    "'",
    "=",
    " ",
    "\n",
    "&",
    "&lt;",
    "&#x3c;",
    "&quot;",
    "a",
    "x",
    "img",
    "script",
    "style",
    "svg",
    "math",
    "template",
    "textarea",
    "title",
    "noscript",
    "iframe",
    "xmp",
    "plaintext",
    "table",
    "select",
    "option",
    "p",
    "b",
    "src",
    "onerror",
    "href",
    "javascript:",
    "http://evil/",
    "media/pic.png",
    "srcdoc",
    "style=",
    "{",
    "}",
    "url(",
    "@import",
    "[sound:",
    "]",
    "{{",
    "}}",
]


def random_markup(rng: random.Random) -> str:
    return "".join(rng.choice(HTML_PIECES) for _ in range(rng.randint(1, 40)))


def random_decks(folder: Path, seed: int, cards: int) -> Path:
    """A source of ``cards`` basic cards of random markup; those that validate refuses (a media
    file that does not exist) are left out."""
    rng = random.Random(seed)
    sides = [("x" + random_markup(rng), "y" + random_markup(rng)) for _ in range(cards)]
    sources = folder / "sources"
    sources.mkdir(parents=True)
    shutil.copytree(ATTACKS / "media", sources / "media")
    source = sources / "random.yaml"
    while True:
        lines = ["deck: Random", "id: random", "cards:"]
        for number, (front, back) in enumerate(sides):
            lines += [
                f"  - id: c{number}",
                f"    front: {json.dumps(front)}",
                f"    back: {json.dumps(back)}",
            ]
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        refused = {
            (problem.line - 4) // 3
            for problem in validate([source]).problems
            if problem.severity == "error"
        }
        if not refused:
            return sources
        sides = [side for number, side in enumerate(sides) if number not in refused]


ALLOWED_IN_CARDS = """(() => {
  const allowedTags = new Set(%s);
  const allowedAttributes = new Set(%s);
  const wrong = [];
  for (const side of document.querySelectorAll('.dk-side > .card')) {
    for (const el of side.querySelectorAll('*')) {
      const tag = el.localName;
      const marker = el.matches('span.dk-script, span.dk-blocked');
      if (!allowedTags.has(tag) && tag !== 'style' && !marker) wrong.push('element ' + tag);
      if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') wrong.push('namespace ' + tag);
      for (const a of el.attributes) {
        const name = a.name;
        if (!allowedAttributes.has(name) && !/^(data|aria)-/.test(name) &&
            !(['src', 'href'].includes(name)))
          wrong.push(tag + ' attribute ' + name);
        if (name === 'src' && !/^media\\/[A-Za-z0-9_.-]+$/.test(a.value))
          wrong.push(tag + ' src ' + a.value);
        if (name === 'href' && !a.value.startsWith('#')) wrong.push(tag + ' href ' + a.value);
      }
    }
  }
  const cards = document.querySelectorAll('.dk-grid > .dk-card').length;
  const sides = document.querySelectorAll('.dk-grid > .dk-card > .dk-side > .card').length;
  return {wrong: wrong, cards: cards, sides: sides};
})()"""


@needs_chromium
@pytest.mark.parametrize("seed", range(3))
def test_random_markup_stays_inside_its_card_with_only_allowed_parts(
    seed: int, browser: Browser, server: Server, tmp_path: Path
) -> None:
    # Reaches inside: the allow-lists are the sanitiser's own, compared with what Chromium built.
    from deckkit.preview.sanitise import ATTRIBUTES, ELEMENTS

    server.hits.clear()
    result = write_preview([random_decks(tmp_path, seed, 150)], tmp_path / "preview")
    assert result.ok, [p.as_text() for p in result.problems if p.severity == "error"][:3]
    assert result.page is not None
    tab = Page(browser)
    wrong: list[str] = []
    cards = sides = 0
    try:
        tab.goto(result.page.as_uri())
        while True:  # each page of cards in turn
            tab.send("Runtime.evaluate", {"expression": ACT})
            browser.pump(SECONDS_TO_ACT / 2)
            found = tab.js(
                ALLOWED_IN_CARDS % (json.dumps(sorted(ELEMENTS)), json.dumps(sorted(ATTRIBUTES)))
            )
            wrong += found["wrong"]
            cards += found["cards"]
            sides += found["sides"]
            if tab.js("document.getElementById('dk-next').disabled"):
                break
            tab.js("document.getElementById('dk-next').click()")
        title = tab.js("document.title")
        sent = tab.requests_sent()
    finally:
        tab.close()
    assert wrong == []
    assert cards == result.cards > 100  # more than one page
    assert sides == 2 * result.cards
    assert title.startswith("deckkit preview")
    assert server.hits == []
    assert [url for url in sent if urlsplit(url).scheme not in ("file", "data")] == []


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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(HTML_PIECES), st.text(max_size=4)), max_size=60))
def test_the_sanitised_page_has_no_handler_script_or_remote_address(pieces: list[str]) -> None:
    # Reaches inside: the page's HTML for a random field, read back with Python's parser (the
    # browser's reading of the same is the Chromium test above).
    from html.parser import HTMLParser

    from deckkit.preview.sanitise import safe_html

    html = safe_html("".join(pieces), {"pic.png"})
    found: list[str] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if name.startswith("on") or name in ("srcdoc", "srcset", "action", "formaction"):
                    found.append(f"{tag} {name}")
                if name == "src" and value != "media/pic.png":
                    found.append(f"{tag} src={value}")
                if name == "href" and not (value or "").startswith("#"):
                    found.append(f"{tag} href={value}")
            if tag in ("script", "iframe", "object", "embed", "base", "meta", "link", "form"):
                found.append(tag)

    reader = Reader()
    reader.feed(html)
    reader.close()
    assert found == []
    assert "</template" not in html.lower()


# --- time -------------------------------------------------------------------------------------

UNENDING = r"""
deck: Unending
id: unending
cards:
  - id: card
    note_type: Unending
    front: front
    back: back
note_types:
  - name: Unending
    id: 1600000300
    mod: 1700000000
    kind: basic
    fields: [{name: Front, role: front}, {name: Back, role: back}]
    templates:
      - name: Card 1
        front: TEMPLATE
        back: "{{FrontSide}}<hr id=answer>{{Back}}"
    css: CSS
"""


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_markup_and_css_that_never_end_preview_in_linear_time(tmp_path: Path) -> None:
    """A template of '<a x="', '<img ' and '<!--' that never end (the standard library's HTML
    parser takes half a minute on 80 KB of the first two) and CSS of 'url(' and '{' that never
    close: `deckkit preview` finishes in seconds, within 2 GB."""
    template = '<a x="' * 60_000 + "<img " * 60_000 + "<b>" * 60_000 + "<!--" * 60_000
    css = "url(" * 60_000 + "{" * 60_000 + '"'
    source = tmp_path / "unending.yaml"
    text = UNENDING.replace("TEMPLATE", json.dumps("{{Front}}" + template))
    source.write_text(text.replace("CSS", json.dumps(css)), encoding="utf-8")
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "deckkit", "preview", str(source), "-o", str(tmp_path / "out")],
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        preexec_fn=_capped,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert time.monotonic() - start < 60
    assert (tmp_path / "out" / "index.html").stat().st_size > 60_000
