"""The preview shows the cards of a declared note type with its own CSS and the files its
templates and CSS load, in headless Chromium (see tests/chromium.py)."""

from __future__ import annotations

from pathlib import Path

from chromium import needs_chromium, open_page
from conftest import FIXTURES
from deckkit.preview import write_preview

STYLED = FIXTURES / "note_types" / "good" / "styled"


@needs_chromium
def test_a_declared_note_type_s_card_has_its_css_and_its_template_media(tmp_path: Path) -> None:
    # The folder holds the note-type file too: it is checked, and shown through its deck.
    result = write_preview([STYLED], tmp_path / "preview")
    assert result.ok, result.problems
    assert result.page is not None
    assert (result.decks, result.cards) == (1, 1)
    with open_page(tmp_path / "chromium-profile") as page:
        page.goto(result.page.as_uri())
        assert page.errors() == []
        word = "getComputedStyle(document.querySelector('.dk-side .word'))"
        assert page.js(f"{word}.color") == "rgb(0, 128, 0)"  # from the note type's CSS file
        assert page.js(f"{word}.fontSize") == "32px"
        logos = page.js(
            "[...document.querySelectorAll('img.logo')].map(i => [i.naturalWidth, i.src])"
        )
        assert len(logos) == 2  # front and back ({{FrontSide}})
        assert all(width == 4 and src.endswith("/media/_logo.png") for width, src in logos)
        paper = "getComputedStyle(document.querySelector('.dk-side > .card')).backgroundImage"
        assert page.js(paper).endswith('/media/_paper.png")')
        # Loaded, and found: a file that is not there is a failed load among page.errors().
        assert any(url.endswith("/media/_paper.png") for url in page.requests_sent())
        assert page.errors() == []
