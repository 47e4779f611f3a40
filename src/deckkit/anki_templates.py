"""Anki's template language as Anki reads it (rslib/src/template.rs): the tags of a template,
the fields it names, and which cards of a standard note type a note makes.

Tags: each ``{{`` up to the first ``}}`` after it, none inside an HTML comment; ``{{#Field}}``
and ``{{^Field}}`` open a section that ``{{/Field}}`` closes, anything else is a replacement whose
key follows the last ``:`` (``{{text:Word}}``). Anki's special fields (``{{FrontSide}}``,
``{{Tags}}``...) are offered to every template.

Cards: Anki makes the card of a template when the template's front "renders with" the note's
non-empty fields (``renders_with_fields`` and ``template_is_empty`` in template.rs, called from
``rslib/src/notetype/cardgen.rs``): some ``{{Field}}`` (with any filters) of a non-empty field is
reached through sections that are all open, a ``{{#Field}}`` section being open when its field
is non-empty and a ``{{^Field}}`` one when it is empty. Text and comments never count; Anki's
special fields count as non-empty (``{{Card}}``, ``{{Deck}}``...; ``{{Tags}}`` when the note has
tags; never ``{{FrontSide}}``) unless a field of the note type has that name. A field is empty
when it holds only white space and ``<br>`` or ``<div>`` tags (``field_is_empty``).

Nothing is rendered: a front is reduced once to the fields and sections that decide it
(:func:`front_requirement`), and a note is tried against that, so that each note costs a walk of
what its fields open, never a rendering of a template. genanki works this out with chevron, by
rendering every template once per field with the others filled: time that grows with the square
of the number of fields, and it gives up ("Could not compute required fields") on a front such as
``{{#A}}{{B}}{{/A}}{{#C}}{{D}}{{/C}}``, which Anki renders as it renders any other. Every reader
here is linear in the template's length.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TemplateTag:
    """One ``{{...}}`` of a card template: where it stands and what is inside."""

    start: int
    end: int
    inner: str


def template_tags(template: str) -> Iterator[TemplateTag]:
    """Every ``{{...}}`` of a template, as Anki reads them: each ends at the first ``}}``; none is
    in an HTML comment (``<!-- {{Old}} -->`` is text to Anki). In linear time: a regex
    ``{{(.*?)}}`` reads to the end from every ``{{`` never closed (minutes for a stranger's)."""
    position = 0
    comments = True  # until a '<!--' without '-->' (then no later one is a comment either)
    while (start := template.find("{{", position)) != -1:
        comment = template.find("<!--", position, start) if comments else -1
        if comment != -1:
            close = template.find("-->", comment + 4)
            if close != -1:
                position = close + 3
                continue
            comments = False
        end = template.find("}}", start + 2)
        if end == -1:
            return  # no '}}' after this '{{': nothing later is a tag either
        yield TemplateTag(start, end + 2, template[start + 2 : end])
        position = end + 2


# Anki's special fields, offered to every template (rslib/src/template.rs and card rendering).
SPECIAL_FIELDS = frozenset(
    ["FrontSide", "Tags", "Type", "Deck", "Subdeck", "Card", "CardFlag", "CardID"]
)


def classify_tag(inner: str) -> tuple[str, str]:
    """A tag as Anki reads it (rslib/src/template.rs, ``classify_handle``): ("#" "^" or "/", field)
    or ("", key), the key after the last ':' (``{{text: Word}}`` names " Word"; ``{{{W}}}``, W)."""
    start = inner.lstrip("{").strip()
    if len(start) >= 2 and start[0] in "#^/":
        return start[0], start[1:].lstrip()
    return "", start.rpartition(":")[2]


def template_field_names(template: str) -> Iterator[tuple[str, int]]:
    """Each note field a template names, with the offset of its tag, in order: ``{{Word}}``,
    ``{{text:Word}}``, ``{{cloze:Text}}``, ``{{#Word}}``...; not Anki's special fields."""
    for tag in template_tags(template):
        if tag.inner.lstrip("{ ")[:1] in ("!", "="):
            continue  # a comment, or a delimiter change Anki does not support anyway
        name = classify_tag(tag.inner)[1]
        if name and name not in SPECIAL_FIELDS:
            yield name, tag.start


# Anki's special fields that always show something on a front: all but FrontSide (the front
# itself) and Tags (shown only when the note has tags).
_ALWAYS_SHOWN = SPECIAL_FIELDS - {"FrontSide", "Tags"}


@dataclass
class Section:
    """A template (or one of its sections) as far as emptiness goes: the fields whose
    replacements it holds directly, and the sections inside it."""

    fields: set[str] = field(default_factory=set)
    # (negated, the field that opens it, its content): {{^Field}} is negated, {{#Field}} not.
    inner: list[tuple[bool, str, Section]] = field(default_factory=list)


def front_requirement(template: str) -> Section:
    """The template reduced to its replacements and sections, in one pass over its tags.

    Sections are matched as Anki matches them; a closing tag that closes nothing open is left
    out (Anki cannot render such a template at all: the syntax check reports it), and sections
    left open end with the template. What cannot change the answer is left out, so that a note
    walks no more of it than it must: a section holding no replacement, and a section inside
    another of the same field (always open there, its content is the outer one's; or, the other
    way round, never open).
    """
    root = Section()
    # (field, section written into, polarity: "#", "^", or "" for a section read into another)
    stack: list[tuple[str, Section, str]] = [("", root, "")]
    polarity: dict[str, list[str]] = {}  # each field's open sections, innermost last
    for tag in template_tags(template):
        kind, key = classify_tag(tag.inner)
        if kind == "":
            if key:
                stack[-1][1].fields.add(key)
        elif kind == "/":
            if len(stack) > 1 and stack[-1][0] == key:
                _close(stack, polarity)
        else:
            enclosing = polarity.get(key)
            if enclosing:  # inside a section of the same field: open with it, or never
                section = stack[-1][1] if enclosing[-1] == kind else Section()
                stack.append((key, section, ""))
            else:
                section = Section()
                stack[-1][1].inner.append((kind == "^", key, section))
                stack.append((key, section, kind))
            polarity.setdefault(key, []).append(kind)
    return root


def _close(stack: list[tuple[str, Section, str]], polarity: dict[str, list[str]]) -> None:
    key, section, kind = stack.pop()
    polarity[key].pop()
    if kind and not section.fields and not section.inner:
        stack[-1][1].inner.pop()  # it was the last one added there: nothing in it shows


def renders(front: Section, nonempty: Collection[str]) -> bool:
    """Whether a front shows a field of ``nonempty`` (Anki's ``renders_with_fields``)."""
    pending = [front]
    while pending:  # not recursive: a stranger's template may nest sections 100,000 deep
        section = pending.pop()
        if not section.fields.isdisjoint(nonempty):
            return True
        pending += (inner for negated, key, inner in section.inner if (key in nonempty) != negated)
    return False


# Anki's field_is_empty: white space (Rust's ASCII [[:space:]]) and <br>, <div> tags only.
_EMPTY_FIELD = re.compile(r"(?:[ \t\n\x0b\f\r]|</?(?:br|div) ?/?>)*", re.IGNORECASE)


def field_is_empty(text: str) -> bool:
    """Whether Anki counts a field as empty when it works out a note's cards."""
    return _EMPTY_FIELD.fullmatch(text) is not None


def nonempty_fields(names: Sequence[str], values: Iterable[str], *, tagged: bool) -> set[str]:
    """What a front may show of a note (``new_cards_required_normal``): the names of its fields
    that are not empty, and the special fields no field of its note type is named after."""
    filled = zip(names, values, strict=False)
    return {name for name, value in filled if not field_is_empty(value)} | special_fields_shown(
        names, tagged=tagged
    )


def special_fields_shown(names: Collection[str], *, tagged: bool) -> set[str]:
    """The special fields a front shows of every note of a note type with fields ``names``."""
    shown = set(_ALWAYS_SHOWN) | ({"Tags"} if tagged else set())
    return shown.difference(names)


def shown_fields(front: Section) -> list[str]:
    """Every field a front can show (its replacements, in any section), in no special order."""
    shown: set[str] = set()
    pending = [front]
    while pending:
        section = pending.pop()
        shown |= section.fields
        pending += (inner for _negated, _key, inner in section.inner)
    return sorted(shown)
