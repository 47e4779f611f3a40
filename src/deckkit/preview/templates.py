"""Anki's template language, rendered as Anki's own renderer does (``rslib/src/template.rs``,
``cloze.rs``, ``template_filters.rs``; https://docs.ankiweb.net/templates/fields.html).

``{{Field}}``, ``{{#Field}}…{{/Field}}``, ``{{^Field}}…{{/Field}}`` (a field holding only
whitespace, ``<br>`` or ``<div>`` tags counts as empty), ``{{FrontSide}}``, and the filters
``cloze``, ``hint``, ``type`` and ``text``; other filters (furigana, TTS, add-ons') leave the
text as it is. See the package docstring for what each renders to.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape, unescape

from deckkit.fieldtext.cloze import Deletion, parse_clozes
from deckkit.fieldtext.media import without_sound_tags
from deckkit.notetypes import template_tags

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
    for tag in template_tags(template):
        if tag.start > position:
            tokens.append(template[position : tag.start])
        tokens.append(("tag", tag.inner.strip()))
        position = tag.end
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


# Cloze deletions, as rslib/src/cloze.rs reveals them.

# MathJax's \( \) and \[ \] delimiters (an opening one is closed by either closing one, as in
# Anki's pattern).
_MATHJAX_OPEN = re.compile(r"\\[(\[]")
_MATHJAX_CLOSE = re.compile(r"\\[)\]]")
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
    """HTML removed between MathJax delimiters, as Anki does after revealing clozes.

    Read delimiter by delimiter in linear time: when an opening delimiter has no closing one after
    it, no later one has either (the pattern would read to the end from each of them).
    """
    pieces: list[str] = []
    position = 0
    while (opening := _MATHJAX_OPEN.search(text, position)) is not None:
        closing = _MATHJAX_CLOSE.search(text, opening.end())
        if closing is None:
            break
        body = _HTML.sub("", text[opening.end() : closing.start()])
        pieces += [text[position : opening.end()], body, closing.group()]
        position = closing.end()
    return "".join(pieces) + text[position:]
