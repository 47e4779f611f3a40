"""Card HTML made safe to show: rebuilt from an allow-list, so that a deck runs and loads nothing.

Decks come from strangers (``deckkit import``), and a card's HTML is theirs: its fields and, for
a kept note type, its templates. Anki runs their scripts; the preview must not. Each side is
read with a browser's tokenizer (:mod:`deckkit.preview.html_tokens`, in linear time) and written
out again from its tokens, keeping only:

- the elements of formatted text, lists, tables, images, sounds and videos, the type-in box
  (:data:`ELEMENTS`); a ``<script>`` becomes a marker saying where it was, an ``<iframe>``,
  ``<object>``, ``<embed>``, ``<svg>`` or ``<math>`` one saying what was left out (with their
  content); other elements (``<form>``, ``<meta>``, ``<base>``, ``<link>``, ``<template>``,
  ``<button>``, unknown ones) are dropped, their text kept unless it is not shown anyway
  (:data:`DROPPED_WITH_CONTENT`);
- the attributes of :data:`ATTRIBUTES`, ``data-*`` and ``aria-*``: never an ``on*`` handler,
  never ``srcset``, ``action``, ``formaction``, ``background`` or any other that loads or runs
  something; ``id`` and class names starting ``dk-`` are the page's own and are dropped, as is
  ``name`` (``<img name=getElementById>`` would replace ``document.getElementById``);
- ``src`` and ``poster`` only when they name a file of the page's own media folder (the deck's
  media, copied there under their packed names): written ``media/<name>``. Anything else, remote
  (``https:``, ``data:``) or not, is never requested: an image becomes a marker that names it;
- ``href`` only as a link within the page (``#...``); another link keeps its text and shows its
  address as a tooltip, and is not followed;
- a ``<style>`` element's CSS, wrapped in ``@scope { ... }`` so that it styles its own card
  side only (:func:`deckkit.preview.css.scoped_css`), its ``url()`` of a file of the page's own
  media folder written ``media/<name>`` (:func:`media_url`).

Text and attribute values are escaped, every element opened is closed and only elements opened
here are closed: no end tag in the output can close anything outside the side (the
``</template><script>`` trick in a template). What the browser then reads is this output, never
the deck's HTML, so the reading of the original matters only for how much of it is kept.

Why not each side in a sandboxed ``<iframe srcdoc>``: the type-in comparison, the hint links,
night mode, the filters' text search and the kept note types' scoped CSS all work on one page's
DOM, and a frame per side (hundreds of them) is slow to load and cannot size itself to its
content without a script. The page's Content-Security-Policy (:mod:`deckkit.preview.page`) is the
second wall: were anything to slip through here, no handler, script or ``javascript:`` URL would
run and nothing would be fetched from the network.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from html import escape
from urllib.parse import quote, unquote

from deckkit.preview.css import LocalUrl, scoped_css
from deckkit.preview.html_tokens import FOREIGN, StartTag, Text, tokens

MEDIA_DIR = "media"

ELEMENTS = frozenset(
    """a abbr address article aside audio b bdi bdo big blockquote br caption center cite code
    col colgroup dd del details dfn div dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6
    header hr i img input ins kbd label li mark nav ol p pre q rp rt ruby s samp section small
    source span strike strong sub summary sup table tbody td tfoot th thead time tr tt u ul var
    video wbr""".split()
)
VOID = frozenset("br col hr img input source wbr".split())
# Elements left out with everything inside them: what they hold is code, another page, a drawing
# whose markup a browser reads otherwise than HTML (an <svg>'s <style> holds tags), or text that
# is not shown as such.
DROPPED_WITH_CONTENT = frozenset(
    """applet embed frame frameset iframe math noembed noframes noscript object plaintext script
    select svg template textarea title xmp""".split()
)
ATTRIBUTES = frozenset(
    """abbr align alt autocomplete bgcolor border cellpadding cellspacing checked class clear
    color cols colspan controls datetime dir disabled draggable face for headers height hidden id
    lang loop maxlength muted noshade nowrap open placeholder preload readonly rel reversed role
    rows rowspan scope size span spellcheck start style summary title translate type valign value
    width""".split()
)
_DROPPED_VOID = frozenset(("embed", "frame"))
INPUT_TYPES = frozenset(("text", "search", "checkbox", "radio"))
_GENERATED_ATTRIBUTE = re.compile(r"(?:data|aria)-[a-z0-9_.-]+")
_RESERVED = "dk-"  # the page's own ids and classes
_SHOWN = 200  # characters of an address a tooltip quotes

_MARKERS = {
    "script": ("dk-script", "script", "A script: Anki runs it, the preview does not"),
    "iframe": ("dk-blocked", "iframe", "Another page: the preview does not load it"),
    "frame": ("dk-blocked", "frame", "Another page: the preview does not load it"),
    "object": ("dk-blocked", "object", "An embedded object: the preview does not load it"),
    "embed": ("dk-blocked", "embed", "An embedded object: the preview does not load it"),
    "applet": ("dk-blocked", "applet", "An embedded object: the preview does not load it"),
    "svg": ("dk-blocked", "svg", "An inline SVG drawing: the preview does not show it"),
    "math": ("dk-blocked", "math", "MathML: the preview does not show it"),
}
_MEDIA_WORD = {"img": "image", "audio": "sound", "video": "video"}


# `deckkit watch` writes the page again after each save, where nearly every side is as before.
# What a side became is kept with the answers it got about the media folder's names (all that it
# depends on besides its HTML), and reused while they still hold. Two generations of at most
# _KEPT sides each: memory stays bounded, and the sides of the last pages written stay.
_KEPT = 150_000
_kept: dict[str, tuple[str, dict[str, bool]]] = {}
_kept_before: dict[str, tuple[str, dict[str, bool]]] = {}


class _AskedMedia(Collection[str]):
    """The media folder's names, remembering each name asked about and the answer."""

    def __init__(self, media: Collection[str]) -> None:
        self.media = media
        self.answers: dict[str, bool] | None = {}  # None: the whole collection was read

    def __contains__(self, name: object) -> bool:
        present = name in self.media
        if self.answers is not None and isinstance(name, str):
            self.answers[name] = present
        return present

    def __iter__(self) -> Iterator[str]:
        self.answers = None
        return iter(self.media)

    def __len__(self) -> int:
        self.answers = None
        return len(self.media)


def safe_html(html: str, media: Collection[str]) -> str:
    """A card side's HTML with only what cannot run or load anything outside ``media``.

    ``media`` holds the names of the files in the page's media folder.
    """
    global _kept, _kept_before
    kept = _kept.get(html) or _kept_before.get(html)
    if kept is not None and all((name in media) == was for name, was in kept[1].items()):
        _kept[html] = kept
        return kept[0]
    asked = _AskedMedia(media)
    result = _safe_html(html, asked)
    if asked.answers is not None:
        if len(_kept) >= _KEPT:
            _kept, _kept_before = {}, _kept
        _kept[html] = (result, asked.answers)
    return result


def _safe_html(html: str, media: Collection[str]) -> str:
    sanitiser = _Sanitiser(media)
    for token in tokens(html):
        if isinstance(token, Text):
            sanitiser.text(token.text)
        elif isinstance(token, StartTag):
            sanitiser.start(token)
        else:
            sanitiser.end(token.name)
    return sanitiser.result()


def media_url(media: Collection[str]) -> LocalUrl:
    """What the page loads for a URL of a card's CSS that names one of the deck's files (as Anki
    finds them, by name, in its media folder: ``_font.woff2``, ``./_font.woff2``): the page's
    copy, ``media/<name>``; None for anything else."""

    def url(value: str) -> str | None:
        name = unquote(value.strip()).removeprefix("./")
        return f"{MEDIA_DIR}/{quote(name)}" if name in media else None

    return url


def _marker(css_class: str, text: str, title: str) -> str:
    return f'<span class="{css_class}" title="{escape(title)}">{escape(text)}</span>'


def _shorten(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


class _Sanitiser:
    def __init__(self, media: Collection[str]) -> None:
        self.media = media
        self.out: list[str] = []
        self.open: list[str] = []  # elements written and not yet closed, innermost last
        self.opened: dict[str, int] = {}  # how many of each are in self.open
        self.skipping = ""  # a dropped element whose content is being skipped
        self.skip_depth = 0  # how many of it are open inside the first
        self.style: list[str] | None = None  # the text of a <style> being read

    def result(self) -> str:
        self.end_style()
        self.out += (f"</{tag}>" for tag in reversed(self.open))
        self.open = []
        self.opened = {}
        return "".join(self.out)

    def start(self, tag: StartTag) -> None:
        name = tag.name
        if self.skipping:
            self.skip_depth += name == self.skipping and not tag.self_closing
            return
        if self.style is not None:
            return
        if name in _MARKERS:
            self.out.append(_marker(*_MARKERS[name]))
        if name in DROPPED_WITH_CONTENT:
            # '<svg/>' is whole in foreign content; '<script/>' is not ('/' means nothing there).
            if name not in _DROPPED_VOID and not (name in FOREIGN and tag.self_closing):
                self.skipping, self.skip_depth = name, 1
            return
        if name == "style":
            self.style = []
            return
        if name not in ELEMENTS:
            return
        given: dict[str, str] = {}
        for attribute, value in tag.attributes:
            given.setdefault(attribute, value)  # a browser keeps the first of two
        attributes = self.attributes(name, given)
        if attributes is None:
            return
        written = "".join(f' {key}="{escape(value)}"' for key, value in attributes.items())
        self.out.append(f"<{name}{written}>")
        if name not in VOID:  # '<div/>' is '<div>' to a browser: only void elements have no end
            self.open.append(name)
            self.opened[name] = self.opened.get(name, 0) + 1

    def end(self, name: str) -> None:
        if self.skipping:
            if name == self.skipping:
                self.skip_depth -= 1
                if not self.skip_depth:
                    self.skipping = ""
            return
        if name == "style":
            self.end_style()
            return
        if self.style is not None or not self.opened.get(name):
            return
        while self.open:
            closed = self.open.pop()
            self.opened[closed] -= 1
            self.out.append(f"</{closed}>")
            if closed == name:
                return

    def text(self, text: str) -> None:
        if self.skipping:
            return
        if self.style is not None:
            self.style.append(text)
        else:
            self.out.append(escape(text, quote=False))

    def end_style(self) -> None:
        if self.style is not None:
            css = scoped_css("".join(self.style), local_url=media_url(self.media))
            self.out.append(f"<style>{css}</style>")
            self.style = None

    def attributes(self, tag: str, given: dict[str, str]) -> dict[str, str] | None:
        """The attributes written for an element, or None when a marker replaces it."""
        kept = {
            name: value
            for name, value in given.items()
            if name in ATTRIBUTES or _GENERATED_ATTRIBUTE.fullmatch(name)
        }
        if "class" in kept:
            kept["class"] = " ".join(
                c for c in kept["class"].split() if not c.lower().startswith(_RESERVED)
            )
            if not kept["class"]:
                del kept["class"]
        if kept.get("id", "").lower().startswith(_RESERVED):
            del kept["id"]
        if tag == "input" and kept.get("type", "text").lower() not in INPUT_TYPES:
            del kept["type"]
        if tag == "a" and "href" in given:
            href = given["href"].strip()
            if href.startswith("#"):
                kept["href"] = href
            elif href:
                kept.setdefault("title", f"Not followed in the preview: {_shorten(href)}")
        if tag not in ("img", "audio", "video", "source"):
            return kept
        for name in ("src", "poster") if tag == "video" else ("src",):
            if name not in given:
                continue
            value = given[name]
            if value in self.media:
                kept[name] = f"{MEDIA_DIR}/{value}"
            elif name == "src":
                title = (
                    f"Not loaded: the preview shows only the deck's own media ({_shorten(value)})"
                )
                if tag in _MEDIA_WORD:
                    self.out.append(_marker("dk-blocked", _MEDIA_WORD[tag], title))
                if tag in ("img", "source"):
                    return None
        return kept
