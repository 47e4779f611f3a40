"""What the checks of note types share: the note types a source sees (:class:`View`), "did you
mean" hints, the texts of a declaration's templates and CSS, and a source's cards."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from deckkit.anki_templates import classify_tag, template_tags
from deckkit.cardtypes import DEFAULT_CARD_TYPE
from deckkit.fieldtext.active import Finding, css_findings, html_findings
from deckkit.problems import Problem, shorten
from deckkit.sources.declared import (
    DeclaredNoteType,
    DeclaredNoteTypes,
    TextPlace,
    declared_note_types,
    field_names,
)
from deckkit.sources.loader import LoadedSource
from deckkit.suggest import Hints

_NAMES_SHOWN = 10
PER_TEXT = 10  # unknown fields or unlisted files reported per template side or CSS


def some_names(names: Iterable[str]) -> str:
    """The first few names, quoted: a stranger's deck may declare thousands, and every card
    naming an unknown one would otherwise quote them all."""
    listed = list(itertools.islice(names, _NAMES_SHOWN + 1))
    shown = ", ".join(f"'{shorten(name)}'" for name in listed[:_NAMES_SHOWN]) or "none"
    return shown + (", ..." if len(listed) > _NAMES_SHOWN else "")


@dataclass
class View:
    """What one source sees: the note types it declares or names, and what reading them found."""

    source: LoadedSource
    declared: DeclaredNoteTypes
    by_name: dict[str, DeclaredNoteType] = field(default_factory=dict)
    hints: Hints = field(default_factory=Hints)
    _fields: dict[int, list[str]] = field(default_factory=dict)

    def fields_of(self, note_type: DeclaredNoteType) -> list[str]:
        """A declaration's field names (one list per declaration, kept for the hints)."""
        return self._fields.setdefault(id(note_type), field_names(note_type.raw))


def view_of(source: LoadedSource) -> View:
    """The note types a source sees, each name's first declaration by name."""
    view = View(source, declared_note_types(source))
    for note_type in view.declared.note_types:
        name = note_type.raw.get("name")
        if isinstance(name, str):
            view.by_name.setdefault(name, note_type)
    return view


@dataclass(frozen=True)
class Side:
    """A template side or a note type's CSS: what it is, how a message names it, its text and
    where it was written."""

    kind: str  # "front", "back" or "css"
    template: int  # the template's position from 0 (-1: the CSS)
    where: str  # "the front template 1 of note type 'Vocab'"
    text: str
    place: TextPlace

    def problem(self, offset: int, message: str, code: str, severity: str = "error") -> Problem:
        """A problem at ``offset`` of the text."""
        return self.place.problem(offset, self.text, message, code, severity)

    def findings(self) -> Iterator[Finding]:
        """What the text runs, loads from the network or from the media folder, or breaks out of."""
        if self.kind == "css":
            return css_findings(self.text, local=True)
        return html_findings(self.text, template=True, local=True)


def sides(note_type: DeclaredNoteType) -> Iterator[Side]:
    """Each template side and the CSS, but those kept in a file that could not be read (a problem
    of its own)."""
    label = f"note type '{shorten(note_type.name)}'"
    for position, (template, places) in enumerate(
        zip(note_type.templates, note_type.places, strict=True)
    ):
        for kind, text, place in zip(("front", "back"), template[1:], places, strict=True):
            if _was_read(place):
                where = f"the {kind} template {position + 1} of {label}"
                yield Side(kind, position, where, text, place)
    if _was_read(note_type.css_place):
        yield Side("css", -1, f"the CSS of {label}", note_type.css, note_type.css_place)


def _was_read(place: TextPlace) -> bool:
    return place.file is not None or not str(place.path[-1]).endswith("_file")


def local_loads(note_type: DeclaredNoteType) -> Iterator[tuple[Side, Finding]]:
    """Each local file the templates or CSS load, with the side loading it."""
    for side in sides(note_type):
        for finding in side.findings():
            if finding.kind == "local":
                yield side, finding


def cloze_fields(template: str) -> list[tuple[str, int]]:
    """The fields a template shows through the cloze filter (``{{cloze:Text}}``), with where."""
    found = []
    for tag in template_tags(template):
        kind, key = classify_tag(tag.inner)
        filters = tag.inner.lstrip("{").strip().split(":")[:-1]
        if kind == "" and "cloze" in filters:
            found.append((key, tag.start))
    return found


def card_type(card: Mapping[str, Any]) -> str:
    """A card's type: "fields" for a card giving its fields by name."""
    if "fields" in card:
        return "fields"
    kind = card.get("type", DEFAULT_CARD_TYPE)
    return kind if isinstance(kind, str) else ""


def cards_of(source: LoadedSource) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each card of a source that is a mapping, with its index."""
    cards = source.data.get("cards") if isinstance(source.data, dict) else None
    for index, card in enumerate(cards if isinstance(cards, list) else ()):
        if isinstance(card, dict):
            yield index, card
