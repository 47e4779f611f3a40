"""A deck's CSS kept inside the ``@scope`` block the preview wraps it in.

The preview applies an imported note type's CSS to its own cards only, as
``@scope (<its cards>) { <CSS> }``, and a ``<style>`` element found in a field or template to its
own card side, as ``@scope { <CSS> }``. A ``}`` in that CSS would close the block early and let
the rest style the whole page (``} body { display: none }``). :func:`balanced_css` reads the CSS
with the tokenizer of CSS Syntax Level 3 (https://www.w3.org/TR/css-syntax-3/#tokenization, the
one browsers use): comments, strings, escapes, ``url(`` tokens and the ``{}``, ``()``, ``[]``
blocks. Each ``}`` that would close a block the CSS did not open becomes an empty comment (not a
space, which a hex escape before it would swallow); whatever the CSS leaves open at its end (a
comment, a string, a ``url(``, blocks) is closed. A closer inside a
block of another kind is an ordinary token there (``a:is(})``), as in Chromium's tokenizer. The
tests check the result in Chromium's own parser, on random CSS made of the awkward pieces.

The CSS is otherwise kept character for character (after the input preprocessing both the HTML
and the CSS parser apply anyway: CR LF, CR and FF become LF, NUL becomes U+FFFD), so that
balanced CSS is unchanged. ``</style`` is written ``<\\/style`` (the same to CSS) so that it cannot
end the ``<style>`` element. Remote resources it names (``url()``, ``@import``) are left to the
page's Content-Security-Policy, which blocks them. A ``url()`` naming one of the deck's own files
(a note type's font or picture, which Anki finds in its media folder by its name) is written as
the page's copy of it, when the caller says where that is (``local_url``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_NEWLINES = re.compile(r"\r\n?|\f")
_END_OF_STYLE = re.compile(r"</(style)", re.IGNORECASE)
_WHITESPACE = " \t\n"
_HEX = "0123456789abcdefABCDEF"
_CLOSER = {"{": "}", "(": ")", "[": "]"}
# CSS Syntax's "non-printable code point", which makes a url( token a bad one.
_NON_PRINTABLE = {chr(c) for c in (*range(0x09), 0x0B, *range(0x0E, 0x20), 0x7F)}


# What a url() of the CSS names (decoded), to the page's URL of it, or None to leave it as written.
LocalUrl = Callable[[str], "str | None"]


def scoped_css(css: str, scope: str = "", local_url: LocalUrl | None = None) -> str:
    """``css`` as one ``@scope`` rule for a ``<style>`` element: ``scope`` is its selector, or
    empty for the element's parent."""
    prelude = f"@scope ({scope}) " if scope else "@scope "
    body = _END_OF_STYLE.sub(r"<\\/\1", balanced_css(css, local_url))
    return f"{prelude}{{\n{body}\n}}"


def balanced_css(css: str, local_url: LocalUrl | None = None) -> str:
    """``css`` with each ``}`` that closes no block of its own made a comment, and what it leaves
    open at its end closed: it can be wrapped in a block and never leave it. With ``local_url``,
    each ``url()`` it maps to an address is written as that address (a CSS string)."""
    balancer = _Balancer(_NEWLINES.sub("\n", css).replace("\0", "\ufffd"))
    balancer.local_url = local_url
    return balancer.run()


def _css_string(text: str) -> str:
    """``text`` as a double-quoted CSS string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ") + '"'


def _is_name_start(char: str) -> bool:
    return (char.isascii() and (char.isalpha() or char == "_")) or char >= "\x80"


def _is_space(char: str) -> bool:
    return char != "" and char in _WHITESPACE


def _is_quote(char: str) -> bool:
    return char in ("'", '"')


def _is_name(char: str) -> bool:
    return _is_name_start(char) or (char.isascii() and char.isdigit()) or char == "-"


class _Balancer:
    """One pass over the text with CSS Syntax's tokenizer, keeping only what blocks need."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.closers: list[str] = []  # what closes each block open here, innermost last
        self.blanked: list[int] = []  # positions of the '}' that close no block of the CSS
        self.cut_last = False  # the text ends with a '\' escaping nothing: it would escape ours
        self.suffix = ""  # what closes a comment, string or url( left open at the end
        self.local_url: LocalUrl | None = None
        self.urls: list[tuple[int, int, str]] = []  # each url()'s argument: start, end, value

    def char(self, offset: int = 0) -> str:
        index = self.at + offset
        return self.text[index] if index < len(self.text) else ""

    def run(self) -> str:
        while self.at < len(self.text):
            self.token()
        out = list(self.text[: len(self.text) - 1] if self.cut_last else self.text)
        for position in self.blanked:
            out[position] = "/**/"
        for start, end, value in self.urls if self.local_url else ():
            address = self.local_url(value) if self.local_url else None
            if address is not None:
                out[start:end] = [_css_string(address), *[""] * (end - start - 1)]
        return "".join(out) + self.suffix + "".join(reversed(self.closers))

    # --- CSS Syntax 4.3.1, "consume a token" ----------------------------------------------------

    def token(self) -> None:
        char = self.char()
        if char == "/" and self.char(1) == "*":
            end = self.text.find("*/", self.at + 2)
            if end < 0:
                self.at = len(self.text)
                self.suffix = "*/"
            else:
                self.at = end + 2
        elif char in "\"'":
            self.string(char)
        elif char in "{([":
            self.closers.append(_CLOSER[char])
            self.at += 1
        elif char in "})]":
            if self.closers and self.closers[-1] == char:
                self.closers.pop()
            elif char == "}" and not self.closers:
                self.blanked.append(self.at)
            self.at += 1
        elif char == "#":
            self.at += 1
            if _is_name(self.char()) or self.valid_escape():
                self.name()
        elif char in "+." and self.starts_number():
            self.number()
        elif char == "-":
            if self.starts_number():
                self.number()
            elif self.char(1) == "-" and self.char(2) == ">":
                self.at += 3
            elif self.starts_ident():
                self.ident_like()
            else:
                self.at += 1
        elif char == "<" and self.text.startswith("!--", self.at + 1):
            self.at += 4
        elif char == "@":
            self.at += 1
            if self.starts_ident():
                self.name()
        elif char == "\\":
            if self.valid_escape():
                self.ident_like()
            else:
                self.at += 1
        elif char.isascii() and char.isdigit():
            self.number()
        elif _is_name_start(char):
            self.ident_like()
        else:
            self.at += 1

    # --- checks ("would start ...") on the next code points -------------------------------------

    def valid_escape(self, offset: int = 0) -> bool:
        return self.char(offset) == "\\" and self.char(offset + 1) != "\n"

    def starts_ident(self, offset: int = 0) -> bool:
        first = self.char(offset)
        if first == "-":
            second = self.char(offset + 1)
            return _is_name_start(second) or second == "-" or self.valid_escape(offset + 1)
        if first == "\\":
            return self.valid_escape(offset)
        return _is_name_start(first)

    def starts_number(self) -> bool:
        first, second, third = self.char(), self.char(1), self.char(2)
        if first in "+-" and first:
            return (second.isascii() and second.isdigit()) or (
                second == "." and third.isascii() and third.isdigit()
            )
        if first == ".":
            return second.isascii() and second.isdigit()
        return first.isascii() and first.isdigit()

    # --- consumers ---------------------------------------------------------------------------

    def escaped(self) -> str:
        """After a '\\' (already consumed): the code point it stands for."""
        char = self.char()
        if not char:
            self.cut_last = True  # an escape at the very end: its '\' is dropped
            return "\ufffd"
        if char in _HEX:
            digits = ""
            while len(digits) < 6 and self.char() and self.char() in _HEX:
                digits += self.char()
                self.at += 1
            if _is_space(self.char()):
                self.at += 1
            code = int(digits, 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        self.at += 1
        return char

    def name(self) -> str:
        name: list[str] = []
        while True:
            char = self.char()
            if char and _is_name(char):
                name.append(char)
                self.at += 1
            elif self.valid_escape():
                self.at += 1
                name.append(self.escaped())
            else:
                return "".join(name)

    def number(self) -> None:
        if self.char() in "+-" and self.char():
            self.at += 1
        self.digits()
        if self.char() == "." and self.char(1).isascii() and self.char(1).isdigit():
            self.at += 1
            self.digits()
        if self.char() in ("e", "E") and (
            (self.char(1).isascii() and self.char(1).isdigit())
            or (self.char(1) in ("+", "-") and self.char(2).isascii() and self.char(2).isdigit())
        ):
            self.at += 2
            self.digits()
        if self.starts_ident():
            self.name()
        elif self.char() == "%":
            self.at += 1

    def digits(self) -> None:
        while self.char().isascii() and self.char().isdigit() and self.char():
            self.at += 1

    def ident_like(self) -> None:
        name = self.name()
        if self.char() != "(":
            return
        self.at += 1
        if name.lower() == "url":
            while _is_space(self.char()) and _is_space(self.char(1)):
                self.at += 1
            first, second = self.char(), self.char(1)
            if not (_is_quote(first) or (_is_space(first) and _is_quote(second))):
                self.url()
                return
            self.closers.append(")")  # url("..."): a function whose argument is a string
            while _is_space(self.char()):
                self.at += 1
            start, quote = self.at, self.char()
            value = self.string(quote)
            if self.at - start >= 2 and self.text[self.at - 1] == quote and not self.suffix:
                self.urls.append((start, self.at, value))
            return
        self.closers.append(")")  # a function: its arguments are a ( block

    def string(self, quote: str) -> str:
        """Reads a string token; returns its value."""
        value: list[str] = []
        self.at += 1
        while True:
            char = self.char()
            if not char:
                self.suffix = quote
                return "".join(value)
            if char == quote:
                self.at += 1
                return "".join(value)
            if char == "\n":
                return "".join(value)  # a bad string: the newline ends it and is read again
            self.at += 1
            if char != "\\":
                value.append(char)
            elif not self.char():
                self.cut_last = True
                self.suffix = quote
                return "".join(value)
            elif self.char() == "\n":
                self.at += 1  # an escaped newline: the string goes on
            else:
                value.append(self.escaped())  # a hex escape takes one white space after it

    def url(self) -> None:
        while _is_space(self.char()):
            self.at += 1
        start = self.at
        value: list[str] = []
        while True:
            char = self.char()
            if not char:
                self.suffix = ")"
                return
            if char == ")":
                self.end_url(start, self.at, value)
                return
            if char in _WHITESPACE:
                blank = self.at
                while _is_space(self.char()):
                    self.at += 1
                if self.char() == ")":
                    self.end_url(start, blank, value)
                elif self.char():
                    self.bad_url()
                else:
                    self.suffix = ")"
                return
            if char in "\"'(" or char in _NON_PRINTABLE:
                self.bad_url()
                return
            if char == "\\":
                if not self.valid_escape():
                    self.bad_url()
                    return
                self.at += 1
                value.append(self.escaped())
                continue
            value.append(char)
            self.at += 1

    def end_url(self, start: int, end: int, value: list[str]) -> None:
        """At the ')' of a url( token whose address is text[start:end]."""
        if end > start:
            self.urls.append((start, end, "".join(value)))
        self.at += 1

    def bad_url(self) -> None:
        while True:
            char = self.char()
            if not char:
                self.suffix = ")"
                return
            if char == ")":
                self.at += 1
                return
            if self.valid_escape():
                self.at += 1
                self.escaped()
            else:
                self.at += 1
