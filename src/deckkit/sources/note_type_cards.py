"""Checks of the cards that name a note type (``note_type``): that it is one the deck sees, that
the card fills it the way it takes its fields (by name, or by role for a note type kept with a
``kind``), that the fields it gives are the note type's and its ``required`` ones are filled, and
that its note makes at least one Anki card (else Anki's Empty Cards would delete it).

Which cards a note makes is worked out with the functions that
:func:`deckkit.notetypes.card_ordinals` uses (:mod:`deckkit.anki_templates`), from the fields a
card gives, so that a card costs what it gives, whatever the number of its note type's fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from deckkit.anki_templates import Section, front_requirement, renders, special_fields_shown
from deckkit.anki_templates import field_is_empty as anki_field_is_empty
from deckkit.cardtypes import CARD_TYPES, ROLE_CARD_TYPES
from deckkit.fieldtext.cloze import cloze_numbers
from deckkit.fieldtext.markup import is_blank
from deckkit.notetypes import NOTE_TYPES_BY_NAME, NoteType, template_field_names
from deckkit.problems import Problem, shorten
from deckkit.sources.declared import DeclaredNoteType, field_options
from deckkit.sources.note_type_view import View, card_type, cards_of, cloze_fields, some_names

_PER_CARD = 10  # unknown or missing fields reported per card


@dataclass
class _Shape:
    """What a card of a note type is checked against, worked out once per note type."""

    name: str
    fields: list[str]
    known: set[str]
    required: list[str]
    cloze: bool
    fronts: list[Section]
    cloze_fields: list[str]  # the fields its cloze filter shows
    mentioned: list[str]  # the fields its fronts name, in the note type's order
    named: frozenset[str]  # the same, as a set
    # Whether a note makes a card, by the fields of ``named`` it fills: many notes fill the same.
    makes_cards: dict[frozenset[str], bool] = field(default_factory=dict)


def check_cards(view: View) -> Iterator[Problem]:
    """Every problem of the cards of ``view.source`` that name a note type."""
    names = [*view.by_name, *(n for n in NOTE_TYPES_BY_NAME if n not in view.by_name)]
    shapes: dict[int, _Shape] = {}
    deck_tagged = bool(view.source.data.get("tags"))
    for index, card in cards_of(view.source):
        name = card.get("note_type")
        kind = card_type(card)
        if not isinstance(name, str) or (kind != "fields" and kind not in ROLE_CARD_TYPES):
            continue  # multiple-choice and open cards cannot have one: the schema says so
        declared = view.by_name.get(name)
        builtin = NOTE_TYPES_BY_NAME.get(name) if declared is None else None
        if declared is None and builtin is None:
            yield view.source.problem(
                view.source.mark_of_value(("cards", index, "note_type")),
                f"note type '{shorten(name)}' is not declared under note_types"
                f"{view.hints(name, names)} (declared: {some_names(view.by_name)}); declare it "
                "there or remove the card's note_type",
                "check.unknown-note-type",
            )
        elif kind != "fields":
            yield from _role_card(view, index, card, kind, declared)
        elif declared is not None and isinstance(declared.raw.get("kind"), str):
            yield _fields_for_roles(view, index, declared)
        else:
            key = id(declared) if declared is not None else id(builtin)
            if key not in shapes:
                shapes[key] = _shape(view, declared, builtin)
            tagged = deck_tagged or bool(card.get("tags")) or bool(card.get("level"))
            yield from _fields_card(view, index, card, shapes[key], tagged=tagged)


def _shape(view: View, declared: DeclaredNoteType | None, builtin: NoteType | None) -> _Shape:
    if declared is not None:
        fields = view.fields_of(declared)
        required = [
            name for name, options in field_options(declared.raw) if options.get("required")
        ]
        templates = declared.templates
        name, cloze = declared.name, declared.raw.get("cloze") is True
    else:
        assert builtin is not None
        fields, required = list(builtin.fields), []
        templates, name, cloze = builtin.templates, builtin.name, builtin.is_cloze
    known = set(fields)
    named = {n for _name, front, _back in templates for n, _ in template_field_names(front)}
    return _Shape(
        name=name,
        fields=fields,
        known=known,
        required=required,
        cloze=cloze,
        fronts=[front_requirement(front) for _name, front, _back in templates],
        cloze_fields=[n for n, _ in cloze_fields(templates[0][1])] if templates else [],
        mentioned=[f for f in fields if f in named],
        named=frozenset(named),
    )


def _role_card(
    view: View, index: int, card: Mapping[str, Any], kind: str, declared: DeclaredNoteType | None
) -> Iterator[Problem]:
    """A card with front/back (or text...) naming a note type: one kept with its ``kind``."""
    source = view.source
    mark = source.mark_of_value(("cards", index, "note_type"))
    name = str(card["note_type"])
    keys = ", ".join(k for k in CARD_TYPES[kind].roles if k in card) or "keys"
    if declared is None:
        yield source.problem(
            mark,
            f"'{shorten(name)}' is one of deckkit's own note types: a card names it only to give "
            f"its fields by name (fields: ...); leave note_type out of a {_label(kind)} card",
            "check.note-type-kind",
        )
        return
    note_kind = declared.raw.get("kind")
    if not isinstance(note_kind, str):
        fields = view.fields_of(declared)
        yield source.problem(
            mark,
            f"note type '{shorten(name)}' takes its fields by name: give them under fields "
            f"({some_names(fields)}) instead of {keys}",
            "check.note-type-kind",
        )
        return
    if note_kind != kind:
        yield source.problem(
            mark,
            f"note type '{name}' carries {_label(note_kind)} cards, not {_label(kind)} ones; "
            f"name a note type of kind {kind} or remove the card's note_type",
            "check.note-type-kind",
        )
        return
    roles = {f.get("role") for f in declared.raw.get("fields") or () if isinstance(f, dict)}
    for key in CARD_TYPES[kind].roles:
        value = card.get(key)
        if (
            key not in roles
            and key not in CARD_TYPES[kind].must_show  # reported at the note type
            and isinstance(value, str)
            and not is_blank(value)
        ):
            yield source.problem(
                source.mark_of_value(("cards", index, key)),
                f"note type '{name}' has no field for '{key}', so this text would be lost; "
                f"remove it or give a field of '{name}' the role {key}",
                "check.note-type-kind",
            )


def _fields_for_roles(view: View, index: int, declared: DeclaredNoteType) -> Problem:
    kind = str(declared.raw["kind"])
    keys = "/".join(CARD_TYPES[kind].roles) if kind in CARD_TYPES else kind
    return view.source.problem(
        view.source.mark_of_value(("cards", index, "note_type")),
        f"note type '{shorten(declared.name)}' carries {_label(kind)} cards (kind: {kind}), "
        f"whose {keys} fill its fields: give those instead of fields, or name a note type "
        "without a kind",
        "check.note-type-kind",
    )


def _fields_card(
    view: View, index: int, card: Mapping[str, Any], shape: _Shape, *, tagged: bool
) -> Iterator[Problem]:
    given = card.get("fields")
    if not isinstance(given, dict):
        return  # the schema reports it
    source = view.source
    where = ("cards", index, "fields")
    unknown = [key for key in given if key not in shape.known]
    for key in unknown[:_PER_CARD]:
        yield source.problem(
            source.mark_of_key((*where, key)),
            f"note type '{shorten(shape.name)}' has no field '{shorten(str(key))}'"
            f"{view.hints(str(key), shape.fields)} (its fields: {some_names(shape.fields)}); "
            "correct the name, or add the field to the note type",
            "check.unknown-field",
        )
    card_id = shorten(str(card.get("id")))
    missing = [name for name in shape.required if name not in given]
    for name in missing[:_PER_CARD]:
        yield source.problem(
            source.mark_of_value(where),
            f"card '{card_id}' leaves out '{shorten(name)}', which note type "
            f"'{shorten(shape.name)}' requires (required: true); give it under fields",
            "check.required-field",
        )
    blank = [n for n in shape.required if n in given and is_blank(_text(given[n]) or "x")]
    for name in blank[:_PER_CARD]:
        yield source.problem(
            source.mark_of_value((*where, name)),
            f"field '{shorten(name)}' is empty (no text once HTML is removed), but note type "
            f"'{shorten(shape.name)}' requires it; write it or remove the card",
            "check.required-field",
        )
    filled = {k for k, v in given.items() if k in shape.known and not _empty_to_anki(v)}
    if shape.cloze:
        if shape.cloze_fields and not any(cloze_numbers(_text(given[k]) or "") for k in filled):
            yield source.problem(
                source.mark_of_value(where),
                f"card '{card_id}' has no cloze deletion in its fields, so Anki shows its card as "
                f"an error; mark the answer in '{shorten(shape.cloze_fields[0])}' as "
                "{{c1::answer}}",
                "check.cloze-without-deletion",
            )
        return
    tags = {"Tags"} if tagged and "Tags" not in shape.known else set()  # {{Tags}} shows them
    shown = frozenset(filled & shape.named) | tags
    if shown not in shape.makes_cards:
        nonempty = shown | special_fields_shown(shape.known, tagged=tagged)
        shape.makes_cards[shown] = any(renders(front, nonempty) for front in shape.fronts)
    if shape.makes_cards[shown]:
        return
    to_fill = [name for name in shape.mentioned if name not in filled]
    if not shape.mentioned:
        return  # no front shows a field: reported at the templates (check.empty-front)
    what = f"fill {some_names(to_fill)}" if to_fill else "fill the fields its fronts show"
    yield source.problem(
        source.mark_of_value(where),
        f"card '{card_id}' makes no Anki card: with these fields the front of every template of "
        f"note type '{shorten(shape.name)}' is empty (Anki's Empty Cards would delete the note); "
        f"{what}",
        "check.no-card",
    )


def _text(value: Any) -> str | None:
    """A field's text as the build reads it ("" for a field written empty), None for none."""
    if value is None:
        return ""
    return value if isinstance(value, str) else None


def _empty_to_anki(value: Any) -> bool:
    text = _text(value)
    return text is None or anki_field_is_empty(text)


def _label(kind: str) -> str:
    return kind.replace("_", "-")
