"""The values an import hands from stage to stage, and the :class:`Reader` each input format is.

A reader turns one input file into a :class:`Collected` (notes with their note types); planning
maps those to card sources; writing puts them on disk and says what it wrote in an
:class:`ImportResult`. All of them are frozen values; none does I/O.
"""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from deckkit.notetypes import Options
from deckkit.problems import Problem


@dataclass(frozen=True)
class NoteTypeInfo:
    """A note type as the importer sees it: its fields and templates, and what Anki keeps beside
    them (as Anki's JSON keys and values: ``font``, ``size``...; ``bqfmt``, ``bafmt``)."""

    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[tuple[str, str], ...]  # (front, back) per card template, in order
    is_cloze: bool = False
    deckkit_kind: str | None = None  # set for deckkit's own note types
    mod: int = 0  # Anki's modification time of the note type
    template_names: tuple[str, ...] = ()
    css: str = ""
    field_options: tuple[Options, ...] = ()  # per field: Anki's options, all of them
    template_options: tuple[Options, ...] = ()  # per template: its browser formats and font
    sort_field: int = 0
    latex: tuple[str | None, str | None, bool] = (None, None, False)  # pre, post, svg


@dataclass(frozen=True)
class SourceNote:
    """One note read from the input, before mapping."""

    guid: str | None
    note_type: NoteTypeInfo
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    mod: int = 0  # Anki's modification time of the note (0: not known, as in a text export)
    # (ordinal, deck) of each card in another deck than the first card's (``deck``): Anki keeps
    # a deck per card. A card in a filtered deck counts in its home deck.
    card_decks: tuple[tuple[int, str], ...] = ()
    # The ordinals of the note's cards (None: not known, as in a text export).
    ordinals: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Collected:
    """Everything read from one input: notes in order, deck descriptions, the media folder."""

    notes: tuple[SourceNote, ...]
    descriptions: dict[str, str] = field(default_factory=dict)
    media_dir: Path | None = None
    guids_are_original: bool = True  # False when the reader had to make GUIDs up
    # True when the note types are those of the collection the notes came from (an Anki package),
    # False when the reader made them up (a text export names note types, Quizlet none).
    note_types_are_original: bool = False
    notices: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()  # what the reader itself could not read
    # Files of the package that Anki's importer left out (no note refers to them), extracted by
    # deckkit so that every file of the package is kept: (name in the package, file).
    unused_media: tuple[tuple[str, Path], ...] = ()


@dataclass(frozen=True)
class Skipped:
    """Notes that were not imported, by note type and reason."""

    note_type: str
    count: int
    reason: str

    def describe(self) -> str:
        """The summary line: ``skipped: 2 notes of note type 'X' (cannot be mapped)``."""
        notes = "note" if self.count == 1 else "notes"
        return f"skipped: {self.count} {notes} of note type '{self.note_type}' ({self.reason})"


@dataclass(frozen=True)
class Conversion:
    """A note type whose notes get a deckkit note type, and must be changed to it once in Anki.

    Only for notes that cannot keep their original note type (see the module's docstring). Anki
    updates a note from a package only when both have the same note type; its Browse > Notes >
    Change Note Type keeps the notes, their cards and review history.
    """

    note_type: str
    target: str
    count: int
    fields: tuple[tuple[str, str], ...]  # (field of note_type, field of target)
    only: str = ""  # which of the notes, when a note type's notes go to two deckkit types

    def describe(self) -> str:
        """``'Basic (type in the answer)' (3 notes) → 'deckkit Type-in': Front → Front, ...``."""
        notes = "note" if self.count == 1 else "notes"
        which = f", those with {self.only}" if self.only else ""
        mapping = ", ".join(f"{mine} → {theirs}" for mine, theirs in self.fields)
        return f"'{self.note_type}' ({self.count} {notes}{which}) → '{self.target}': {mapping}"


@dataclass(frozen=True)
class RenamedMedia:
    """A file of the package written under another name, its references rewritten: its own name
    is not one every system can hold, or another file already has it."""

    name: str  # in the package
    new: str  # in the media folder
    reason: str

    def describe(self) -> str:
        """``'con.png' → media/_con.png (Windows reserves the name)``."""
        return f"'{self.name}' → media/{self.new} ({self.reason})"


@dataclass(frozen=True)
class LockWritten:
    """The lockfile entries an import wrote: each note's and note type's time in the package."""

    path: Path
    notes: int
    note_types: int
    millisecond_notes: int  # notes whose time is in milliseconds, kept as it is
    left_out: tuple[str, ...] = ()  # decks with errors: no entries until they are fixed


@dataclass(frozen=True)
class ImportedDeck:
    """One source file written by an import."""

    path: Path
    id: str
    name: str
    cards_by_type: dict[str, int]

    @property
    def cards(self) -> int:
        return sum(self.cards_by_type.values())


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote and what it could not bring over."""

    source: Path
    format: str
    output_dir: Path
    decks: tuple[ImportedDeck, ...]
    media: tuple[Path, ...]
    schema: Path | None
    skipped: tuple[Skipped, ...]
    notices: tuple[str, ...]
    problems: tuple[Problem, ...]
    conversions: tuple[Conversion, ...] = ()
    kept: tuple[tuple[str, int], ...] = ()  # original note types kept: (name, notes)
    renamed: tuple[RenamedMedia, ...] = ()
    missing_media: tuple[str, ...] = ()  # referenced, but the package lacked them
    lock: LockWritten | None = None

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def written(self) -> tuple[Path, ...]:
        extra = (self.schema,) if self.schema else ()
        return (*(deck.path for deck in self.decks), *extra, *self.media)

    def cards_by_type(self) -> Counter[str]:
        """How many cards of each type the written sources hold."""
        total: Counter[str] = Counter()
        for deck in self.decks:
            total.update(deck.cards_by_type)
        return total


@dataclass(frozen=True)
class ReadOptions:
    """What a reader may need besides the file; each reader takes what concerns it."""

    term_separator: str = "\t"  # Quizlet: between term and definition
    card_separator: str = "\n"  # Quizlet: between cards
    deck_name: str | None = None  # the deck of a file that names none
    media_dir: Path | None = None  # a text export's media (default: the file's folder)


class Reader(Protocol):
    """One input format: how to recognise a file of it, and how to read its notes."""

    @property
    def title(self) -> str:
        """The format's name for people: "Anki package"."""
        ...

    def detect(self, path: Path) -> bool:
        """Whether ``path`` looks like this format (by its name, and perhaps its first lines)."""
        ...

    def read(self, path: Path, options: ReadOptions) -> AbstractContextManager[Collected]:
        """The notes of ``path``; what they refer to (media) lasts until the context ends."""
        ...
