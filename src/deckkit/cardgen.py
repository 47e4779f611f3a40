"""Which cards of a standard note type a note makes, worked out as Anki does.

Anki makes the card of a template when the template's front "renders with" the note's non-empty
fields (``renders_with_fields`` and ``template_is_empty`` in
https://github.com/ankitects/anki/blob/main/rslib/src/template.rs, called from
``rslib/src/notetype/cardgen.rs``): some ``{{Field}}`` (with any filters) of a non-empty field
is reached through sections that are all open, a ``{{#Field}}`` section being open when its field
is non-empty and a ``{{^Field}}`` one when it is empty. Text and comments never count; Anki's
special fields count as non-empty (``{{Card}}``, ``{{Deck}}``...; ``{{Tags}}`` when the note has
tags; never ``{{FrontSide}}``) unless a field of the note type has that name. A field is empty
when it holds only white space and ``<br>`` or ``<div>`` tags (``field_is_empty``).

Nothing is rendered: a front is reduced once to the fields and sections that decide it
(:func:`front_requirement`), and a note is tried against that, so that each note costs a walk of
what its fields open, never a rendering of a template.

genanki works this out with chevron, by rendering every template once per field with the others
filled: time that grows with the square of the number of fields, and it gives up ("Could not
compute required fields") on a front such as ``{{#A}}{{B}}{{/A}}{{#C}}{{D}}{{/C}}``, which Anki
renders as it renders any other.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from deckkit.notetypes import SPECIAL_FIELDS, NoteType, classify_tag, template_tags

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
    left open end with the template.
    """
    root = Section()
    stack: list[tuple[str, Section]] = [("", root)]
    for tag in template_tags(template):
        kind, key = classify_tag(tag.inner)
        if kind == "":
            if key:
                stack[-1][1].fields.add(key)
        elif kind == "/":
            if len(stack) > 1 and stack[-1][0] == key:
                stack.pop()
        else:
            section = Section()
            stack[-1][1].inner.append((kind == "^", key, section))
            stack.append((key, section))
    return root


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


@lru_cache(maxsize=64)
def fronts(note_type: NoteType) -> tuple[Section, ...]:
    """Each template's front, reduced once per note type."""
    return tuple(front_requirement(front) for _name, front, _back in note_type.templates)


def card_ordinals_of(note_type: NoteType, values: Sequence[str], *, tagged: bool) -> list[int]:
    """The templates (from 0) of a standard note type whose cards a note with ``values`` gets."""
    nonempty = nonempty_fields(note_type.fields, values, tagged=tagged)
    return [ordinal for ordinal, front in enumerate(fronts(note_type)) if renders(front, nonempty)]


def shown_fields_req(note_type: NoteType) -> list[list[object]]:
    """A note type's ``req`` for genanki to write: each template with the fields its front shows.

    genanki's own takes time in the square of the number of fields and fails on some fronts Anki
    renders; Anki works ``req`` out again when it imports a note type (``prepare_for_update`` in
    rslib/src/notetype/mod.rs) and takes the package's cards as they are.
    """
    position = {name: index for index, name in reversed(list(enumerate(note_type.fields)))}
    return [
        [ordinal, "any", sorted(position[name] for name in shown_fields(front) if name in position)]
        for ordinal, front in enumerate(fronts(note_type))
    ]
