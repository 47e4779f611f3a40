"""Large sources: problems still come back with their exact line and column.

deckkit reads a source without its values' positions and reads it again with them only when it
finds a problem (issue 5): these tests pin that the second reading happens and places problems
exactly, in validate and in a build that checks a large deck in a second process.
"""

from __future__ import annotations

from pathlib import Path

from deckkit import build, validate

# Reaches inside: a large deck's checks and formats go to a second process only above
# PARALLEL_EXPORT_MIN_CARDS, and positions are compared as the loader reads them.
from deckkit.pipeline.source_build import PARALLEL_EXPORT_MIN_CARDS
from deckkit.sources.loader import Mark, load_source

CARDS = 100_000


def write_large_source(path: Path) -> dict[str, int]:
    """A deck of CARDS basic cards with three mistakes near the end; returns their lines."""
    lines = ["deck: Large", "id: large", "cards:"]
    where: dict[str, int] = {}
    for index in range(CARDS):
        lines += [f"  - id: card-{index}", f"    front: Question {index} <b>bold</b> & more"]
        if index == CARDS - 3:
            where["missing back"] = len(lines) - 1  # the card's mapping starts on its id line
            continue
        lines.append(f"    back: Answer {index}")
        if index == CARDS - 2:
            lines.append("    colour: blue")
            where["unknown key"] = len(lines)
        if index == CARDS - 1:
            lines.append("    level: expert")
            where["bad level"] = len(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return where


def test_problems_in_a_100000_card_file_have_exact_positions(tmp_path: Path) -> None:
    source = tmp_path / "large.yaml"
    where = write_large_source(source)
    result = validate([source])
    found = [(p.line, p.column, p.code) for p in result.problems]
    assert found == [
        (where["missing back"], 5, "schema.required"),
        (where["unknown key"], 5, "schema.unknown-key"),
        (where["bad level"], 12, "schema.enum"),
    ]


def write_deck_with_card_problem(path: Path, cards: int, problem: str) -> tuple[int, int]:
    """A deck of basic cards whose second-to-last back has ``problem`` written into it; returns
    the line and column where that back's text starts."""
    lines = ["deck: Large", "id: large", "cards:"]
    for index in range(cards):
        lines += [f"  - id: card-{index}", f"    front: Question {index}"]
        lines.append(f"    back: Answer {index}" + (f" {problem}" if index == cards - 2 else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 3 + 3 * (cards - 2) + 3, len("    back: ") + 1


def test_a_clean_file_read_without_positions_gives_the_same_data(tmp_path: Path) -> None:
    source = tmp_path / "large.yaml"
    write_deck_with_card_problem(source, 50, "")
    quick, full = load_source(source, all_positions=False), load_source(source)
    assert quick.data == full.data
    assert quick.problems == full.problems == []
    assert {len(path) for path in quick.value_marks} == {0, 1}  # the root and top-level keys
    assert quick.mark_of_value(("id",)) == full.mark_of_value(("id",)) == Mark(2, 5)
    assert len(full.value_marks) > 100


# Above PARALLEL_EXPORT_MIN_CARDS, a build runs the checks in a second process while it exports.
LARGE = PARALLEL_EXPORT_MIN_CARDS + 10


def test_an_error_found_by_the_checks_of_a_large_deck_is_placed_exactly(tmp_path: Path) -> None:
    source = tmp_path / "sources" / "large.yaml"
    source.parent.mkdir()
    line, column = write_deck_with_card_problem(source, LARGE, '<img src="media/none.png">')
    result = build([source.parent], tmp_path / "out", jobs=2)
    assert [(p.line, p.column, p.code) for p in result.problems] == [
        (line, column, "check.media-missing")
    ]
    assert not (tmp_path / "out").exists()


def test_a_warning_in_a_large_deck_is_placed_exactly_and_shown_again_when_unchanged(
    tmp_path: Path,
) -> None:
    source = tmp_path / "sources" / "large.yaml"
    source.parent.mkdir()
    line, column = write_deck_with_card_problem(source, LARGE, "<b>bold")
    expected = [(line, column, "check.unclosed-tag", "warning")]
    first = build([source.parent], tmp_path / "out", jobs=2)
    assert [(p.line, p.column, p.code, p.severity) for p in first.problems] == expected
    assert (tmp_path / "out" / "large.apkg").is_file()
    again = build([source.parent], tmp_path / "out", jobs=2)
    assert again.written == ()  # nothing changed: the deck came from the cache...
    # ...and its warning with it
    assert [(p.line, p.column, p.code, p.severity) for p in again.problems] == expected
