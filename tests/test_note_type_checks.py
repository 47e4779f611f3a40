"""Checks of declared note types and of the cards that give their fields: one example per kind of
mistake, with its exact expected lines.

Each case in ``tests/fixtures/note_types/bad/`` is a ``NAME.yaml`` file or a ``NAME/`` folder
(a deck with its template, CSS and note-type files), with ``NAME.expected`` beside it: the exact
lines of ``deckkit validate tests/fixtures/note_types/bad/NAME[.yaml]`` run from the repository
root, warnings included. Templates and CSS kept in files are reported in those files.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from conftest import FIXTURES, REPO, import_apkg
from deckkit import build, validate
from deckkit.cli import main
from deckkit.exporters.apkg import write_apkg
from deckkit.filenames import anki_media_name
from deckkit.model import deck_from_source
from deckkit.sources.loader import load_source
from deckkit.sources.note_type_checks import anki_field_name
from deckkit.stamps import Stamps

BAD = FIXTURES / "note_types" / "bad"
GOOD = FIXTURES / "note_types" / "good"
LINE = re.compile(
    r"^(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+): (?:error|warning): .+ "
    r"\[(?P<code>[a-z]+\.[a-z-]+)\]$"
)
# The problems the issue names, and Anki's rules for note types: each has an example here.
REQUIRED_CODES = {
    "check.unknown-field",
    "check.required-field",
    "check.unknown-note-type",
    "check.note-type-kind",
    "check.unknown-template-field",
    "check.cloze-template",
    "check.no-card",
    "check.cloze-without-deletion",
    "check.empty-front",
    "check.field-name",
    "check.duplicate-field",
    "check.duplicate-template",
    "check.template-name",
    "check.sort-field",
    "check.duplicate-note-type",
    "check.media-missing",
    "check.media-outside",
    "check.template-media-unlisted",
    "check.template-media-name",
    "check.media-name-clash",
    "check.media-name-changed",
    "check.file-missing",
    "check.template-syntax",
    "check.script",
    "check.remote-resource",
}


def cases() -> list[Path]:
    return sorted(p for p in BAD.iterdir() if p.suffix == ".yaml" or p.is_dir())


def name_of(case: Path) -> str:
    return case.name.removesuffix(".yaml")


def expected_lines(case: Path) -> list[str]:
    return (BAD / f"{name_of(case)}.expected").read_text("utf-8").splitlines()


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def run_validate(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout.splitlines()


@pytest.mark.parametrize("case", cases(), ids=name_of)
def test_each_case_gives_exactly_its_expected_lines(case: Path) -> None:
    code, lines = run_validate(case.relative_to(REPO).as_posix())
    assert lines == expected_lines(case)
    has_errors = any(": error: " in line for line in lines)
    assert code == (1 if has_errors else 0)


def test_every_case_has_an_expected_file_and_every_expected_file_a_case() -> None:
    assert {name_of(case) for case in cases()} == {p.stem for p in BAD.glob("*.expected")}


def test_every_required_problem_has_an_example() -> None:
    codes = set()
    for case in cases():
        for line in expected_lines(case):
            match = LINE.match(line)
            assert match, line
            assert match["path"].startswith(case.relative_to(REPO).as_posix())
            codes.add(match["code"])
    assert codes >= REQUIRED_CODES, sorted(REQUIRED_CODES - codes)


@pytest.mark.parametrize("case", cases(), ids=name_of)
def test_every_problem_points_inside_its_file(case: Path) -> None:
    for problem in validate([case]).problems:
        lines = (REPO / problem.path).read_text("utf-8").splitlines()
        assert 1 <= problem.line <= len(lines), problem.as_text()
        assert 1 <= problem.column <= len(lines[problem.line - 1]) + 1, problem.as_text()


def test_a_problem_in_a_template_file_points_at_its_tag() -> None:
    (problem,) = [
        p
        for p in validate([BAD / "template-files"]).problems
        if p.path.endswith("front.html") and p.code == "check.unknown-template-field"
    ]
    line = (REPO / problem.path).read_text("utf-8").splitlines()[problem.line - 1]
    assert line[problem.column - 1 :].startswith("{{Readng}}")
    assert "did you mean 'Reading'?" in problem.message


def test_a_tag_inside_an_html_comment_is_not_read_as_anki_does_not() -> None:
    messages = [p.message for p in validate([BAD / "template-files"]).problems]
    assert not any("Old field" in message for message in messages)


def test_a_deck_sees_the_problems_of_the_note_type_file_it_uses() -> None:
    problems = validate([BAD / "shared" / "japanese.yaml"]).problems
    assert {p.path.rsplit("/", 1)[-1] for p in problems} == {
        "japanese.yaml",
        "course.notetypes.yaml",
    }


def test_a_note_type_declared_alike_in_two_files_is_one_note_type() -> None:
    problems = validate([BAD / "shared" / "history.yaml"]).problems
    assert problems  # the note-type file's own (a template file it names is missing...)
    assert not [p for p in problems if "'Vocab'" in p.message and "declared" in p.message]


def test_good_note_types_validate_without_a_problem() -> None:
    result = validate([GOOD])
    assert result.problems == ()


def test_a_build_refuses_a_card_that_would_make_no_anki_card(tmp_path: Path) -> None:
    source = tmp_path / "no-card.yaml"
    shutil.copy(BAD / "no-card.yaml", source)
    result = build([source], tmp_path / "out")
    assert not result.ok
    assert "check.no-card" in {p.code for p in result.problems}
    assert not (tmp_path / "out").exists()


# --- what the checks say Anki does, Anki does ---------------------------------------------------


def built_without_checks(source: Path, target: Path) -> Path:
    """The package of a source as the build would write it, its problems not looked at."""
    write_apkg(deck_from_source(load_source(source)), target, Stamps(default=1_700_000_000))
    return target


def test_anki_renames_the_fields_and_templates_the_checks_refuse(
    tmp_path: Path, collection: Collection
) -> None:
    import_apkg(collection, built_without_checks(BAD / "names.yaml", tmp_path / "names.apkg"))
    vocab = collection.models.by_name("Vocab")
    assert vocab is not None
    declared = ["Word: kanji", "#Tag", " Meaning", "word", "WORD"]
    assert [anki_field_name(name) for name in declared] == [
        "Word kanji",
        "Tag",
        "Meaning",
        "word",
        "WORD",
    ]
    # As check.field-name says, and check.duplicate-field: Anki makes the second 'word' unique.
    assert [f["name"] for f in vocab["flds"]] == ["Word kanji", "Tag", "Meaning", "word", "WORD+"]
    assert [t["name"] for t in vocab["tmpls"]] == ["Card 1", "card 1+", "The best card"]


def test_anki_shows_no_deletion_on_a_cloze_note_type_without_the_cloze_filter(
    tmp_path: Path, collection: Collection
) -> None:
    package = built_without_checks(BAD / "cloze-templates.yaml", tmp_path / "cloze.apkg")
    import_apkg(collection, package)
    (card_id,) = collection.find_cards('"note:Broken cloze"')
    question = collection.get_card(card_id).question()
    assert "{{c1::Paris}}" in question
    assert "[...]" not in question


STORED_OTHERWISE = [
    "diagram[1].png",
    "x\u00a0y.png",
    "what?.png",
    "trailing.",
    "CON.png",
    "e\u0301t\u0301e\u0301.png",  # NFD, as a Mac writes names
    "n" * 125 + ".png",
]


def test_anki_stores_media_under_the_names_the_check_gives(
    tmp_path: Path, collection: Collection
) -> None:
    (tmp_path / "media").mkdir()
    cards = []
    for index, name in enumerate([*STORED_OTHERWISE, "plain.png"]):
        (tmp_path / "media" / name).write_bytes(f"file {index}".encode())
        reference = name.replace("&", "&amp;").replace('"', "&quot;")
        cards.append({"id": f"c{index}", "front": f'<img src="{reference}">', "back": "b"})
    deck = {"deck": "Names", "id": "names", "exactly_as_written": True, "cards": cards}
    source = tmp_path / "names.yaml"
    source.write_text(json.dumps(deck, ensure_ascii=False), encoding="utf-8")
    warned = [p for p in validate([source]).problems if p.code == "check.media-name-changed"]
    assert len(warned) == len(STORED_OTHERWISE)
    result = build([source], tmp_path / "out", formats=["apkg"])
    assert result.ok, result.problems
    import_apkg(collection, tmp_path / "out" / "names.apkg")
    stored = {path.name for path in Path(collection.media.dir()).iterdir()}
    assert stored == {anki_media_name(name) for name in [*STORED_OTHERWISE, "plain.png"]}
    assert all(anki_media_name(name) != name for name in STORED_OTHERWISE)
