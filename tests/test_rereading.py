"""`deckkit watch` reads a saved source again by parsing only the cards that changed
(deckkit.sources.rereading): after any edit, what it reads is what reading the whole file reads."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from deckkit.sources.loader import LoadedSource, load_source
from deckkit.sources.rereading import keep_reads, reread_source

FIXTURE = Path(__file__).parent / "fixtures" / "rereading" / "deck.yaml"
# What the edits insert: pieces of cards, and of YAML that changes how what follows is read.
PIECES = [
    "x",
    "\n",
    "\r",
    "\r\n",
    "\x85",
    "\u2028",
    " ",
    "    ",
    "\t",
    "'",
    '"',
    "#",
    ": ",
    "- ",
    "|\n",
    ">\n",
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "---\n",
    "...\n",
    "id: plain",
    "  - id: new\n    front: a\n    back: b\n",
    "\n  - id: block\n    front: |\n      code\n  - x\n    back: z\n",
    "\n  -\n",
    "\n- id: left\n",
    "\nmedia: []\n",
]


@pytest.fixture
def kept() -> Iterator[None]:
    keep_reads()
    yield
    keep_reads(False)


def read(path: Path) -> tuple[object, ...]:
    return facts(load_source(path, all_positions=False))


def facts(source: LoadedSource) -> tuple[object, ...]:
    return (
        repr(source.data),  # repr: 1 and True, 1.0 and 1, differ
        source.value_marks,
        source.key_marks,
        source.nodes,
        source.problems,
        source.skipped_paths,
    )


def edited(text: str, rng: random.Random) -> str:
    """``text`` with one random edit: a piece inserted, some characters or a line removed, a
    line doubled."""
    at = rng.randrange(len(text) + 1)
    kind = rng.randrange(4)
    if kind == 0:
        return text[:at] + rng.choice(PIECES) + text[at:]
    if kind == 1:
        return text[:at] + text[at + rng.randrange(1, 30) :]
    lines = text.splitlines(keepends=True)
    line = rng.randrange(len(lines))
    if kind == 2:
        return "".join(lines[:line] + lines[line + 1 :])
    return "".join(lines[: line + 1] + lines[line:])


@pytest.mark.parametrize(("seed", "line_end"), [(16, "\n"), (17, "\n"), (18, "\r\n")])
def test_after_any_edit_the_cards_read_again_are_the_whole_files(
    tmp_path: Path, kept: None, seed: int, line_end: str
) -> None:
    deck = tmp_path / "deck.yaml"
    original = FIXTURE.read_text("utf-8").replace("\n", line_end)
    deck.write_bytes(original.encode())
    assert reread_source(deck).data == load_source(deck).data
    rng = random.Random(seed)  # 61 seeds of 3,000 edits passed; three stay here
    text = original
    spliced = 0
    for _ in range(3000):
        text = original if rng.random() < 0.3 else edited(text, rng)
        deck.write_bytes(text.encode())  # line ends as they are
        again = facts(reread_source(deck))
        assert again == read(deck), text
        spliced += not again[4]
    assert spliced > 300  # most edits were read again without a problem


def test_an_edited_card_is_read_again_with_the_keys_after_the_cards_moved(
    tmp_path: Path, kept: None
) -> None:
    deck = tmp_path / "deck.yaml"
    shutil.copyfile(FIXTURE, deck)
    reread_source(deck)
    text = FIXTURE.read_text("utf-8").replace("    back: Paris\n", "    back: |\n      Paris\n")
    deck.write_text(text, encoding="utf-8")
    source = reread_source(deck)
    assert source.data["cards"][0]["back"] == "Paris\n"
    assert source.mark_of_key(("media",)).line == text.splitlines().index("media:") + 1
    assert facts(source) == read(deck)
