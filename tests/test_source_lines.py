"""On a terminal, each problem is followed by the line it points at and a caret under its column,
as compilers print them; in a pipe (editors, CI, scripts) and in the json and github formats the
output stays one line per problem. A failing ``validate`` ends with a total on stderr.

Each ``tests/fixtures/source_lines/NAME.expected`` holds the exact lines ``deckkit validate
tests/fixtures/bad/NAME.yaml`` prints on a terminal (a real pseudo-terminal, as pre-commit gives
its hooks), run from the repository root.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckkit.cli import main
from pseudo_terminal import deckkit_on_a_terminal

REPO = Path(__file__).resolve().parent.parent
BAD = REPO / "tests" / "fixtures" / "bad"
EXPECTED = REPO / "tests" / "fixtures" / "source_lines"
TOTALS = REPO / "tests" / "fixtures" / "totals"


def on_a_terminal(*args: str) -> tuple[int, str]:
    """Run ``deckkit`` with its stdout on a pseudo-terminal, colour off: (exit status, what it
    printed)."""
    # The lines' text, without colour (tests/test_output_for_people.py tests the colour).
    env = {**os.environ, "NO_COLOR": "1"}
    status, printed = deckkit_on_a_terminal(*args, cwd=REPO, env=env, stderr_too=False)
    return status, printed.replace("\r\n", "\n")  # a terminal turns each newline into CR LF


def run_validate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize("expected", sorted(EXPECTED.glob("*.expected")), ids=lambda p: p.stem)
def test_on_a_terminal_each_problem_shows_its_line_and_a_caret(expected: Path) -> None:
    code, printed = on_a_terminal("validate", f"tests/fixtures/bad/{expected.stem}.yaml")
    assert code == 1
    assert printed.splitlines() == expected.read_text("utf-8").splitlines()


def test_the_caret_is_under_the_column_the_problem_names() -> None:
    _, printed = on_a_terminal("validate", "tests/fixtures/bad/yaml-unquoted-cloze.yaml")
    problem, source, caret = printed.splitlines()
    column = int(problem.split(":")[2])
    assert source.endswith("|     text: {{c1::Snapshots}} are cheap in git")
    text_starts = source.index("| ") + 2
    assert caret.index("^") - text_starts == column - 1
    assert source[caret.index("^") :].startswith("{{c1::")


def test_a_character_a_terminal_would_obey_is_shown_as_its_escape() -> None:
    _, printed = on_a_terminal("validate", "tests/fixtures/bad/control-character.yaml")
    assert "\x1b" not in printed
    assert "|     front: turns the terminal \\x1b[31mred" in printed


def test_a_long_line_is_cut_around_the_column() -> None:
    _, printed = on_a_terminal("validate", "tests/fixtures/bad/long-line.yaml")
    source_lines = [line for line in printed.splitlines() if line.startswith("    4 | ")]
    assert source_lines
    for line in source_lines:
        assert line.startswith("    4 | …")
        assert line.endswith("…")
        assert len(line) < 140


def test_in_a_pipe_each_problem_is_one_line() -> None:
    code, stdout, _ = run_validate("tests/fixtures/bad/yaml-unquoted-cloze.yaml")
    assert code == 1
    assert stdout.splitlines() == (BAD / "yaml-unquoted-cloze.expected").read_text().splitlines()


@pytest.mark.parametrize("report_format", ["json", "github"])
def test_json_and_github_show_no_source_lines_even_on_a_terminal(report_format: str) -> None:
    args = ("validate", "--format", report_format, "tests/fixtures/bad/several-problems.yaml")
    code, printed = on_a_terminal(*args)
    assert code == 1
    assert " | " not in printed
    assert "^" not in printed
    if report_format == "json":
        assert json.loads(printed)["errors"] == 5
    else:
        assert all(line.startswith("::error ") for line in printed.splitlines())


def test_a_failing_validate_ends_with_a_total_on_stderr() -> None:
    code, stdout, stderr = run_validate(
        "tests/fixtures/bad/several-problems.yaml", "tests/fixtures/bad/missing-back.yaml"
    )
    assert code == 1
    assert len(stdout.splitlines()) == 6
    assert stderr.splitlines()[-1] == "6 errors in 2 files"


def test_the_total_counts_warnings_apart() -> None:
    code, _, stderr = run_validate(str(TOTALS.relative_to(REPO) / "error-and-warning.yaml"))
    assert code == 1
    assert stderr.splitlines()[-1] == "1 error and 1 warning in 1 file"


def test_json_and_github_print_no_total() -> None:
    for report_format in ("json", "github"):
        _, _, stderr = run_validate("--format", report_format, "tests/fixtures/bad/empty.yaml")
        assert "error in" not in stderr
        assert "errors in" not in stderr
