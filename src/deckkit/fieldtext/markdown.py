"""Field text written in Markdown (``markdown: true``), rendered to the HTML Anki stores.

The rendering is comrak's CommonMark with GitHub's tables and strikethrough
(https://github.com/kivikakk/comrak, through its Python bindings), never a parser of deckkit's
own. comrak also reads the maths, so ``$…$`` and ``$$…$$`` keep their content from Markdown
(``$a_1*b_2$`` is no emphasis; a ``$`` beside a digit or a space is a dollar sign: ``$5 or $6``).
What deckkit adds works on comrak's own output, whose forms its documentation fixes:

- Maths (``<span data-math-style="inline|display">``) becomes Anki's MathJax, ``\\(…\\)`` and
  ``\\[…\\]``.
- A fenced code block naming a language Pygments knows (``<pre><code class="language-x">``) is
  highlighted with CSS classes; the CSS (:data:`MARKDOWN_CSS`, light and night mode) goes into the
  note types of Markdown decks only.
- Raw HTML is kept, with the rule of HTML fields: a ``<`` that opens no known tag is text
  (:func:`deckkit.fieldtext.markup.escape_bare_markup`), so ``List<T>`` shows as written. A link
  to a ``javascript:`` (``vbscript:``, ``data:``, ``file:``) address gets none: it cannot run.
- A field that is one paragraph is its inline HTML, without ``<p>``: a card's front shows
  ``<strong>git add</strong>`` as an HTML field would, without a paragraph's margins.
- ``[sound:…]`` is kept whole: the characters of its name that Markdown could read as markup
  (``*``, ``~``, ``$``, a backquote, ``\\``, ``<`` and a ``_`` not between two letters or
  digits) are written as character references before rendering, so ``[sound:_intro_.mp3]`` gets
  no emphasis; Markdown turns them back into the characters, and in raw HTML they stay
  references, which Anki decodes (as deckkit's media rules do: :mod:`deckkit.fieldtext.media`).
  In code, where Markdown shows text as written, such a name shows its references.

Line breaks follow Markdown: a blank line starts a paragraph, a line ending in ``\\`` or two
spaces breaks the line (``<br />``), other line breaks stay line breaks in the HTML, which a card
shows as spaces (not HTML fields' ``<br>`` rule). Cloze deletions are plain text to Markdown, so
``{{c1::**bold**::hint}}`` keeps its braces around the rendered ``<strong>``; media references
(``![](media/x.png)`` becomes ``<img src=…>``) are rewritten and packed afterwards from the HTML,
as in HTML fields.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from html import unescape
from typing import Any

import comrak
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
# A URL a link may not have: one that runs a script or opens what is not a page.
_UNSAFE_URL = re.compile(r"^[\x00-\x20]*(?:javascript|vbscript|data|file):", re.IGNORECASE)


def _safe_link(url: str) -> str:
    return "" if _UNSAFE_URL.match(url) else url


def _extensions() -> comrak.ExtensionOptions:
    extensions = comrak.ExtensionOptions()
    extensions.table = True
    extensions.strikethrough = True
    extensions.math_dollars = True
    extensions.link_url_rewriter = _safe_link
    return extensions


_EXTENSIONS = _extensions()
_RENDER = comrak.RenderOptions()
_RENDER.unsafe_ = True  # raw HTML is the author's, as in HTML fields; comrak would drop it

# comrak's output forms (its HTML renderer): maths, and a fenced code block with a language.
_MATH = re.compile(r'<span data-math-style="(inline|display)">(.*?)</span>', re.DOTALL)
_CODE = re.compile(r'<pre><code class="language-([^"]+)">(.*?)</code></pre>', re.DOTALL)
_SOUND = re.compile(r"\[sound:[^\]]+\]")
# A character of a sound's name that Markdown may read as markup: an '_' between two letters or
# digits never is (CommonMark's intraword rule), and file names are full of those.
_MAY_BE_MARKUP_IN_A_NAME = re.compile(r"[\\`*~$<]|_(?![^\W_])|(?<![^\W_])_")


def _mathjax(match: re.Match[str]) -> str:
    body = match.group(2).strip()
    return f"\\({body}\\)" if match.group(1) == "inline" else f"\\[{body}\\]"


def _highlighted(match: re.Match[str]) -> str:
    lexer = _lexer(match.group(1).lower())
    if lexer is None:
        return match.group(0)
    return str(highlight(unescape(match.group(2)), lexer, _FORMATTER)).removesuffix("\n")


def _escaped_sound(match: re.Match[str]) -> str:
    name = match.group(0)[len("[sound:") : -1]
    return "[sound:" + _MAY_BE_MARKUP_IN_A_NAME.sub(_reference, name) + "]"


def _reference(match: re.Match[str]) -> str:
    return f"&#{ord(match.group(0))};"


@lru_cache(maxsize=4096)
def markdown_html(text: str, *, highlighted: bool = True) -> str:
    """A Markdown field's text as the HTML every output shows (the rules of the module's doc).

    Not ``highlighted``: code blocks as comrak writes them, which is all the checks need (the
    highlighter adds only classed ``<span>``s), at a third of the cost of a deck of code."""
    if "[sound:" in text:
        text = _SOUND.sub(_escaped_sound, text)
    html = comrak.render_markdown(text, extension_options=_EXTENSIONS, render_options=_RENDER)
    if "data-math-style" in html:
        html = _MATH.sub(_mathjax, html)
    if highlighted and '<pre><code class="language-' in html:
        html = _CODE.sub(_highlighted, html)
    html = escape_bare_markup(html).removesuffix("\n")
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[len("<p>") : -len("</p>")]
    return html


MARKDOWN_KEY = "markdown"


def uses_markdown(keys: Any, *, project_default: bool) -> bool:
    """Whether the text of a deck or card (its ``keys``) is Markdown: its own ``markdown`` key,
    else the default of what holds it (the project's for a deck, the deck's for a card)."""
    given = keys.get(MARKDOWN_KEY) if isinstance(keys, dict) else None
    return given if isinstance(given, bool) else project_default


def with_markdown_css(note_type: NoteType) -> NoteType:
    """``note_type`` styled for Markdown fields too: its CSS followed by :data:`MARKDOWN_CSS`."""
    return replace(note_type, css=note_type.style + MARKDOWN_CSS)
