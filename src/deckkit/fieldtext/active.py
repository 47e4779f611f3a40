"""What in a card's HTML or CSS runs code or reaches the network when the card is shown.

A deck from a stranger may hold both, in its fields and, for a note type that ``deckkit import``
kept, in its templates and CSS. Anki shows a card in a browser engine: it runs the scripts and
fetches what the card refers to by URL, each time the card is shown (telling the deck's author
when and where it is studied). ``deckkit validate`` warns about each (deckkit.sources.html_checks);
the preview runs and fetches nothing at all (deckkit.preview).

What is looked for, read as a browser reads it (attributes one by one, quotes honoured, character
references decoded, tabs and line breaks inside a URL ignored):

- **Scripts**: a ``<script>`` element; an ``on...`` attribute (``onload``, ``ontoggle``: an event
  handler, run when the event happens, whatever the element); a ``javascript:`` (or
  ``vbscript:``) URL in any attribute; an ``<iframe srcdoc>`` (a page of its own, scripts
  included) and a ``data:text/html`` page; in CSS, ``expression(`` and ``javascript:``.
- **Remote resources**: a URL with a network scheme (``https:``, ``http:``, ``ftp:``, ``ws:``...)
  or none at all (``//host/x``) in an attribute that the browser loads by itself: ``src``,
  ``srcset``, ``poster``, ``data``, ``background``, ``href`` of ``<link>``, ``<base>`` and SVG's
  ``<image>``/``<use>``, ``content`` of ``<meta http-equiv=refresh>``...; in CSS (a ``style``
  attribute, a ``<style>`` element, a note type's CSS), ``url(...)``, ``image-set("...")`` and
  ``@import``. The ``src`` and ``data`` of ``<img>``, ``<audio>``, ``<video>``, ``<object>`` and
  ``<source>`` are media references (deckkit.fieldtext.media), reported as such in a field.
- **Break-outs**: ``</template`` in a template and ``</style`` in CSS end the element a page holds
  them in, and what follows is read as the page's own HTML.
- **Local files** (only when asked, for a note type's templates and CSS): a URL without a scheme
  in those same attributes and CSS, which Anki loads from its media folder (``_font.woff2``).

In a field only the elements deckkit keeps count (a ``<`` that opens no known tag is escaped as
text: :func:`deckkit.fieldtext.markup.escape_bare_markup`); a template is not escaped, so all count.
Every scan is linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Literal

from deckkit.fieldtext.markup import KNOWN_TAGS

FindingKind = Literal["script", "remote", "breakout", "local"]


@dataclass(frozen=True)
class Finding:
    """Something in a text that runs, loads or breaks out, where it starts, and what it is."""

    kind: FindingKind
    start: int
    what: str  # e.g. "<script>", "an onload handler", "<iframe src>", "CSS url()"
    url: str = ""  # the URL, for kind "remote" or "local"


# A tag's start; and one attribute of it (or its end), read as a browser reads attributes. A
# quote opens a quoted value only when it is closed, as deckkit's media reader reads them.
_TAG_START = re.compile(r"<([A-Za-z][A-Za-z0-9:-]*)")
_ATTRIBUTE = re.compile(
    r"""[\s/]*(?:
        (?P<end>>)
      | (?P<name>[^\s/>][^\s/>=]*)
        (?:\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+)))?
    )""",
    re.VERBOSE,
)
_STYLE_END = re.compile(r"</style", re.IGNORECASE)
_SCRIPT_END = re.compile(r"</script", re.IGNORECASE)
# Attributes a browser fetches by itself, on any element; and those it fetches on some only.
_LOADING = frozenset(
    "src srcset imagesrcset poster data background lowsrc dynsrc codebase archive xlink:href"
    " manifest".split()
)
_LOADING_HREF = frozenset("link base image use feimage".split())
# The media check's tags: their src and data are media references (reported as check.media-url).
_MEDIA_ELEMENTS = frozenset("img audio video object source".split())
_MEDIA_ATTRIBUTE = re.compile(r"(?:.*\W)?(?:src|data)", re.IGNORECASE | re.DOTALL)
_URL_NOISE = re.compile("[\t\n\r]")  # a browser drops these from anywhere in a URL
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_LOCAL_SCHEMES = frozenset(("data", "file", "about", "blob", "cid", "mid"))
_SCRIPT_SCHEMES = frozenset(("javascript", "vbscript"))
_HTML_DATA = re.compile(r"data:\s*(?:text/html|image/svg\+xml|application/xhtml)", re.IGNORECASE)

# CSS, once its comments are removed and its escapes decoded.
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9A-Fa-f]{1,6})[ \t\n\r\f]?|(.))", re.DOTALL)
_CSS_LOAD = re.compile(
    r"""(?P<function>url|image-set|-webkit-image-set|image|src)\(\s*(?P<quote>["']?)\s*
        (?P<url>[^"')\s]*)
      | @import\s*(?P<import_quote>["'])\s*(?P<import_url>[^"'\s]*)""",
    re.IGNORECASE | re.VERBOSE,
)
_CSS_SCRIPT = re.compile(r"expression\s*\(|javascript:|vbscript:|-moz-binding|behavior\s*:", re.I)


def html_findings(text: str, *, template: bool = False, local: bool = False) -> Iterator[Finding]:
    """The scripts, remote resources (and, in a ``template``, break-outs) of an HTML text; with
    ``local``, the local files it loads too.

    In a field (``template`` False) only the tags deckkit keeps count: known elements with a
    ``>`` after them.
    """
    if template:
        end = text.lower().find("</template")
        if end >= 0:
            yield Finding("breakout", end, "</template>")
    last_gt = text.rfind(">")
    position = 0
    while True:
        tag = _TAG_START.search(text, position, last_gt + 1)
        if tag is None:
            return
        name = tag.group(1).lower()
        if not template and name not in KNOWN_TAGS:
            position = tag.end()
            continue
        cursor = tag.end()
        while True:
            attribute = _ATTRIBUTE.match(text, cursor)
            if attribute is None:  # only at the end of the text: the tag never ends
                return
            cursor = attribute.end()
            if attribute.group("end"):
                break
            yield from _attribute_findings(name, attribute, media_checked=not template, local=local)
        if name == "script":
            yield Finding("script", tag.start(), "<script>")
            closing = _SCRIPT_END.search(text, cursor)
            position = len(text) if closing is None else closing.end()
        elif name == "style":
            closing = _STYLE_END.search(text, cursor)
            stop = len(text) if closing is None else closing.start()
            yield from css_findings(text[cursor:stop], offset=cursor, what="<style>", local=local)
            position = stop
        else:
            position = cursor


def _attribute_findings(
    element: str, attribute: re.Match[str], *, media_checked: bool, local: bool
) -> Iterator[Finding]:
    name = attribute.group("name").lower()
    for group in ("dq", "sq", "bare"):
        if attribute.group(group) is not None:
            value, start = attribute.group(group), attribute.start(group)
            break
    else:
        value, start = "", attribute.start("name")
    if name.startswith("on") and len(name) > 2:
        yield Finding("script", attribute.start("name"), f"an {name} handler")
        return
    url = _url(value)
    scheme = _SCHEME.match(url)
    if scheme and scheme.group(1).lower() in _SCRIPT_SCHEMES:
        yield Finding("script", start, f"a {scheme.group(1).lower()}: URL")
        return
    if name == "srcdoc" or (name in ("src", "data") and _HTML_DATA.match(url)):
        yield Finding("script", attribute.start("name"), f"<{element} {name}>, a page of its own")
        return
    if name == "style":
        yield from css_findings(unescape(value), offset=start, what="style attribute", local=local)
        return
    if media_checked and element in _MEDIA_ELEMENTS and _MEDIA_ATTRIBUTE.fullmatch(name):
        return  # a field's media reference: the media check reports a remote one
    if name == "srcset" or name == "imagesrcset":
        urls = [candidate.split()[0] for candidate in url.split(",") if candidate.split()]
    elif name in _LOADING or (name == "href" and element in _LOADING_HREF):
        urls = [url]
    elif name == "content" and element == "meta":
        urls = [part.split("=", 1)[1].strip() for part in url.split(";") if "=" in part]
    else:
        return
    remote = next((candidate for candidate in urls if is_remote(candidate)), None)
    if remote is not None:
        yield Finding("remote", start, f"<{element} {name}>", remote)
    elif local:
        yield from (Finding("local", start, f"<{element} {name}>", u) for u in urls if is_local(u))


def _url(value: str) -> str:
    """An attribute's value as the URL a browser reads: references decoded, noise removed."""
    if "&" in value:
        value = unescape(value)
    return _URL_NOISE.sub("", value).strip(" \f")


def is_remote(url: str) -> bool:
    """True for a URL a browser fetches from the network: a network scheme, or none (``//x``)."""
    url = _URL_NOISE.sub("", url).strip(" \f")
    if url.startswith(("//", "\\\\", "/\\", "\\/")):
        return True
    scheme = _SCHEME.match(url)
    return scheme is not None and scheme.group(1).lower() not in _LOCAL_SCHEMES | _SCRIPT_SCHEMES


def is_local(url: str) -> bool:
    """True for a URL naming a file beside the page (Anki's media folder for a card): no scheme,
    not a link within the page, not a template's ``{{Field}}``."""
    url = _URL_NOISE.sub("", url).strip(" \f")
    return bool(url) and url[0] not in "#/\\" and "{{" not in url and not _SCHEME.match(url)


def css_findings(
    css: str, *, offset: int = 0, what: str = "CSS", local: bool = False
) -> Iterator[Finding]:
    """The scripts, remote resources and ``</style`` break-outs of CSS (with ``local``, the local
    files it loads too).

    Positions are ``offset`` plus the index in ``css``; where comments or escapes had to be
    undone first, a finding points at the start of ``css``.
    """
    end = _STYLE_END.search(css)
    if end is not None:
        yield Finding("breakout", offset + end.start(), "</style")
    plain = css
    if "/*" in css or "\\" in css:
        plain = _CSS_ESCAPE.sub(_unescaped, _CSS_COMMENT.sub(" ", css))

    def where(index: int) -> int:
        return offset + (index if plain is css else 0)

    script = _CSS_SCRIPT.search(plain)
    if script is not None:
        yield Finding("script", where(script.start()), f"{script.group().rstrip('( :')} in CSS")
    for load in _CSS_LOAD.finditer(plain):
        function = load.group("function")
        url = load.group("url") if function else load.group("import_url")
        kind = f"CSS {function.lower()}()" if function else "@import"
        if url and is_remote(url):
            yield Finding("remote", where(load.start()), f"{kind} in {what}", url)
        elif local and url and is_local(url):
            yield Finding("local", where(load.start()), f"{kind} in {what}", url)


def _unescaped(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        code = int(match.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
    return match.group(2)
