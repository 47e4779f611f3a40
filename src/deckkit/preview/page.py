"""The preview page: a filterable grid of every card's front and back, in one HTML file that opens
at any size.

The page holds the cards as data (:mod:`deckkit.preview.data`) and its script builds only the
cards of the page of results being looked at, so that it opens as fast for 100,000 cards as for
ten: search and filters run over the compact index, and a side's HTML is read when its card is
shown. Everything is in the one file, to be opened from disk: no server, no request.

Decks are a stranger's: each side's HTML is rebuilt from an allow-list first
(:mod:`deckkit.preview.sanitise`), then inserted into the page through an inert ``<template>``.

The page's Content-Security-Policy, the second wall, lets nothing run or load but deckkit's own:
``default-src 'none'`` (no fetch, frame, object or worker at all); scripts only deckkit's two, by
their SHA-256 (no ``on*`` handler, no ``javascript:`` URL, no other ``<script>``: the data's
``<script type="application/json">`` elements are never run); images, media
and fonts from the page's own origin only (``'self'``: for a page opened from disk, local files;
the sanitiser keeps only the media folder's own names in the cards, and a CSP source cannot name
a folder of a ``file:`` page); styles inline only, deckkit's and the decks' CSS, which can run
nothing and fetch nothing under these rules (``url()`` and ``@import`` of anything else are
blocked, and reported on the page); ``base-uri 'none'`` and ``form-action 'none'``. Media are
written ``media/<name>`` rather than through a ``<base>``, which that rule forbids.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection, Sequence
from html import escape
from importlib import resources

from deckkit.fieldtext.markdown import MARKDOWN_CSS
from deckkit.model import Deck
from deckkit.notetypes import CSS
from deckkit.preview.cards import PreviewCard, preview_cards
from deckkit.preview.css import scoped_css
from deckkit.preview.data import (
    INDEX_ID,
    SIDES_ID,
    card_index,
    note_type_key,
    safe_sides,
    side_chunks,
)
from deckkit.preview.sanitise import media_url

GENERATOR = "deckkit preview"
SCRIPTS = ("errors.js", "preview.js")  # the only scripts the page runs


def _asset(name: str) -> str:
    return resources.files("deckkit").joinpath("data", "preview", name).read_text("utf-8")


def _options(values: Sequence[tuple[str, str]], everything: str) -> str:
    options = [f'<option value="">{escape(everything)}</option>']
    options += [f'<option value="{escape(v)}">{escape(label)}</option>' for v, label in values]
    return "".join(options)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def content_security_policy() -> str:
    """The page's policy: only deckkit's own scripts run, nothing is fetched from elsewhere."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(_asset(name).encode()).digest()).decode()}'"
        for name in SCRIPTS
    )
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
        "img-src 'self'; media-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'"
    )


def page_html(decks: Sequence[Deck], cards: Sequence[PreviewCard] | None = None) -> str:
    """The whole preview page: a filterable grid of every card's front and back.

    ``cards`` are the decks' cards when :func:`~deckkit.preview.preview_cards` already made them.
    """
    if cards is None:
        cards = [c for deck in decks for c in preview_cards(deck)]
    media = {m.packed_name for deck in decks for m in deck.media}
    sides = safe_sides(cards, media)
    index = card_index(decks, cards, sides)
    summary = f"{_count(len(cards), 'card')} from {_count(len(decks), 'deck')}"
    filters = (
        f'<label>Deck <select id="dk-deck" name="deck">'
        f"{_options([(d.id, d.name) for d in decks], 'All decks')}</select></label>"
        f'<label>Tag <select id="dk-tag" name="tag">'
        f"{_options([(t, t) for t in index.tags], 'All tags')}</select></label>"
        f'<label>Level <select id="dk-level" name="level">'
        f"{_options([(lv, lv) for lv in index.levels], 'All levels')}</select></label>"
        f'<label>Type <select id="dk-type" name="type">'
        f"{_options([(t, t.replace('_', ' ')) for t in index.types], 'All types')}</select></label>"
        '<label>Search <input type="search" id="dk-search" name="q" '
        'placeholder="words in the cards"></label>'
        '<label><input type="checkbox" id="dk-night" name="night"> Night mode</label>'
    )
    pager = (
        '<nav class="dk-pager" id="dk-pager" aria-label="pages of cards" hidden>'
        '<button type="button" id="dk-prev">&lsaquo; Previous</button>'
        '<label>Page <input type="number" id="dk-page" name="page" min="1" value="1"></label>'
        '<span id="dk-pages"></span>'
        '<button type="button" id="dk-next">Next &rsaquo;</button></nav>'
    )
    # The first chunk of sides comes before the script, which shows the first cards at once; the
    # browser reads the others while they are looked at.
    chunks = [
        f'<script type="application/json" id="{SIDES_ID.format(number)}">{chunk}</script>\n'
        for number, chunk in enumerate(side_chunks(sides))
    ]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">
<meta name="generator" content="{GENERATOR}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deckkit preview: {escape(summary)}</title>
<script>{_asset("errors.js")}</script>
<style>
/* deckkit's note type styling, exactly as in the .apkg */
{CSS}{MARKDOWN_CSS if any(deck.markdown for deck in decks) else ""}
</style>
{_original_styles(decks, media)}<style>{_asset("preview.css")}</style>
</head>
<body>
<header class="dk-bar">
<h1>deckkit preview <span class="dk-summary">{escape(summary)}</span></h1>
<div class="dk-filters" role="search">{filters}</div>
<p class="dk-count" id="dk-count" role="status"></p>
{pager}
</header>
<main class="dk-grid" id="dk-grid"></main>
<p class="dk-empty" id="dk-empty" hidden>No card matches the filters.</p>
<pre class="dk-errors" id="dk-errors" data-count="0" hidden></pre>
<script type="application/json" id="{INDEX_ID}">{index.as_json()}</script>
{"".join(chunks[:1])}<script>{_asset("preview.js")}</script>
{"".join(chunks[1:])}</body>
</html>
"""


def _original_styles(decks: Sequence[Deck], media: Collection[str]) -> str:
    """Each original note type's CSS, applied only to its own cards (after deckkit's, so that it
    wins where both style the same thing), loading the deck's files it names from the page's
    media folder."""
    styles = {}
    for deck in decks:
        for note_type in deck.note_types:
            if any(card.note_type == note_type for card in deck.cards):
                key = note_type_key(note_type)
                # The name is in a CSS comment: '*/' would end it early.
                name = escape(note_type.name).replace("*/", "*\\/")
                scope = f'.dk-card[data-note-type="{key}"]'
                styles[key] = (
                    f'<style>\n/* note type "{name}", as in the .apkg */\n'
                    f"{scoped_css(note_type.css, scope, media_url(media))}\n</style>\n"
                )
    return "".join(styles.values())
