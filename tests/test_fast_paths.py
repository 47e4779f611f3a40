"""The quick forms deckkit uses on large decks give the same results as the plain definitions.

Each reference below is the straightforward way to compute the same thing (as deckkit once did);
hypothesis looks for text where the two disagree, biased towards the characters that matter:
tags (known and unknown), entities, tabs and every kind of line break.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from html import unescape
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

# Reaches inside: the fast paths are internal by nature; each is pinned against its plain
# definition.
from deckkit.cardtypes import LETTERS
from deckkit.exporters.quizlet import (
    CARD_SEPARATORS,
    TERM_SEPARATORS,
    Separators,
    choose_separators,
)
from deckkit.fieldtext.entities import ENTITY
from deckkit.fieldtext.markup import (
    KNOWN_TAGS,
    escape_bare_markup,
    is_blank,
    to_plain_text,
    unclosed_tags,
)
from deckkit.importers.escaping import plain_to_html, readable_html, would_stay_markup
from deckkit.importers.mapping import (
    _SPECIAL_FIELDS,
    Roles,
    _is_section,
    _typed_field,
    roles_for,
)
from deckkit.importers.rendered import (
    _CHOICE_RENDERERS,
    _fill_gaps,
    _marked_variants,
    read_choices,
    read_concepts,
)
from deckkit.importers.types import NoteTypeInfo
from deckkit.notetypes import concepts_html

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


# --- issue 12: the linear forms of what used to be super-linear on a stranger's text -----------
# Each reference below is the definition deckkit used before issue 12, copied as it was: the new
# form must give the same result on every input, only in linear time (tests/test_linear_time.py
# shows the time).

MARKUP_PIECES = [
    *PIECES,
    "<img ",
    "<img src=x",
    "<b></i>",
    "<b ",
    "</b>",
    "<p>",
    "</p>",
    "<li>",
    "<div class='a'>",
    "</div",
    "<br/>",
    "<b/>",
    "<script>",
    "</script>",
    "<style>",
    "<!--",
    "-->",
    "<!---->",
    "&lt;",
    "&lt;b",
    "&amp;",
    "&amp;amp;",
    "&lt;!--",
    "&gt;",
    "<ſpan ",  # case-insensitive patterns read U+017F as 's' and U+212A (Kelvin) as 'k'
    "<\u212abd ",
]
markup = st.lists(
    st.one_of(st.sampled_from(MARKUP_PIECES), st.text(alphabet="<>/&;ab !-", max_size=3)),
    max_size=14,
).map("".join)


@settings(max_examples=2000)
@given(markup)
def test_escaping_of_tags_after_the_last_gt_matches_the_flat_pattern(text: str) -> None:
    assert escape_bare_markup(text) == reference_escape(text)


_OLD_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|li|tr|h[1-6]|blockquote|pre|ol|ul|table|hr|dt|dd|section)\b[^>]*>", re.I
)
_OLD_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|\Z)", re.I | re.S)
_OLD_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_OLD_ANY_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_OLD_SOUND_TAG = re.compile(r"\[sound:(.+?)\]", re.DOTALL)


def reference_text_only(html_text: str) -> str:
    text = _OLD_SCRIPT_OR_STYLE.sub("", _OLD_COMMENT.sub("", reference_escape(html_text)))
    text = _OLD_ANY_TAG.sub("", _OLD_BLOCK_TAG.sub("\n", text))
    return unescape(_OLD_SOUND_TAG.sub("", text)).replace("\u00a0", " ")


def reference_plain_text(html_text: str) -> str:
    return reference_lines(reference_text_only(html_text))


@settings(max_examples=2000)
@given(markup)
def test_plain_text_matches_the_plain_definition(text: str) -> None:
    assert to_plain_text(text) == reference_plain_text(text)
    if not re.search(
        r"<(?:img|audio|video|source|svg|math|object|embed)\b|\[sound:.+?\]", text, re.I | re.S
    ):
        assert is_blank(text) == (not reference_text_only(text).strip())


_OLD_OPEN_OR_CLOSE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*?(/?)>")
_OLD_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())


def reference_unclosed_tags(value: str) -> list[str]:
    open_tags: list[str] = []
    for match in _OLD_OPEN_OR_CLOSE.finditer(reference_escape(value)):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _OLD_VOID or self_closing or name not in KNOWN_TAGS:
            continue
        if not closing:
            open_tags.append(name)
        elif name in open_tags:
            del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name) :]
    return [
        name
        for name in open_tags
        if name not in ("p", "li", "td", "tr", "th", "dt", "dd", "option")
    ]


@settings(max_examples=2000)
@given(markup)
def test_unclosed_tags_match_the_list_scanning_definition(text: str) -> None:
    assert unclosed_tags(text) == reference_unclosed_tags(text)


_OLD_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])")
_OLD_ESCAPE = re.compile(r"&(lt|amp);")


def reference_would_stay_markup(text: str) -> bool:
    if text.startswith("<!--"):
        return True
    match = _OLD_TAG_START.match(text)
    return bool(match and match.group(2).lower() in KNOWN_TAGS and ">" in text)


def reference_readable_html(text: str) -> str:
    if ("&lt;" not in text and "&amp;" not in text) or "&gt;" in text:
        return text
    out: list[str] = []
    position = 0
    for match in _OLD_ESCAPE.finditer(text):
        out.append(text[position : match.start()])
        rest = text[match.end() :]
        if match.group(1) == "lt":
            out.append(match.group(0) if reference_would_stay_markup("<" + rest) else "<")
        else:
            out.append(match.group(0) if ENTITY.match("&" + rest) else "&")
        position = match.end()
    out.append(text[position:])
    result = "".join(out)
    return result if reference_escape(result) == text else text


def reference_plain_to_html(text: str) -> str:
    plain = text.strip()
    out = []
    for position, char in enumerate(plain):
        if char == "<" and reference_would_stay_markup(plain[position:]):
            out.append("&lt;")
        elif char == "&" and ENTITY.match(plain, position):
            out.append("&amp;")
        else:
            out.append(char)
    return "".join(out).replace("\n", "<br>")


@settings(max_examples=2000)
@given(markup)
def test_import_unescaping_matches_the_definitions_that_copied_the_rest_of_the_text(
    text: str,
) -> None:
    assert readable_html(text) == reference_readable_html(text)
    assert readable_html(escape_bare_markup(text)) == reference_readable_html(
        reference_escape(text)
    )
    assert plain_to_html(text) == reference_plain_to_html(text)
    assert would_stay_markup(text) == reference_would_stay_markup(text)


def reference_fill_gaps(text: str, gaps: list[list[str]]) -> list[str] | None:
    alternatives = ["(?:" + "|".join(re.escape(g) for g in gap) + ")" for gap in gaps]
    match = re.compile("(.*?)".join(alternatives), re.DOTALL).fullmatch(text)
    return list(match.groups()) if match else None


small = st.text(alphabet="ab<>", max_size=3)


@settings(max_examples=3000)
@given(
    st.lists(st.lists(small, min_size=1, max_size=3), min_size=1, max_size=5),
    st.lists(st.one_of(small, st.sampled_from(["ab", "<a>", "a<", "b>b"])), max_size=8).map(
        "".join
    ),
)
def test_filling_gaps_finds_the_items_the_lazy_pattern_finds(
    gaps: list[list[str]], text: str
) -> None:
    gaps = [sorted(set(gap), key=len, reverse=True) for gap in gaps]
    assert _fill_gaps(text, gaps) == reference_fill_gaps(text, gaps)


def reference_match_rendered(
    text: str, variants: Callable[[tuple[str, ...]], list[str]], count: int
) -> list[str] | None:
    if not text:
        return None
    gaps: list[set[str]] = [set() for _ in range(count + 1)]
    for rendered in variants(tuple(f"\x00{i}\x00" for i in range(count))):
        parts = re.split("\x00\\d+\x00", rendered)
        if len(parts) != count + 1:
            return None
        for position, part in enumerate(parts):
            gaps[position].add(part)
    return reference_fill_gaps(text, [sorted(gap, key=len, reverse=True) for gap in gaps])


def reference_right_letters(
    render: Any, choices: tuple[str, ...], marked: str, hinted: tuple[str, ...]
) -> tuple[str, ...] | None:
    letters = LETTERS[: len(choices)]
    candidates = [hinted] if hinted else []
    candidates += [
        tuple(x for bit, x in enumerate(letters) if mask >> bit & 1)
        for mask in range(1, 1 << len(letters))
    ]
    for candidate in candidates:
        if candidate and render(choices, candidate, True) == marked:
            return candidate
    return None


def reference_read_choices(
    marked: str, plain: str, correct: str
) -> tuple[list[str], list[str]] | None:
    hinted = tuple(sorted(p.strip() for p in to_plain_text(correct).split(",") if p.strip()))
    for render in _CHOICE_RENDERERS:
        for count in range(len(LETTERS), 1, -1):
            letters = LETTERS[:count]
            markings = (tuple(letters), (), tuple(letters[0::2]), tuple(letters[1::2]))
            found = reference_match_rendered(
                marked, partial(_marked_variants, render, markings), count
            )
            if found is not None:
                right = reference_right_letters(render, tuple(found), marked, hinted)
                if right:
                    return found, list(right)
            found = reference_match_rendered(plain, partial(_marked_variants, render, None), count)
            if (
                found is not None
                and hinted
                and set(hinted) <= set(letters)
                and render(tuple(found), (), False) == plain
            ):
                return found, list(hinted)
    return None


def reference_read_concepts(text: str) -> list[str] | None:
    if not text.strip():
        return []
    for count in range(text.count("<li"), 0, -1):
        found = reference_match_rendered(text, lambda p: [concepts_html(p)], count)
        if found is not None and concepts_html(tuple(found)) == text:
            return found
    return None


# Pieces of deckkit's own list markup, so that items hold what the reader looks for.
LIST_PIECES = [
    "x",
    "A",
    "B, C",
    "</span>",
    '<span class="mark">✓ correct</span>',
    '</li><li data-letter="B" class="wrong">',
    '</li><li data-letter="B" class="correct">',
    '<span class="letter">C.</span> <span class="text">',
    "</li></ol>",
    '</label></li><li><label><input type="checkbox"> ',
    "<li>",
    "</li>",
    "2",
]
list_items = st.lists(st.sampled_from(LIST_PIECES), max_size=3).map("".join)


@st.composite
def rendered_lists(draw: st.DrawFn) -> tuple[str, str, str]:
    """A multiple-choice card's "Marked choices", "Choices" and "Correct" fields, as deckkit's
    renderers write them, then perhaps cut or spliced."""
    choices = tuple(draw(st.lists(list_items, min_size=2, max_size=4)))
    letters = LETTERS[: len(choices)]
    correct = tuple(draw(st.lists(st.sampled_from(letters), max_size=3)))
    render = draw(st.sampled_from(_CHOICE_RENDERERS))
    marked, plain = render(choices, correct, True), render(choices, (), False)
    hint = draw(st.sampled_from([", ".join(correct), "", "A", "A, A", "Z", ", ".join(letters)]))
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(marked)))
        marked = marked[:cut] + draw(list_items) + marked[cut + draw(st.integers(0, 30)) :]
    return marked, plain, hint


@settings(max_examples=600, deadline=None)
@given(rendered_lists())
def test_reading_choices_back_matches_the_lazy_pattern_reader(
    fields: tuple[str, str, str],
) -> None:
    assert read_choices(*fields) == reference_read_choices(*fields)


@settings(max_examples=600, deadline=None)
@given(st.lists(list_items, max_size=5), st.booleans(), st.integers(0, 400), list_items)
def test_reading_concepts_back_matches_trying_every_count(
    concepts: list[str], splice: bool, cut: int, inserted: str
) -> None:
    text = concepts_html(tuple(concepts))
    if splice:
        text = text[:cut] + inserted + text[cut + 7 :]
    assert read_concepts(text) == reference_read_concepts(text)


def reference_shown_fields(template: str, fields: Sequence[str]) -> list[str]:
    shown: list[str] = []
    for match in re.finditer(r"\{\{([^{}]+?)\}\}", template):
        inner = match.group(1).strip()
        if inner[:1] in "#^/!":
            continue
        name = inner.split(":")[-1].strip()
        if name in fields and name not in _SPECIAL_FIELDS and name not in shown:
            shown.append(name)
    return shown


def reference_roles_for(note_type: NoteTypeInfo) -> Roles | None:
    """roles_for before issue 12 (its deckkit_kind and cloze branches are unchanged: left out)."""
    fields = note_type.fields
    index = {name: i for i, name in enumerate(fields)}
    templates = note_type.templates
    fronts = [reference_shown_fields(front, fields) for front, _back in templates]
    typed = _typed_field(templates[0][0])
    if len(templates) == 1 and typed in index and len(fields) in (2, 3):
        shown = [name for name in fronts[0] if name != typed]
        if len(shown) != 1:
            return None
        roles = {"front": index[shown[0]], "answer": index[str(typed)]}
        rest = [i for i in range(len(fields)) if i not in roles.values()]
        if rest:
            roles["extra"] = rest[0]
        return Roles("type_in", roles)
    if typed is not None:
        return None
    if len(fields) == 2 and len(templates) == 1 and len(fronts[0]) == 1:
        front = index[fronts[0][0]]
        return Roles("basic", {"front": front, "back": 1 - front})
    if (
        len(templates) == 2
        and len(fronts[0]) == 1
        and len(fronts[1]) == 1
        and fronts[0] != fronts[1]
    ):
        front, back = index[fronts[0][0]], index[fronts[1][0]]
        if len(fields) == 2:
            return Roles("reversed", {"front": front, "back": back})
        switches = [
            i
            for i in range(len(fields))
            if i not in (front, back) and _is_section(templates[1][0], fields[i])
        ]
        if len(fields) == 3 and len(switches) == 1:
            return Roles("optional_reversed", {"front": front, "back": back}, switch=switches[0])
    return None


FIELD_NAMES = ["Front", "Back", "Add Reverse", "Extra", "Tags", "F"]
TEMPLATE_PIECES = [
    *(f"{{{{{name}}}}}" for name in FIELD_NAMES),
    "{{#Add Reverse}}",
    "{{/Add Reverse}}",
    "{{type:Back}}",
    "{{type:nc:Front}}",
    "{{text:Front}}",
    "{{FrontSide}}",
    "<hr id=answer>",
    "{{",
    "}}",
]
templates = st.lists(st.sampled_from(TEMPLATE_PIECES), max_size=4).map("".join)


@settings(max_examples=2000)
@given(
    st.lists(st.sampled_from(FIELD_NAMES), min_size=1, max_size=4),
    st.lists(st.tuples(templates, templates), min_size=1, max_size=3),
)
def test_note_types_map_as_with_the_list_scanning_definition(
    fields: list[str], sides: list[tuple[str, str]]
) -> None:
    note_type = NoteTypeInfo(1, "N", tuple(fields), tuple(sides))
    assert roles_for(note_type) == reference_roles_for(note_type)


def reference_choose_separators(pairs: list[tuple[str, str]]) -> Separators | None:
    """choose_separators before issue 12, giving up (None) where it would have tried forever."""
    candidates = [Separators("\t", "\n")]
    candidates += [Separators(term, card) for card in CARD_SEPARATORS for term in TERM_SEPARATORS]
    candidates += [Separators(" " + "^" * n + " ", "~" * n) for n in range(4, 40)]
    return next((c for c in candidates if reference_splits_back(c, pairs)), None)


QUIZLET_PIECES = ["a", "\t", " ", "~", "~~~~", "~~~~~", "^", " ^^^^", " ^^^^^ ", " ^^^^ ", "#"]
# Every usual card separator in one field: only the longer runs can then be chosen.
EVERY_SEPARATOR = "".join(CARD_SEPARATORS)
quizlet_fields = st.lists(st.sampled_from(QUIZLET_PIECES), max_size=4).map("".join)


@st.composite
def quizlet_pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    pairs = draw(st.lists(st.tuples(quizlet_fields, quizlet_fields), min_size=1, max_size=4))
    if draw(st.booleans()):
        pairs.append(("\t", EVERY_SEPARATOR))
        draw(st.randoms()).shuffle(pairs)
    return pairs


@settings(max_examples=2000)
@given(quizlet_pairs())
def test_quizlet_separators_are_the_first_that_split_back_and_always_found(
    pairs: list[tuple[str, str]],
) -> None:
    chosen = choose_separators(pairs)
    assert reference_splits_back(chosen, pairs)
    expected = reference_choose_separators(pairs)
    if expected is not None:
        assert chosen == expected
    else:  # the old loop would never have ended; the chosen separators must still be safe
        assert chosen.card.endswith("#")
