"""Reporters: how a command's problems and its summary reach the reader, chosen with --format.

- ``text``: one ``path:line:column: severity: message [code]`` line per problem, which editors
  and CI parse (:meth:`~deckkit.problems.Problem.as_text`); on a terminal, where a person reads
  them (pre-commit gives its hooks one too), each is followed by the source line it points at with
  a caret under the column (:mod:`deckkit.cli.source_lines`). In a pipe, what programs read, the
  problem lines stay alone.
- ``json``: one document, ``{"problems": [...], "errors": N, "warnings": N}``.
- ``github``: GitHub Actions workflow commands, shown on the lines of a pull request
  (https://docs.github.com/actions/reference/workflow-commands-for-github-actions).

On a terminal, text lines are coloured (errors red, warnings yellow, the location bold) unless
``NO_COLOR`` is set (:func:`deckkit.cli.terminal.colour_on`); json and github never are. With
``-q`` (:func:`reporter_for`) only errors are printed and no summary, except that the json document
still holds every problem with its counts: a program filters by severity itself.

Problems go to stdout. A command's summary goes to stdout beside text lines, and to stderr beside
json and github, so that their stdout stays one parsable document or a list of annotations.

Problems and summaries quote what input holds (keys, ids, file and note type names), so no
reporter prints a character a terminal would obey (:mod:`deckkit.cli.terminal`): text lines
escape them, JSON escapes them the JSON way, and a GitHub annotation can neither start another
workflow command nor leave its properties; the summary beside annotations is printed with the
runner's workflow commands stopped, since it quotes names a stranger chose.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Protocol

import click

from deckkit.cli.common import NORMAL, QUIET
from deckkit.cli.source_lines import SourceLines
from deckkit.cli.status import EXIT_PROBLEMS
from deckkit.cli.terminal import Span, echo, echo_lines, echo_styled, json_safe, safe_for_terminal
from deckkit.problems import Problem


class Reporter(Protocol):
    """One output format."""

    def problems(self, problems: Sequence[Problem]) -> None:
        """Print every problem (possibly none) on stdout."""

    def summary(self, lines: Sequence[str]) -> None:
        """Print what the command did, for people, one line for each of ``lines``."""

    def all_clear(self, text: str) -> None:
        """Say that nothing is wrong, where the problems' output does not already say so."""

    def total(self, problems: Sequence[Problem]) -> None:
        """Count the problems, for people, where the problems' output does not already do so."""


class TextReporter:
    """Lines for people, editors and CI logs."""

    def problems(self, problems: Sequence[Problem]) -> None:
        echo_styled(text_lines(problems, excerpts=sys.stdout.isatty()))

    def summary(self, lines: Sequence[str]) -> None:
        echo_lines(lines)

    def all_clear(self, text: str) -> None:
        echo_lines([text], err=True)  # no problem lines: stdout stays empty

    def total(self, problems: Sequence[Problem]) -> None:
        echo_lines([problem_total(problems)], err=True)  # stdout stays the problems


class _ForPrograms:
    """What the machine-readable formats share: stdout holds nothing but their own output."""

    def summary(self, lines: Sequence[str]) -> None:
        echo_lines(lines, err=True)

    def all_clear(self, text: str) -> None:
        pass  # an empty problem list (json) or no annotation (github) says it

    def total(self, problems: Sequence[Problem]) -> None:
        pass  # json counts them itself; an annotation is one problem


class JsonReporter(_ForPrograms):
    """One JSON document of all problems."""

    def problems(self, problems: Sequence[Problem]) -> None:
        echo(json_document(problems))


class GithubReporter(_ForPrograms):
    """One GitHub Actions annotation per problem."""

    def problems(self, problems: Sequence[Problem]) -> None:
        echo_lines(github_annotation(problem) for problem in problems)

    def summary(self, lines: Sequence[str]) -> None:
        # The runner reads workflow commands on stderr too, and a summary line may begin with a
        # name from the input: stop them for its lines, as GitHub documents for untrusted output.
        token = secrets.token_hex(16)
        echo_lines([f"::stop-commands::{token}", *lines, f"::{token}::"], err=True)


class Quiet:
    """A reporter that prints errors only (``-q``): no warning (but in json), no summary."""

    def __init__(self, reporter: Reporter, *, every_problem: bool) -> None:
        self.reporter = reporter
        self.every_problem = every_problem

    def problems(self, problems: Sequence[Problem]) -> None:
        errors = [p for p in problems if self.every_problem or p.severity == "error"]
        self.reporter.problems(errors)

    def summary(self, lines: Sequence[str]) -> None:
        pass

    def all_clear(self, text: str) -> None:
        pass

    def total(self, problems: Sequence[Problem]) -> None:
        pass


# How many warnings of one kind in one file a normal text report shows before it counts the rest:
# a deck of 1,600 image cards must not print 1,600 Quizlet lines on every build.
WARNINGS_SHOWN_PER_KIND = 3


class Condensed:
    """Text without ``-v``: every error, but at most a few warnings of one kind in a file."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def problems(self, problems: Sequence[Problem]) -> None:
        shown, more = condensed_warnings(problems)
        self.reporter.problems(shown)
        echo_lines(
            [
                f"{path}: {count} more warning{'s' if count > 1 else ''} [{code}]; "
                "-v shows every one"
                for (path, code), count in more.items()
            ]
        )

    def summary(self, lines: Sequence[str]) -> None:
        self.reporter.summary(lines)

    def all_clear(self, text: str) -> None:
        self.reporter.all_clear(text)

    def total(self, problems: Sequence[Problem]) -> None:
        self.reporter.total(problems)


def condensed_warnings(
    problems: Sequence[Problem],
) -> tuple[list[Problem], dict[tuple[str, str], int]]:
    """The problems to print, and how many warnings were left out, by (file, code)."""
    seen: dict[tuple[str, str], int] = {}
    shown: list[Problem] = []
    for problem in problems:
        if problem.severity != "warning":
            shown.append(problem)
            continue
        kind = (str(problem.path), problem.code)
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= WARNINGS_SHOWN_PER_KIND:
            shown.append(problem)
    more = {k: n - WARNINGS_SHOWN_PER_KIND for k, n in seen.items() if n > WARNINGS_SHOWN_PER_KIND}
    return shown, more


REPORTERS: dict[str, Reporter] = {
    "text": TextReporter(),
    "json": JsonReporter(),
    "github": GithubReporter(),
}

REPORT_FORMAT = click.option(
    "--format",
    "report_format",
    type=click.Choice(list(REPORTERS)),
    default="text",
    show_default=True,
    help="text: path:line:column lines; json: one document; github: workflow annotations.",
)


def reporter_for(report_format: str, verbosity: int) -> Reporter:
    """The reporter of ``--format``: errors only under ``-q``; few warnings of a kind without -v."""
    reporter = REPORTERS[report_format]
    if verbosity == QUIET:
        return Quiet(reporter, every_problem=report_format == "json")
    if verbosity == NORMAL and report_format == "text":
        return Condensed(reporter)
    return reporter


def report_problems(reporter: Reporter, problems: Sequence[Problem], *, failed: str) -> None:
    """Print the problems; when one is an error, say on stderr that ``failed`` and exit with 1."""
    reporter.problems(problems)
    if any(problem.severity == "error" for problem in problems):
        echo_styled([[(f"{failed}:", "error"), (" nothing was written", "")]], err=True)
        sys.exit(EXIT_PROBLEMS)


def problem_spans(problem: Problem) -> list[Span]:
    """A problem's line (:meth:`~deckkit.problems.Problem.as_text`) in spans to colour."""
    return [
        (f"{problem.path}:{problem.line}:{problem.column}:", "location"),
        (" ", ""),
        (f"{problem.severity}:", problem.severity),
        (f" {problem.message} ", ""),
        (f"[{problem.code}]", "code"),
    ]


def text_lines(problems: Sequence[Problem], *, excerpts: bool) -> Iterator[list[Span]]:
    """The text format's lines: each problem's, with its source line and caret if ``excerpts``."""
    source_lines = SourceLines()
    for problem in problems:
        yield problem_spans(problem)
        if not excerpts:
            continue
        excerpt = source_lines.excerpt(problem)
        if excerpt:
            source, caret = excerpt
            yield [(source, "")]
            yield [(caret.removesuffix("^"), ""), ("^", problem.severity)]


def problem_total(problems: Sequence[Problem]) -> str:
    """ "3 errors and 1 warning in 2 files": how many problems of each severity, and where."""
    files = len({p.path for p in problems})
    return f"{problem_counts(problems)} in {_count(files, 'file')}"


def problem_counts(problems: Sequence[Problem]) -> str:
    """ "3 errors and 1 warning", or "no problems"."""
    errors = sum(1 for p in problems if p.severity == "error")
    counts = [_count(errors, "error"), _count(len(problems) - errors, "warning")]
    return " and ".join(c for c in counts if c) or "no problems"


def _count(number: int, noun: str) -> str:
    return "" if not number else f"{number} {noun}" + ("" if number == 1 else "s")


def json_document(problems: Sequence[Problem]) -> str:
    """One machine-readable document of all problems, with the count of each severity."""
    errors = sum(1 for p in problems if p.severity == "error")
    document = {
        "problems": [asdict(p) for p in problems],
        "errors": errors,
        "warnings": len(problems) - errors,
    }
    # Readable non-ASCII text; the characters a terminal would obey are escaped all the same.
    return json_safe(json.dumps(document, indent=2, ensure_ascii=False))


def github_annotation(problem: Problem) -> str:
    """A GitHub Actions workflow command, shown inline on a pull request; whatever the problem
    quotes, it is one line that neither starts another command nor leaves its properties."""
    # Workflow commands need %, CR and LF escaped in the message (the runner turns them back into
    # line breaks of the annotation) and also ',' and ':' in properties; severity and code are
    # deckkit's own words.
    message = _github_escape(f"{problem.message} [{problem.code}]")
    path = _github_escape(problem.path).replace(",", "%2C").replace(":", "%3A")
    return f"::{problem.severity} file={path},line={problem.line},col={problem.column}::{message}"


def _github_escape(text: str) -> str:
    safe = safe_for_terminal(text, keep="\t\r\n")
    return safe.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


__all__ = [
    "REPORTERS",
    "REPORT_FORMAT",
    "GithubReporter",
    "JsonReporter",
    "Quiet",
    "Reporter",
    "TextReporter",
    "github_annotation",
    "json_document",
    "problem_counts",
    "problem_spans",
    "problem_total",
    "report_problems",
    "reporter_for",
    "text_lines",
]
