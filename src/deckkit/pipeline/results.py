"""What a build returns: the decks it produced and the problems it found, as plain values."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deckkit.exporters.separators import Separators
from deckkit.problems import Problem

if TYPE_CHECKING:  # a build with nothing to do never loads what builds
    from deckkit.pipeline.learner_safety import AcceptedTypeChange
    from deckkit.pipeline.schema_changes import AcceptedChange


@dataclass(frozen=True)
class DeckSummary:
    """One deck a build produced (or found unchanged)."""

    id: str
    name: str
    source: Path
    notes_by_type: dict[str, int]
    anki_cards: int

    @property
    def notes(self) -> int:
        """How many notes (card sources) the deck has."""
        return sum(self.notes_by_type.values())


@dataclass(frozen=True)
class DeckStep:
    """A step of a deck built in the build's own process (progress within one big deck)."""

    source: Path
    cards: int  # how many cards the deck has
    done: float  # the share of the deck's work done after this step, 0 to 1
    step: str  # what was just done: "read", "modelled", "wrote .apkg", ...


@dataclass(frozen=True)
class BuildResult:
    """What a build did: problems (then nothing was written) or the decks and files written."""

    problems: tuple[Problem, ...]
    decks: tuple[DeckSummary, ...] = ()
    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    quizlet_separators: dict[str, Separators] = field(default_factory=dict)
    # Changes of declared note types' fields or templates the build carried, with what learners
    # must do (`accept_note_type_changes`).
    note_type_changes: tuple[AcceptedChange, ...] = ()
    # Cards (`deck/card`) that left the sources since the lockfile's last build: learners keep
    # their notes (Anki never deletes a note on import).
    removed_cards: tuple[str, ...] = ()
    # Cards' changes of note type the build carried, with what learners must do.
    type_changes: tuple[AcceptedTypeChange, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no problem is an error (warnings allowed)."""
        return not any(p.severity == "error" for p in self.problems)

    def notes_by_type(self) -> Counter[str]:
        """How many notes of each card type the decks hold."""
        total: Counter[str] = Counter()
        for deck in self.decks:
            total.update(deck.notes_by_type)
        return total

    def anki_cards(self) -> int:
        """How many Anki cards the notes make (reversed: 2, cloze: one per deletion number)."""
        return sum(deck.anki_cards for deck in self.decks)
