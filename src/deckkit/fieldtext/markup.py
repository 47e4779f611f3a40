"""Field text is HTML, as in Anki: the few transformations deckkit applies to it.

Authors write HTML, but also plain text such as ``2 < 3 & 5 > 4`` or ``List<T>``. Anki would read
``<T>`` as an unknown tag and drop it, and ``&`` as the start of an entity, so a ``<`` that does not
open a known HTML tag (or comment) and a ``&`` that does not start an entity are escaped on export.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import unescape

from deckkit.fieldtext.entities import ENTITY as ENTITY  # re-exported: the importer reads it
from deckkit.fieldtext.entities import ENTITY_BODY
from deckkit.fieldtext.media import has_sound_tag, without_sound_tags

# Elements Anki's editor and card templates know; '<' before anything else is text.
KNOWN_TAGS = frozenset(
    """
    a abbr address article aside audio b bdi bdo big blockquote br caption center cite code
    col colgroup dd del details dfn div dl dt em figcaption figure font footer h1 h2 h3 h4
    h5 h6 header hr i img ins kbd label li mark math ol p picture pre q rp rt ruby s samp
    section small source span strike strong style sub summary sup svg table tbody td tfoot
    th thead tr track tt u ul var video wbr input script iframe object embed button select
    option textarea form canvas
    """.split()
)

_Trie = dict[str, "_Trie"]


def _alternation(words: Iterable[str]) -> str:
    """A regex matching exactly ``words``, written as a tree of shared prefixes.

    The same language as ``a|abbr|address|...``, but Python's regex engine then tries one branch
    per letter instead of every word in turn: escaping a large deck twice as fast.
    """
    tree: _Trie = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def pattern(node: _Trie) -> str:
        branches = [re.escape(c) + pattern(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(tree)


# A '<' is markup when it opens a comment, or a known tag whose '>' follows; otherwise text. A
# '>' follows exactly when the '<' comes before the text's last '>', so that is looked up once
# (see escape_bare_markup): asking the pattern to look for it, '[^>]*>', read the rest of the text
# again for each '<' after the last '>' (40,000 '<img ' took seconds).
_BARE_LT_BEFORE_LAST_GT = re.compile(
    r"<(?!!--)(?!/?(?:" + _alternation(KNOWN_TAGS) + r")[\s/>])",
    re.IGNORECASE,
)
_LT_NOT_COMMENT = re.compile("<(?!!--)")
# Case-insensitive as the patterns it guards: they read U+017F as "s" and U+212A as "k".
_TAG_START = re.compile("</?[A-Za-z]", re.IGNORECASE)
_BARE_AMP = re.compile("&(?!" + ENTITY_BODY + ")")


def escape_bare_markup(text: str) -> str:
    """Escape each '<' that does not open a known tag or comment, and each '&' outside an entity."""
    if "&" in text:
        text = _BARE_AMP.sub("&amp;", text)
    if "<" in text:
        # After the last '>', every '<' but a comment's is text: the pattern, which does not look
        # for the '>', must not see a tag's start there ('2 < 3' is no tag's start anywhere).
        end = text.rfind(">") + 1
        if text.find("<", end) < 0 or _TAG_START.search(text, end) is None:  # the usual case
            return _BARE_LT_BEFORE_LAST_GT.sub("&lt;", text)
        text = _BARE_LT_BEFORE_LAST_GT.sub("&lt;", text[:end]) + _LT_NOT_COMMENT.sub(
            "&lt;", text[end:]
        )
    return text


# Elements that lay out lines themselves (and those whose text is no HTML text: scripts, styles):
# a text holding one is the author's HTML, whose line breaks are whitespace as in any HTML file.
_LAYS_OUT_LINES = re.compile(
    r"<(?:br|p|div|pre|li|ul|ol|dl|dt|dd|table|tr|td|th|thead|tbody|tfoot|caption|blockquote"
    r"|h[1-6]|hr|section|article|header|footer|aside|figure|figcaption|details|summary|address"
    r"|center|script|style|textarea|svg|math)(?=[\s/>])",
    re.IGNORECASE,
)
_LINE_BREAK = re.compile("\r\n?|\n")
_TAG_OR_LINE_BREAK = re.compile("(<[^>]*>)|\r\n?|\n")


def line_breaks_as_html(text: str) -> str:
    """Each line break between two lines of ``text`` as ``<br>``, so the card shows it.

    Left as written when the text holds ``<br>`` or an element that lays out lines (``<p>``,
    ``<div>``, ``<li>``, ``<pre>``, ``<table>``…, or a script or style): then its author chose
    where lines break. Line breaks before the first line and after the last are left too: a YAML
    ``|`` block ends with one, and they show nothing.
    """
    if "\n" not in text and "\r" not in text:
        return text
    if "<" in text and _LAYS_OUT_LINES.search(text):
        return text
    start = len(text) - len(text.lstrip("\r\n"))
    end = len(text.rstrip("\r\n"))
    if start >= end:
        return text
    lines = text[start:end]
    if "<" in lines:
        # Not inside a tag ('<img\nsrc=…>'). A tag ends at a '>': none does after the last one,
        # where the line breaks are replaced without looking for tags (looking would read the
        # rest of the text again for each '<' there).
        last_gt = lines.rfind(">") + 1
        lines = _TAG_OR_LINE_BREAK.sub(_kept_tag_or_br, lines[:last_gt]) + _LINE_BREAK.sub(
            "<br>", lines[last_gt:]
        )
    else:
        lines = _LINE_BREAK.sub("<br>", lines)
    return text[:start] + lines + text[end:]


def _kept_tag_or_br(match: re.Match[str]) -> str:
    return match.group(1) or "<br>"


def field_html(text: str) -> str:
    """A field's text as written in a source made the HTML every output shows (one rule for all):
    bare ``<`` and ``&`` escaped (:func:`escape_bare_markup`) and line breaks made ``<br>``
    (:func:`line_breaks_as_html`)."""
    return line_breaks_as_html(escape_bare_markup(text))


def _sub_tags(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    """``pattern.sub`` for a pattern ending at a '>': no match lies after the text's last '>'.

    Searching only up to there keeps it linear: a '<b' after the last '>' would otherwise be read
    to the end of the text, once for each such '<b'.
    """
    end = text.rfind(">") + 1
    if text.find("<", end) < 0 or _TAG_START.search(text, end) is None:
        return pattern.sub(replacement, text)  # no attempt can read past the last '>'

    return pattern.sub(replacement, text[:end]) + text[end:]


_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|li|tr|h[1-6]|blockquote|pre|ol|ul|table|hr|dt|dd|section)\b[^>]*>", re.I
)
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|\Z)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_ANY_TAG = re.compile(r"</?[A-Za-z][^>]*>")
# Elements that show something without any text, so a field holding one is not blank. Not a
# reading of media references (deckkit.fieldtext.media is): an inline <svg> refers to no file.
_MEDIA_TAG = re.compile(r"<(?:img|audio|video|source|svg|math|object|embed)\b", re.I)
# What str.splitlines() splits at, and tabs: text without any is one line (see to_plain_text).
_TAB_OR_LINE_BREAK = re.compile("[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _text_only(html_text: str) -> str:
    """The text a field shows: comments, scripts, styles and tags removed, entities decoded."""
    text = _SCRIPT_OR_STYLE.sub("", _COMMENT.sub("", escape_bare_markup(html_text)))
    text = _sub_tags(_ANY_TAG, "", _sub_tags(_BLOCK_TAG, "\n", text))
    return unescape(without_sound_tags(text)).replace("\u00a0", " ")


def to_plain_text(html_text: str) -> str:
    """Readable plain text: tags removed, entities decoded, one line per block, spaces collapsed.

    Tabs are kept (the Quizlet export chooses its separators by them); other runs of
    whitespace become one space.
    """
    if "<" in html_text or "&" in html_text or "[sound:" in html_text:
        html_text = _text_only(html_text)
    if not _TAB_OR_LINE_BREAK.search(html_text):
        return " ".join(html_text.split())  # one line: the same result, much sooner
    lines = (
        "\t".join(" ".join(part.split()) for part in line.split("\t"))
        for line in html_text.replace("\u00a0", " ").splitlines()
    )
    return "\n".join(line.strip(" ") for line in lines if line.strip())


def is_blank(html_text: str) -> bool:
    """True when a field shows nothing: no text after trimming and removing tags, and no media."""
    if "<" not in html_text and "&" not in html_text and "[" not in html_text:
        return not html_text.replace("\u00a0", " ").strip()
    first = html_text.lstrip()[:1]
    if first and first not in "<&[":
        return False  # it starts with visible text
    if _MEDIA_TAG.search(html_text) or has_sound_tag(html_text):
        return False
    return not _text_only(html_text).strip()


# An opening or closing tag, once bare '<'s are escaped: every '<' left has a '>' after it.
_OPEN_OR_CLOSE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*?(/?)>")
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
# Elements whose end tag HTML lets an author leave out.
_END_TAG_OPTIONAL = frozenset(("p", "li", "td", "tr", "th", "dt", "dd", "option"))


def unclosed_tags(text: str) -> list[str]:
    """The known elements a field opens and never closes, outermost first, as a browser reads it.

    A closing tag closes the innermost element of its name still open and, like a browser, any
    opened inside it; one of a name not open is ignored. Void elements, self-closing tags and
    elements whose end tag is optional are never unclosed.
    """
    stack: list[str] = []
    still_open: dict[str, int] = {}  # name -> how many on the stack: no scan of the stack
    for closing, tag, self_closing in _OPEN_OR_CLOSE.findall(escape_bare_markup(text)):
        name = tag.lower()
        if self_closing or name in _VOID or name not in KNOWN_TAGS:
            continue
        if not closing:
            stack.append(name)
            still_open[name] = still_open.get(name, 0) + 1
        elif still_open.get(name):
            while True:  # each element is pushed once and popped at most once
                inner = stack.pop()
                still_open[inner] -= 1
                if inner == name:
                    break
    return [name for name in stack if name not in _END_TAG_OPTIONAL]
