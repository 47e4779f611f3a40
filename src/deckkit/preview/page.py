"""The preview page: a filterable grid of every card's front and back, in one HTML file.

Decks are a stranger's: each side's HTML is rebuilt from an allow-list first
(:mod:`deckkit.preview.sanitise`), then inserted into the page from an inert ``<template>``.

The page's Content-Security-Policy, the second wall, lets nothing run or load but deckkit's own:
``default-src 'none'`` (no fetch, frame, object or worker at all); scripts only deckkit's two, by
their SHA-256 (no ``on*`` handler, no ``javascript:`` URL, no other ``<script>``); images, media
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

from deckkit.cardtypes import LEVELS
from deckkit.fieldtext.markdown import MARKDOWN_CSS
from deckkit.model import Card, Deck
from deckkit.notetypes import CSS, AnkiNoteType
from deckkit.preview.cards import PreviewCard, preview_cards
from deckkit.preview.css import scoped_css
from deckkit.preview.sanitise import media_url, safe_html

GENERATOR = "deckkit preview"
SCRIPTS = ("errors.js", "preview.js")  # the only scripts the page runs


def _asset(name: str) -> str:
    return resources.files("deckkit").joinpath("data", "preview", name).read_text("utf-8")


def _shown_tags(card: Card) -> list[str]:
    """The card's tags without the level tag deckkit adds (the level is shown on its own)."""
    level_tag = f"level::{card.level}" if card.level else None
    return [tag for tag in card.tags if tag != level_tag]


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


def page_html(decks: Sequence[Deck]) -> str:
    """The whole preview page: a filterable grid of every card's front and back."""
    cards = [c for deck in decks for c in preview_cards(deck)]
    media = {m.packed_name for deck in decks for m in deck.media}
    tags = sorted({t for c in cards for t in _shown_tags(c.card)}, key=str.casefold)
    levels = [lv for lv in LEVELS if any(c.card.level == lv for c in cards)]
    levels += sorted({c.card.level for c in cards if c.card.level and c.card.level not in LEVELS})
    types = list(dict.fromkeys(c.card.kind for c in cards))
    deck_options = [(d.id, d.name) for d in decks]
    summary = f"{_count(len(cards), 'card')} from {_count(len(decks), 'deck')}"
    filters = (
        f'<label>Deck <select id="dk-deck" name="deck">'
        f"{_options(deck_options, 'All decks')}</select></label>"
        f'<label>Tag <select id="dk-tag" name="tag">'
        f"{_options([(t, t) for t in tags], 'All tags')}</select></label>"
        f'<label>Level <select id="dk-level" name="level">'
        f"{_options([(lv, lv) for lv in levels], 'All levels')}</select></label>"
        f'<label>Type <select id="dk-type" name="type">'
        f"{_options([(t, t.replace('_', ' ')) for t in types], 'All types')}</select></label>"
        '<label>Search <input type="search" id="dk-search" name="q" '
        'placeholder="words in the cards"></label>'
        '<label><input type="checkbox" id="dk-night" name="night"> Night mode</label>'
    )
    articles = "\n".join(_article(c, media) for c in cards)
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
<p class="dk-count" id="dk-count" role="status">{len(cards)} of {len(cards)} cards</p>
</header>
<main class="dk-grid" id="dk-grid">
{articles}
</main>
<p class="dk-empty" id="dk-empty" hidden>No card matches the filters.</p>
<pre class="dk-errors" id="dk-errors" data-count="0" hidden></pre>
<script>{_asset("preview.js")}</script>
</body>
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
                key = _note_type_key(note_type)
                # The name is in a CSS comment: '*/' would end it early.
                name = escape(note_type.name).replace("*/", "*\\/")
                scope = f'.dk-card[data-note-type="{key}"]'
                styles[key] = (
                    f'<style>\n/* note type "{name}", as in the .apkg */\n'
                    f"{scoped_css(note_type.css, scope, media_url(media))}\n</style>\n"
                )
    return "".join(styles.values())


def _note_type_key(note_type: AnkiNoteType) -> str:
    """A short name for an original note type on the page: its id and a hash of its styling."""
    digest = hashlib.blake2b(note_type.css.encode(), digest_size=4).hexdigest()
    return f"{note_type.id}-{digest}"


def _article(preview: PreviewCard, media: Collection[str]) -> str:
    card = preview.card
    tags = _shown_tags(card)
    attributes = {
        "class": "dk-card",
        "data-deck": preview.deck.id,
        "data-card": card.id,
        "data-ordinal": str(preview.ordinal + 1),
        "data-type": card.kind,
        "data-level": card.level or "",
        "data-tags": " ".join(tags),
    }
    if card.note_type is not None:
        attributes["data-note-type"] = _note_type_key(card.note_type)
    opening = "<article " + " ".join(f'{k}="{escape(v)}"' for k, v in attributes.items()) + ">"
    which = f" · {preview.template_name}" if preview.count > 1 else ""
    meta = [
        f'<span class="dk-deck" title="deck">{escape(preview.deck_name)}</span>',
        f'<span class="dk-pill dk-type">{escape(card.kind.replace("_", " "))}</span>',
    ]
    if card.level:
        meta.append(
            f'<span class="dk-pill dk-level dk-level-{escape(card.level)}">'
            f"{escape(card.level)}</span>"
        )
    meta.append(f'<span class="dk-id" title="card id">{escape(card.id)}{escape(which)}</span>')
    if tags:
        meta.append(
            '<ul class="dk-tags">' + "".join(f"<li>{escape(t)}</li>" for t in tags) + "</ul>"
        )
    css = f"card card{preview.ordinal + 1}"
    return (
        f'{opening}\n<header class="dk-meta">{"".join(meta)}</header>\n'
        f'<section class="dk-side dk-front"><h2>Front</h2><div class="{css}">'
        f'<template class="dk-html">{safe_html(preview.front, media)}</template></div></section>\n'
        f'<section class="dk-side dk-back"><h2>Back</h2><div class="{css}">'
        f'<template class="dk-html">{safe_html(preview.back, media)}</template></div></section>\n'
        "</article>"
    )
