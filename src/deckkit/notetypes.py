"""deckkit's Anki note types and how a card's content fills their fields.

The ids, field names and template names are a contract with every collection that has imported a
deckkit deck: changing them makes Anki fork the note type ("deckkit Basic+") and skip the notes.
Styling and template markup may change; the note type's ``mod`` then moves forward so that Anki
updates it in place.

A card brought in from an existing deck (``deckkit import``) may keep the note type it had there
(:class:`AnkiNoteType`): it is exported with that note type's id, name, fields,
templates and CSS, each field filled with the card key its role names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from html import escape
from importlib import resources

import genanki

from deckkit.cardtypes import (
    LETTERS,
    Basic,
    Cloze,
    Content,
    MultipleChoice,
    Open,
    Reversed,
    TypeIn,
    role_values,
)
from deckkit.fieldtext.cloze import cloze_numbers


@dataclass(frozen=True)
class AnkiNoteType:
    """An Anki note type a deck keeps from where its cards came from (``deckkit import``).

    Its id, name, field names and template names are those of the note type in the learner's
    collection, so that Anki updates the notes in place; ``mod`` is that note type's modification
    time, so that Anki leaves the learner's note type as it is. Templates and CSS are Anki's text,
    never escaped or rewritten.
    """

    name: str
    id: int
    mod: int
    kind: str  # the card type it carries: basic, reversed, cloze or type_in
    fields: tuple[tuple[str, str | None], ...]  # (field name, card key that fills it or None)
    templates: tuple[tuple[str, str, str], ...]  # (name, front, back)
    css: str = ""
    cloze: bool = False


CSS = resources.files("deckkit").joinpath("data", "cards.css").read_text("utf-8")


@dataclass(frozen=True)
class NoteType:
    """A note type's fixed identity and its current templates."""

    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[tuple[str, str, str], ...]  # (name, front, back)
    is_cloze: bool = False
    css: str | None = None  # None: deckkit's CSS (read when used, so a new styling is picked up)
    # An original note type's: for each field, the card key that fills it (None: left empty).
    # None for deckkit's own note types, whose fields follow the content (see note_fields).
    roles: tuple[str | None, ...] | None = None
    # deckkit's own: what each field holds, by card key (multiple choice's "marked": the choices
    # with the right ones marked, "correct": their letters); read back by `deckkit import`.
    keys: tuple[str, ...] = ()

    @property
    def sort_field_index(self) -> int:
        return 0

    @property
    def style(self) -> str:
        """The note type's CSS."""
        return CSS if self.css is None else self.css

    @property
    def is_original(self) -> bool:
        """A note type kept from an imported deck, not one of deckkit's own."""
        return self.roles is not None

    def fingerprint(self) -> str:
        """A hash of everything Anki stores for the note type; changes when styling does."""
        payload = json.dumps([self.name, self.fields, self.templates, self.is_cloze, self.style])
        return hashlib.sha256(payload.encode()).hexdigest()


_EXTRA = '{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}'

BASIC = NoteType(
    id=1_731_402_101,
    name="deckkit Basic",
    fields=("Front", "Back"),
    templates=(("Card 1", "{{Front}}", '{{FrontSide}}\n<hr id="answer">\n{{Back}}'),),
    keys=("front", "back"),
)
REVERSED = NoteType(
    id=1_731_402_102,
    name="deckkit Basic (and reversed card)",
    fields=("Front", "Back"),
    templates=(
        ("Card 1", "{{Front}}", '{{FrontSide}}\n<hr id="answer">\n{{Back}}'),
        ("Card 2", "{{Back}}", '{{FrontSide}}\n<hr id="answer">\n{{Front}}'),
    ),
    keys=("front", "back"),
)
CLOZE = NoteType(
    id=1_731_402_103,
    name="deckkit Cloze",
    fields=("Text", "Extra"),
    templates=(("Cloze", "{{cloze:Text}}", "{{cloze:Text}}\n" + _EXTRA),),
    is_cloze=True,
    keys=("text", "extra"),
)
TYPE_IN = NoteType(
    id=1_731_402_104,
    name="deckkit Type-in",
    fields=("Front", "Answer", "Extra"),
    templates=(
        (
            "Card 1",
            "{{Front}}\n\n{{type:Answer}}",
            '{{Front}}\n<hr id="answer">\n{{type:Answer}}\n' + _EXTRA,
        ),
    ),
    keys=("front", "answer", "extra"),
)
MULTIPLE_CHOICE = NoteType(
    id=1_731_402_105,
    name="deckkit Multiple choice",
    fields=("Question", "Choices", "Marked choices", "Correct", "Explanation"),
    templates=(
        (
            "Card 1",
            '<div class="question">{{Question}}</div>\n{{Choices}}',
            '<div class="question">{{Question}}</div>\n{{Marked choices}}\n'
            '<p class="correct-answer">Answer: {{Correct}}</p>\n'
            '{{#Explanation}}<div class="explanation">{{Explanation}}</div>{{/Explanation}}',
        ),
    ),
    keys=("question", "choices", "marked", "correct", "explanation"),
)
OPEN = NoteType(
    id=1_731_402_106,
    name="deckkit Explain",
    fields=("Prompt", "Hint", "Concepts", "Answer"),
    templates=(
        (
            "Card 1",
            '<div class="prompt">{{Prompt}}</div>\n'
            '{{#Hint}}<div class="hint">{{hint:Hint}}</div>{{/Hint}}',
            '<div class="prompt">{{Prompt}}</div>\n<hr id="answer">\n'
            "{{Concepts}}\n"
            '{{#Answer}}<div class="model-answer"><div class="label">Model answer</div>'
            "{{Answer}}</div>{{/Answer}}",
        ),
    ),
    keys=("prompt", "hint", "concepts", "answer"),
)

NOTE_TYPES: dict[str, NoteType] = {
    "basic": BASIC,
    "reversed": REVERSED,
    "cloze": CLOZE,
    "type_in": TYPE_IN,
    "multiple_choice": MULTIPLE_CHOICE,
    "open": OPEN,
}


def note_type_for(card_type: str, original: AnkiNoteType | None) -> NoteType:
    """The note type a card is exported with: its original one if it kept it, else deckkit's."""
    if original is not None:
        return original_note_type(original)
    return NOTE_TYPES[card_type]


@lru_cache(maxsize=256)
def original_note_type(anki: AnkiNoteType) -> NoteType:
    """The note type of an imported card's original Anki note type, with its roles."""
    return NoteType(
        id=anki.id,
        name=anki.name,
        fields=tuple(name for name, _role in anki.fields),
        templates=anki.templates,
        is_cloze=anki.cloze,
        css=anki.css,
        roles=tuple(role for _name, role in anki.fields),
    )


def card_fields(content: Content, original: AnkiNoteType | None) -> tuple[str, ...]:
    """A card's field values in the order of the note type it is exported with."""
    if original is None:
        return note_fields(content)
    return note_fields(content, original_note_type(original))


def note_fields(content: Content, note_type: NoteType | None = None) -> tuple[str, ...]:
    """The note's field values, in the note type's field order.

    ``note_type`` matters only for an original note type (one with roles): each of its fields gets
    the card key its role names, and "" when the role is None or the content has no such key.
    """
    if note_type is not None and note_type.roles is not None:
        keys = role_values(content)
        return tuple(keys.get(role, "") if role else "" for role in note_type.roles)
    if isinstance(content, (Basic, Reversed)):
        return (content.front, content.back)
    if isinstance(content, Cloze):
        return (content.text, content.extra)
    if isinstance(content, TypeIn):
        return (content.front, content.answer, content.extra)
    if isinstance(content, MultipleChoice):
        return (
            content.question,
            choices_html(content, marked=False),
            choices_html(content, marked=True),
            ", ".join(content.correct),
            content.explanation,
        )
    if isinstance(content, Open):
        return (content.prompt, content.hint, concepts_html(content.concepts), content.answer)
    raise TypeError(f"no note type for {type(content).__name__}")


def choices_html(content: MultipleChoice, *, marked: bool) -> str:
    """The lettered choices as a list; on the back the right ones are marked (no JavaScript)."""
    items = []
    for letter, choice in zip(LETTERS, content.choices, strict=False):
        css = ""
        mark = ""
        if marked:
            right = letter in content.correct
            css = ' class="correct"' if right else ' class="wrong"'
            mark = '<span class="mark">✓ correct</span>' if right else ""
        items.append(
            f'<li data-letter="{letter}"{css}><span class="letter">{letter}.</span> '
            f'<span class="text">{choice}</span>{mark}</li>'
        )
    return '<ol class="choices">' + "".join(items) + "</ol>"


def concepts_html(concepts: tuple[str, ...]) -> str:
    """The key concepts as a tickable checklist headed by their count; empty when there are none."""
    if not concepts:
        return ""
    count = len(concepts)
    noun = "concept" if count == 1 else "concepts"
    items = "".join(f'<li><label><input type="checkbox"> {c}</label></li>' for c in concepts)
    heading = escape(f"Key {noun}: {count}") + " — tick the ones your answer covered"
    return f'<div class="concepts"><div class="count">{heading}</div><ul>{items}</ul></div>'


def card_ordinals(note_type: NoteType, fields: Sequence[str]) -> list[int]:
    """The ordinals (from 0) of the Anki cards a note with these field values makes.

    Cloze: one card per deletion number found in any field (Anki looks at every field, not only
    the ones its template shows), counting ``{{c1,2::...}}`` and nested deletions as Anki does
    (genanki sees neither), or card 1 alone when there is none. deckkit's other note types: every
    template, since each shows a field that validation keeps filled. An original note type's
    templates may be conditional (Anki's "optional reversed card"), so genanki renders them.
    """
    if note_type.is_cloze:
        numbers = set().union(*(cloze_numbers(value) for value in fields))
        return sorted(number - 1 for number in numbers) or [0]
    if note_type.is_original:
        note = genanki.Note(model=_model_for_ordinals(note_type), fields=list(fields))
        return sorted(card.ord for card in note.cards)
    return list(range(len(note_type.templates)))


@lru_cache(maxsize=64)
def _model_for_ordinals(note_type: NoteType) -> genanki.Model:
    # Which cards a note makes does not depend on mod.
    return _plain_model(_as_anki_reads_it(note_type), mod=0)


def _as_anki_reads_it(note_type: NoteType) -> NoteType:
    """The note type with its templates' tags written as Anki reads them.

    genanki works a note's cards out with chevron, which reads '{{ #Field }}' and '{{/ Field }}'
    as other sections than Anki does (and fails on them); what genanki computes is computed from
    this, while the .apkg carries the templates as written.
    """
    templates = tuple(
        (name, _anki_tags(front), _anki_tags(back)) for name, front, back in note_type.templates
    )
    return (
        note_type if templates == note_type.templates else replace(note_type, templates=templates)
    )


def _anki_tags(template: str) -> str:
    """A template with each tag's inner spaces removed, as Anki reads ``{{ #Field }}``."""
    pieces: list[str] = []
    position = 0
    for tag in template_tags(template):
        pieces += [template[position : tag.start], "{{", _tag_name(tag.inner), "}}"]
        position = tag.end
    return "".join(pieces) + template[position:]


def _tag_name(inner: str) -> str:
    inner = inner.strip()
    if inner[:1] in ("#", "^", "/"):
        return inner[0] + inner[1:].strip()
    return inner


def genanki_model(note_type: NoteType, *, mod: int) -> genanki.Model:
    """The genanki model for a note type, with a fixed modification time."""
    model = _plain_model(note_type, mod=mod)
    as_anki_reads_it = _as_anki_reads_it(note_type)
    if as_anki_reads_it is not note_type:
        # genanki's list of the fields each card needs, from the templates as Anki reads them.
        model.__dict__["_req"] = _plain_model(as_anki_reads_it, mod=mod)._req
    return model


def _plain_model(note_type: NoteType, *, mod: int) -> genanki.Model:
    model = _FixedModModel(
        note_type.id,
        note_type.name,
        fields=[{"name": name} for name in note_type.fields],
        templates=[{"name": n, "qfmt": q, "afmt": a} for n, q, a in note_type.templates],
        css=note_type.style,
        model_type=genanki.Model.CLOZE if note_type.is_cloze else genanki.Model.FRONT_BACK,
        sort_field_index=note_type.sort_field_index,
    )
    model.fixed_mod = mod
    return model


# Ignored: genanki has no type hints, so mypy sees its Model as Any and refuses the subclass.
class _FixedModModel(genanki.Model):  # type: ignore[misc]
    """genanki stamps note types with the build time; Anki then re-imports them every build."""

    fixed_mod = 0

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, object]:
        data: dict[str, object] = super().to_json(timestamp, deck_id)
        data["mod"] = self.fixed_mod
        return data


@dataclass(frozen=True)
class TemplateTag:
    """One ``{{...}}`` of a card template: where it stands and what is inside."""

    start: int
    end: int
    inner: str


def template_tags(template: str) -> Iterator[TemplateTag]:
    """Every ``{{...}}`` of a template, as Anki reads them: each ends at the first ``}}``.

    Linear in the template's length (a regex ``{{(.*?)}}`` reads to the end from every ``{{``
    that is never closed: a stranger's template of many ``{{`` took minutes).
    """
    position = 0
    while (start := template.find("{{", position)) != -1:
        end = template.find("}}", start + 2)
        if end == -1:
            return  # no '}}' after this '{{': nothing later is a tag either
        yield TemplateTag(start, end + 2, template[start + 2 : end])
        position = end + 2


def template_syntax_problem(template: str) -> tuple[str, int] | None:
    """Why Anki cannot render a card template, with the offset of the tag at fault, or None.

    Anki's rule (``rslib/src/template.rs``): each ``{{#Field}}`` or ``{{^Field}}`` section is
    closed by ``{{/Field}}``, innermost first. A template breaking it shows an error on every
    card in Anki, and genanki refuses to work out the note's cards.
    """
    open_sections: list[tuple[str, int]] = []
    for tag in template_tags(template):
        inner = tag.inner.strip()
        if inner[:1] in ("#", "^"):
            open_sections.append((inner[1:].strip(), tag.start))
        elif inner[:1] == "/":
            name = inner[1:].strip()
            if not open_sections:
                return f"'{{{{/{name}}}}}' closes no section: add '{{{{#{name}}}}}' before it", (
                    tag.start
                )
            expected, _start = open_sections.pop()
            if name != expected:
                return (
                    f"'{{{{/{name}}}}}' closes '{{{{#{expected}}}}}': close the inner section "
                    f"first with '{{{{/{expected}}}}}'",
                    tag.start,
                )
    if open_sections:
        name, start = open_sections[-1]
        return f"'{{{{#{name}}}}}' is never closed: add '{{{{/{name}}}}}'", start
    return None
