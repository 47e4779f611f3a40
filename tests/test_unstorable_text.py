"""Field text Anki cannot store is refused by validate, at the escape that wrote it (issue 12).

U+001F separates a note's fields in Anki's database: one inside a field made Anki refuse the
whole package ("note has 3 fields, expected 2"). The other ASCII control characters but tab and
line feed are removed by Anki when it stores a note (``invalid_char_for_field`` in rslib), so the
card would silently differ from its source. YAML lets them in only as escapes of double-quoted
text ("\\x1f", "\\0"); the problem points at that escape.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from deckkit import validate
from deckkit.cli import main


def write(path: Path, front_yaml: str) -> Path:
    path.write_text(
        f"deck: D\nid: d\ncards:\n  - id: a\n    front: {front_yaml}\n    back: b\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("code", [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])
def test_every_control_character_anki_removes_is_refused_at_its_escape(
    code: int, tmp_path: Path
) -> None:
    source = write(tmp_path / "deck.yaml", f'"ab\\x{code:02x}cd"')
    (problem,) = validate([source]).problems
    assert (problem.line, problem.column, problem.code) == (5, 15, "check.unstorable-text")
    assert problem.severity == "error"
    assert f"U+{code:04X}" in problem.message


@pytest.mark.parametrize("text", ['"tab\\there"', '"line\\nbreak"', "plain text"])
def test_tabs_and_line_breaks_are_stored(text: str, tmp_path: Path) -> None:
    assert validate([write(tmp_path / "deck.yaml", text)]).problems == ()


def test_a_field_separator_fails_the_build_which_writes_nothing(tmp_path: Path) -> None:
    source = write(tmp_path / "deck.yaml", '"What splits fields? \\u001F"')
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Anki's field separator" in result.stdout
    assert "[check.unstorable-text]" in result.stdout
    assert not (tmp_path / "out").exists()
