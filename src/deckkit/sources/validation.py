"""Validation: every problem of every source, found by the loader, the schema and the checks.

A source is first read without the positions of its values, which only a problem needs (reading
them costs a third of a large deck's load); a source with any problem, warnings included, is read
again with every position so that each problem is placed exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from deckkit.problems import Problem, sort_problems
from deckkit.sources.checks import duplicate_deck_ids, source_problems
from deckkit.sources.discovery import discover_sources
from deckkit.sources.loader import LoadedSource, gc_paused, load_source
from deckkit.sources.note_type_conflicts import conflicting_declarations
from deckkit.sources.rereading import reread_source
from deckkit.sources.schema import schema_problems


@dataclass(frozen=True)
class ValidationResult:
    """What validating a set of sources found.

    A source without problems was read without its values' positions (``all_positions`` is
    False: only its top-level keys have theirs), unless it had problems when last checked in this
    process; call ``load_source(path)`` for every position.
    """

    sources: tuple[LoadedSource, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """True when no problem is an error (warnings allowed)."""
        return not any(p.severity == "error" for p in self.problems)


def check_source(
    path: Path, *, strict: bool = False, markdown: bool = False
) -> tuple[LoadedSource, list[Problem]]:
    """Load one source and find every problem in it (cross-file checks aside).

    ``strict`` turns warnings into errors; ``markdown`` is the project's default for field text.
    """
    if path in _had_problems:
        source, problems = located_problems(path, strict=strict, markdown=markdown)
    else:
        source = reread_source(path, markdown=markdown)
        if not problems_in(source):
            return source, []
        source, problems = located_problems(path, strict=strict, markdown=markdown)
    if problems:
        _had_problems.add(path)
    else:
        _had_problems.discard(path)
    return source, problems


# `deckkit watch` checks a source again after each save: one that had problems (warnings it keeps,
# say) likely has some still, and is then read once, with every position, rather than twice.
_had_problems: set[Path] = set()


def problems_in(source: LoadedSource) -> list[Problem]:
    """The loader's, the schema's and the checks' problems of one loaded source."""
    return [*source.problems, *schema_problems(source), *source_problems(source)]


def located_problems(
    path: Path, *, strict: bool, markdown: bool = False
) -> tuple[LoadedSource, list[Problem]]:
    """A source read with every position, and its problems placed exactly."""
    source = load_source(path, markdown=markdown)
    return source, strictly(problems_in(source), strict=strict)


def strictly(problems: list[Problem], *, strict: bool) -> list[Problem]:
    """With ``strict``, warnings count as errors."""
    return [replace(p, severity="error") for p in problems] if strict else problems


def validate(
    paths: Sequence[Path] = (), *, strict: bool = False, markdown: bool = False
) -> ValidationResult:
    """Load and check every source under ``paths``; never raises for bad input.

    ``strict`` turns warnings (scripts, unclosed tags) into errors; ``markdown`` makes field text
    Markdown where neither a deck nor a card says (the project file's ``markdown``). Raises
    :class:`~deckkit.errors.UsageError` only when ``paths`` name no sources.
    """
    with gc_paused():
        sources: list[LoadedSource] = []
        valid: list[LoadedSource] = []  # whose note types the check across files may read
        problems: list[Problem] = []
        for path in discover_sources(paths):
            source, found = check_source(path, strict=strict, markdown=markdown)
            sources.append(source)
            if not any(p.severity == "error" for p in found):
                valid.append(source)
            problems += found
        problems += duplicate_deck_ids(sources)
        problems += conflicting_declarations(valid)
        return ValidationResult(tuple(sources), tuple(sort_problems(problems)))
