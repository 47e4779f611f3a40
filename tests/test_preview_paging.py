"""A preview of thousands of cards in headless Chromium (`chromium.py`): the page builds one page
of cards at a time from the data it holds, and its search, filters and pager reach every card.

The project is generated (thousands of cards are too many for a fixture file to be read): three
deck files of basic and reversed cards with levels and tags, an emoji in every front (a character
JavaScript counts as two, in the part of a back that repeats the front), and one word that only
the very last card has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chromium import Page, needs_chromium, open_page
from deckkit import write_preview
from preview_page import page_data

DECKS = 3
NOTES_PER_DECK = 1000
LEVELS = ("beginner", "intermediate", "advanced")
PAGE_SIZE = 100  # preview.js's
FAR_WORD = "zanzibar"


def large_project(folder: Path) -> Path:
    """Three deck files of NOTES_PER_DECK notes; every tenth note is reversed (two Anki cards)."""
    sources = folder / "sources"
    sources.mkdir(parents=True)
    for deck in range(DECKS):
        lines = [f'deck: "Large::Part {deck}"', f"id: large-{deck}", "cards:"]
        for note in range(NOTES_PER_DECK):
            number = deck * NOTES_PER_DECK + note
            last = deck == DECKS - 1 and note == NOTES_PER_DECK - 1
            lines += [
                f"  - id: note-{number:05d}",
                *(["    type: reversed"] if number % 10 == 0 else []),
                f"    level: {LEVELS[number % 3]}",
                f"    tags: [group-{number % 7}]",
                f'    front: "Question {number} 🎉 <b>in bold</b>"',
                f'    back: "Answer {number}{" " + FAR_WORD if last else ""}"',
            ]
        (sources / f"part-{deck}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sources


@pytest.fixture(scope="module")
def large_preview(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    folder = tmp_path_factory.mktemp("large")
    result = write_preview([large_project(folder)], folder / "preview")
    assert result.ok, [p.as_text() for p in result.problems][:3]
    assert result.page is not None
    return result.page, result.cards


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with open_page(tmp_path / "chromium-profile") as tab:
        yield tab


def shown_ids(page: Page) -> list[str]:
    return list(page.js("[...document.querySelectorAll('.dk-card')].map(c => c.dataset.card)"))


def count(page: Page) -> str:
    return str(page.js("document.getElementById('dk-count').textContent"))


def sides_shown(page: Page, card: str) -> tuple[str, str]:
    """The card's front and back HTML, once the browser has read them (up to 10 s)."""
    selector = json.dumps(f'.dk-card[data-card="{card}"]:not([data-pending])')
    found = page.js(
        "new Promise(done => { const start = Date.now(); (function poll() {"
        f" const card = document.querySelector({selector});"
        " if (card || Date.now() - start > 10000) done(card && [...card.querySelectorAll("
        "'.dk-side > .card')].map(side => side.innerHTML)); else setTimeout(poll, 20);"
        " })(); })"
    )
    assert found is not None, f"{card} never got its sides"
    return found[0], found[1]


def test_the_page_holds_every_card_as_data_not_as_elements(large_preview: tuple[Path, int]) -> None:
    page, cards = large_preview
    html = page.read_text("utf-8")
    index, sides = page_data(html)
    assert cards == len(index["cards"]) == len(sides) == DECKS * NOTES_PER_DECK * 11 // 10
    assert "<article" not in html
    assert html.isascii()  # read twice as fast by Chromium
    front, back = sides[-1]
    assert front == "Question 2999 🎉 <b>in bold</b>"
    assert back.startswith(front)
    assert back.endswith(f"Answer 2999 {FAR_WORD}")


def test_the_data_cannot_end_its_script_element() -> None:
    # Reaches inside: the JSON writer, with what the sanitiser never lets through (the
    # security tests switch the sanitiser off and show that the page still runs nothing).
    from deckkit.preview.data import json_for_html

    value = ["</script><script>x()</script>", "<!--<script>", "</SCRIPT >", "\u2028 🎉 é \\<"]
    text = json_for_html(value)
    assert text.isascii()
    assert "</" not in text
    assert "<!" not in text
    assert json.loads(text) == value


@needs_chromium
def test_the_first_page_of_cards_is_shown_with_their_sides(
    page: Page, large_preview: tuple[Path, int]
) -> None:
    path, cards = large_preview
    page.goto(path.as_uri())
    ids = shown_ids(page)
    assert len(ids) == PAGE_SIZE
    assert ids[:3] == ["note-00000", "note-00000", "note-00001"]  # a reversed note's two cards
    assert count(page) == f"{cards} of {cards} cards"
    pages = -(-cards // PAGE_SIZE)
    assert page.js("document.getElementById('dk-pages').textContent") == f"of {pages} (cards 1–100)"
    front, back = sides_shown(page, "note-00001")
    assert front == "Question 1 🎉 <b>in bold</b>"
    assert back == f'{front}\n<hr id="answer">\nAnswer 1'
    assert page.errors() == []


@needs_chromium
def test_a_search_finds_the_last_card_and_a_filter_narrows(
    page: Page, large_preview: tuple[Path, int]
) -> None:
    path, cards = large_preview
    page.goto(path.as_uri())
    page.type_into("#dk-search", FAR_WORD.upper())
    assert shown_ids(page) == ["note-02999"]
    assert count(page) == f"1 of {cards} cards"
    front, back = sides_shown(page, "note-02999")
    assert front == "Question 2999 🎉 <b>in bold</b>"  # the emoji, whole, in the repeated front
    assert back.startswith(front)
    assert back.endswith(f"Answer 2999 {FAR_WORD}")
    page.js(
        "(() => { const q = document.getElementById('dk-search'); q.value = '';"
        " q.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )
    page.choose("dk-deck", "large-1")
    in_deck = NOTES_PER_DECK * 11 // 10
    assert count(page) == f"{in_deck} of {cards} cards"
    assert set(page.js("[...document.querySelectorAll('.dk-card')].map(c => c.dataset.deck)")) == {
        "large-1"
    }
    page.choose("dk-level", "advanced")
    page.choose("dk-tag", "group-3")
    narrowed = shown_ids(page)
    expected = [n for n in range(1000, 2000) if n % 3 == 2 and n % 7 == 3]
    assert [int(card.removeprefix("note-")) for card in dict.fromkeys(narrowed)] == expected
    assert count(page) == f"{len(narrowed)} of {cards} cards"
    assert page.js("location.hash") == "#deck=large-1&tag=group-3&level=advanced"
    assert page.errors() == []


@needs_chromium
def test_the_pager_reaches_the_last_card_and_lands_in_the_url(
    page: Page, large_preview: tuple[Path, int]
) -> None:
    path, cards = large_preview
    page.goto(path.as_uri())
    page.js("document.getElementById('dk-next').click()")
    assert shown_ids(page)[0] == "note-00090"  # the 101st card: 10 reversed notes before it
    assert page.js("location.hash") == "#page=2"
    last = -(-cards // PAGE_SIZE)
    page.js(
        "(() => { const p = document.getElementById('dk-page'); p.value = p.max;"
        " p.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )
    ids = shown_ids(page)
    assert len(ids) == cards - (last - 1) * PAGE_SIZE
    assert ids[-1] == "note-02999"
    assert page.js("document.getElementById('dk-next').disabled") is True
    assert page.js("location.hash") == f"#page={last}"
    sides_shown(page, "note-02999")
    page.js("document.getElementById('dk-prev').click()")
    assert page.js("location.hash") == f"#page={last - 1}"
    assert page.errors() == []


@needs_chromium
def test_a_url_fragment_opens_a_far_page_of_a_search(
    page: Page, large_preview: tuple[Path, int]
) -> None:
    path, _ = large_preview
    page.goto(path.as_uri() + "#deck=large-2&page=11")
    # The deck's 1,100 cards fill 11 pages: the last one shows the last 100, read after the script.
    assert page.js("document.getElementById('dk-page').value") == "11"
    assert page.js("document.getElementById('dk-deck').value") == "large-2"
    ids = shown_ids(page)
    assert (len(ids), ids[-1]) == (PAGE_SIZE, "note-02999")
    front, _ = sides_shown(page, "note-02999")
    assert front.startswith("Question 2999")
    assert page.errors() == []
