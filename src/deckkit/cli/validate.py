"""`deckkit validate`: check card sources and report every problem; writes nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deckkit.cli.advice import library_errors
from deckkit.cli.common import (
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    PATHS,
    QUIET,
    STRICT,
    VERBOSE,
    VERBOSITY,
    level,
)
from deckkit.cli.projects import current_project, project_sources, say_defaults
from deckkit.cli.reporters import REPORT_FORMAT, problem_counts, reporter_for
from deckkit.cli.terminal import echo_lines
from deckkit.problems import Problem
from deckkit.sources.validation import ValidationResult, validate


@click.command("validate")
@PATHS
@REPORT_FORMAT
@STRICT
@click.option(
    "--staged",
    is_flag=True,
    help="Check what the next commit contains (git's index), the whole project with its "
    "media and lockfile, as a fresh clone would build it; the pre-commit hook's check.",
)
@VERBOSITY
def validate_command(
    paths: tuple[Path, ...],
    report_format: str,
    strict: bool,
    staged: bool,
    verbosity: int | None,
) -> None:
    """Check card sources against the schema and deckkit's rules; writes nothing.

    PATHS are files or folders searched for *.yaml and *.yml (default: the project's sources,
    from deckkit.toml in this folder or above, else sources/).
    Exit status: 0 clean, 1 problems found, 2 usage error.

    \b
    Examples:
      deckkit validate
      deckkit validate sources/biology.yaml
      deckkit validate --format github sources/
      deckkit validate -q          # errors only, no warnings
      deckkit validate --staged    # before a commit: what it contains, media and lockfile too
    """
    shown = level(verbosity)
    if staged:
        if paths:
            raise click.UsageError("--staged checks the whole project as staged: name no PATHS")
        validate_staged(report_format, strict, shown)
    project = current_project()
    sources = project_sources(project, paths)
    if shown != QUIET:
        say_defaults(project, [] if paths else [f"{project.sources[0]}/"])
    with library_errors():
        result = validate(sources, strict=strict or project.strict, markdown=project.markdown)
    reporter = reporter_for(report_format, shown)
    reporter.problems(result.problems)
    if shown >= VERBOSE:  # on stderr: stdout stays the problems
        echo_lines(each_file(result), err=True)
    if result.ok:
        reporter.all_clear(f"{len(result.sources)} source file(s) valid")
    else:
        reporter.total(result.problems)
    sys.exit(EXIT_CLEAN if result.ok else EXIT_PROBLEMS)


def validate_staged(report_format: str, strict: bool, shown: int) -> None:
    """``--staged``: the next commit's project, from git's index; exits."""
    # Imported here: it builds, and the build's exporters cost a plain validate 0.1 s to import.
    from deckkit.staged import check_staged

    with library_errors():
        result = check_staged(strict=strict)
    reporter = reporter_for(report_format, shown)
    reporter.problems(result.problems)
    if result.ok:
        if result.sources:
            reporter.all_clear(f"{result.sources} staged source file(s) valid")
        else:
            reporter.all_clear("no card sources in the commit: nothing to check")
    else:
        reporter.total(result.problems)
    sys.exit(EXIT_CLEAN if result.ok else EXIT_PROBLEMS)


def each_file(result: ValidationResult) -> list[str]:
    """For ``-v``: every file checked, with what was found in it."""
    found: dict[str, list[Problem]] = {}
    for problem in result.problems:
        found.setdefault(problem.path, []).append(problem)
    return [
        f"{source.display}: {problem_counts(found.get(source.display, []))}"
        for source in result.sources
    ]
