"""What deckkit prints cannot take over a terminal (issue 12).

A stranger's deck can put the characters a terminal obeys into everything deckkit quotes: keys,
card ids, media names, deck and note type names, file names. ESC ]0; ... BEL sets the window
title, ESC ]52;c; ... BEL writes the clipboard, ESC [ (and U+009B) moves the cursor, erases the
screen or changes colours, U+202E reverses the rest of a line. Printed, each is written as a
visible escape (``\\x1b``, ``\\u202e``) by every command, in problems, summaries and errors; the
json format escapes them the JSON way (the document still decodes to the text), and the github
format stays one workflow command per problem. The fixtures are in tests/fixtures/terminal/;
hostile file names are made at test time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import FIXTURES, REPO
from deckkit.cli import main

CONTROLS = FIXTURES / "terminal" / "controls.yaml"  # key, card id, media name and text
NOTES = FIXTURES / "terminal" / "notes.csv"  # deck name and note type name, as raw bytes
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}
NO_PROJECT_NOTE = "note: no deckkit.toml in this folder or above"  # said on stderr without one

# What a terminal must never receive from input: C0 controls but tab and newline, DEL, C1, the
# bidirectional embeddings, overrides and isolates, lone surrogates.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
TITLE = "\x1b]0;pwned\x07"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"  # "rm -rf ~", base64
HOSTILE_NAME = f"{TITLE}{CLIPBOARD}\x1b[2J\u202egnp"  # a file name, made in tmp_path


def invoke(*args: str) -> Result:
    """Run deckkit in this process; never a traceback."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def assert_safe(text: str) -> None:
    found = UNSAFE.search(text)
    assert found is None, f"{found[0]!r} printed raw in {text!r}"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- validate: problems from keys, card ids and text -------------------------------------------


def problem_count() -> int:
    """How many problems the fixture has, as the JSON report counts them."""
    document = json.loads(invoke("validate", "--format", "json", str(CONTROLS)).stdout)
    return len(document["problems"])


def has_line_with(lines: list[str], text: str) -> bool:
    return any(text in line for line in lines)


def test_validate_escapes_what_a_terminal_obeys_in_keys_ids_and_media_names() -> None:
    result = invoke("validate", str(CONTROLS))
    assert result.exit_code == 1
    assert_safe(result.output)
    lines = result.stdout.splitlines()
    # One line per problem: no newline or CR of the input breaks one.
    assert len(lines) == problem_count() >= 4
    assert has_line_with(lines, r"unknown key '\x1b]0;title from a key\x07\x1b[2J'")
    assert has_line_with(lines, r"'card-\x1b]52;c;cm0gLXJmIH4=\x07\u202e' is not a valid id")
    assert has_line_with(lines, r"media file 'tower\x1b]0;title from a file name\x07\u202egnp.exe'")
    assert has_line_with(lines, r"unknown key '\x1b]52;c;cm0gLXJmIH4=\x07' for a basic card")


def test_validate_json_escapes_them_the_json_way_and_decodes_to_the_text() -> None:
    result = invoke("validate", "--format", "json", str(CONTROLS))
    assert result.exit_code == 1
    assert_safe(result.output)
    assert "\\u202e" in result.stdout
    assert "\\u001b" in result.stdout
    messages = [problem["message"] for problem in json.loads(result.stdout)["problems"]]
    assert has_line_with(messages, "unknown key '\x1b]0;title from a key\x07\x1b[2J'")
    assert has_line_with(
        messages, "media file 'tower\x1b]0;title from a file name\x07\u202egnp.exe'"
    )


def test_validate_github_gives_one_workflow_command_per_problem() -> None:
    result = invoke("validate", "--format", "github", str(CONTROLS))
    assert result.exit_code == 1
    assert_safe(result.output)
    lines = result.stdout.splitlines()
    assert len(lines) == problem_count() >= 4
    for line in lines:
        assert re.fullmatch(r"::(error|warning) file=[^,:]+,line=\d+,col=\d+::.+", line)
    assert has_line_with(lines, r"'card-\x1b]52;c;cm0gLXJmIH4=\x07\u202e'")


def test_a_newline_or_a_carriage_return_in_a_key_cannot_fake_a_line(in_tmp: Path) -> None:
    fake = "::error file=README.md,line=1::fake"
    (in_tmp / "deck.yaml").write_text(
        f'deck: d\nid: d\n"x\\r\\n{fake}\\n": 1\ncards: []\n', encoding="utf-8"
    )
    for report_format in ("text", "github"):
        result = invoke("validate", "--format", report_format, "deck.yaml")
        assert result.exit_code == 1
        assert all(fake not in line[:40] for line in result.output.splitlines())
        assert len(result.stdout.splitlines()) == 2, result.stdout  # the key, cards: []


# --- file names ----------------------------------------------------------------------------------


def test_a_hostile_file_name_is_escaped_in_problems(in_tmp: Path) -> None:
    shutil.copy(CONTROLS, in_tmp / f"{HOSTILE_NAME}.yaml")
    for report_format in ("text", "json", "github"):
        result = invoke("validate", "--format", report_format, ".")
        assert result.exit_code == 1
        assert_safe(result.output)
    text = invoke("validate", ".").stdout
    assert text.startswith(r"\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u202egnp.yaml:")


def test_a_file_name_that_is_not_utf_8_is_printed_escaped_not_a_crash(in_tmp: Path) -> None:
    name = os.fsdecode(b"caf\xe9.yaml")  # Latin-1: a lone surrogate once decoded
    try:
        shutil.copy(CONTROLS, in_tmp / name)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system accepts only UTF-8 names")
    result = invoke("validate", ".")
    assert result.exit_code == 1
    assert_safe(result.output)
    assert result.stdout.startswith("caf\\udce9.yaml:")


def test_import_escapes_a_hostile_file_name_in_its_summary(in_tmp: Path) -> None:
    shutil.copy(NOTES, in_tmp / f"{HOSTILE_NAME}.csv")
    result = invoke("import", f"{HOSTILE_NAME}.csv", "-o", "sources")
    assert "imported 1 deck(s)" in result.stdout, result.output
    assert_safe(result.output)
    assert r"from \x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u202egnp.csv" in result.stdout


def test_an_error_naming_a_hostile_file_is_escaped(in_tmp: Path) -> None:
    (in_tmp / HOSTILE_NAME).write_text("a file, not a folder", encoding="utf-8")
    result = invoke("build", str(CONTROLS), "-o", HOSTILE_NAME)
    assert result.exit_code == 2
    assert_safe(result.output)
    assert r"output folder \x1b]0;pwned\x07" in result.stderr
    unknown = invoke("import", f"{HOSTILE_NAME}.xyz")
    assert unknown.exit_code == 2
    assert_safe(unknown.output)


def test_click_s_own_errors_stay_escaped_in_the_console_script(tmp_path: Path) -> None:
    # A real process: the console script, not click's standalone mode, shows click's errors.
    # click quotes a value with repr; the console script escapes whatever it prints all the same.
    run = subprocess.run(
        [sys.executable, "-m", "deckkit", "validate", f"--{TITLE}"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=120,
    )
    assert run.returncode == 2
    assert_safe(run.stdout + run.stderr)
    assert r"'--\x1b]0;pwned\x07'" in run.stderr


# --- import: deck and note type names of an Anki CSV export -----------------------------------


@pytest.mark.parametrize("report_format", ["text", "json", "github"])
def test_import_escapes_deck_and_note_type_names(report_format: str, in_tmp: Path) -> None:
    result = invoke("import", str(NOTES), "-o", "sources", "--format", report_format)
    assert "imported 1 deck(s)" in result.output
    assert_safe(result.output)
    # The summary names the deck it wrote and the note type it skipped, escaped.
    assert r"\u202e\x9b2J" in result.output
    assert r"note type '\x1b]52;c;cm0gLXJmIH4=\x07Evil \u202etype\x1b[2J'" in result.output


def test_the_github_summary_cannot_issue_workflow_commands(in_tmp: Path) -> None:
    result = invoke("import", str(NOTES), "-o", "sources", "--format", "github")
    # Without a project file, a note that the default lockfile is used comes first, on its own.
    lines = [line for line in result.stderr.splitlines() if not line.startswith(NO_PROJECT_NOTE)]
    # GitHub's documented way to print untrusted text: commands stopped, then resumed.
    token = lines[0].removeprefix("::stop-commands::")
    assert re.fullmatch("[0-9a-f]{32}", token)
    assert lines[-1] == f"::{token}::"
    assert all(not line.lstrip().startswith("::") for line in lines[1:-1])


def test_validating_and_building_the_written_sources_prints_them_escaped(in_tmp: Path) -> None:
    assert "imported 1 deck(s)" in invoke("import", str(NOTES), "-o", "sources").output
    for command in ("validate", "build"):
        result = invoke(command, "sources")
        assert result.exit_code != 2, result.output
        assert_safe(result.output)


# --- one place -----------------------------------------------------------------------------------

CLI = REPO / "src" / "deckkit" / "cli"
PRINTING = re.compile(r"\bclick\.(echo|secho)\(|\bprint\(|\bsys\.std(out|err)\.write\(|\.show\(")


def test_every_line_deckkit_prints_leaves_through_deckkit_cli_terminal() -> None:
    # Reads the command line's sources: a new print elsewhere would bypass the escaping.
    printing = {
        path.name: [line.strip() for line in path.read_text("utf-8").splitlines()]
        for path in sorted(CLI.glob("*.py"))
    }
    found = {
        name: [line for line in lines if PRINTING.search(line)]
        for name, lines in printing.items()
        if name != "terminal.py"
    }
    # entry.py's one write is deckkit's own interruption message, printed before click loads.
    entry = found.pop("entry.py")
    assert len(entry) == 1
    assert re.search("INTERRUPTED|interrupted_message", entry[0])
    assert {name: lines for name, lines in found.items() if lines} == {}
