"""Checks of the note types a deck declares and of the cards that give their fields by name.

A deck sees its own ``note_types``, those of the note-type files it names and deckkit's six
(:mod:`deckkit.sources.declared` reads them, templates and CSS from wherever they are kept); each
problem is reported where it was written: in the deck, in a note-type file, or inside a template
or CSS file at its own line and column. What is checked, by Anki's rules
(https://github.com/ankitects/anki/tree/main/rslib/src/notetype):

- field names as Anki stores them (``fields.rs``, ``fix_name``: no ``:`` ``{`` ``}`` ``"``, not
  starting with ``#`` ``/`` ``^``, no spaces around; unique ignoring case, ``ensure_names_unique``),
  template names unique ignoring case, ``sort_field`` naming a field, a name declared once;
- templates: Anki's syntax, the fields they name, a front that shows some field, a cloze note
  type's one template with ``{{cloze:Field}}`` on both sides; their code as in fields (scripts,
  remote resources, break-outs) and the local files they load, which ``media`` must list;
- cards: the note type they name, their fields, ``required`` fields, and a note that would make
  no card at all (Anki's "empty cards", worked out as Anki does: :mod:`deckkit.anki_templates`),
  and the templates their ``card_decks`` name (:mod:`deckkit.sources.card_decks`);
- template media (:mod:`deckkit.sources.note_type_media`).

Every check reads each thing once, in time linear in its size: a stranger's note type may have
100,000 fields or a template of megabytes, and may name thousands of unknown fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from deckkit.anki_templates import (
    SPECIAL_FIELDS,
    front_requirement,
    shown_fields,
    template_field_names,
)
from deckkit.fieldtext.media import resolve_reference
from deckkit.notetypes import NOTE_TYPES, NOTE_TYPES_BY_NAME, template_syntax_problem
from deckkit.problems import Problem, shorten
from deckkit.sources.card_decks import check_card_decks
from deckkit.sources.declared import DeclaredNoteType, mark_of
from deckkit.sources.loader import LoadedSource
from deckkit.sources.note_type_cards import check_cards
from deckkit.sources.note_type_media import check_media_of_note_types
from deckkit.sources.note_type_view import (
    PER_TEXT,
    View,
    cloze_fields,
    sides,
    some_names,
    view_of,
)
from deckkit.sources.text_checks import code_problems


def check_declared_note_types(source: LoadedSource) -> Iterator[Problem]:
    """Every problem of the note types a source sees and of the cards naming them."""
    if not isinstance(source.data, dict):
        return
    view = view_of(source)  # what reading the files found: checks.check_note_type_files
    yield from _check_declarations(view)
    yield from check_cards(view)
    yield from check_card_decks(view)
    yield from check_media_of_note_types(view)


def _check_declarations(view: View) -> Iterator[Problem]:
    first: dict[str, DeclaredNoteType] = {}
    for note_type in view.declared.note_types:
        yield from _duplicate_name(view, note_type, first)
        yield from _deckkit_id(view, note_type)
        yield from _field_names(note_type)
        yield from _sort_field(view, note_type)
        yield from _template_names(note_type)
        yield from _templates(view, note_type)
        if not note_type.raw.get("kind"):  # a kept note type of a kind: see checks.py
            yield from _cloze_templates(note_type)


# --- names --------------------------------------------------------------------------------------


def _duplicate_name(
    view: View, note_type: DeclaredNoteType, first: dict[str, DeclaredNoteType]
) -> Iterator[Problem]:
    name = note_type.raw.get("name")
    if not isinstance(name, str):
        return
    mark = mark_of(note_type, "name")
    if name in NOTE_TYPES_BY_NAME:
        yield note_type.source.problem(
            mark,
            f"'{name}' is the name of one of deckkit's own note types; give yours another name "
            "(a card may use deckkit's by naming it in note_type and giving its fields)",
            "check.duplicate-note-type",
        )
    other = first.setdefault(name, note_type)
    if other is note_type or _same_declaration(other, note_type):
        return
    if other.source.path == note_type.source.path:
        if note_type.source is not view.source:  # the deck's own: check_note_types reports it
            yield note_type.source.problem(
                mark,
                f"note type name '{shorten(name)}' is already declared at line "
                f"{mark_of(other, 'name').line}; give each note type of a deck its own name",
                "check.duplicate-note-type",
            )
        return
    # In two files: at the deck's own declaration if it is one, where the deck's author looks.
    here, there = (other, note_type) if other.source is view.source else (note_type, other)
    yield here.source.problem(
        mark_of(here, "name"),
        f"note type name '{shorten(name)}' is also declared at {there.source.display}:"
        f"{mark_of(there, 'name').line}, which {view.source.display} uses too; give each note "
        "type a deck uses its own name, or declare it once in a note-type file",
        "check.duplicate-note-type",
    )


_DECKKIT_IDS = {note_type.id: note_type.name for note_type in NOTE_TYPES.values()}


def _deckkit_id(view: View, note_type: DeclaredNoteType) -> Iterator[Problem]:
    """deckkit's own id in a note-type file a deck uses (in the deck itself, check_note_types
    says so in the same words; one id declared two ways is check.conflicting-note-type)."""
    anki_id = note_type.raw.get("id")
    if note_type.source is not view.source and anki_id in _DECKKIT_IDS:
        yield note_type.source.problem(
            mark_of(note_type, "id"),
            f"note type id {anki_id} is deckkit's own '{_DECKKIT_IDS[anki_id]}'; remove this note "
            "type and the cards' 'note_type' naming it",
            "check.duplicate-note-type",
        )


def _same_declaration(one: DeclaredNoteType, other: DeclaredNoteType) -> bool:
    """Whether two declarations are one note type: the same one read twice, or the same text in
    two files (templates and CSS read, media where they lead)."""
    if one.source.path == other.source.path and one.index == other.index:
        return True
    return _content(one) == _content(other)


def _content(note_type: DeclaredNoteType) -> tuple[object, ...]:
    raw = note_type.raw
    folder = note_type.source.path.parent
    plain = {k: v for k, v in raw.items() if k not in ("templates", "css_file", "css", "media")}
    options = [
        (t.get("name"), t.get("browser_front"), t.get("browser_back"))
        for t in raw.get("templates") or ()
        if isinstance(t, dict)
    ]
    media = [resolve_reference(m, folder) for m in raw.get("media") or () if isinstance(m, str)]
    return (repr(sorted(plain.items())), options, note_type.templates, note_type.css, media)


_BAD_FIELD_CHARACTERS = re.compile(r'[:{}"]')
_BAD_FIELD_START = re.compile(r"[#/^\s]+")


def anki_field_name(name: str) -> str:
    """The name Anki gives a field called ``name`` (``fix_name`` in rslib/src/notetype/fields.rs);
    empty when Anki refuses it."""
    fixed = _BAD_FIELD_CHARACTERS.sub("", name).strip()
    start = _BAD_FIELD_START.match(fixed)
    return fixed[start.end() :] if start else fixed


def _field_names(note_type: DeclaredNoteType) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for position, item in enumerate(note_type.raw.get("fields") or ()):
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            continue  # the schema reports it
        path = ("fields", position, "name") if isinstance(item, dict) else ("fields", position)
        mark = mark_of(note_type, *path)
        fixed = anki_field_name(name)
        if fixed != name:
            stored = f"stores it as '{shorten(fixed)}'" if fixed else "refuses it"
            yield note_type.source.problem(
                mark,
                f"field name '{shorten(name)}' breaks Anki's rules for field names (no ':', "
                "'{', '}' or '\"', not starting with '#', '/' or '^', no spaces around it): Anki "
                f"{stored}; rename the field",
                "check.field-name",
            )
        key = name.casefold()  # Anki tells names apart without case (UniCase)
        if key in seen:
            yield note_type.source.problem(
                mark,
                f"field name '{shorten(name)}' is already used at line {seen[key]} (Anki tells "
                "field names apart without case); give each field its own name",
                "check.duplicate-field",
            )
        else:
            seen[key] = mark.line


def _sort_field(view: View, note_type: DeclaredNoteType) -> Iterator[Problem]:
    sort_field = note_type.raw.get("sort_field")
    names = view.fields_of(note_type)
    if isinstance(sort_field, str) and sort_field not in set(names):
        yield note_type.source.problem(
            mark_of(note_type, "sort_field"),
            f"sort_field '{shorten(sort_field)}' is not a field of note type "
            f"'{shorten(note_type.name)}'{view.hints(sort_field, names)}; name one of its fields "
            f"({some_names(names)})",
            "check.sort-field",
        )


def _template_names(note_type: DeclaredNoteType) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for position, template in enumerate(note_type.raw.get("templates") or ()):
        name = template.get("name") if isinstance(template, dict) else None
        if not isinstance(name, str):
            continue
        mark = mark_of(note_type, "templates", position, "name")
        if '"' in name:
            yield note_type.source.problem(
                mark,
                f"template name '{shorten(name)}' holds '\"', which Anki removes; remove it",
                "check.template-name",
            )
        key = name.casefold()
        if key in seen:
            yield note_type.source.problem(
                mark,
                f"template name '{shorten(name)}' is already used at line {seen[key]} (Anki "
                "tells template names apart without case); give each template its own name",
                "check.duplicate-template",
            )
        else:
            seen[key] = mark.line


# --- templates and CSS --------------------------------------------------------------------------


def _templates(view: View, note_type: DeclaredNoteType) -> Iterator[Problem]:
    fields = view.fields_of(note_type)
    known = set(fields)
    for side in sides(note_type):
        yield from code_problems(side.where, side.findings(), side.problem)
        if side.kind == "css":
            continue
        syntax = template_syntax_problem(side.text)
        if syntax is not None:
            message, offset = syntax
            yield side.problem(offset, f"{side.where}: {message}", "check.template-syntax")
        reported: set[str] = set()
        for name, offset in template_field_names(side.text):
            if name in known or name in reported or len(reported) >= PER_TEXT:
                continue
            reported.add(name)
            yield side.problem(
                offset,
                f"{side.where} names the field '{shorten(name)}', which the note type does not "
                f"have{view.hints(name, fields)} (its fields: {some_names(fields)}); correct the "
                "name or add the field",
                "check.unknown-template-field",
            )
        if side.kind == "front" and not _shows_something(side.text):
            yield side.problem(
                0,
                f"{side.where} shows no field, so Anki never makes its card; show one, such as "
                f"{{{{{shorten(fields[0]) if fields else 'Field'}}}}}",
                "check.empty-front",
            )


# What a front may show besides fields (the others are never empty to Anki's card generation).
_SHOWN_WITHOUT_FIELDS = SPECIAL_FIELDS - {"FrontSide"}


def _shows_something(front: str) -> bool:
    """Whether a front shows some field (a field the note type may lack: reported as such) or a
    special field, outside comments: Anki makes no card of a front that shows only text."""
    return any(
        name not in SPECIAL_FIELDS or name in _SHOWN_WITHOUT_FIELDS
        for name in shown_fields(front_requirement(front))
    )


def _cloze_templates(note_type: DeclaredNoteType) -> Iterator[Problem]:
    label = f"note type '{shorten(note_type.name)}'"
    if note_type.raw.get("cloze") is not True:
        for side in sides(note_type):
            found = cloze_fields(side.text) if side.kind != "css" else []
            if found:
                name, offset = found[0]
                yield side.problem(
                    offset,
                    f"{side.where} uses {{{{cloze:{shorten(name)}}}}}, which shows deletions only "
                    f"in a cloze note type; set cloze: true on {label}, or show the field with "
                    f"{{{{{shorten(name)}}}}}",
                    "check.cloze-template",
                    "warning",
                )
        return
    if len(note_type.templates) > 1:
        yield note_type.source.problem(
            mark_of(note_type, "templates", 1),
            f"cloze {label} has {len(note_type.templates)} templates: Anki makes a cloze note's "
            "cards (one per deletion number) from the first alone; remove the others",
            "check.cloze-template",
        )
    for side in sides(note_type):
        if side.template == 0 and not cloze_fields(side.text):
            yield side.problem(
                0,
                f"{side.where} has no {{{{cloze:Field}}}}: Anki shows no deletion on its cards "
                "(and its editor refuses such a note type); show the cloze text with "
                "{{cloze:Text}} on both sides",
                "check.cloze-template",
            )
