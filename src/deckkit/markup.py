"""Field text is HTML, as in Anki: the few transformations deckkit applies to it.

Authors write HTML, but also plain text such as ``2 < 3 & 5 > 4`` or ``List<T>``. Anki would read
``<T>`` as an unknown tag and drop it, and ``&`` as the start of an entity, so a ``<`` that does not
open a known HTML tag (or comment) and a ``&`` that does not start an entity are escaped on export.
"""

from __future__ import annotations

import re
from html import unescape

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

_ENTITY_BODY = r"(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);"
ENTITY = re.compile("&" + _ENTITY_BODY)  # an HTML entity: named, decimal or hex


# A '<' is markup when it opens a comment, or a known tag whose '>' follows; otherwise text.
_BARE_LT = re.compile(
    r"<(?!!--)(?!/?(?:"
    + "|".join(sorted(KNOWN_TAGS, key=len, reverse=True))
    + r")(?=[\s/>])[^>]*>)",
    re.IGNORECASE,
)
_BARE_AMP = re.compile("&(?!" + _ENTITY_BODY + ")")


def escape_bare_markup(text: str) -> str:
    """Escape each '<' that does not open a known tag or comment, and each '&' outside an entity."""
    if "&" in text:
        text = _BARE_AMP.sub("&amp;", text)
    if "<" in text:
        text = _BARE_LT.sub("&lt;", text)
    return text


_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|li|tr|h[1-6]|blockquote|pre|ol|ul|table|hr|dt|dd|section)\b[^>]*>", re.I
)
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|\Z)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_ANY_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_MEDIA_TAG = re.compile(r"<(?:img|audio|video|source|svg|math|object|embed)\b", re.I)
_SOUND = re.compile(r"\[sound:[^\]]+\]")


def _text_only(html_text: str) -> str:
    """The text a field shows: comments, scripts, styles and tags removed, entities decoded."""
    text = _SCRIPT_OR_STYLE.sub("", _COMMENT.sub("", escape_bare_markup(html_text)))
    text = _ANY_TAG.sub("", _BLOCK_TAG.sub("\n", text))
    return unescape(_SOUND.sub("", text)).replace("\u00a0", " ")


def to_plain_text(html_text: str) -> str:
    """Readable plain text: tags removed, entities decoded, one line per block, spaces collapsed.

    Tabs are kept (the Quizlet export chooses its separators by them); other runs of
    whitespace become one space.
    """
    if "<" in html_text or "&" in html_text or "[sound:" in html_text:
        html_text = _text_only(html_text)
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
    if _MEDIA_TAG.search(html_text) or _SOUND.search(html_text):
        return False
    return not _text_only(html_text).strip()
