"""HTML read as a browser's tokenizer reads it, in linear time: text, start tags, end tags.

The standard library's :class:`html.parser.HTMLParser` takes quadratic time on text such as
``<img `` or ``<a x="`` repeated without an end (80 KB: half a minute), and a deck's HTML is a
stranger's. This follows the states of the WHATWG tokenizer
(https://html.spec.whatwg.org/multipage/parsing.html#tokenization) that decide where tags, comments
and raw text begin and end; every scan moves forward, so each character is read a bounded number
of times. Comments, doctypes and other markup declarations are left out; a tag that the text
ends inside is left out with the rest of the text, as a browser does. Character references are
decoded in text and attribute values (:func:`html.unescape`). The content of ``<script>``,
``<style>``, ``<textarea>``, ``<title>``, ``<xmp>``, ``<iframe>``, ``<noembed>``, ``<noframes>``
and ``<noscript>`` is one piece of text up to its end tag; after ``<plaintext>`` all is text.
Inside ``<svg>`` and ``<math>`` (foreign content) there is no raw text, as in a browser.

Not reproduced (nothing here depends on it): the tree builder's fix-ups (``</br>``, ``<image>``),
script data's ``<!--`` escapes, and the attribute-value exception for legacy entity names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape


@dataclass(frozen=True)
class Text:
    """Text between tags, character references decoded (raw text as written)."""

    text: str


@dataclass(frozen=True)
class StartTag:
    """A start tag: its name and attributes, names in lower case and values decoded."""

    name: str
    attributes: tuple[tuple[str, str], ...]  # in the order written, repeats included
    self_closing: bool = False  # '<x/>': it matters only in foreign content (<svg/>)


@dataclass(frozen=True)
class EndTag:
    """An end tag (its attributes, which mean nothing, are left out)."""

    name: str


Token = Text | StartTag | EndTag

RAW_TEXT = frozenset("iframe noembed noframes noscript script style xmp".split())
ESCAPABLE_RAW_TEXT = frozenset(("textarea", "title"))  # character references decoded
FOREIGN = frozenset(("svg", "math"))

_SPACE = "\t\n\f "
_NEWLINES = re.compile(r"\r\n?")
_TAG_NAME = re.compile(r"[^\t\n\f />]*")
_SPACES_AND_SLASHES = re.compile(r"[\t\n\f /]*")
_SPACES = re.compile(r"[\t\n\f ]*")
_ATTRIBUTE_NAME = re.compile(r"[^\t\n\f />][^\t\n\f /=>]*")
_UNQUOTED_VALUE = re.compile(r"[^\t\n\f >]*")
_COMMENT_END = re.compile(r"--!?>")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lower(name: str) -> str:
    return name.translate(_ASCII_LOWER).replace("\0", "\ufffd")


def tokens(html: str) -> Iterator[Token]:
    """The tokens of ``html``, text decoded, names in lower case."""
    text = _NEWLINES.sub("\n", html)
    length = len(text)
    at = 0
    foreign = 0  # how many <svg>/<math> are open: no raw text inside
    while at < length:
        lt = text.find("<", at)
        if lt < 0:
            yield Text(unescape(text[at:]))
            return
        if lt > at:
            yield Text(unescape(text[at:lt]))
        following = text[lt + 1 : lt + 2]
        if following.isascii() and following.isalpha():
            tag = _tag(text, lt + 1)
            if tag is None:
                return  # the text ends inside the tag
            token, at = tag
            yield token
            if token.name in FOREIGN:
                foreign += not token.self_closing
            elif not foreign:
                raw = _raw_text(text, at, token.name)
                if raw is not None:
                    yield raw[0]
                    at = raw[1]
        elif following == "/":
            after = text[lt + 2 : lt + 3]
            if after.isascii() and after.isalpha():
                tag = _tag(text, lt + 2)
                if tag is None:
                    return
                end_tag, at = EndTag(tag[0].name), tag[1]  # an end tag's attributes are ignored
                yield end_tag
                if end_tag.name in FOREIGN and foreign:
                    foreign -= 1
            elif after == ">":
                at = lt + 3  # '</>' is nothing
            else:
                at = _bogus_comment_end(text, lt + 2)
        elif following == "!":
            at = _declaration_end(text, lt + 2)
        elif following == "?":
            at = _bogus_comment_end(text, lt + 1)
        else:
            yield Text("<")
            at = lt + 1


def _tag(text: str, at: int) -> tuple[StartTag, int] | None:
    """The tag whose name starts at ``at``, and where it ends; None if the text ends first."""
    name_match = _TAG_NAME.match(text, at)
    assert name_match is not None  # it matches the empty string
    name = _lower(name_match.group())
    at = name_match.end()
    attributes: list[tuple[str, str]] = []
    length = len(text)
    while True:
        separator = _SPACES_AND_SLASHES.match(text, at)
        assert separator is not None  # it matches the empty string
        at = separator.end()
        if at >= length:
            return None
        if text[at] == ">":
            self_closing = separator.group().endswith("/")
            at += 1
            break
        attribute = _ATTRIBUTE_NAME.match(text, at)
        assert attribute is not None  # the character is neither space, '/' nor '>'
        attribute_name = _lower(attribute.group())
        at = _SPACES.match(text, attribute.end()).end()  # type: ignore[union-attr]
        value = ""
        if text[at : at + 1] == "=":
            at = _SPACES.match(text, at + 1).end()  # type: ignore[union-attr]
            quote = text[at : at + 1]
            if quote in ('"', "'"):
                close = text.find(quote, at + 1)
                if close < 0:
                    return None
                value, at = text[at + 1 : close], close + 1
            else:
                unquoted = _UNQUOTED_VALUE.match(text, at)
                assert unquoted is not None
                value, at = unquoted.group(), unquoted.end()
        attributes.append((attribute_name, unescape(value).replace("\0", "\ufffd")))
    return StartTag(name, tuple(attributes), self_closing), at


def _raw_text(text: str, at: int, name: str) -> tuple[Token, int] | None:
    """The text of a raw text element that starts at ``at``, and where its end tag starts."""
    if name == "plaintext":
        return Text(text[at:]), len(text)
    if name not in RAW_TEXT and name not in ESCAPABLE_RAW_TEXT:
        return None
    end = _end_tag_pattern(name).search(text, at)
    stop = end.start() if end else len(text)
    content = text[at:stop]
    return Text(unescape(content) if name in ESCAPABLE_RAW_TEXT else content), stop


_END_TAGS: dict[str, re.Pattern[str]] = {}


def _end_tag_pattern(name: str) -> re.Pattern[str]:
    if name not in _END_TAGS:
        _END_TAGS[name] = re.compile(rf"</{name}[\t\n\f />]", re.IGNORECASE)
    return _END_TAGS[name]


def _bogus_comment_end(text: str, at: int) -> int:
    end = text.find(">", at)
    return len(text) if end < 0 else end + 1


def _declaration_end(text: str, at: int) -> int:
    """Where a markup declaration (after '<!') ends: a comment, or a doctype or other up to '>'."""
    if not text.startswith("--", at):
        return _bogus_comment_end(text, at)
    at += 2
    for empty in (">", "->"):  # '<!-->' and '<!--->' are whole comments
        if text.startswith(empty, at):
            return at + len(empty)
    end = _COMMENT_END.search(text, at)
    return len(text) if end is None else end.end()
