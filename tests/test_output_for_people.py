"""What deckkit prints for a person (issue 15): at most one line per deck for a build, nothing
repeated, a total last; ``-q`` (errors only) and ``-v``; colour on a terminal only, never under
``NO_COLOR``. The sources are in tests/fixtures/output/ (its README says what each is for).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import FIXTURES, REPO
from deckkit.cli import main

# Reaches inside: the spans of a problem line are what the text format colours.
from deckkit.cli.reporters import problem_spans
from deckkit.cli.terminal import styled
from deckkit.problems import Problem
from pseudo_terminal import deckkit_on_a_terminal

OUTPUT = FIXTURES / "output"
WARNED = OUTPUT / "warned.yaml"  # valid, with one warning
BAD = FIXTURES / "bad" / "several-problems.yaml"
NOTES = FIXTURES / "terminal" / "notes.csv"
ESC = "\x1b["


def invoke(*args: str) -> Result:
    """Run deckkit in this process; never a traceback."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project (deckkit.toml with the defaults) with the three decks of
    tests/fixtures/output/decks in sources/."""
    shutil.copytree(OUTPUT / "decks", tmp_path / "sources")
    (tmp_path / "deckkit.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def build(*args: str) -> list[str]:
    result = invoke("build", *args)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout.splitlines()


# --- build: one line per deck, a total last ----------------------------------------------------


def test_a_build_prints_one_line_per_deck_written_and_its_total_last(project: Path) -> None:
    assert build() == [
        "wrote build/capitals.apkg, .csv, .quizlet.txt (2 notes, 2 Anki cards)",
        "wrote build/lines.apkg, .csv, .quizlet.txt (1 note, 1 Anki card; Quizlet import: "
        "between term and definition: Tab; between cards: Custom: ;;;)",
        "wrote build/rivers.apkg, .csv, .quizlet.txt (2 notes, 3 Anki cards)",
        "Quizlet import (unless said above): between term and definition: Tab; between cards: "
        "New line",
        "Anki: import the .apkg first; the .csv uses its note types.",
        "built 3 decks in build/: 5 notes (4 basic, 1 reversed), 6 Anki cards",
    ]


def test_the_quizlet_separators_every_deck_shares_are_said_once(project: Path) -> None:
    (project / "sources" / "lines.yaml").unlink()
    lines = build("--format", "quizlet")
    assert [line for line in lines if "Quizlet" in line] == [
        "Quizlet import: between term and definition: Tab; between cards: New line"
    ]
    assert len(lines) == 4  # two decks, Quizlet's separators and the total


def test_a_rebuild_with_nothing_changed_prints_one_line(project: Path) -> None:
    build()
    assert build() == [
        "up to date: 3 decks in build/, nothing rewritten: 5 notes (4 basic, 1 reversed), "
        "6 Anki cards"
    ]


def test_a_rebuild_names_only_the_decks_it_wrote(project: Path) -> None:
    build()
    rivers = project / "sources" / "rivers.yaml"
    rivers.write_text(rivers.read_text("utf-8").replace("Nile", "the Nile"), "utf-8")
    assert build() == [
        "wrote build/rivers.apkg, .csv, .quizlet.txt (2 notes, 3 Anki cards)",
        "Quizlet import: between term and definition: Tab; between cards: New line",
        "Anki: import the .apkg first; the .csv uses its note types.",
        "built 3 decks in build/ (2 up to date, not rewritten): 5 notes (4 basic, 1 reversed), "
        "6 Anki cards",
    ]


def test_thirty_decks_print_thirty_lines_and_a_rebuild_one(project: Path) -> None:
    """The issue's count: 123 lines for 30 decks, and 32 for a rebuild, 30 of them the same."""
    capitals = (project / "sources" / "capitals.yaml").read_text("utf-8")
    shutil.rmtree(project / "sources")
    (project / "sources").mkdir()
    for number in range(30):
        text = capitals.replace("id: capitals", f"id: capitals-{number}")
        (project / "sources" / f"capitals-{number}.yaml").write_text(text, "utf-8")
    first = build()
    assert len(first) == 30 + 3  # the decks, Quizlet's separators, Anki's order, the total
    assert len(set(first)) == len(first)
    assert build() == [
        "up to date: 30 decks in build/, nothing rewritten: 60 notes (60 basic), 60 Anki cards"
    ]


def test_verbose_names_every_deck_its_source_and_its_separators(project: Path) -> None:
    build()
    lines = build("-v")
    assert lines[0] == (
        "up to date: sources/capitals.yaml → build/capitals.apkg, .csv, .quizlet.txt (Capitals: "
        "2 notes, 2 Anki cards (2 basic); Quizlet import: between term and definition: Tab; "
        "between cards: New line)"
    )
    assert len([line for line in lines if line.startswith("up to date: sources/")]) == 3
    assert lines[-1].startswith("up to date: 3 decks in build/")


# --- -q: errors only ------------------------------------------------------------------------


def test_a_quiet_build_that_goes_well_prints_nothing(project: Path) -> None:
    shutil.copy(WARNED, project / "sources")
    result = invoke("build", "-q")
    assert result.exit_code == 0
    assert result.output == ""
    assert (project / "build" / "warned.apkg").is_file()


def test_a_quiet_build_that_fails_prints_its_errors_only(project: Path) -> None:
    shutil.copy(WARNED, project / "sources")
    shutil.copy(BAD, project / "sources")
    result = invoke("build", "-q")
    assert result.exit_code == 1
    printed = result.stdout.splitlines()
    assert len(printed) == 5
    assert all(": error: " in line for line in printed)
    assert result.stderr == "build failed: nothing was written\n"


def test_quiet_validate_leaves_out_warnings_and_the_all_clear() -> None:
    result = invoke("validate", "-q", str(WARNED))
    assert result.exit_code == 0
    assert result.output == ""
    assert "warning: field contains a script" in invoke("validate", str(WARNED)).stdout


def test_quiet_validate_in_github_format_annotates_errors_only() -> None:
    result = invoke("validate", "-q", "--format", "github", str(WARNED), str(BAD))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert all(line.startswith("::error ") for line in lines)


def test_quiet_keeps_the_json_document_whole() -> None:
    """A program reads json and filters by severity itself: -q changes nothing in it."""
    quiet = invoke("validate", "-q", "--format", "json", str(WARNED), str(BAD))
    loud = invoke("validate", "--format", "json", str(WARNED), str(BAD))
    assert quiet.stdout == loud.stdout
    assert json.loads(quiet.stdout)["warnings"] == 1
    assert quiet.stderr == ""


def test_verbose_validate_says_what_it_found_in_each_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    warned, capitals = (
        "tests/fixtures/output/warned.yaml",
        "tests/fixtures/output/decks/capitals.yaml",
    )
    result = invoke("validate", "-v", warned, capitals)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"{warned}: 1 warning",
        f"{capitals}: no problems",
        "2 source file(s) valid",
    ]


def test_import_and_preview_take_quiet_too(project: Path) -> None:
    imported = invoke("import", "-q", str(NOTES), "-o", "imported")
    assert imported.exit_code == 0, imported.output
    assert imported.output == ""
    assert list((project / "imported").glob("*.yaml"))
    previewed = invoke("preview", "-q", "-o", "page")
    assert previewed.exit_code == 0, previewed.output
    assert previewed.output == ""
    assert (project / "page" / "index.html").is_file()


# --- colour ---------------------------------------------------------------------------------


def test_a_problem_line_is_its_text_when_not_coloured() -> None:
    problem = Problem("a.yaml", 3, 5, "'back' is required", "schema.required")
    assert styled(problem_spans(problem), colour=False) == problem.as_text()
    coloured = styled(problem_spans(problem), colour=True)
    assert coloured == (
        "\x1b[1ma.yaml:3:5:\x1b[0m \x1b[1;31merror:\x1b[0m 'back' is required "
        "\x1b[2m[schema.required]\x1b[0m"
    )


def test_colour_cannot_be_opened_or_closed_by_the_input() -> None:
    problem = Problem("\x1b[0m.yaml", 1, 1, "key '\x1b[31m'", "schema.x", "warning")
    coloured = styled(problem_spans(problem), colour=True)
    assert "\\x1b[0m.yaml" in coloured
    assert coloured.count("\x1b[") == 6  # three styled spans, each opened and reset by deckkit


def on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """What ``deckkit ARGS`` prints with stdout and stderr on a pseudo-terminal."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), **env}
    return deckkit_on_a_terminal(*args, cwd=REPO, env=env, stderr_too=True)[1]


BAD_ARG = "tests/fixtures/bad/several-problems.yaml"


@pytest.mark.parametrize("no_color", [None, ""])  # NO_COLOR unset, or set but empty
def test_on_a_terminal_errors_are_red_and_locations_bold(no_color: str | None) -> None:
    env = {} if no_color is None else {"NO_COLOR": no_color}
    if no_color is None and "NO_COLOR" in os.environ:
        env["NO_COLOR"] = ""
    printed = on_a_terminal("validate", BAD_ARG, env=env)
    assert "\x1b[1;31merror:\x1b[0m" in printed
    assert "\x1b[1mtests/fixtures/bad/several-problems.yaml:" in printed


def test_no_colour_under_no_color() -> None:
    printed = on_a_terminal("validate", BAD_ARG, env={"NO_COLOR": "1"})
    assert "error:" in printed
    assert ESC not in printed


def test_no_colour_in_a_pipe() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("NO_COLOR", None)
    run = subprocess.run(
        [sys.executable, "-m", "deckkit", "validate", BAD_ARG],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "error:" in run.stdout
    assert ESC not in run.stdout + run.stderr


def test_quiet_leaves_out_the_note_on_the_defaults(project: Path) -> None:
    (project / "deckkit.toml").unlink()  # no project file: the defaults are said, unless -q
    assert "note: no deckkit.toml" in invoke("validate").stderr
    for command in ("validate", "build", "preview"):
        result = invoke(command, "-q")
        assert result.exit_code == 0, result.output
        assert result.output == ""


# --- many warnings of one kind: a few shown, the rest counted -----------------------------------

MANY_WARNINGS = OUTPUT / "many-warnings"


@pytest.fixture
def pictures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose one deck has six cards that each get a check.quizlet-media warning."""
    shutil.copytree(MANY_WARNINGS, tmp_path / "sources")
    (tmp_path / "deckkit.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def quizlet_warnings(lines: list[str]) -> list[str]:
    return [line for line in lines if line.endswith("[check.quizlet-media]")]


def test_a_build_shows_three_warnings_of_a_kind_and_counts_the_rest(pictures: Path) -> None:
    lines = build()
    assert [w.split(":")[1] for w in quizlet_warnings(lines)] == ["6", "9", "12"]
    assert "sources/pictures.yaml: 3 more warnings [check.quizlet-media]; -v shows every one" in (
        lines
    )


def test_a_rebuild_with_nothing_changed_repeats_no_more_than_the_first(pictures: Path) -> None:
    first = build()
    again = build()
    assert quizlet_warnings(again) == quizlet_warnings(first)
    assert len(again) < len(first)  # nothing is written again


def test_verbose_shows_every_warning(pictures: Path) -> None:
    lines = build("-v")
    assert len(quizlet_warnings(lines)) == 6
    assert not any("more warnings" in line for line in lines)
