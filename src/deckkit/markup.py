"""Field text is HTML, as in Anki: the few transformations deckkit applies to it.

Authors write HTML, but also plain text such as ``2 < 3 & 5 > 4`` or ``List<T>``. Anki would read
``<T>`` as an unknown tag and drop it, and ``&`` as the start of an entity, so a ``<`` that does not
open a known HTML tag (or comment) and a ``&`` that does not start an entity are escaped on export.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

# Elements Anki's editor and card templates know; '<' before anything else is text.
KNOWN_TAGS = frozenset(
    """a abbr address article aside audio b bdi bdo big blockquote br caption center cite code col
    colgroup dd del details dfn div dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6 header
    hr i img ins kbd label li mark math ol p picture pre q rp rt ruby s samp section small source
    span strike strong style sub summary sup svg table tbody td tfoot th thead tr track tt u ul var
    video wbr input script iframe object embed button select option textarea form canvas""".split()
)

_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])")
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);")


def escape_bare_markup(text: str) -> str:
    """Escape each '<' that does not open a known tag or comment, and each '&' outside an entity."""
    out: list[str] = []
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char == "<":
            if text.startswith("<!--", i) or _opens_known_tag(text, i):
                out.append(char)
            else:
                out.append("&lt;")
        elif char == "&":
            out.append(char if _ENTITY.match(text, i) else "&amp;")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _opens_known_tag(text: str, index: int) -> bool:
    match = _TAG_START.match(text, index)
    return bool(match and match.group(2).lower() in KNOWN_TAGS and ">" in text[index:])


_BLOCK_TAGS = frozenset(
    "p div br li tr h1 h2 h3 h4 h5 h6 blockquote pre ol ul table hr dt dd section".split()
)
_SKIPPED_TAGS = frozenset(["script", "style"])
_MEDIA_TAGS = frozenset(["img", "audio", "video", "source", "svg", "math", "object", "embed"])
_SOUND = re.compile(r"\[sound:[^\]]+\]")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.has_media = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        if tag in _MEDIA_TAGS:
            self.has_media = True
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS and self.skipping:
            self.skipping -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _extract(html_text: str) -> _TextExtractor:
    parser = _TextExtractor()
    parser.feed(escape_bare_markup(html_text))
    parser.close()
    return parser


def to_plain_text(html_text: str) -> str:
    """Readable plain text: tags removed, entities decoded, one line per block, spaces collapsed."""
    text = _SOUND.sub("", "".join(_extract(html_text).parts))
    text = unescape(text).replace("\u00a0", " ")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def is_blank(html_text: str) -> bool:
    """True when a field shows nothing: no text after trimming and removing tags, and no media."""
    extractor = _extract(html_text)
    if extractor.has_media or _SOUND.search(html_text):
        return False
    return not unescape("".join(extractor.parts)).replace("\u00a0", " ").strip()
