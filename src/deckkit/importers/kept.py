"""Which note type an imported card ends up with: the one it had, or deckkit's.

Notes keep their GUID (so a rebuilt deck updates the learner's notes), but Anki only updates a
note in place when its note type is the same. So cards from a package's own note types keep
them: each such note type is written under the deck's ``note_types`` exactly as the package has
it (id, fields with Anki's field options, templates with their browser formats, CSS, LaTeX, sort
field, the files its templates load) and named by the card's ``note_type``, and the rebuilt deck
updates the very notes it came from. A note type whose notes are all one of deckkit's card
shapes, field for field, keeps that shape (``kind``: the card's keys fill its fields by
``role``); any other gives its fields by name. A text export's note types are not the
collection's: its cards get deckkit's note types, and a
:class:`~deckkit.importers.types.Conversion` says how to change the learner's notes to them once
in Anki.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import genanki

from deckkit.importers.mapping import Roles
from deckkit.importers.types import Conversion, NoteTypeInfo
from deckkit.importers.yaml_writer import FlowMap
from deckkit.model import FIELD_OPTIONS, TEMPLATE_OPTIONS
from deckkit.notetypes import NOTE_TYPES


@dataclass(frozen=True)
class Kept:
    """An original note type cards keep, with the card type it carries and each field's role;
    without a card type (``kind`` None) its cards give its fields by name."""

    info: NoteTypeInfo
    kind: str | None
    roles: tuple[str | None, ...] = ()  # per field: the card key that fills it, or None


_DECKKIT_IDS = frozenset(note_type.id for note_type in NOTE_TYPES.values())


def kept_note_type(note_type: NoteTypeInfo, roles: Roles, kind: str) -> Kept | None:
    """The original note type a card of ``kind`` keeps, or None when it cannot keep it.

    An "optional reversed card" note type keeps only the notes that do not ask for the reverse
    card: for the others its switch field would have to stay filled, and no card key holds that.
    """
    if note_type.deckkit_kind is not None or note_type.id in _DECKKIT_IDS:
        return None
    if roles.kind == "optional_reversed" and kind != "basic":
        return None
    by_field: list[str | None] = [None] * len(note_type.fields)
    for role, index in roles.roles.items():
        by_field[index] = role
    return Kept(note_type, kind, tuple(by_field))


def template_names(info: NoteTypeInfo) -> tuple[str, ...]:
    """A kept note type's template names as its declaration writes them (Anki's own, else the
    "Card 1", "Card 2"... Anki gives templates)."""
    return info.template_names or tuple(f"Card {i}" for i in range(1, len(info.templates) + 1))


def declaration(kept: Kept, name: str, media: Sequence[str] = ()) -> dict[str, Any]:
    """The entry of a kept note type under the deck's ``note_types``: Anki's text, as it is, and
    each option the build would otherwise write differently. ``media``: the files (paths in the
    sources) its templates and CSS load."""
    info = kept.info
    names = template_names(info)
    data: dict[str, Any] = {"name": name, "id": info.id}
    if kept.kind is not None:
        data["kind"] = kept.kind
    data["cloze"] = info.is_cloze
    roles = kept.roles if kept.kind is not None else (None,) * len(info.fields)
    options = info.field_options or ((),) * len(info.fields)
    data["fields"] = [
        _field(field, role, given, with_role=kept.kind is not None)
        for field, role, given in zip(info.fields, roles, options, strict=True)
    ]
    if 0 < info.sort_field < len(info.fields):
        data["sort_field"] = info.fields[info.sort_field]
    browser = info.template_options or ((),) * len(info.templates)  # formats, font, size
    data["templates"] = [
        {"name": template_name, "front": front, "back": back, **_browser(given)}
        for template_name, (front, back), given in zip(names, info.templates, browser, strict=True)
    ]
    data["css"] = info.css
    latex_pre, latex_post, latex_svg = info.latex
    if latex_pre is not None and latex_pre != genanki.Model.DEFAULT_LATEX_PRE:
        data["latex_pre"] = latex_pre
    if latex_post is not None and latex_post != genanki.Model.DEFAULT_LATEX_POST:
        data["latex_post"] = latex_post
    if latex_svg:
        data["latex_svg"] = True
    if media:
        data["media"] = list(media)
    return data


_OPTION_KEYS = {anki: key for key, anki in FIELD_OPTIONS.items()}
_BROWSER_KEYS = {anki: key for key, anki in TEMPLATE_OPTIONS.items()}
# What the schema accepts for each field option (Anki stores any number and any text).
_VALID: dict[str, Any] = {
    "font": lambda v: isinstance(v, str),
    "description": lambda v: isinstance(v, str),
    "size": lambda v: type(v) is int and 1 <= v <= 1000,
}


def _field(name: str, role: str | None, given: Any, *, with_role: bool) -> Any:
    """A field as declared: its name, its role in a kept card shape, and each option of Anki's
    that differs from what the build writes for a field without it."""
    written: dict[str, Any] = {"name": name}
    if with_role:
        written["role"] = role
    defaults = _build_field_defaults()
    for anki_key, value in given:
        key = _OPTION_KEYS.get(anki_key)
        valid = _VALID.get(key or "", lambda v: isinstance(v, bool))
        if key is not None and value != defaults.get(anki_key) and valid(value):
            written[key] = value
    return name if len(written) == 1 else FlowMap(written)


@lru_cache(maxsize=1)
def _build_field_defaults() -> dict[str, object]:
    """The options a build writes for a field declared by name only: genanki's, and for the keys
    genanki leaves out, Anki's defaults."""
    model = genanki.Model(
        1, "x", fields=[{"name": "x"}], templates=[{"name": "x", "qfmt": "{{x}}", "afmt": ""}]
    )
    field: dict[str, object] = model.to_json(0, 0)["flds"][0]
    anki = {"description": "", "plainText": False, "collapsed": False, "excludeFromSearch": False}
    return {**anki, **field}


def _browser(given: Any) -> dict[str, Any]:
    """A template's browser options (formats, font and size), those the build would otherwise
    write differently (genanki writes empty formats and font, and size 0)."""
    written: dict[str, Any] = {}
    for anki_key, value in given:
        key = _BROWSER_KEYS.get(anki_key)
        if key is None:
            continue
        if (isinstance(value, str) and value) or (type(value) is int and 0 < value <= 1000):
            written[key] = value
    return written


def conversion(note_type: NoteTypeInfo, roles: Roles, kind: str) -> Conversion:
    """How to change a note type to deckkit's in Anki so that rebuilt notes update these notes."""
    target = NOTE_TYPES[kind]
    fields = tuple(
        (note_type.fields[roles.roles[role]], target_field)
        for role, target_field in zip(target.keys, target.fields, strict=True)
        if role in roles.roles
    )
    only = ""
    if roles.kind == "optional_reversed" and roles.switch is not None:
        switch = note_type.fields[roles.switch]
        only = f"'{switch}' filled in" if kind == "reversed" else f"'{switch}' empty"
    return Conversion(note_type.name, target.name, 0, fields, only)
