"""HTML character references (``&amp;``, ``&#233;``, ``&#xE9;``) as Anki reads them in fields.

A reference is ``&``, a name or ``#`` and decimal digits or ``#x`` and hex digits, and ``;``.
Anki decodes field text with the htmlescape crate (``decode_entities`` in
https://github.com/ankitects/anki/blob/main/rslib/src/text.rs), which wants the ``;``: ``&copy``
without one is text, and so is a bare ``&``. A decoded no-break space becomes a plain space
there, as Anki's media check reads file names that way.

Its own module because both the HTML rules (:mod:`deckkit.fieldtext.markup`) and the media
references (:mod:`deckkit.fieldtext.media`) read it, and the markup rules need the media ones.
"""

from __future__ import annotations

import re
from html import unescape

ENTITY_BODY = r"(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);"
ENTITY = re.compile("&" + ENTITY_BODY)  # an HTML entity: named, decimal or hex


def decode_entities(text: str) -> str:
    """``text`` with each character reference decoded and no-break spaces made plain spaces."""
    if "&" not in text:
        return text
    # html.unescape alone would also decode '&copy' without its ';', which Anki keeps as text.
    return ENTITY.sub(lambda match: unescape(match.group()), text).replace("\xa0", " ")
