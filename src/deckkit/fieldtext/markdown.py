"""Field text written in Markdown (``markdown: true``), rendered to the HTML Anki stores.

The rendering is markdown-it-py's CommonMark with its tables and strikethrough
(https://markdown-it-py.readthedocs.io), never a parser of deckkit's own. On top of it:

- ``$…$`` and ``$$…$$`` (mdit-py-plugins' dollarmath) become Anki's MathJax delimiters ``\\(…\\)``
  and ``\\[…\\]``, their content untouched by Markdown (``$a_1*b_2$`` is no emphasis). A ``$``
  next to a digit or a space is a dollar sign (``$5 and $6``).
- ``[sound:…]`` is kept as written (no emphasis inside a file name).
- Raw HTML is kept, with the rule of HTML fields: a ``<`` that opens no known tag is text
  (:func:`deckkit.fieldtext.markup.escape_bare_markup`), so ``List<T>`` shows as written.
- A fenced code block naming a language Pygments knows is highlighted with CSS classes; the CSS
  (:data:`MARKDOWN_CSS`, light and night mode) goes into the note types of Markdown decks only.
- A field that is one paragraph is its inline HTML, without ``<p>``: a card's front shows
  ``<strong>git add</strong>`` as an HTML field would, without a paragraph's margins.
- Line breaks follow Markdown: a blank line starts a paragraph, a line ending in two spaces or a
  ``\\`` breaks the line (``<br />``), other line breaks are spaces (not HTML fields' ``<br>``
  rule).

Cloze deletions are plain text to Markdown, so ``{{c1::**bold**::hint}}`` keeps its braces around
the rendered ``<strong>``; media references (``![](media/x.png)`` becomes ``<img src=…>``) are
rewritten and packed afterwards from the HTML, as in HTML fields.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from deckkit.fieldtext.markup import escape_bare_markup
from deckkit.notetypes import NoteType

_HIGHLIGHT_CLASS = "highlight"
LIGHT_STYLE = "default"
NIGHT_STYLE = "github-dark"
# The classes Anki puts on the card's <body> in night mode (aqt/theme.py, body_class).
_NIGHT = (".nightMode", ".night_mode")


def _style_defs(style: str, scopes: Sequence[str]) -> str:
    # Background and token rules only: Pygments' line-number rules style every <pre> on the card.
    formatter = HtmlFormatter(style=style)
    selectors = [f"{scope} .{_HIGHLIGHT_CLASS}".strip() for scope in scopes]
    # Ignored: types-Pygments leaves these two untyped; both return a list of CSS rules.
    rules: list[str] = formatter.get_background_style_defs(selectors)  # type: ignore[no-untyped-call]
    rules += formatter.get_token_style_defs(selectors)  # type: ignore[no-untyped-call]
    return "\n".join(rules)


MARKDOWN_CSS = (
    "\n/* deckkit: code blocks of Markdown fields, highlighted by Pygments. */\n"
    + _style_defs(LIGHT_STYLE, [""])
    + "\n"
    + _style_defs(NIGHT_STYLE, _NIGHT)
    + "\n"
)


@lru_cache(maxsize=256)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


_FORMATTER = HtmlFormatter(cssclass=_HIGHLIGHT_CLASS, wrapcode=True)


def _sound_tag(state: StateInline, silent: bool) -> bool:
    """``[sound:name]`` as one piece of text, so that Markdown reads nothing inside it."""
    start = state.pos
    if not state.src.startswith("[sound:", start):
        return False
    end = state.src.find("]", start + len("[sound:") + 1)
    if end < 0:
        return False
    if not silent:
        token = state.push("text", "", 0)
        token.content = state.src[start : end + 1]
    state.pos = end + 1
    return True


def _fence(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    lexer = _lexer(language.lower()) if language else None
    if lexer is None:
        return RendererHTML.fence(self, tokens, idx, options, env)
    return highlight(token.content, lexer, _FORMATTER)


def _raw_html(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return escape_bare_markup(tokens[idx].content)


def _math(opening: str, closing: str, trailer: str = "") -> Any:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return opening + escapeHtml(tokens[idx].content.strip()) + closing + trailer

    return render


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    dollarmath_plugin(
        md,
        allow_labels=False,
        allow_space=False,
        allow_digits=False,
        allow_blank_lines=False,
        double_inline=True,
    )
    md.inline.ruler.before("link", "deckkit_sound", _sound_tag)
    md.add_render_rule("math_inline", _math("\\(", "\\)"))
    md.add_render_rule("math_inline_double", _math("\\[", "\\]"))
    md.add_render_rule("math_block", _math("\\[", "\\]", "\n"))
    md.add_render_rule("fence", _fence)
    md.add_render_rule("html_inline", _raw_html)
    md.add_render_rule("html_block", _raw_html)
    # A line break inside a paragraph is a space, as a browser shows it: written as one, so that
    # the plain-text outputs (Quizlet's) do not read it as the end of a line.
    md.add_render_rule("softbreak", lambda *_: " ")
    return md


_MD = _renderer()


# A character Markdown (or deckkit's rules: maths, sounds) may give a meaning to, anywhere.
_MAY_BE_MARKUP = re.compile(r"[\\`*_\[\]!<>&$~|\n\r\x00]")
# A line's first character that may start a block other than a paragraph: a heading, a list, a
# quote, a fence, a rule, a table, a block of HTML or maths, code (indented), a definition.
_MAY_START_A_BLOCK = frozenset("#-+*>`~_=|<$[0123456789 \t")


@lru_cache(maxsize=4096)
def markdown_html(text: str) -> str:
    """A Markdown field's text as the HTML every output shows (the rules of the module's doc)."""
    one_line = text.removesuffix("\n")  # a YAML block's last line break
    if (
        "\n" not in one_line
        and "\r" not in one_line
        and one_line[:1] not in _MAY_START_A_BLOCK
        and one_line == one_line.strip()  # Python's white space is not all Markdown's
    ):
        # One paragraph (a test checks these shortcuts against the whole parse): plain text is
        # only escaped, and a line's markup needs no block parse. Most fields are one line, and a
        # large deck's build spends most of its time here.
        if not _MAY_BE_MARKUP.search(one_line):
            return one_line.replace('"', "&quot;")
        return str(_MD.renderer.render(_MD.parseInline(one_line), _MD.options, {}))
    tokens = _MD.parse(text)
    if (
        len(tokens) == 3
        and tokens[0].type == "paragraph_open"
        and tokens[1].type == "inline"
        and tokens[2].type == "paragraph_close"
    ):
        tokens = tokens[1:2]
    return str(_MD.renderer.render(tokens, _MD.options, {})).rstrip("\n")


MARKDOWN_KEY = "markdown"


def uses_markdown(keys: Any, *, project_default: bool) -> bool:
    """Whether the text of a deck or card (its ``keys``) is Markdown: its own ``markdown`` key,
    else the default of what holds it (the project's for a deck, the deck's for a card)."""
    given = keys.get(MARKDOWN_KEY) if isinstance(keys, dict) else None
    return given if isinstance(given, bool) else project_default


def with_markdown_css(note_type: NoteType) -> NoteType:
    """``note_type`` styled for Markdown fields too: its CSS followed by :data:`MARKDOWN_CSS`."""
    return replace(note_type, css=note_type.style + MARKDOWN_CSS)
