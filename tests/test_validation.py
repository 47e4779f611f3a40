"""Validation of broken sources: one fixture per kind of mistake, with its exact expected lines.

Each case in ``tests/fixtures/bad/`` is a ``NAME.yaml`` file (or a ``NAME/`` folder of files that
are only wrong together) with ``NAME.expected`` beside it: the exact lines of
``deckkit validate tests/fixtures/bad/NAME.yaml`` run from the repository root.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckkit import validate
from deckkit.cli import main

REPO = Path(__file__).resolve().parent.parent
BAD = REPO / "tests" / "fixtures" / "bad"
GOOD = REPO / "tests" / "fixtures" / "good"
LINE = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+): error: .+ \[[a-z]+\.[a-zA-Z-]+\]$"
)

# The kinds of mistake the issue names; the folder may hold more, never fewer.
REQUIRED_CASES = {
    "yaml-syntax-error",
    "tab-indentation",
    "not-utf8",
    "empty",
    "top-level-list",
    "duplicate-key",
    "anchor-alias",
    "python-object-tag",
    "merge-key",
    "missing-back",
    "unknown-top-level-key",
    "unknown-card-key",
    "unknown-type",
    "number-id",
    "id-with-space",
    "id-with-dots",
    "duplicate-card-id",
    "cloze-without-deletion",
    "answer-not-a-choice",
    "empty-field",
    "media-missing",
    "media-outside",
    "tag-whitespace",
    "unknown-level",
    "choices-count",
    "duplicate-deck-id",
    "several-problems",
    # issue 12: what Anki cannot store, and values the two schema validators once disagreed on
    "unstorable-text",
    "note-type-number-range",
    "id-trailing-newline",
    "tag-control-character",
    # issue 15: messages that teach ("did you mean", one hint instead of a cascade)
    "misspelt-keys",
    "missing-type",
    "media-case",
    "yaml-unquoted-cloze",
    "yaml-unquoted-alias",
    "yaml-unquoted-list",
    "yaml-unquoted-choice",
    "yaml-cloze-read-as-mapping",
    "text-read-as-list",
    "yaml-misindented-key",
    "yaml-dash-without-space",
    "misspelt-top-level-keys",
    "missing-types",
}


def bad_cases() -> list[Path]:
    """Every case in the bad folder: each *.yaml file and each sub-folder."""
    return sorted(p for p in BAD.iterdir() if p.suffix == ".yaml" or p.is_dir())


def case_name(case: Path) -> str:
    return case.name.removesuffix(".yaml")


def relative(case: Path) -> str:
    return case.relative_to(REPO).as_posix()


def expected_lines(case: Path) -> list[str]:
    return (BAD / f"{case_name(case)}.expected").read_text("utf-8").splitlines()


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Problem paths are relative to the working directory, which is the repo root in CI."""
    monkeypatch.chdir(REPO)


def run_validate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_bad_folder_holds_every_required_kind_of_mistake() -> None:
    names = {case_name(case) for case in bad_cases()}
    assert names >= REQUIRED_CASES, f"missing cases: {sorted(REQUIRED_CASES - names)}"


def test_every_bad_case_has_an_expected_file_and_every_expected_file_a_case() -> None:
    cases = {case_name(case) for case in bad_cases()}
    expected = {p.stem for p in BAD.glob("*.expected")}
    assert cases == expected


@pytest.mark.parametrize("case", bad_cases(), ids=case_name)
def test_bad_source_gives_exactly_the_expected_lines(case: Path) -> None:
    code, stdout, _ = run_validate(relative(case))
    assert stdout.splitlines() == expected_lines(case)
    assert code == 1


@pytest.mark.parametrize("case", bad_cases(), ids=case_name)
def test_expected_lines_are_well_formed_and_name_the_case(case: Path) -> None:
    lines = expected_lines(case)
    assert lines, "a bad case must expect at least one problem"
    for line in lines:
        match = LINE.match(line)
        assert match, line
        assert match["path"] == relative(case) or match["path"].startswith(relative(case) + "/")


def _file_lines(path: Path) -> list[str]:
    text = path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    return text.splitlines()


@pytest.mark.parametrize("case", bad_cases(), ids=case_name)
def test_every_problem_points_inside_its_file(case: Path) -> None:
    """A position past the end of a line or file cannot be shown by an editor or by GitHub."""
    for problem in validate([case]).problems:
        lines = _file_lines(REPO / problem.path)
        if not lines:  # an empty file: the only place to point at is its start
            assert (problem.line, problem.column) == (1, 1)
            continue
        assert 1 <= problem.line <= len(lines), problem.as_text()
        assert 1 <= problem.column <= len(lines[problem.line - 1]) + 1, problem.as_text()


@pytest.mark.parametrize("case", bad_cases(), ids=case_name)
def test_library_validate_never_raises_and_reports_problems(case: Path) -> None:
    result = validate([case])
    assert not result.ok
    assert result.problems


def test_validate_of_the_whole_bad_folder_reports_every_case_in_one_run() -> None:
    code, stdout, _ = run_validate(relative(BAD))
    expected = sorted(line for case in bad_cases() for line in expected_lines(case))
    assert sorted(stdout.splitlines()) == expected
    assert code == 1


def test_unknown_type_points_at_its_value() -> None:
    source = BAD / "unknown-type.yaml"
    (problem,) = validate([source]).problems
    line = _file_lines(source)[problem.line - 1]
    assert line[problem.column - 1 :].startswith("flip")
    assert problem.code == "schema.enum"


def test_missing_back_points_at_the_card_mapping() -> None:
    source = BAD / "missing-back.yaml"
    (problem,) = validate([source]).problems
    line = _file_lines(source)[problem.line - 1]
    assert line == "  - id: two"
    assert problem.column == line.index("id") + 1  # where the card's mapping starts
    assert problem.code == "schema.required"


def test_unknown_key_points_at_the_key() -> None:
    source = BAD / "unknown-card-key.yaml"
    (problem,) = validate([source]).problems
    line = _file_lines(source)[problem.line - 1]
    assert line[problem.column - 1 :].startswith("note:")
    assert problem.code == "schema.unknown-key"


def test_schema_errors_do_not_stop_the_extra_checks() -> None:
    codes = {p.code for p in validate([BAD / "several-problems.yaml"]).problems}
    assert {"schema.unknown-key", "schema.required", "schema.enum"} <= codes
    assert {"check.duplicate-card-id", "check.cloze-without-deletion"} <= codes


def test_a_file_with_several_problems_reports_them_all_in_one_run() -> None:
    code, stdout, _ = run_validate(relative(BAD / "several-problems.yaml"))
    assert code == 1
    assert len(stdout.splitlines()) == 5
    assert len({line.split(":")[1] for line in stdout.splitlines()}) == 5  # five different lines


def test_duplicate_deck_id_points_at_the_second_file_and_names_the_first() -> None:
    problems = validate([BAD / "duplicate-deck-id"]).problems
    (problem,) = problems
    assert problem.path.endswith("second.yaml")
    assert "duplicate-deck-id/first.yaml:2" in problem.message


def test_validate_exits_1_when_any_file_has_problems() -> None:
    good = GOOD / "bom-crlf.yaml"
    code, stdout, _ = run_validate(relative(good), relative(BAD / "missing-back.yaml"))
    assert code == 1
    assert stdout.splitlines() == expected_lines(BAD / "missing-back.yaml")


def test_bom_and_crlf_source_is_valid() -> None:
    source = GOOD / "bom-crlf.yaml"
    raw = source.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    code, stdout, _ = run_validate(relative(source))
    assert (code, stdout) == (0, "")


def test_crlf_line_endings_do_not_reach_field_text() -> None:
    (source,) = validate([GOOD / "bom-crlf.yaml"]).sources
    back = source.data["cards"][0]["back"]
    assert back == "Both.\nEither one.\n"
    assert "\ufeff" not in source.data["deck"]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_validate_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(BAD, tree / "bad")
    shutil.copytree(GOOD, tree / "good")
    before = _snapshot(tree)
    dirs_before = sorted(str(p) for p in tree.rglob("*") if p.is_dir())
    monkeypatch.chdir(tree)
    bad_code, _, _ = run_validate("bad")
    good_code, _, _ = run_validate("good/bom-crlf.yaml")
    assert (bad_code, good_code) == (1, 0)
    assert _snapshot(tree) == before
    assert sorted(str(p) for p in tree.rglob("*") if p.is_dir()) == dirs_before
    assert not (tree / "build").exists()
    assert os.listdir(tmp_path) == ["repo"]


def test_a_misspelt_key_is_one_problem_with_the_key_it_meant() -> None:
    problems = validate([BAD / "misspelt-keys.yaml"]).problems
    (frnot,) = [p for p in problems if p.line == 5]
    assert "did you mean 'front'?" in frnot.message
    assert not [p for p in problems if p.code == "schema.required"]  # not also 'front' required


def test_a_card_that_forgot_its_type_gets_one_hint_instead_of_five_problems() -> None:
    (problem,) = validate([BAD / "missing-type.yaml"]).problems
    assert "add `type: multiple_choice`" in problem.message
    assert (problem.line, problem.column) == (4, 5)  # the card, where the type belongs


def test_a_missing_media_file_names_the_file_spelt_in_another_case() -> None:
    (problem,) = validate([BAD / "media-case"]).problems
    assert problem.message.endswith("(did you mean 'media/three-way-merge.png'?)")


def test_cards_are_named_by_their_id() -> None:
    (problem,) = validate([BAD / "missing-back.yaml"]).problems
    assert problem.message == "'back' is required in card 'two'"


@pytest.mark.parametrize(
    ("case", "fix"),
    [
        ("yaml-unquoted-cloze", 'put the value in quotes: text: "{{c1::Snapshots}} are cheap'),
        ("yaml-syntax-error", 'put the value in quotes: front: "Translate: the cat"'),
        ("yaml-unquoted-choice", 'put the value in quotes: - "@"'),
        ("yaml-misindented-key", "indent with spaces to the level of its siblings"),
        ("yaml-dash-without-space", "a list item needs a space after '-'"),
    ],
)
def test_a_yaml_syntax_error_says_the_likely_cause_and_the_fix(case: str, fix: str) -> None:
    (problem,) = validate([BAD / f"{case}.yaml"]).problems
    assert fix in problem.message
    assert problem.code == "yaml.syntax"


def test_a_dash_without_a_space_is_reported_on_its_own_line_not_the_next() -> None:
    source = BAD / "yaml-dash-without-space.yaml"
    (problem,) = validate([source]).problems
    line = _file_lines(source)[problem.line - 1]
    assert line[problem.column - 1 :] == "-id: one"


def test_an_unquoted_value_is_pointed_at_where_it_starts() -> None:
    source = BAD / "yaml-unquoted-cloze.yaml"
    (problem,) = validate([source]).problems
    line = _file_lines(source)[problem.line - 1]
    assert line[problem.column - 1 :].startswith("{{c1::")


def test_every_misspelt_top_level_key_is_reported_and_none_is_also_missing() -> None:
    problems = validate([BAD / "misspelt-top-level-keys.yaml"]).problems
    assert [p.code for p in problems] == ["schema.unknown-key"] * 3
    assert [p.message.split("?")[0].split("'")[-2] for p in problems] == ["deck", "id", "cards"]


def test_a_card_without_type_whose_keys_fit_several_types_names_them_in_one_problem() -> None:
    problems = validate([BAD / "missing-types.yaml"]).problems
    assert [p.code for p in problems] == ["schema.missing-type"] * 4
    assert "one of type_in, multiple_choice, open" in problems[-1].message


@pytest.mark.parametrize(
    "line",
    ["  -" + "id" * 50_000 + ": a", "  - id: a\n    front: " + "- " * 50_000 + "x: y"],
    ids=["dash-without-space", "colon-in-value"],
)
def test_a_syntax_hint_about_a_huge_line_stays_short(tmp_path: Path, line: str) -> None:
    source = tmp_path / "huge.yaml"
    source.write_text(f"deck: Huge\nid: huge\ncards:\n{line}\n    back: b\n", encoding="utf-8")
    (problem,) = validate([source]).problems
    assert problem.code == "yaml.syntax"
    assert len(problem.message) < 300
