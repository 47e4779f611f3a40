"""`deckkit preview`: every card's front and back against what Anki itself renders (the `anki`
package), and the page in headless Chromium (Debian's `chromium`, driven by `chromium.py`).
What a hostile deck cannot do to the page is in test_preview_security.py."""

from __future__ import annotations

import json
import re
import shutil
import struct
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection
from click.testing import CliRunner, Result

from chromium import SCREENSHOT_SIZE, Page, needs_chromium, open_page
from conftest import FIXTURES, REPO, import_apkg
from deckkit import validate
from deckkit.cli import main

# Reaches inside: the preview's cards are compared with what Anki renders from the .apkg written
# for the same deck.
from deckkit.exporters.apkg import write_apkg
from deckkit.model import Deck, deck_from_source
from deckkit.notetypes import CSS
from deckkit.preview import page_html, preview_cards, write_preview
from deckkit.stamps import Stamps
from preview_page import page_data, sides_html

ALL_TYPES = FIXTURES / "good" / "all-types.yaml"
BELL = FIXTURES / "good" / "media" / "bell.wav"

# Cloze and template corners, each checked against Anki's renderer like the fixture's cards.
TRICKY = r"""
deck: "Preview tricky"
id: preview-tricky
cards:
  - id: nested-and-hints
    type: cloze
    text: >-
      A {{c1::big city, "quoted" & <b>bold</b>::a <i>hint</i>}} and {{c2::x {{c3::nested}} y}}
      {{c1::again}} {{c4::a::b::c}} {{c5::never closed
  - id: stray-markers
    type: cloze
    text: "{{c1::one}} :: }} stray {{c2::two::}}"
  - id: shared-deletion
    type: cloze
    text: "shared {{c1,2::both}} and {{c2::two}}"
  - id: mathjax
    type: cloze
    text: 'Formula \(x^{{c1::<b>2</b>}}\) and \[{{c2::y::why}}\]'
    extra: "<br>"
  - id: deletion-in-extra
    type: cloze
    text: "{{c1::one}}"
    extra: "{{c2::two}} makes a card that Anki shows as an error"
  - id: never-closed-deletion
    type: cloze
    text: "{{c1::complete}} then {{c2::opened {{c3::closed}}"
    extra: "<div> </div>"
  - id: hint-with-markup
    type: open
    prompt: "Prompt"
    hint: "<b>bold</b> hint & more"
    concepts: ["one"]
  - id: sounds-everywhere
    type: reversed
    front: "[sound:media/bell.wav] front"
    back: "back [sound:media/bell.wav] twice [sound:media/bell.wav]"
  - id: type-in-markup
    type: type_in
    front: "Type it"
    answer: "<b>an</b> & swer [sound:media/bell.wav]"
"""


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def tricky_source(folder: Path) -> Path:
    (folder / "media").mkdir(parents=True, exist_ok=True)
    shutil.copy(BELL, folder / "media" / "bell.wav")
    source = folder / "tricky.yaml"
    source.write_text(TRICKY, encoding="utf-8")
    return source


def load_deck(source: Path) -> Deck:
    validation = validate([source])
    assert validation.ok, [p.as_text() for p in validation.problems]
    (loaded,) = validation.sources
    return deck_from_source(loaded)


def imported(col: Collection, deck: Deck, folder: Path) -> None:
    package = folder / f"{deck.id}.apkg"
    write_apkg(deck, package, Stamps())
    import_apkg(col, package)


# --- The same HTML as Anki -----------------------------------------------------------------------
#
# The normalisation, and all of it:
# - Anki's question() and answer() begin with the note type's CSS in a <style> element; the
#   preview has that CSS once, in the page's head. It is checked to be deckkit's CSS, then cut.
# - Sounds: Anki replaces [sound:name] with [anki:play:q:0] / [anki:play:a:1], indexes into the
#   card's question / answer sound lists; the preview has an <audio> player. Both become
#   [sound:name].
# - Type-in: Anki leaves [[type:Field]] for its reviewer; the preview has the input box there on
#   the front and the comparison area on the back. Both become [[type:Field]].
# - Hint ids: Anki's is a hash of the hint; the preview's also hashes the card (so that equal hints
#   on one page differ). Both become hintID.
# No whitespace normalisation is needed: the rest is equal character for character.

ANKI_PLAY = re.compile(r"\[anki:play:([qa]):(\d+)\]")
PREVIEW_AUDIO = re.compile(r'<audio controls preload="none" src="([^"]*)"></audio>')
PREVIEW_TYPE_IN = re.compile(
    r'<input type="text" id="typeans" class="deckkit-typein" data-field="([^"]*)"[^>]*>'
)
PREVIEW_TYPE_COMPARISON = re.compile(
    r'<div class="deckkit-typeans" data-field="([^"]*)"[^>]*>.*?</div>'
)
HINT_ID = re.compile(r"\bhint[0-9a-f]{16}\b")


def anki_html(card: Any, side: str, *, css: str = CSS) -> str:
    html: str = card.question() if side == "front" else card.answer()
    style = f"<style>{css}</style>"
    assert html.startswith(style), "Anki styles the card with its note type's CSS"
    html = html[len(style) :]
    output = card.render_output()
    sounds = {"q": output.question_av_tags, "a": output.answer_av_tags}
    html = ANKI_PLAY.sub(lambda m: f"[sound:{sounds[m[1]][int(m[2])].filename}]", html)
    return HINT_ID.sub("hintID", html)


def preview_html(html: str) -> str:
    html = PREVIEW_AUDIO.sub(lambda m: f"[sound:{unescape(m[1])}]", html)
    html = PREVIEW_TYPE_IN.sub(r"[[type:\1]]", html)
    html = PREVIEW_TYPE_COMPARISON.sub(r"[[type:\1]]", html)
    return HINT_ID.sub("hintID", html)


@pytest.mark.parametrize("which", ["all-types", "tricky"])
def test_every_card_front_and_back_equal_what_anki_renders(
    which: str, collection: Collection, tmp_path: Path
) -> None:
    deck = load_deck(ALL_TYPES if which == "all-types" else tricky_source(tmp_path / "src"))
    imported(collection, deck, tmp_path)
    previews = {(p.card.guid, p.ordinal): p for p in preview_cards(deck)}
    anki_cards = [collection.get_card(i) for i in collection.find_cards("")]
    assert sorted((c.note().guid, c.ord) for c in anki_cards) == sorted(previews)
    if which == "all-types":
        assert {p.card.type for p in previews.values()} == {
            "basic",
            "reversed",
            "cloze",
            "type_in",
            "multiple_choice",
            "open",
        }
    mismatches = []
    for anki_card in anki_cards:
        preview = previews[(anki_card.note().guid, anki_card.ord)]
        for side, ours in (("front", preview.front), ("back", preview.back)):
            expected, got = anki_html(anki_card, side), preview_html(ours)
            if expected != got:
                mismatches.append((preview.card.id, anki_card.ord, side, expected, got))
    assert mismatches == []


# Cards brought in by `deckkit import` that keep their Anki note type: its templates (conditional
# ones, Anki's special fields) and its CSS, which Anki puts before each side as it does deckkit's.
KEPT = r"""
deck: "Kept::Note types"
id: kept-note-types
tags: [kept, Zebra, apple]
cards:
  - id: simple
    note_type: Simple
    front: "What is 2 < 3?"
    back: "true"
  - id: optional-basic
    note_type: Optional reverse
    front: non
    back: "no"
  - id: both-ways
    type: reversed
    note_type: Both ways
    front: bonjour
    back: hello
  - id: spell
    type: type_in
    note_type: Spell it
    front: to be
    answer: être
  - id: capital
    type: cloze
    note_type: My cloze
    text: "{{c1::Paris}} is in {{c2::France::country}}"
    extra: geography
note_types:
  - name: Simple
    id: 1600000001
    mod: 1700000000
    kind: basic
    fields: [{name: Question, role: front}, {name: Answer, role: back}]
    templates:
      - name: Card 1
        front: >-
          <div class="q">{{Question}}</div>
          <p>{{Deck}} / {{Subdeck}} / {{Type}} / {{Card}} / {{Tags}}</p>
        back: "{{FrontSide}}<hr id=answer>{{Answer}}{{^Answer}}(none){{/Answer}}"
    css: |
      .card { color: navy; }
      .q { font-weight: bold; }
  - name: Optional reverse
    id: 1600000006
    mod: 1700000000
    kind: basic
    fields:
      - {name: Front, role: front}
      - {name: Back, role: back}
      - {name: Add Reverse, role: null}
    templates:
      - {name: Card 1, front: "{{Front}}", back: "{{FrontSide}}<hr id=answer>{{Back}}"}
      - name: Card 2
        front: "{{#Add Reverse}}{{Back}}{{/Add Reverse}}"
        back: "{{FrontSide}}<hr id=answer>{{Front}}"
    css: ".card { color: teal; }"
  - name: Both ways
    id: 1600000002
    mod: 1700000000
    kind: reversed
    fields: [{name: Word, role: front}, {name: Meaning, role: back}]
    templates:
      - {name: Forward, front: "{{Word}}", back: "{{FrontSide}}<hr id=answer>{{Meaning}}"}
      - {name: Backward, front: "{{Meaning}}", back: "{{FrontSide}}<hr id=answer>{{Word}}"}
    css: ".card { color: green; }"
  - name: Spell it
    id: 1600000003
    mod: 1700000000
    kind: type_in
    fields: [{name: Prompt, role: front}, {name: Spelling, role: answer}]
    templates:
      - name: Card 1
        front: "{{Prompt}}<br>{{type:Spelling}}"
        back: "{{Prompt}}<hr id=answer>{{type:Spelling}}"
    css: ".card { color: maroon; }"
  - name: My cloze
    id: 1600000004
    mod: 1700000000
    kind: cloze
    cloze: true
    fields: [{name: Text, role: text}, {name: Notes, role: extra}]
    templates:
      - {name: Cloze, front: "{{cloze:Text}}", back: "{{cloze:Text}}<br>{{Notes}}"}
    css: ".card { color: purple; }"
"""


def test_cards_that_keep_their_note_type_render_with_its_templates_as_anki_does(
    collection: Collection, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "kept.yaml"
    source.write_text(KEPT, encoding="utf-8")
    deck = load_deck(source)
    imported(collection, deck, tmp_path)
    previews = {(p.card.guid, p.ordinal): p for p in preview_cards(deck)}
    anki_cards = [collection.get_card(i) for i in collection.find_cards("")]
    # The optional reverse card is not asked for: one card, as in Anki.
    assert sorted((c.note().guid, c.ord) for c in anki_cards) == sorted(previews)
    assert len(previews) == 7
    mismatches = []
    for anki_card in anki_cards:
        preview = previews[(anki_card.note().guid, anki_card.ord)]
        assert preview.card.note_type is not None
        css = preview.card.note_type.css
        for side, ours in (("front", preview.front), ("back", preview.back)):
            expected, got = anki_html(anki_card, side, css=css), preview_html(ours)
            if expected != got:
                mismatches.append((preview.card.id, anki_card.ord, side, expected, got))
    assert mismatches == []
    simple = previews[(deck.cards[0].guid, 0)].front
    assert "Kept::Note types / Note types / Simple / Card 1 / apple kept Zebra" in simple

    html = page_html([deck])
    assert CSS in html  # deckkit's, for any deckkit card
    index, _ = page_data(html)
    # The key each card of a kept note type carries (its data-note-type on the page).
    keys = {index["noteTypes"][card[7]] for card in index["cards"]}
    assert len(keys) == len(deck.note_types)
    for note_type in deck.note_types:  # each kept note type's, for its own cards only
        (key,) = {k for k in keys if k.startswith(f"{note_type.id}-")}
        assert f'@scope (.dk-card[data-note-type="{key}"]) {{\n{note_type.css}\n}}' in html


def test_preview_sides_hold_the_playable_forms_that_the_comparison_normalises() -> None:
    cards = {(p.card.id, p.ordinal): p for p in preview_cards(load_deck(ALL_TYPES))}
    type_in = cards[("type-in-product", 0)]
    assert 'id="typeans" class="deckkit-typein" data-field="Answer"' in type_in.front
    assert (
        '<div class="deckkit-typeans" data-field="Answer" data-expected="56">'
        "<code id=typeans>56</code></div>" in type_in.back
    )
    assert '<audio controls preload="none" src="bell-' in type_in.back
    cloze = cards[("cloze-capital", 0)]
    assert '<span class="cloze" data-cloze="Paris" data-ordinal="1">[a city]</span>' in cloze.front
    assert '<span class="cloze-inactive" data-ordinal="2">France</span>' in cloze.front
    assert '<span class="cloze" data-ordinal="1">Paris</span>' in cloze.back
    hint = cards[("open-fine-tuning", 0)].front
    assert re.search(r"<a class=hint href=\"#\"\n.*\nHint</a>", hint, re.DOTALL)


# --- Writing the page ---------------------------------------------------------------------------


def test_write_preview_writes_one_page_and_the_media_under_their_packed_names(
    tmp_path: Path,
) -> None:
    result = write_preview([ALL_TYPES], tmp_path / "out")
    assert result.ok
    assert result.page == tmp_path / "out" / "index.html"
    deck = load_deck(ALL_TYPES)
    packed = sorted(m.packed_name for m in deck.media)
    assert sorted(p.name for p in (tmp_path / "out" / "media").iterdir()) == packed
    for media in deck.media:
        assert (
            tmp_path / "out" / "media" / media.packed_name
        ).read_bytes() == media.source.read_bytes()
    html = result.page.read_text("utf-8")
    assert len(page_data(html)[1]) == result.cards == 11
    # Each image and player names its copy in the media folder itself: the page has no <base>.
    assert "<base" not in html
    for media in deck.media:
        assert f'src="media/{media.packed_name}"' in sides_html(html)


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    html = page_html([load_deck(ALL_TYPES)])
    assert CSS in html, "the note types' CSS, exactly"
    assert not re.search(r"<script[^>]*\bsrc=|<link[^>]*stylesheet|@import|https?://", html)


def test_sources_with_errors_write_nothing_and_the_cli_prints_them_like_build(
    tmp_path: Path,
) -> None:
    bad = FIXTURES / "bad" / "missing-back.yaml"
    if not bad.exists():
        bad = next(p for p in sorted((FIXTURES / "bad").glob("*.yaml")))
    result = write_preview([bad], tmp_path / "out")
    assert not result.ok
    assert result.page is None
    assert not (tmp_path / "out").exists()
    cli = invoke("preview", str(bad), "-o", str(tmp_path / "out"))
    assert cli.exit_code == 1
    validate_output = invoke("validate", str(bad)).stdout
    assert cli.stdout == validate_output
    assert "nothing was written" in cli.stderr
    assert not (tmp_path / "out").exists()


def test_cli_writes_the_page_and_says_where(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("preview", str(ALL_TYPES), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "previewed 11 Anki card(s) from 1 deck(s)" in result.stdout
    assert (out / "index.html").resolve().as_uri() in result.stdout
    again = invoke("preview", str(ALL_TYPES), "-o", str(out))
    assert again.exit_code == 0, "a page an earlier preview wrote is replaced"


def test_cli_refuses_to_overwrite_a_page_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>my site</h1>", encoding="utf-8")
    result = invoke("preview", str(ALL_TYPES), "-o", str(tmp_path / "site"))
    assert result.exit_code == 2
    assert "was not written by deckkit preview" in result.stderr
    assert (tmp_path / "site" / "index.html").read_text("utf-8") == "<h1>my site</h1>"


def test_cli_output_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = invoke("preview", str(ALL_TYPES), "-o", str(tmp_path / "file"))
    assert result.exit_code == 2
    assert "is a file" in result.stderr


def test_help_shows_an_example() -> None:
    result = invoke("preview", "--help")
    assert result.exit_code == 0
    assert "deckkit preview" in result.stdout.split("Example", 1)[1]


# --- In headless Chromium -----------------------------------------------------------------------


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with open_page(tmp_path / "chromium-profile") as tab:
        yield tab


@pytest.fixture
def all_types_page(tmp_path: Path) -> Path:
    result = write_preview([ALL_TYPES], tmp_path / "preview")
    assert result.page is not None
    return result.page


@needs_chromium
def test_page_loads_with_no_errors_one_card_per_anki_card_and_its_media(
    page: Page, all_types_page: Path, collection: Collection, tmp_path: Path
) -> None:
    imported(collection, load_deck(ALL_TYPES), tmp_path)
    page.goto(all_types_page.as_uri())
    assert page.errors() == []
    assert page.js("document.querySelectorAll('.dk-card').length") == len(collection.find_cards(""))
    assert page.visible() == 11
    assert page.js("document.getElementById('dk-count').textContent") == "11 of 11 cards"
    # Each side sits in an Anki-like .card and got its HTML (no template is left behind).
    assert page.js("document.querySelectorAll('.dk-card .dk-side > .card').length") == 22
    assert page.js("document.querySelectorAll('template').length") == 0
    assert (
        page.js("getComputedStyle(document.querySelector('.dk-side > .card')).fontSize") == "20px"
    )
    images = page.js("[...document.images].map(i => [i.complete && i.naturalWidth > 0, i.src])")
    assert len(images) == 3
    assert all(ok for ok, _ in images), images
    assert all("/media/pic-" in src for _, src in images)
    sounds = page.js("[...document.querySelectorAll('audio[controls]')].map(a => a.src)")
    assert len(sounds) == 1
    assert Path(sounds[0].removeprefix("file://")).is_file()


@needs_chromium
def test_a_kept_note_type_s_css_styles_its_own_cards_only(page: Page, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "kept.yaml").write_text(KEPT, encoding="utf-8")
    result = write_preview([tmp_path / "src" / "kept.yaml", ALL_TYPES], tmp_path / "preview")
    assert result.page is not None
    page.goto(result.page.as_uri())
    assert page.errors() == []

    def color(card_id: str) -> str:
        return str(
            page.js(
                f"getComputedStyle(document.querySelector("
                f"'.dk-card[data-card=\"{card_id}\"] .dk-side > .card')).color"
            )
        )

    assert color("simple") == "rgb(0, 0, 128)"  # navy, from its note type
    assert color("both-ways") == "rgb(0, 128, 0)"  # green, from another
    assert color("basic-rtl") == "rgb(31, 35, 40)"  # deckkit's #1f2328
    weight = "getComputedStyle(document.querySelector('.dk-card[data-card=\"simple\"] .q'))"
    assert page.js(f"{weight}.fontWeight") == "700"


@needs_chromium
def test_filters_and_search_narrow_the_cards_and_land_in_the_url(
    page: Page, all_types_page: Path
) -> None:
    page.goto(all_types_page.as_uri())
    page.choose("dk-type", "cloze")
    assert page.visible() == 2
    assert "type=cloze" in page.js("location.hash")
    page.choose("dk-level", "advanced")
    assert page.visible() == 0
    assert page.js("document.getElementById('dk-empty').hidden") is False
    page.choose("dk-type", "")
    assert page.visible() == 2  # the two advanced cards: mc-list-answer and open-fine-tuning
    page.choose("dk-level", "")
    page.choose("dk-tag", "rtl")
    assert page.js(
        "[...document.querySelectorAll('.dk-card:not([hidden])')].map(c => c.dataset.card)"
    ) == ["basic-rtl"]
    page.choose("dk-tag", "")
    page.choose("dk-deck", "all-types")
    assert page.visible() == 11
    page.type_into("#dk-search", "BONJOUR monde")
    assert page.js(
        "[...document.querySelectorAll('.dk-card:not([hidden])')].map(c => c.dataset.ordinal)"
    ) == ["1", "2"]
    assert page.js("document.getElementById('dk-count').textContent") == "2 of 11 cards"
    assert page.errors() == []


@needs_chromium
def test_a_url_fragment_presets_the_filters(page: Page, all_types_page: Path) -> None:
    page.goto(all_types_page.as_uri() + "#type=multiple_choice&q=prime")
    assert page.js("document.getElementById('dk-type').value") == "multiple_choice"
    assert page.js("document.getElementById('dk-search').value") == "prime"
    assert page.js(
        "[...document.querySelectorAll('.dk-card:not([hidden])')].map(c => c.dataset.card)"
    ) == ["mc-list-answer"]
    page.js("location.hash = 'level=beginner'; new Promise(r => setTimeout(r, 100))")
    assert page.visible() == 3  # basic-tricky-text and the two cloze cards
    assert page.errors() == []


@needs_chromium
def test_type_in_hint_and_night_mode_work_as_in_anki(page: Page, all_types_page: Path) -> None:
    page.goto(all_types_page.as_uri())
    page.type_into("[data-card='type-in-product'] .dk-front input#typeans", "57")
    comparison = page.js(f"document.querySelector({json.dumps(TYPE_IN_BACK)}).innerHTML")
    assert 'class="typeBad">7</span>' in comparison
    hint = "[data-card='open-fine-tuning'] .dk-front"
    assert (
        page.js(f'getComputedStyle(document.querySelector("{hint} div.hint > div.hint")).display')
        == "none"
    )
    page.js(f'document.querySelector("{hint} a.hint").click()')
    assert (
        page.js(f'getComputedStyle(document.querySelector("{hint} div.hint > div.hint")).display')
        == "block"
    )
    page.js("document.getElementById('dk-night').click()")
    assert page.js("document.body.className") == "nightMode night_mode"
    assert (
        page.js("getComputedStyle(document.querySelector('.dk-side > .card')).backgroundColor")
        == "rgb(30, 30, 30)"
    )
    assert "night=1" in page.js("location.hash")
    assert page.errors() == []


TYPE_IN_FRONT = "[data-card='type-in-product'] .dk-front input#typeans"
TYPE_IN_BACK = "[data-card='type-in-product'] .dk-back code#typeans"


@needs_chromium
def test_the_type_in_comparison_marks_what_was_typed_as_anki_does(
    page: Page, all_types_page: Path, collection: Collection
) -> None:
    page.goto(all_types_page.as_uri())
    for typed in ["", "56", "57", "5", "556", "x", "65", " 56 ", "<56&"]:
        page.js(
            f"(() => {{ const i = document.querySelector({json.dumps(TYPE_IN_FRONT)});"
            f" i.value = {json.dumps(typed)};"
            " i.dispatchEvent(new Event('input', {bubbles: true})); })()"
        )
        ours = page.js(f"document.querySelector({json.dumps(TYPE_IN_BACK)}).outerHTML")
        # Anki writes its attributes unquoted and the arrow as an entity; the DOM serialises both.
        anki = re.sub(r"(class|id)=(\w+)", r'\1="\2"', collection.compare_answer("56", typed))
        assert ours == anki.replace("&darr;", "↓"), typed


@needs_chromium
def test_screenshot_of_the_cards(page: Page, all_types_page: Path, tmp_path: Path) -> None:
    page.goto(all_types_page.as_uri())
    shot = tmp_path / "preview-screenshot.png"
    page.screenshot(shot)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", data[16:24]) == SCREENSHOT_SIZE
    assert len(data) > 10_000
    if (REPO / "build").is_dir():
        shutil.copy(shot, REPO / "build" / "preview-screenshot.png")


@needs_chromium
def test_missing_media_is_reported_on_the_page(page: Page, all_types_page: Path) -> None:
    next((all_types_page.parent / "media").glob("pic-*.png")).unlink()
    page.goto(all_types_page.as_uri())
    # An image's error event may come after the load event on a busy machine: wait up to 10 s.
    count = page.js(
        "new Promise(done => { const start = Date.now(); (function poll() {"
        " const n = document.getElementById('dk-errors').dataset.count;"
        " if (n === '1' || Date.now() - start > 10000) done(n); else setTimeout(poll, 50);"
        " })(); })"
    )
    assert count == "1"
    assert "failed to load" in page.js("document.getElementById('dk-errors').textContent")


@needs_chromium
def test_a_field_left_open_or_a_script_stays_inside_its_card(page: Page, tmp_path: Path) -> None:
    source = tmp_path / "src" / "open.yaml"
    source.parent.mkdir()
    source.write_text(
        "deck: Open tags\nid: open-tags\ncards:\n"
        '  - {id: left-open, front: "<b>bold, never closed", back: "<div>x"}\n'
        "  - {id: scripted, front: \"<script>document.title = 'ran'</script>plain\", back: b}\n"
        '  - {id: plain, front: "plain", back: "</div></div></main>back"}\n',
        encoding="utf-8",
    )
    result = write_preview([source], tmp_path / "preview")
    assert result.ok
    assert result.page is not None
    page.goto(result.page.as_uri())
    assert page.js("document.querySelectorAll('.dk-card').length") == 3
    assert page.js("document.querySelectorAll('.dk-grid > .dk-card').length") == 3
    weights = page.js(
        "[...document.querySelectorAll('.dk-front > .card')]"
        ".map(c => c.querySelector('b') !== null)"
    )
    assert weights == [True, False, False]
    assert page.js("document.title") != "ran"
    assert (
        page.js("document.querySelector('[data-card=scripted] .dk-front .dk-script').textContent")
        == "script"
    )
    assert page.errors() == []
