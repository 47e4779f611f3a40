"""Preview: every Anki card of the sources on one static HTML page, rendered as Anki renders it.

Each card's front and back come from the note type it is exported with (templates and CSS from
:mod:`deckkit.notetypes`: deckkit's own, or the original note type an imported card kept, whose
CSS applies to its cards only), filled in by a small renderer of Anki's template features, which
reproduces the markup of Anki's own renderer (``rslib/src/template.rs``, ``cloze.rs``,
``template_filters.rs``; https://docs.ankiweb.net/templates/fields.html):

- ``{{Field}}``, ``{{#Field}}…{{/Field}}``, ``{{^Field}}…{{/Field}}`` (a field holding only
  whitespace, ``<br>`` or ``<div>`` tags counts as empty) and ``{{FrontSide}}``.
- ``{{cloze:Text}}``: deletions ``{{c1::answer}}``, ``{{c1::answer::hint}}``, nested deletions and
  ``{{c1,2::…}}``, as ``<span class="cloze" data-cloze="…" data-ordinal="1">[...]</span>`` on the
  front and ``<span class="cloze" data-ordinal="1">answer</span>`` on the back, other numbers as
  ``cloze-inactive``; HTML inside MathJax delimiters is stripped as Anki does. A card whose number
  has no deletion shows Anki's "No cloze found" message.
- ``{{hint:Field}}``: Anki's "Hint" link that reveals the field (ids are unique per card here).
- ``{{type:Field}}``: where Anki's renderer leaves ``[[type:Field]]`` for the reviewer, the front
  gets the input box and the back the comparison area, which compares what was typed on the front
  the way Anki's reviewer does (green right, red wrong, grey missed).
- ``[sound:name]`` becomes an ``<audio controls>`` element; images and players load the copies
  of the media under their packed names, written ``media/<name>``.
- Anki's special fields ``{{Tags}}``, ``{{Type}}``, ``{{Deck}}``, ``{{Subdeck}}``, ``{{Card}}`` and
  ``{{CardFlag}}`` (empty); other filters (furigana, TTS, add-ons') leave the text as it is.

Which cards a note makes is what the ``.apkg`` holds (``Deck.card_ordinals``: reversed 2, cloze
one per deletion number, shared and nested deletions included).

The package: ``templates`` (Anki's template language), ``cards`` (each Anki card's two sides),
``sanitise`` (what of a side's HTML the page may show), ``html_tokens`` and ``css`` (how a browser
reads them), ``data`` (the cards as the page's data: an index to search and filter, the sides in
chunks), ``page`` (the HTML page and its Content-Security-Policy), and here ``write_preview``
(validate, render, write atomically).

The page opens as fast at any size: its script builds only the cards of one page of results
(100 at a time, with Previous and Next), from data it reads when they are shown.

Shared decks are untrusted: the page runs none of their code and fetches nothing from the network.
Each side's HTML is rebuilt from an allow-list (no script, no ``on*`` handler, no ``javascript:``
link, no frame or plug-in, media only from the page's own folder, ``<style>`` scoped to its side),
and the page's Content-Security-Policy allows only deckkit's own two scripts and no fetch from
elsewhere (:mod:`deckkit.preview.sanitise` says why this and not sandboxed frames). Each side is
inserted into the page from an inert ``<template>``. Where Anki would run a script, the preview
marks its place. Not reproduced: MathJax and LaTeX typesetting (shown as written), text-to-speech,
inline SVG and MathML (marked), links (they keep their text and show their address).
"""

from __future__ import annotations

import filecmp
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deckkit.atomic import prepare_output_dir, replace_text, write_atomically
from deckkit.errors import OutputFolderError
from deckkit.model import deck_from_source
from deckkit.preview.cards import PreviewCard, preview_cards, render_card
from deckkit.preview.page import GENERATOR, page_html
from deckkit.preview.sanitise import MEDIA_DIR
from deckkit.preview.templates import render_template, reveal_cloze_text
from deckkit.problems import Problem
from deckkit.sources.declared import is_note_type_file
from deckkit.sources.validation import ValidationResult, validate

PAGE_NAME = "index.html"


@dataclass(frozen=True)
class PreviewResult:
    """What a preview did: problems (then nothing was written) or the page it wrote."""

    problems: tuple[Problem, ...]
    page: Path | None = None
    decks: int = 0
    cards: int = 0

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def write_preview(
    paths: Sequence[Path] = (),
    output_dir: Path = Path("build/preview"),
    *,
    strict: bool = False,
    markdown: bool = False,
) -> PreviewResult:
    """Validate the sources, then write ``output_dir/index.html`` and the media beside it.

    Nothing is written when a source has errors (they are returned). Raises
    :class:`~deckkit.errors.UsageError` for paths that name no sources and
    :class:`~deckkit.errors.OutputFolderError` for an output folder that cannot be used.
    """
    validation: ValidationResult = validate(paths, strict=strict, markdown=markdown)
    if not validation.ok:
        return PreviewResult(validation.problems)
    decks = [
        deck_from_source(source)
        for source in validation.sources
        if not is_note_type_file(source.data)  # read by the decks naming it; no cards of its own
    ]
    cards = [card for deck in decks for card in preview_cards(deck)]
    html = page_html(decks, cards)
    page = output_dir / PAGE_NAME
    prepare_output_dir(output_dir)
    _refuse_foreign_page(page)
    media_dir = output_dir / MEDIA_DIR
    media_dir.mkdir(exist_ok=True)
    for media in {m.packed_name: m for deck in decks for m in deck.media}.values():
        _copy_media(media.source, media_dir / media.packed_name)
    replace_text(page, html)
    return PreviewResult(validation.problems, page, len(decks), len(cards))


def _refuse_foreign_page(page: Path) -> None:
    """Never overwrite an index.html that an earlier preview did not write."""
    if not page.exists():
        return
    try:
        head = page.read_text("utf-8", errors="replace")[:2000]
    except OSError as error:
        raise OutputFolderError(f"cannot read {page}: {error.strerror}") from error
    if f'content="{GENERATOR}"' not in head:
        raise OutputFolderError(f"{page} exists and was not written by deckkit preview")


def _copy_media(source: Path, target: Path) -> None:
    # A file already there with the same content is left alone (most names carry a hash of the
    # content, but template media and decks kept as Anki had them keep their own names).
    if (
        target.is_file()
        and target.stat().st_size == source.stat().st_size
        and filecmp.cmp(target, source, shallow=False)
    ):
        return
    write_atomically(target, lambda temp: shutil.copyfile(source, temp))


__all__ = [
    "PreviewCard",
    "PreviewResult",
    "page_html",
    "preview_cards",
    "render_card",
    "render_template",
    "reveal_cloze_text",
    "write_preview",
]
