"""The pipeline: find sources → load with positions → validate → model → export."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deckkit.checks import duplicate_deck_ids, source_problems
from deckkit.export_apkg import write_apkg
from deckkit.export_csv import write_csv
from deckkit.export_quizlet import Separators, write_quizlet
from deckkit.loader import LoadedSource, load_source
from deckkit.lockfile import (
    Lock,
    LockfileError,
    lock_from_text,
    lock_to_text,
    stale_notes,
    stamps_for,
    updated_lock,
)
from deckkit.model import Deck, deck_from_source
from deckkit.notetypes import NOTE_TYPES
from deckkit.output import prepare_output_dir, staged_outputs
from deckkit.problems import Problem, sort_problems
from deckkit.schema import schema_problems
from deckkit.stamps import Stamps

SOURCE_SUFFIXES = (".yaml", ".yml")
DEFAULT_SOURCES = Path("sources")

# An exporter writes one deck to a path; what it returns (Quizlet: the separators) is reported.
Exporter = Callable[[Deck, Path, Stamps], object]
# format name → (file name suffix, exporter)
EXPORTERS: dict[str, tuple[str, Exporter]] = {
    "apkg": (".apkg", write_apkg),
    "csv": (".csv", write_csv),
    "quizlet": (".quizlet.txt", write_quizlet),
}
# The note types' modification time: raised by hand when their templates or styling change.
NOTE_TYPES_MOD = 1_764_000_000


class UsageError(Exception):
    """The command was asked for something impossible (exit code 2), not a source problem."""


class LockOutdated(Exception):
    """`--frozen`: the sources changed but the lockfile was not updated (nothing was written)."""

    def __init__(self, lockfile: Path, changed: list[str]) -> None:
        shown = ", ".join(changed[:10]) + (f" and {len(changed) - 10} more" if len(changed) > 10 else "")
        super().__init__(
            f"{lockfile} is out of date with the sources ({shown}); "
            f"run 'deckkit build' without --frozen and commit {lockfile}"
        )
        self.changed = changed


@dataclass(frozen=True)
class ValidationResult:
    """What validating a set of sources found."""

    sources: tuple[LoadedSource, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


@dataclass(frozen=True)
class BuildResult:
    """What a build did: problems (then nothing was written) or the decks and files written."""

    problems: tuple[Problem, ...]
    decks: tuple[Deck, ...] = ()
    written: tuple[Path, ...] = ()
    quizlet_separators: dict[str, Separators] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def notes_by_type(self) -> Counter[str]:
        """How many notes of each card type were built."""
        return Counter(card.type for deck in self.decks for card in deck.cards)

    def anki_cards(self) -> int:
        """How many Anki cards the notes make (reversed: 2, cloze: one per deletion number)."""
        from deckkit.export_quizlet import _CLOZE

        total = 0
        for deck in self.decks:
            for card in deck.cards:
                if card.type == "reversed":
                    total += 2
                elif card.type == "cloze":
                    text = getattr(card.content, "text", "")
                    total += len({m.group(1) for m in _CLOZE.finditer(text)})
                else:
                    total += 1
        return total


def discover_sources(paths: Sequence[Path]) -> list[Path]:
    """The source files named by ``paths``: files as given, folders searched for *.yaml/*.yml."""
    found: list[Path] = []
    for path in paths or [DEFAULT_SOURCES]:
        if path.is_dir():
            in_folder = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in SOURCE_SUFFIXES
                and p.is_file()
                # Hidden files and folders (.git, .venv, .pre-commit-config.yaml) are not decks.
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not in_folder:
                raise UsageError(f"no *.yaml or *.yml card sources in {path}")
            found += in_folder
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    return list(dict.fromkeys(found))


def validate(paths: Sequence[Path] = ()) -> ValidationResult:
    """Load and check every source under ``paths``; never raises for bad input."""
    sources = tuple(load_source(path) for path in discover_sources(paths))
    problems: list[Problem] = []
    for source in sources:
        problems += source.problems
        problems += schema_problems(source)
        problems += source_problems(source)
    problems += duplicate_deck_ids(sources)
    return ValidationResult(sources, tuple(sort_problems(problems)))


def default_stamps(source: Path) -> Stamps:
    """Modification times for a deck: the source file's, so an edited file updates its notes."""
    mtime = int(source.stat().st_mtime)
    return Stamps(note_types={t.id: NOTE_TYPES_MOD for t in NOTE_TYPES.values()}, default=mtime)


def build(
    paths: Sequence[Path] = (),
    output_dir: Path = Path("build"),
    *,
    formats: Iterable[str] = tuple(EXPORTERS),
    lockfile: Path | None = None,
    frozen: bool = False,
    clock: Callable[[], float] = time.time,
    on_deck: Callable[[Deck], None] | None = None,
) -> BuildResult:
    """Validate, then export every deck in every format; writes nothing unless all is valid.

    With a ``lockfile``, each note's modification time comes from it and it is updated for what
    changed; ``frozen`` raises :class:`LockOutdated` instead of updating it.
    Without one, every note of a source gets the source file's modification time.
    """
    formats = tuple(dict.fromkeys(formats))
    unknown = [name for name in formats if name not in EXPORTERS]
    if unknown:
        raise UsageError(f"unknown format {unknown[0]!r}; choose from {', '.join(EXPORTERS)}")
    result = validate(paths)
    if not result.ok:
        return BuildResult(result.problems)
    decks = tuple(deck_from_source(source) for source in result.sources)
    lock = fresh_lock = None
    if lockfile is not None:
        lock = read_lockfile(lockfile)
        fresh_lock = updated_lock(lock, decks, int(clock()))
        if fresh_lock != lock and frozen:
            raise LockOutdated(lockfile, stale_notes(lock, fresh_lock, decks) or ["lockfile layout"])
    elif frozen:
        raise UsageError("--frozen needs a lockfile")
    prepare_output_dir(output_dir)
    written: list[Path] = []
    separators: dict[str, Separators] = {}
    with staged_outputs(output_dir) as stage:
        for deck in decks:
            stamps = stamps_for(fresh_lock, deck) if fresh_lock else default_stamps(deck.source)
            for name in formats:
                suffix, exporter = EXPORTERS[name]
                outcome: list[object] = []
                written.append(
                    stage(
                        f"{deck.id}{suffix}",
                        lambda p, d=deck, s=stamps, e=exporter: outcome.append(e(d, p, s)),
                    )
                )
                if isinstance(outcome[0], Separators):
                    separators[deck.id] = outcome[0]
            if on_deck:
                on_deck(deck)
    if lockfile is not None and fresh_lock is not None and fresh_lock != lock:
        write_lockfile(lockfile, fresh_lock)
    return BuildResult(result.problems, decks, tuple(written), separators)


def read_lockfile(path: Path) -> Lock:
    """The lock in ``path``; an empty lock when the file does not exist yet."""
    if not path.exists():
        return Lock()
    try:
        return lock_from_text(path.read_text(encoding="utf-8"))
    except (LockfileError, UnicodeDecodeError, OSError) as error:
        raise UsageError(f"cannot use lockfile {path}: {error}") from error


def write_lockfile(path: Path, lock: Lock) -> None:
    """Replace the lockfile atomically."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(lock_to_text(lock), encoding="utf-8")
    os.replace(temp, path)
