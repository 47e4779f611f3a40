"""A 100,000-card source: problems still come back with their exact line and column."""

from __future__ import annotations

from pathlib import Path

from deckkit.build import validate

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
