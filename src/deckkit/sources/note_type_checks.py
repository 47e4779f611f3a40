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
  no card at all (Anki's "empty cards", worked out as Anki does: :mod:`deckkit.anki_templates`);
- template media (:mod:`deckkit.sources.note_type_media`).

Every check reads each thing once, in time linear in its size: a stranger's note type may have
100,000 fields or a template of megabytes, and may name thousands of unknown fields.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from deckkit.anki_templates import (
    SPECIAL_FIELDS,
    front_requirement,
    shown_fields,
    template_field_names,
)
from deckkit.notetypes import NOTE_TYPES_BY_NAME, template_syntax_problem
from deckkit.problems import Problem, shorten
from deckkit.sources.declared import DeclaredNoteType, mark_of
from deckkit.sources.loader import LoadedSource
from deckkit.sources.note_type_cards import check_cards
from deckkit.sources.note_type_media import check_media_of_note_types
from deckkit.sources.note_type_view import (
    PER_TEXT,
    View,
    cloze_fields,
    findings,
    sides,
    some_names,
    view_of,
)
from deckkit.sources.text_checks import code_problems


def check_declared_note_types(source: LoadedSource) -> Iterator[Problem]:
    """Every problem of the note types a source sees and of the cards naming them."""
    if not isinstance(source.data, dict):
        return
    view = view_of(source)
    yield from view.declared.problems
    yield from _check_declarations(view)
    yield from check_cards(view)
    yield from check_media_of_note_types(view)


def _check_declarations(view: View) -> Iterator[Problem]:
    first: dict[str, DeclaredNoteType] = {}
    for note_type in view.declared.note_types:
        yield from _duplicate_name(view, note_type, first)
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
        if note_type.source is view.source:
            return  # check_note_types reports it, in the same words
        where = f"line {mark_of(other, 'name').line}"
    else:
        where = f"{other.source.display}:{mark_of(other, 'name').line}"
    yield note_type.source.problem(
        mark,
        f"note type name '{shorten(name)}' is already declared at {where}; give each note type "
        "of a deck its own name",
        "check.duplicate-note-type",
    )


def _same_declaration(one: DeclaredNoteType, other: DeclaredNoteType) -> bool:
    """Whether two declarations are one note type: the same one read twice, or the same text in
    two files (templates and CSS read, media where they lead)."""
    if one.source.path == other.source.path and one.index == other.index:
        return True
    return _content(one) == _content(other)


def _content(note_type: DeclaredNoteType) -> tuple[object, ...]:
    from deckkit.fieldtext.media import resolve_reference

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
    for where, text, place in sides(note_type):

        def problem_at(offset: int, message: str, code: str, severity: str) -> Problem:
            return place.problem(offset, text, message, code, severity)  # noqa: B023 - used now

        yield from code_problems(where, findings(where, text), problem_at)
        if where.startswith("the CSS"):
            continue
        syntax = template_syntax_problem(text)
        if syntax is not None:
            message, offset = syntax
            yield problem_at(offset, f"{where}: {message}", "check.template-syntax", "error")
        reported: set[str] = set()
        for name, offset in template_field_names(text):
            if name in known or name in reported or len(reported) >= PER_TEXT:
                continue
            reported.add(name)
            yield problem_at(
                offset,
                f"{where} names the field '{shorten(name)}', which the note type does not have"
                f"{view.hints(name, fields)} (its fields: {some_names(fields)}); correct the name "
                "or add the field",
                "check.unknown-template-field",
                "error",
            )
        if where.startswith("the front") and not _may_show_something(text, known):
            yield problem_at(
                0,
                f"{where} shows no field, so Anki never makes its card; show one, such as "
                f"{{{{{shorten(fields[0]) if fields else 'Field'}}}}}",
                "check.empty-front",
                "error",
            )


_SHOWN_WITHOUT_FIELDS = SPECIAL_FIELDS - {"FrontSide"}


def _may_show_something(front: str, fields: set[str]) -> bool:
    """Whether a front shows some field or special field (Anki counts no text as a card)."""
    return any(
        name in fields or name in _SHOWN_WITHOUT_FIELDS
        for name in shown_fields(front_requirement(front))
    )


def _cloze_templates(note_type: DeclaredNoteType) -> Iterator[Problem]:
    label = f"note type '{shorten(note_type.name)}'"
    if note_type.raw.get("cloze") is True:
        if len(note_type.templates) > 1:
            yield note_type.source.problem(
                mark_of(note_type, "templates", 1),
                f"cloze {label} has {len(note_type.templates)} templates: Anki makes a cloze "
                "note's cards (one per deletion number) from the first alone; remove the others",
                "check.cloze-template",
            )
        for (where, text, place), _ in zip(sides(note_type), range(2), strict=False):
            if not cloze_fields(text):
                yield place.problem(
                    0,
                    text,
                    f"{where} has no {{{{cloze:Field}}}}: Anki shows no deletion on its cards "
                    "(and its editor refuses such a note type); show the cloze text with "
                    "{{cloze:Text}} on both sides",
                    "check.cloze-template",
                    "error",
                )
        return
    for where, text, place in itertools.islice(sides(note_type), 2 * len(note_type.templates)):
        found = cloze_fields(text)
        if found:
            name, offset = found[0]
            yield place.problem(
                offset,
                text,
                f"{where} uses {{{{cloze:{shorten(name)}}}}}, which shows deletions only in a "
                f"cloze note type; set cloze: true on {label}, or show the field with "
                f"{{{{{shorten(name)}}}}}",
                "check.cloze-template",
                "warning",
            )
