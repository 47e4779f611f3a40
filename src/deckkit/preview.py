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
- ``[sound:name]`` becomes an ``<audio controls>`` element; images keep their ``src``, resolved by
  the page's ``<base href="media/">`` against copies of the media under their packed names.
- Anki's special fields ``{{Tags}}``, ``{{Type}}``, ``{{Deck}}``, ``{{Subdeck}}``, ``{{Card}}`` and
  ``{{CardFlag}}`` (empty); other filters (furigana, TTS, add-ons') leave the text as it is.

Which cards a note makes is what the ``.apkg`` holds (``notetypes.anki_ordinals``: reversed 2,
cloze one per deletion number, shared and nested deletions included), so the same function is asked
here.

Each side is inserted into the page from an inert ``<template>``, so that a field's unclosed or
stray tag cannot spill into the next card; its ``<script>`` elements are marked, not run (shared
decks are untrusted; Anki would run them). Not reproduced: MathJax and LaTeX typesetting (shown as
written) and text-to-speech.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape, unescape
from importlib import resources
from pathlib import Path

from deckkit.atomic import prepare_output_dir, replace_text
from deckkit.cardtypes import LEVELS
from deckkit.errors import OutputFolderError
from deckkit.fieldtext.cloze import Deletion, cloze_numbers, parse_clozes
from deckkit.fieldtext.media import MediaReference, replace_sound_tags, without_sound_tags
from deckkit.model import Card, Deck, deck_from_source
from deckkit.notetypes import CSS, AnkiNoteType, card_fields, note_type_for
from deckkit.notetypes import anki_ordinals as note_ordinals
from deckkit.problems import Problem
from deckkit.sources.validation import ValidationResult, validate

PAGE_NAME = "index.html"
MEDIA_DIR = "media"
GENERATOR = "deckkit preview"

# --- Anki's template language ------------------------------------------------------------------

_TEMPLATE_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# A field Anki treats as empty for {{#Field}} / {{^Field}}.
_EMPTY_FIELD = re.compile(r"(?:[ \t\n\r\f\v]|</?(?:br|div) ?/?>)*\Z", re.IGNORECASE)


@dataclass(frozen=True)
class _Section:
    name: str
    negated: bool
    body: tuple[_Node, ...]


@dataclass(frozen=True)
class _Replacement:
    field: str
    filters: tuple[str, ...]  # in the order written: {{a:b:Field}} → ("a", "b")


_Node = str | _Section | _Replacement


@lru_cache(maxsize=64)
def _parse_template(template: str) -> tuple[_Node, ...]:
    nodes, rest = _parse_nodes(_template_tokens(template), None)
    if rest:
        raise ValueError(f"unbalanced section in template {template!r}")
    return nodes


def _template_tokens(template: str) -> list[str | tuple[str, str]]:
    tokens: list[str | tuple[str, str]] = []
    position = 0
    for match in _TEMPLATE_TAG.finditer(template):
        if match.start() > position:
            tokens.append(template[position : match.start()])
        tokens.append(("tag", match.group(1).strip()))
        position = match.end()
    if position < len(template):
        tokens.append(template[position:])
    return tokens


def _parse_nodes(
    tokens: list[str | tuple[str, str]], closing: str | None
) -> tuple[tuple[_Node, ...], list[str | tuple[str, str]]]:
    nodes: list[_Node] = []
    while tokens:
        token = tokens.pop(0)
        if isinstance(token, str):
            nodes.append(token)
            continue
        tag = token[1]
        if tag[:1] in "#^":
            name = tag[1:].strip()
            body, tokens = _parse_nodes(tokens, name)
            nodes.append(_Section(name, tag[0] == "^", body))
        elif tag[:1] == "/":
            if tag[1:].strip() != closing:
                raise ValueError(f"unexpected {{{{{tag}}}}} in template")
            return tuple(nodes), tokens
        else:
            *filters, field_name = (part.strip() for part in tag.split(":"))
            nodes.append(_Replacement(field_name, tuple(filters)))
    if closing is not None:
        raise ValueError(f"{{{{#{closing}}}}} is never closed in template")
    return tuple(nodes), []


@dataclass(frozen=True)
class _Context:
    fields: Mapping[str, str]
    card_ord: int  # Anki's 0-based card ordinal; a cloze card's deletion number minus one
    front_side: str | None  # the rendered front when rendering a back
    id_salt: str

    @property
    def question(self) -> bool:
        return self.front_side is None


def render_template(
    template: str,
    fields: Mapping[str, str],
    *,
    card_ord: int = 0,
    front_side: str | None = None,
    id_salt: str = "",
) -> str:
    """One side of a card: ``front_side`` is None for the front, the rendered front for the back.

    Sound tags are left as written; :func:`render_card` turns them into players.
    """
    context = _Context(fields, card_ord, front_side, id_salt)
    return _render_nodes(_parse_template(template), context)


def _render_nodes(nodes: Sequence[_Node], context: _Context) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Section):
            empty = _EMPTY_FIELD.match(_field(node.name, context)) is not None
            if empty == node.negated:
                out.append(_render_nodes(node.body, context))
        else:
            out.append(_replacement(node, context))
    return "".join(out)


def _field(name: str, context: _Context) -> str:
    if name == "FrontSide":
        return context.front_side or ""
    if name not in context.fields:
        # What Anki shows for a field the note type lacks (an imported note type's template).
        return f"{{unknown field {escape(name)}}}"
    return context.fields[name]


def _replacement(node: _Replacement, context: _Context) -> str:
    text = _field(node.field, context)
    # Anki applies filters right to left: {{text:cloze:Text}} reveals the clozes first.
    for name in reversed(node.filters):
        if name == "cloze":
            text = _strip_html_inside_mathjax(
                reveal_cloze_text(text, context.card_ord + 1, question=context.question)
            )
        elif name == "hint":
            text = _hint(text, node.field, context.id_salt)
        elif name == "type":
            text = _type_in(text, node.field, question=context.question)
        elif name == "text":
            text = strip_html(text)
        # Other filters (add-ons', furigana, TTS) leave the text as it is, as in Anki without them.
    return text


def _hint(text: str, field_name: str, salt: str) -> str:
    """Anki's hint link; the id also hashes the card so that equal hints on one page differ."""
    if not text.strip():
        return text
    digest = hashlib.blake2b(f"{salt}\0{text}\0{field_name}".encode(), digest_size=8).hexdigest()
    return (
        '\n<a class=hint href="#"\n'
        "onclick=\"this.style.display='none';\n"
        f"document.getElementById('hint{digest}').style.display='block';\n"
        f'return false;" draggable=false>\n{field_name}</a>\n'
        f'<div id="hint{digest}" class=hint style="display: none">{text}</div>\n'
    )


def _type_in(text: str, field_name: str, *, question: bool) -> str:
    """The type-in box (front) or the comparison area (back) where Anki leaves [[type:Field]]."""
    name = escape(field_name, quote=True)
    if question:
        return (
            f'<input type="text" id="typeans" class="deckkit-typein" data-field="{name}" '
            'placeholder="Type the answer" autocomplete="off" spellcheck="false">'
        )
    expected = _expected_answer(text)
    # With nothing typed, Anki's comparison shows the expected answer alone.
    return (
        f'<div class="deckkit-typeans" data-field="{name}" data-expected="{escape(expected)}">'
        f"<code id=typeans>{escape(expected, quote=False)}</code></div>"
    )


def _expected_answer(field_text: str) -> str:
    """The answer a typed one is compared with: the field without sounds, tags or entities."""
    return strip_html(without_sound_tags(field_text)).replace("\xa0", " ").strip()


# --- Cloze deletions (as rslib/src/cloze.rs parses and reveals them) --------------------------

_MATHJAX = re.compile(r"(\\[(\[])(.*?)(\\[)\]])", re.DOTALL | re.IGNORECASE)
_HTML = re.compile(
    r"<!--.*?-->|<style.*?>.*?</style>|<script.*?>.*?</script>|<.*?>", re.DOTALL | re.IGNORECASE
)
NO_CLOZE = (
    "<div>No cloze \u2068{number}\u2069 found on card.\n"
    "Please either add a cloze deletion, or use the Empty Cards tool.<br>"
    "<a href='https://docs.ankiweb.net/templates/errors.html"
    "#no-cloze-filter-on-cloze-note-type'>More information</a></div>"
)


def reveal_cloze_text(text: str, number: int, *, question: bool) -> str:
    """A cloze field for the card of deletion ``number``; empty when it has no such deletion."""
    out: list[str] = []
    found = [False]
    for node in parse_clozes(text):
        if isinstance(node, str):
            out.append(node)
        else:
            _reveal(node, number, question, found, out)
    return "".join(out) if found[0] else ""


def _reveal(
    cloze: Deletion, number: int, question: bool, found: list[bool], out: list[str]
) -> None:
    active = number in cloze.ordinals
    found[0] = found[0] or active
    ordinals = ",".join(str(n) for n in cloze.ordinals)
    inner: list[str] = []
    for node in cloze.nodes:
        if isinstance(node, str):
            inner.append(node)
        else:
            _reveal(node, number, question, found, inner)
    if active and question:
        hint = "..." if cloze.hint is None else cloze.hint
        out.append(
            f'<span class="cloze" data-cloze="{encode_attribute("".join(inner))}" '
            f'data-ordinal="{ordinals}">[{hint}]</span>'
        )
    else:
        css = "cloze" if active else "cloze-inactive"
        out.append(f'<span class="{css}" data-ordinal="{ordinals}">{"".join(inner)}</span>')


def encode_attribute(text: str) -> str:
    """Escape text for an attribute the way Anki's data-cloze is: Latin-1 punctuation as hex."""
    named = {'"': "&quot;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
    out = []
    for char in text:
        code = ord(char)
        if code < 256 and (code > 127 or not (char.isascii() and char.isalnum())):
            out.append(named.get(char) or f"&#x{code:X};")
        else:
            out.append(char)
    return "".join(out)


def strip_html(text: str) -> str:
    """Text without tags, comments, styles or scripts, entities decoded."""
    return unescape(_HTML.sub("", text))


def _strip_html_inside_mathjax(text: str) -> str:
    return _MATHJAX.sub(lambda m: m.group(1) + _HTML.sub("", m.group(2)) + m.group(3), text)


# --- Cards ---------------------------------------------------------------------------------------


def sounds_to_players(html: str) -> str:
    """Replace each ``[sound:name]`` with an audio player (loaded only when played)."""

    def player(sound: MediaReference) -> str:
        return f'<audio controls preload="none" src="{escape(sound.name, quote=True)}"></audio>'

    return replace_sound_tags(html, player)


def anki_ordinals(card: Card) -> tuple[int, ...]:
    """The ordinals of the Anki cards the exported note makes, as Anki numbers them (from 0)."""
    return tuple(
        note_ordinals(
            note_type_for(card.type, card.note_type), card_fields(card.content, card.note_type)
        )
    )


def render_card(card: Card, card_ord: int, deck_name: str = "") -> tuple[str, str]:
    """The front and back HTML of one Anki card as Anki renders it (type-in, sounds playable)."""
    note_type = note_type_for(card.type, card.note_type)
    fields = dict(zip(note_type.fields, card_fields(card.content, card.note_type), strict=True))
    if note_type.is_cloze:
        template = note_type.templates[0]
        if card_ord + 1 not in set().union(*(cloze_numbers(v) for v in fields.values())):
            message = NO_CLOZE.format(number=card_ord + 1)
            return message, message
    else:
        template = note_type.templates[card_ord]
    # The special fields Anki offers every template (an imported note type's may use them).
    special = {
        "Tags": " ".join(sorted(card.tags, key=str.casefold)),  # Anki sorts a note's tags
        "Type": note_type.name,
        "Deck": deck_name,
        "Subdeck": deck_name.split("::")[-1],
        "Card": template[0],
        "CardFlag": "",
    }
    fields = {**special, **fields}
    _, front_template, back_template = template
    salt = f"{card.guid}:{card_ord}"
    front = render_template(front_template, fields, card_ord=card_ord, id_salt=f"{salt}:q")
    # {{FrontSide}} repeats the front on the back: rendered again so its hint ids differ.
    front_again = render_template(front_template, fields, card_ord=card_ord, id_salt=f"{salt}:a")
    back = render_template(
        back_template,
        fields,
        card_ord=card_ord,
        front_side=sounds_to_players(front_again),
        id_salt=f"{salt}:a",
    )
    return sounds_to_players(front), sounds_to_players(back)


@dataclass(frozen=True)
class PreviewCard:
    """One Anki card as the preview shows it."""

    deck: Deck
    card: Card
    ordinal: int  # Anki's card ordinal, from 0
    count: int  # how many Anki cards the note makes
    front: str
    back: str

    @property
    def template_name(self) -> str:
        """Anki's name for the card: "Card 2", or "Cloze 2" for a cloze deletion."""
        if note_type_for(self.card.type, self.card.note_type).is_cloze:
            return f"Cloze {self.ordinal + 1}"
        return note_type_for(self.card.type, self.card.note_type).templates[self.ordinal][0]


def preview_cards(deck: Deck) -> list[PreviewCard]:
    """Every Anki card of a deck, in source order, with its front and back."""
    cards = []
    for card in deck.cards:
        ordinals = anki_ordinals(card)
        for card_ord in ordinals:
            front, back = render_card(card, card_ord, deck.name)
            cards.append(PreviewCard(deck, card, card_ord, len(ordinals), front, back))
    return cards


# --- The page ------------------------------------------------------------------------------------


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


def page_html(decks: Sequence[Deck]) -> str:
    """The whole preview page: a filterable grid of every card's front and back."""
    cards = [c for deck in decks for c in preview_cards(deck)]
    tags = sorted({t for c in cards for t in _shown_tags(c.card)}, key=str.casefold)
    levels = [lv for lv in LEVELS if any(c.card.level == lv for c in cards)]
    levels += sorted({c.card.level for c in cards if c.card.level and c.card.level not in LEVELS})
    types = list(dict.fromkeys(c.card.type for c in cards))
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
    articles = "\n".join(_article(c) for c in cards)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="{GENERATOR}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deckkit preview: {escape(summary)}</title>
<link rel="icon" href="data:,">
<base href="{MEDIA_DIR}/">
<script>{_asset("errors.js")}</script>
<style>
/* deckkit's note type styling, exactly as in the .apkg */
{CSS}
</style>
{_original_styles(decks)}<style>{_asset("preview.css")}</style>
</head>
<body>
<header class="dk-bar">
<h1>deckkit preview <span class="dk-summary">{escape(summary)}</span></h1>
<form class="dk-filters" onsubmit="return false">{filters}</form>
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


def _original_styles(decks: Sequence[Deck]) -> str:
    """Each original note type's CSS, applied only to its own cards (after deckkit's, so that it
    wins where both style the same thing)."""
    styles = {}
    for deck in decks:
        for note_type in deck.note_types:
            if any(card.note_type == note_type for card in deck.cards):
                css = re.sub("</(style)", r"<\\/\1", note_type.css, flags=re.IGNORECASE)
                styles[_note_type_key(note_type)] = (
                    f'<style>\n/* note type "{escape(note_type.name)}", as in the .apkg */\n'
                    f'@scope (.dk-card[data-note-type="{_note_type_key(note_type)}"]) {{\n'
                    f"{css}\n}}\n</style>\n"
                )
    return "".join(styles.values())


def _note_type_key(note_type: AnkiNoteType) -> str:
    """A short name for an original note type on the page: its id and a hash of its styling."""
    digest = hashlib.blake2b(note_type.css.encode(), digest_size=4).hexdigest()
    return f"{note_type.id}-{digest}"


def _article(preview: PreviewCard) -> str:
    card = preview.card
    tags = _shown_tags(card)
    attributes = {
        "class": "dk-card",
        "data-deck": preview.deck.id,
        "data-card": card.id,
        "data-ordinal": str(preview.ordinal + 1),
        "data-type": card.type,
        "data-level": card.level or "",
        "data-tags": " ".join(tags),
    }
    if card.note_type is not None:
        attributes["data-note-type"] = _note_type_key(card.note_type)
    opening = "<article " + " ".join(f'{k}="{escape(v)}"' for k, v in attributes.items()) + ">"
    which = f" · {preview.template_name}" if preview.count > 1 else ""
    meta = [
        f'<span class="dk-deck" title="deck">{escape(preview.deck.name)}</span>',
        f'<span class="dk-pill dk-type">{escape(card.type.replace("_", " "))}</span>',
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
        f'<template class="dk-html">{preview.front}</template></div></section>\n'
        f'<section class="dk-side dk-back"><h2>Back</h2><div class="{css}">'
        f'<template class="dk-html">{preview.back}</template></div></section>\n'
        "</article>"
    )


# --- Writing it ----------------------------------------------------------------------------------


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
    paths: Sequence[Path] = (), output_dir: Path = Path("build/preview"), *, strict: bool = False
) -> PreviewResult:
    """Validate the sources, then write ``output_dir/index.html`` and the media beside it.

    Nothing is written when a source has errors (they are returned). Raises
    :class:`~deckkit.pipeline.UsageError` for paths that name no sources and
    :class:`~deckkit.errors.OutputFolderError` for an output folder that cannot be used.
    """
    validation: ValidationResult = validate(paths, strict=strict)
    if not validation.ok:
        return PreviewResult(validation.problems)
    decks = [deck_from_source(source) for source in validation.sources]
    html = page_html(decks)
    page = output_dir / PAGE_NAME
    prepare_output_dir(output_dir)
    _refuse_foreign_page(page)
    media_dir = output_dir / MEDIA_DIR
    media_dir.mkdir(exist_ok=True)
    for media in {m.packed_name: m for deck in decks for m in deck.media}.values():
        _copy_media(media.source, media_dir / media.packed_name)
    replace_text(page, html)
    cards = html.count('<article class="dk-card"')
    return PreviewResult(validation.problems, page, len(decks), cards)


def _refuse_foreign_page(page: Path) -> None:
    """Never overwrite an index.html that an earlier preview did not write."""
    if not page.exists():
        return
    try:
        head = page.read_text("utf-8", errors="replace")[:2000]
    except OSError as error:
        raise OutputFolderError(f"cannot read {page}: {error.strerror}") from error
    if f'content="{GENERATOR}"' not in head:
        raise OutputFolderError(
            f"{page} exists and was not written by deckkit preview; choose another folder with -o"
        )


def _copy_media(source: Path, target: Path) -> None:
    # Packed names carry a hash of the content: a file already there under that name is the same.
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        shutil.copyfile(source, temp)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


__all__ = [
    "PreviewCard",
    "PreviewResult",
    "anki_ordinals",
    "page_html",
    "preview_cards",
    "render_card",
    "render_template",
    "reveal_cloze_text",
    "write_preview",
]
