"""One reporter registry for every command that reports problems (issue 11).

`deckkit validate`, `deckkit preview` and `deckkit import` all take ``--format text|json|github``
and print the same problems the same way; with json and github, stdout holds nothing else (the
summary goes to stderr). Driven through click's CliRunner with the fixture files.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from deckkit.cli import main

# Reaches inside: the reporters' escaping is checked on problems no source could produce.
from deckkit.cli.reporters import REPORTERS, github_annotation
from deckkit.problems import Problem

REPO = Path(__file__).resolve().parent.parent
MISSING_BACK = "tests/fixtures/bad/missing-back.yaml"  # one error
REMOTE = "tests/fixtures/remote/deck.yaml"  # two warnings (remote media), no error
# An Anki text export whose one picture is not beside it: the written source has one error.
MISSING_MEDIA = REPO / "tests" / "fixtures" / "import" / "missing-media.txt"
CLEAN_IMPORT = REPO / "tests" / "fixtures" / "import" / "anki-notes.txt"
MISSING_BACK_ANNOTATION = (
    "::error file=tests/fixtures/bad/missing-back.yaml,line=7,col=5::"
    "'back' is required in card 'two' [schema.required]"
)


def invoke(*args: str) -> Result:
    """Run deckkit; whatever the input, the result is an exit code and text, never a traceback."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", ["validate", "preview", "import"])
def test_every_command_that_reports_problems_offers_every_reporter(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    (option,) = [p for p in command.params if p.name == "report_format"]
    assert isinstance(option.type, click.Choice)
    assert list(option.type.choices) == list(REPORTERS) == ["text", "json", "github"]
    assert option.default == "text"


# --- preview ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("at_repo_root")
def test_preview_json_of_a_bad_source_is_validate_s_document_and_writes_nothing(
    tmp_path: Path,
) -> None:
    out = tmp_path / "preview"
    validated = invoke("validate", "--format", "json", MISSING_BACK)
    result = invoke("preview", MISSING_BACK, "-o", str(out), "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document == json.loads(validated.stdout)
    assert (document["errors"], document["warnings"]) == (1, 0)
    assert result.stderr == "preview failed: nothing was written\n"
    assert not out.exists()


@pytest.mark.usefixtures("at_repo_root")
def test_preview_github_of_a_bad_source_gives_one_annotation_per_problem(tmp_path: Path) -> None:
    result = invoke("preview", MISSING_BACK, "-o", str(tmp_path / "out"), "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [MISSING_BACK_ANNOTATION]
    assert result.stdout == invoke("validate", "--format", "github", MISSING_BACK).stdout


@pytest.mark.usefixtures("at_repo_root")
def test_preview_json_with_warnings_writes_the_page_and_keeps_stdout_one_document(
    tmp_path: Path,
) -> None:
    out = tmp_path / "preview"
    result = invoke("preview", REMOTE, "-o", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["errors"], document["warnings"]) == (0, 2)
    assert {p["code"] for p in document["problems"]} == {"check.media-url"}
    assert {p["path"] for p in document["problems"]} == {REMOTE}
    assert result.stderr.startswith("previewed 1 Anki card(s) from 1 deck(s)\nwrote:\n")
    assert (out / "index.html").is_file()


@pytest.mark.usefixtures("at_repo_root")
def test_preview_github_with_warnings_annotates_them_and_puts_the_summary_on_stderr(
    tmp_path: Path,
) -> None:
    result = invoke("preview", REMOTE, "-o", str(tmp_path / "out"), "--format", "github")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("::")[1] for line in lines] == [
        f"warning file={REMOTE},line=5,col=12",
        f"warning file={REMOTE},line=6,col=11",
    ]
    assert all(line.endswith("[check.media-url]") for line in lines)
    assert "previewed 1 Anki card(s)" in result.stderr


@pytest.mark.usefixtures("at_repo_root")
def test_preview_text_prints_problem_lines_then_the_summary_on_stdout(tmp_path: Path) -> None:
    result = invoke("preview", REMOTE, "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    problems = invoke("validate", REMOTE).stdout.splitlines()
    assert len(problems) == 2
    lines = result.stdout.splitlines()
    assert lines[:2] == problems
    assert lines[2] == "previewed 1 Anki card(s) from 1 deck(s)"
    assert result.stderr == ""


# --- import -----------------------------------------------------------------------------------


def test_import_json_reports_the_written_sources_problems_as_one_document(in_tmp: Path) -> None:
    result = invoke("import", str(MISSING_MEDIA), "-o", "sources", "--format", "json")
    assert result.exit_code == 1  # written, with problems
    document = json.loads(result.stdout)
    assert (document["errors"], document["warnings"]) == (1, 0)
    (problem,) = document["problems"]
    assert (problem["path"], problem["code"]) == (
        "sources/imported-pictures.yaml",
        "check.media-missing",
    )
    assert "'absent-tower.png'" in problem["message"]
    # The same document as validating what was written; the summary went to stderr.
    assert document == json.loads(invoke("validate", "--format", "json", "sources").stdout)
    assert without_project_note(result.stderr).startswith(
        f"imported 1 deck(s) from {MISSING_MEDIA} "
    )
    assert "next: deckkit validate sources && deckkit build sources" in without_project_note(
        result.stderr
    )


def test_import_github_annotates_the_written_sources_problems(in_tmp: Path) -> None:
    result = invoke("import", str(MISSING_MEDIA), "-o", "sources", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout == invoke("validate", "--format", "github", "sources").stdout
    (line,) = result.stdout.splitlines()
    assert line.startswith("::error file=sources/imported-pictures.yaml,line=11,col=12::")
    assert line.endswith("[check.media-missing]")
    assert "wrote:" in result.stderr


def test_import_json_of_a_clean_export_is_an_empty_document(in_tmp: Path) -> None:
    result = invoke("import", str(CLEAN_IMPORT), "-o", "sources", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"problems": [], "errors": 0, "warnings": 0}
    assert "imported 1 deck(s)" in result.stderr


def test_import_text_prints_problem_lines_then_the_summary_on_stdout(in_tmp: Path) -> None:
    result = invoke("import", str(MISSING_MEDIA), "-o", "sources")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == invoke("validate", "sources").stdout.strip()
    assert lines[1].startswith("imported 1 deck(s) from ")
    assert without_project_note(result.stderr) == ""


# --- advice -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("at_repo_root")
def test_the_command_line_adds_the_option_to_change(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("<p>mine</p>", encoding="utf-8")
    foreign = invoke("preview", REMOTE, "-o", str(out))
    assert foreign.exit_code == 2
    assert foreign.stderr.splitlines()[-1] == (
        f"Error: {out / 'index.html'} exists and was not written by deckkit preview; "
        "choose another with -o"
    ), foreign.stderr
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    for command in ("build", "preview"):
        result = invoke(command, REMOTE, "-o", str(tmp_path / "file"))
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1] == (
            f"Error: output folder {tmp_path / 'file'} is a file; choose another with -o"
        )


def test_a_github_annotation_escapes_what_workflow_commands_need_escaped() -> None:
    problem = Problem("a,b:c%/deck.yaml", 3, 4, "100% wrong\r\nhere", "check.rule", "warning")
    assert github_annotation(problem) == (
        "::warning file=a%2Cb%3Ac%25/deck.yaml,line=3,col=4::100%25 wrong%0D%0Ahere [check.rule]"
    )


def without_project_note(stderr: str) -> str:
    """stderr without the note a command gives when no project file is found (the defaults)."""
    lines = stderr.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("note: no deckkit.toml"))
