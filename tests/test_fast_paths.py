"""The quick forms deckkit uses on large decks give the same results as the plain definitions.

Each reference below is the straightforward way to compute the same thing (as deckkit once did);
hypothesis looks for text where the two disagree, biased towards the characters that matter:
tags (known and unknown), entities, tabs and every kind of line break.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

# Reaches inside: the fast paths are internal by nature; each is pinned against its plain
# definition.
from deckkit.exporters.quizlet import Separators
from deckkit.fieldtext.markup import KNOWN_TAGS, escape_bare_markup, to_plain_text

PIECES = [
    *(f"<{tag}>" for tag in ("b", "br", "bdi", "BDO", "abbr", "a", "h1", "h7", "img src=x")),
    *(f"</{tag}>" for tag in ("i", "em", "embed", "emb", "section")),
    "<",
    ">",
    "<T>",
    "<!-- c -->",
    "<b",
    "<a\n",
    "&",
    "&amp;",
    "&#x41;",
    "&nbsp",
    "[sound:a.mp3]",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x85",
    "\u2028",
    "\u00a0",
    " ",
    "  ",
    "x",
    "List",
    "2 < 3",
]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=12).map("".join)

# The bare '<' pattern as first written: every known tag as one branch of a flat alternation.
FLAT_BARE_LT = re.compile(
    r"<(?!!--)(?!/?(?:"
    + "|".join(sorted(KNOWN_TAGS, key=len, reverse=True))
    + r")(?=[\s/>])[^>]*>)",
    re.IGNORECASE,
)
BARE_AMP = re.compile(r"&(?!(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)")


def reference_escape(text: str) -> str:
    return FLAT_BARE_LT.sub("&lt;", BARE_AMP.sub("&amp;", text))


def reference_lines(text: str) -> str:
    """to_plain_text's layout step, line by line, for text that is already plain."""
    lines = (
        "\t".join(" ".join(part.split()) for part in line.split("\t"))
        for line in text.replace("\u00a0", " ").splitlines()
    )
    return "\n".join(line.strip(" ") for line in lines if line.strip())


@settings(max_examples=1500)
@given(texts)
def test_escaping_matches_the_flat_pattern(text: str) -> None:
    assert escape_bare_markup(text) == reference_escape(text)


LAYOUT_PIECES = ["a", "b c", " ", "\t", "\u00a0", "\x1f", *PIECES[-14:]]


@settings(max_examples=1500)
@given(st.lists(st.sampled_from(LAYOUT_PIECES)).map("".join))
def test_plain_text_layout_matches_the_line_by_line_form(text: str) -> None:
    assert to_plain_text(text) == reference_lines(text)


def reference_splits_back(separators: Separators, pairs: list[tuple[str, str]]) -> bool:
    body = separators.card.join(f"{term}{separators.term}{text}" for term, text in pairs)
    cards = body.split(separators.card)
    return len(cards) == len(pairs) and all(
        tuple(card.split(separators.term)) == pair for card, pair in zip(cards, pairs, strict=False)
    )


fields = st.text(alphabet="ab\t\n|~^ ", max_size=6)


@settings(max_examples=1500)
@given(
    st.sampled_from([Separators("\t", "\n"), Separators("|", "~"), Separators(" ^^^^ ", "~~~~")]),
    st.lists(st.tuples(fields, fields), min_size=1, max_size=5),
)
def test_splitting_back_matches_splitting_for_real(
    separators: Separators, pairs: list[tuple[str, str]]
) -> None:
    assert separators.splits_back(pairs) == reference_splits_back(separators, pairs)
