"""The `deckkit` command through click's CliRunner: exit codes, exact output, and what it writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from deckkit import build

# Reaches inside: BUSY_NAME and CACHE_NAME are the files deckkit keeps in an output folder, and
# EXPORTERS is replaced to stand for a disk that fails half-way.
from deckkit.atomic import BUSY_NAME
from deckkit.cli import main
from deckkit.exporters import EXPORTERS, OutputFormat
from deckkit.pipeline.cache import CACHE_NAME

REPO = Path(__file__).resolve().parent.parent
BAD = REPO / "tests" / "fixtures" / "bad"
SCHEMA = REPO / "schemas" / "deck.schema.json"
PACKAGED_SCHEMA = REPO / "src" / "deckkit" / "data" / "deck.schema.json"
COMMANDS = ("validate", "build", "schema", "init")
OUTPUT_SUFFIXES = (".apkg", ".csv", ".quizlet.txt")
EXAMPLE_DECK = "my-first-deck"  # the id of the deck `deckkit init` writes


def invoke(*args: str) -> Result:
    """Run deckkit; whatever the input, the result is an exit code and text, never a traceback."""
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def expected_lines(name: str) -> list[str]:
    return (BAD / f"{name}.expected").read_text("utf-8").splitlines()


def bad_cases() -> list[Path]:
    return sorted(p for p in BAD.iterdir() if p.suffix == ".yaml" or p.is_dir())


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, hidden ones (temporary files) included, by relative path;
    only deckkit's bookkeeping (the incremental-build cache, the busy marker) is left out."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in (CACHE_NAME, BUSY_NAME)
    }


def outputs(folder: Path) -> list[str]:
    """The output files in ``folder`` (not the hidden cache)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.fixture
def example(in_tmp: Path) -> Path:
    """A sources folder made by `deckkit init`."""
    result = invoke("init", "decks")
    assert result.exit_code == 0, result.output
    return in_tmp / "decks"


# --- good sources: exit 0 -------------------------------------------------------------------


def test_init_writes_an_example_deck_and_the_schema(in_tmp: Path) -> None:
    result = invoke("init", "decks")
    assert result.exit_code == 0
    assert (in_tmp / "decks" / "example.yaml").is_file()
    assert (in_tmp / "decks" / "deck.schema.json").read_bytes() == SCHEMA.read_bytes()
    assert "next: deckkit validate && deckkit build" in result.stdout


def test_init_keeps_an_existing_example_and_says_so(example: Path) -> None:
    (example / "example.yaml").write_text("mine", encoding="utf-8")
    result = invoke("init", "decks")
    assert result.exit_code == 0
    assert "kept as they were (already there): " in result.stdout
    assert "decks/example.yaml" in result.stdout.split("kept as they were")[1]
    assert (example / "example.yaml").read_text(encoding="utf-8") == "mine"


def test_validate_of_the_init_example_exits_0_and_prints_no_problem(example: Path) -> None:
    result = invoke("validate", "decks")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "1 source file(s) valid"


def test_validate_defaults_to_the_sources_folder(in_tmp: Path) -> None:
    assert invoke("init").exit_code == 0  # init's default folder is sources/
    result = invoke("validate")
    assert result.exit_code == 0
    assert result.stderr.strip() == "1 source file(s) valid"


def test_build_of_the_init_example_writes_three_outputs_and_a_summary(example: Path) -> None:
    result = invoke("build", "decks", "-o", "out")
    assert result.exit_code == 0, result.output
    out = example.parent / "out"
    written = outputs(out)
    assert written == sorted(f"{EXAMPLE_DECK}{suffix}" for suffix in OUTPUT_SUFFIXES)
    assert all((out / name).stat().st_size > 0 for name in written)
    lines = result.stdout.splitlines()
    # 6 notes; a reversed note makes 2 cards and the cloze has c1 and c2: 8 Anki cards.
    assert lines[0] == f"wrote out/{EXAMPLE_DECK}.apkg, .csv, .quizlet.txt (6 notes, 8 Anki cards)"
    assert lines[-1] == (
        "built 1 deck in out/: 6 notes (1 basic, 1 cloze, 1 multiple_choice, 1 open, 1 reversed, "
        "1 type_in), 8 Anki cards"
    )
    assert any(line.startswith("Quizlet import: ") for line in lines)


def _quizlet_separators(summary: str) -> tuple[str, str]:
    (line,) = [line for line in summary.splitlines() if line.startswith("Quizlet import")]
    term = line.split("between term and definition: ")[1].split(";")[0]
    card = line.split("between cards: ")[1]
    return term, card


def test_build_summary_names_the_quizlet_separators_that_split_the_file(example: Path) -> None:
    result = invoke("build", "decks", "-o", "out")
    term, card = _quizlet_separators(result.stdout)
    assert term == "Tab"
    separator = "\n" if card == "New line" else card.removeprefix("Custom: ")
    text = (example.parent / "out" / f"{EXAMPLE_DECK}.quizlet.txt").read_text("utf-8")
    cards = [c for c in text.split(separator) if c]
    assert len(cards) == 6
    assert all(c.count("\t") == 1 for c in cards)


def test_quizlet_keeps_line_breaks_and_says_the_card_separator_that_allows_them(
    example: Path,
) -> None:
    """Issue 15: a line break in a field (a multiple-choice card's lettered choices) stays a line
    break in Quizlet; the cards are then separated by a custom string the summary names."""
    result = invoke("build", "decks", "-o", "out")
    assert _quizlet_separators(result.stdout) == ("Tab", "Custom: ;;;")
    text = (example.parent / "out" / f"{EXAMPLE_DECK}.quizlet.txt").read_text("utf-8")
    cards = text.split(";;;")
    assert len(cards) == 6
    assert any("\nA. " in card.split("\t")[0] for card in cards)
    assert " / " not in text


def test_build_only_the_formats_asked_for(example: Path) -> None:
    result = invoke("build", "decks", "-o", "out", "--format", "csv", "--format", "quizlet")
    assert result.exit_code == 0
    assert outputs(example.parent / "out") == [
        f"{EXAMPLE_DECK}.csv",
        f"{EXAMPLE_DECK}.quizlet.txt",
    ]


# --- bad sources: exit 1 with the exact lines -----------------------------------------------


@pytest.mark.usefixtures("at_repo_root")
def test_validate_of_a_bad_source_exits_1_with_the_exact_lines() -> None:
    result = invoke("validate", "tests/fixtures/bad/several-problems.yaml")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == expected_lines("several-problems")
    assert "valid" not in result.stderr


@pytest.mark.usefixtures("at_repo_root")
@pytest.mark.parametrize("case", bad_cases(), ids=lambda p: p.name.removesuffix(".yaml"))
def test_build_of_a_bad_source_exits_1_with_the_same_lines_as_validate_and_writes_nothing(
    case: Path, tmp_path: Path
) -> None:
    """The exact lines are the fixture test's business; build must print what validate prints."""
    out = tmp_path / "out"
    path = case.relative_to(REPO).as_posix()
    validated = invoke("validate", path)
    result = invoke("build", path, "-o", str(out))
    assert result.exit_code == 1
    assert result.stdout == validated.stdout
    assert "build failed: nothing was written" in result.stderr
    assert not out.exists()


# --- usage errors: exit 2 -------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_path_that_does_not_exist_is_a_usage_error(command: str, in_tmp: Path) -> None:
    result = invoke(command, "no-such-folder/deck.yaml")
    assert result.exit_code == 2
    assert "no such file or folder: no-such-folder/deck.yaml" in result.stderr
    assert result.stdout == ""


def test_validate_without_sources_folder_is_a_usage_error(in_tmp: Path) -> None:
    result = invoke("validate")
    assert result.exit_code == 2
    assert "sources" in result.stderr


@pytest.mark.parametrize("command", ["validate", "build"])
def test_an_unknown_format_is_a_usage_error(command: str, example: Path) -> None:
    result = invoke(command, "decks", "--format", "nonsense")
    assert result.exit_code == 2
    assert "nonsense" in result.stderr
    assert not (example.parent / "build").exists()


def test_build_into_a_file_is_a_usage_error(example: Path) -> None:
    (example.parent / "taken").write_text("not a folder", encoding="utf-8")
    result = invoke("build", "decks", "-o", "taken")
    assert result.exit_code == 2
    assert "taken" in result.stderr
    assert (example.parent / "taken").read_text(encoding="utf-8") == "not a folder"


# --- help -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command_shows_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert f"Usage: main {command}" in result.stdout or f"Usage: deckkit {command}" in (
        result.stdout
    )
    assert "Example" in result.stdout
    assert f"deckkit {command}" in result.stdout.split("Example", 1)[1]


def test_top_level_help_lists_every_command_and_an_example() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert f"  {command}" in result.stdout
    assert "Examples:" in result.stdout


# --- the schema -----------------------------------------------------------------------------


def test_schema_command_prints_the_schema_file_exactly() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    assert result.stdout == SCHEMA.read_text("utf-8")
    jsonschema.Draft202012Validator.check_schema(json.loads(result.stdout))


def test_packaged_schema_is_identical_to_the_schemas_folder_copy() -> None:
    assert PACKAGED_SCHEMA.read_bytes() == SCHEMA.read_bytes()


def _documented_properties(
    schema: Any, where: str = "#", in_condition: bool = False
) -> Iterator[tuple[str, str, dict[str, Any], bool]]:
    """(where, name, subschema, refines) for every property the schema declares.

    Properties inside an ``if`` are conditions, not declarations, and are skipped; those inside a
    ``then``/``else`` refine a property the enclosing object already declares (``refines``).
    """
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if not in_condition:
                yield where, name, sub, "/then" in where or "/else" in where
        for key, value in schema.items():
            if key == "if":
                continue
            yield from _documented_properties(value, f"{where}/{key}", in_condition)
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from _documented_properties(item, f"{where}/{index}", in_condition)


def test_every_schema_property_has_a_title_and_a_description() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    assert schema.get("title")
    assert schema.get("description")
    declared = list(_documented_properties(schema))
    names = {name for _, name, _, _ in declared}
    # The walk must reach the deck keys and every card field, or it proves nothing.
    assert {"deck", "id", "description", "tags", "cards", "type", "level", "front", "back"} <= names
    assert {"text", "extra", "answer", "question", "choices", "explanation", "prompt"} <= names
    assert {"hint", "concepts"} <= names
    card = schema["$defs"]["card"]["properties"]
    undocumented = []
    for where, name, sub, refines in declared:
        documented = sub if not refines else card.get(name, {})
        if not (
            isinstance(documented.get("title"), str)
            and documented["title"].strip()
            and isinstance(documented.get("description"), str)
            and documented["description"].strip()
        ):
            undocumented.append(f"{where}/properties/{name}")
    assert undocumented == []


# --- output formats -------------------------------------------------------------------------


@pytest.mark.usefixtures("at_repo_root")
def test_validate_json_format_is_one_document_with_every_problem() -> None:
    result = invoke("validate", "--format", "json", "tests/fixtures/bad/several-problems.yaml")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["errors"] == 5
    assert document["warnings"] == 0
    as_lines = [
        f"{p['path']}:{p['line']}:{p['column']}: {p['severity']}: {p['message']} [{p['code']}]"
        for p in document["problems"]
    ]
    assert as_lines == expected_lines("several-problems")


def test_validate_json_format_of_a_clean_source_has_no_problems(example: Path) -> None:
    result = invoke("validate", "--format", "json", "decks")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"problems": [], "errors": 0, "warnings": 0}


@pytest.mark.usefixtures("at_repo_root")
def test_validate_github_format_gives_workflow_annotations() -> None:
    result = invoke("validate", "--format", "github", "tests/fixtures/bad/missing-back.yaml")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=tests/fixtures/bad/missing-back.yaml,line=7,col=5::"
        "'back' is required in card 'two' [schema.required]"
    ]


@pytest.mark.usefixtures("at_repo_root")
def test_validate_github_format_has_one_annotation_per_problem() -> None:
    result = invoke("validate", "--format", "github", "tests/fixtures/bad/several-problems.yaml")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == len(expected_lines("several-problems"))
    assert all(
        line.startswith("::error file=tests/fixtures/bad/several-problems.yaml,line=")
        for line in lines
    )


# --- a failed build keeps the earlier outputs -----------------------------------------------


def test_a_failed_build_leaves_earlier_outputs_byte_for_byte(example: Path) -> None:
    out = example.parent / "out"
    assert invoke("build", "decks", "-o", "out").exit_code == 0
    before = snapshot(out)
    assert len(before) == 3
    source = example / "example.yaml"
    source.write_text(source.read_text("utf-8").replace("    back: Paris\n", ""), encoding="utf-8")
    result = invoke("build", "decks", "-o", "out")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "decks/example.yaml:15:5: error: 'back' is required in card 'capital-of-france' "
        "[schema.required]"
    ]
    assert "build failed: nothing was written" in result.stderr
    assert snapshot(out) == before  # same names (so no temp files left) and same bytes


def test_a_build_failing_while_writing_leaves_earlier_outputs_and_no_temp_files(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = example.parent / "out"
    assert invoke("build", "decks", "-o", "out").exit_code == 0
    before = snapshot(out)
    source = example / "example.yaml"
    source.write_text(source.read_text("utf-8").replace("Paris", "Paris!"), encoding="utf-8")

    def broken_csv(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setitem(EXPORTERS, "csv", OutputFormat(".csv", broken_csv))
    with pytest.raises(OSError, match="disk full"):
        build([example], out)  # apkg is staged before csv fails
    assert snapshot(out) == before


def test_a_rebuild_with_nothing_changed_says_the_outputs_are_up_to_date(example: Path) -> None:
    assert invoke("build", "decks", "-o", "out").exit_code == 0
    result = invoke("build", "decks", "-o", "out")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "up to date: 1 deck in out/, nothing rewritten: 6 notes (1 basic, 1 cloze, "
        "1 multiple_choice, 1 open, 1 reversed, 1 type_in), 8 Anki cards"
    ]
