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
    Fields,
    MultipleChoice,
    Open,
    Reversed,
    TypeIn,
    role_values,
)
from deckkit.fieldtext.cloze import cloze_numbers
from deckkit.fieldtext.media import MediaFile

# What a note type's field or template carries besides its name, as Anki's JSON keys and values
# (``font``, ``size``, ``rtl``, ``description``, ``plainText``...; ``bqfmt``, ``bafmt``): only the
# options a declaration gives, so a note type without any is written exactly as before.
Options = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class AnkiNoteType:
    """A note type a deck declares (``note_types``): an author's, or one ``deckkit import`` kept.

    Its id, name, field names and template names are a contract with the learner's collection,
    so that Anki updates the notes in place. ``mod`` is a time the declaration gives (written by
    older imports; None: the lockfile's). Templates and CSS are Anki's text, never escaped or
    rewritten.
    """

    name: str
    id: int
    mod: int | None
    # The card type it carries with each field's role (basic, reversed, cloze or type_in: a note
    # type kept by `deckkit import` for such cards); None: cards give its fields by name.
    kind: str | None
    fields: tuple[tuple[str, str | None], ...]  # (field name, card key that fills it or None)
    templates: tuple[tuple[str, str, str], ...]  # (name, front, back)
    css: str = ""
    cloze: bool = False
    field_options: tuple[Options, ...] = ()  # per field, when any is given
    template_options: tuple[Options, ...] = ()  # per template, when any is given
    sort_field: int = 0
    latex: tuple[str | None, str | None, bool] = (None, None, False)  # pre, post, svg
    media: tuple[MediaFile, ...] = ()  # the files its templates and CSS load
    required: tuple[str, ...] = ()  # fields every card must fill (deckkit's own rule)


def declared_note_type_id(name: str) -> int:
    """A declared note type's id when the declaration gives none: from its name, stable, in the
    range of Anki's own ids (milliseconds of a date, as Anki makes them)."""
    digest = hashlib.sha256(f"deckkit-note-type:{name}".encode()).digest()
    return 1_500_000_000_000 + int.from_bytes(digest[:8], "big") % 500_000_000_000


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
    field_options: tuple[Options, ...] = ()
    template_options: tuple[Options, ...] = ()
    sort_field_index: int = 0
    latex: tuple[str | None, str | None, bool] = (None, None, False)  # pre, post, svg

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
        parts: list[object] = [self.name, self.fields, self.templates, self.is_cloze, self.style]
        extra = [self.field_options, self.template_options, self.sort_field_index, self.latex]
        if extra != [(), (), 0, (None, None, False)]:  # deckkit's own: their hashes as before
            parts.append(extra)
        payload = json.dumps(parts)
        return hashlib.sha256(payload.encode()).hexdigest()

    def schema(self) -> str:
        """A hash of what Anki treats as the note type's schema: its field names, its template
        names and whether it is a cloze note type. Anki refuses to update a note type (and its
        notes) across a change of these with its default import options."""
        return schema_hash(self.fields, self.template_names, cloze=self.is_cloze)

    @property
    def template_names(self) -> tuple[str, ...]:
        """The names of its card templates, in order."""
        return tuple(name for name, _front, _back in self.templates)


def schema_hash(fields: Sequence[str], templates: Sequence[str], *, cloze: bool) -> str:
    """The hash :meth:`NoteType.schema` gives for these field names, template names and kind."""
    payload = json.dumps([list(fields), list(templates), cloze])
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


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
    """The note type a card is exported with: the declared one it names, else deckkit's own for
    its card type."""
    if original is not None:
        return original_note_type(original)
    return NOTE_TYPES[card_type]


NOTE_TYPES_BY_NAME: dict[str, NoteType] = {t.name: t for t in NOTE_TYPES.values()}


def builtin_as_declared(note_type: NoteType) -> AnkiNoteType:
    """One of deckkit's six note types as a declaration, for cards that give its fields by name
    (``note_type: deckkit Basic`` with ``fields``): the same id, fields, templates and styling."""
    return AnkiNoteType(
        name=note_type.name,
        id=note_type.id,
        mod=None,
        kind=None,
        fields=tuple((name, None) for name in note_type.fields),
        templates=note_type.templates,
        css=note_type.style,
        cloze=note_type.is_cloze,
    )


@lru_cache(maxsize=256)
def original_note_type(anki: AnkiNoteType) -> NoteType:
    """The note type of a declared Anki note type, with its roles."""
    return NoteType(
        id=anki.id,
        name=anki.name,
        fields=tuple(name for name, _role in anki.fields),
        templates=anki.templates,
        is_cloze=anki.cloze,
        css=anki.css,
        roles=tuple(role for _name, role in anki.fields),
        field_options=anki.field_options,
        template_options=anki.template_options,
        sort_field_index=anki.sort_field,
        latex=anki.latex,
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
    if isinstance(content, Fields):
        if note_type is None:
            raise TypeError("a card giving fields by name needs its note type")
        return tuple(content.get(name) for name in note_type.fields)
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
        if not any(fields):
            return []  # Anki makes no card of a note whose fields are all empty
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
    fields: list[dict[str, object]] = [{"name": name} for name in note_type.fields]
    for field, options in zip(fields, note_type.field_options, strict=False):
        field.update(options)
    templates: list[dict[str, object]] = [
        {"name": n, "qfmt": q, "afmt": a} for n, q, a in note_type.templates
    ]
    for template, options in zip(templates, note_type.template_options, strict=False):
        template.update(options)
    latex_pre, latex_post, latex_svg = note_type.latex
    latex = {"latex_pre": latex_pre, "latex_post": latex_post}
    model = _FixedModModel(
        note_type.id,
        note_type.name,
        fields=fields,
        templates=templates,
        css=note_type.style,
        model_type=genanki.Model.CLOZE if note_type.is_cloze else genanki.Model.FRONT_BACK,
        sort_field_index=note_type.sort_field_index,
        **{key: value for key, value in latex.items() if value is not None},
    )
    model.fixed_mod = mod
    model.latex_svg = latex_svg
    return model


# Ignored: genanki has no type hints, so mypy sees its Model as Any and refuses the subclass.
class _FixedModModel(genanki.Model):  # type: ignore[misc]
    """genanki stamps note types with the build time; Anki then re-imports them every build."""

    fixed_mod = 0
    latex_svg = False  # genanki always writes False

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, object]:
        data: dict[str, object] = super().to_json(timestamp, deck_id)
        data["mod"] = self.fixed_mod
        data["latexsvg"] = self.latex_svg
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


# Anki's special fields, offered to every template (rslib/src/template.rs and card rendering).
SPECIAL_FIELDS = frozenset(
    ["FrontSide", "Tags", "Type", "Deck", "Subdeck", "Card", "CardFlag", "CardID"]
)


def template_field_names(template: str) -> Iterator[tuple[str, int]]:
    """Each note field a template names, with the offset of its tag, in order: ``{{Word}}``,
    ``{{text:Word}}``, ``{{cloze:Text}}``, ``{{#Word}}``...; not Anki's special fields."""
    for tag in template_tags(template):
        inner = tag.inner.strip()
        if inner[:1] in ("#", "^", "/"):
            inner = inner[1:].strip()
        elif inner[:1] in ("!", "="):
            continue  # a comment, or a delimiter change Anki does not support anyway
        name = inner.rpartition(":")[2].strip()  # filters first: {{hint:text:Word}}
        if name and name not in SPECIAL_FIELDS:
            yield name, tag.start


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
