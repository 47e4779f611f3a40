"""Field text between deckkit's escaping and what a person reads in a source.

deckkit escapes only the ``<`` and ``&`` that HTML would read as markup
(:func:`deckkit.fieldtext.markup.escape_bare_markup`); an import undoes exactly that, and makes
plain text (Quizlet's) into field text the same way.
"""

from __future__ import annotations

import re

from deckkit.fieldtext.entities import ENTITY_BODY
from deckkit.fieldtext.markup import ENTITY, KNOWN_TAGS, escape_bare_markup

# What deckkit's escape_bare_markup keeps: a known tag's start (after its '<'), a comment, an
# entity (after its '&'). Each is matched where it stands in the text, never on a copy of the rest
# of it: copying the rest once per '<' made a field of many '<b' take quadratic time.
_TAG_NAME = re.compile(r"(/?)([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])")
_ENTITY_BODY = re.compile(ENTITY_BODY)
_ESCAPE = re.compile(r"&(lt|amp);")


def readable_html(text: str) -> str:
    """Undo deckkit's escaping where that is its exact inverse, so `2 &lt; 3` reads `2 < 3`.

    An ``&lt;`` becomes ``<`` when that ``<`` would not open a known tag or comment, and an
    ``&amp;`` becomes ``&`` when it would not start an entity: exactly the characters
    :func:`deckkit.fieldtext.markup.escape_bare_markup` escapes, so a rebuild gives the same
    HTML. A field holding ``&gt;`` was escaped by an editor, not by deckkit, and is kept as it is.
    """
    if ("&lt;" not in text and "&amp;" not in text) or "&gt;" in text:
        return text
    out: list[str] = []
    position = 0
    last_gt = text.rfind(">")
    for match in _ESCAPE.finditer(text):
        out.append(text[position : match.start()])
        after = match.end()
        if match.group(1) == "lt":
            out.append(match.group(0) if _stays_markup(text, after, last_gt) else "<")
        else:
            out.append(match.group(0) if _ENTITY_BODY.match(text, after) else "&")
        position = after
    out.append(text[position:])
    result = "".join(out)
    return result if escape_bare_markup(result) == text else text


def plain_to_html(text: str) -> str:
    """Plain text (Quizlet's) as field text: escape only the `<` and `&` HTML would read as markup.

    The others stay as written (deckkit escapes them on export), so `2 < 3` stays readable while
    `<b>` stays text.
    """
    plain = text.strip()
    if "<" not in plain and "&" not in plain:
        return plain.replace("\n", "<br>")
    last_gt = plain.rfind(">")
    out = []
    for position, char in enumerate(plain):
        if char == "<" and _stays_markup(plain, position + 1, last_gt):
            out.append("&lt;")
        elif char == "&" and ENTITY.match(plain, position):
            out.append("&amp;")
        else:
            out.append(char)
    return "".join(out).replace("\n", "<br>")


def would_stay_markup(text: str) -> bool:
    """Whether a text starting with ``<`` starts a comment or a known tag, which deckkit keeps."""
    return text.startswith("<") and _stays_markup(text, 1, text.rfind(">"))


def _stays_markup(text: str, after_lt: int, last_gt: int) -> bool:
    """Whether a '<' just before ``text[after_lt]`` starts a comment or a known tag with a '>'
    after it (``last_gt``: where the text's last '>' is, -1 for none)."""
    if text.startswith("!--", after_lt):
        return True
    match = _TAG_NAME.match(text, after_lt)
    return bool(match and match.group(2).lower() in KNOWN_TAGS and last_gt >= after_lt)
