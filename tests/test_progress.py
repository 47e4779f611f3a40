"""The progress bar of large builds: on a terminal only, counting cards, and moving within one big
deck (issue 15: it counted decks, so one big deck jumped from 0/1 to 1/1)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import FIXTURES
from deckkit import DeckSummary, build

# Reaches inside: the progress bar draws only on a terminal, which click's CliRunner is not, and
# only for large sources, which PROGRESS_MIN_BYTES says.
from deckkit.cli import progress
from deckkit.cli.progress import PROGRESS_MIN_BYTES, ProgressBar


def big_source(tmp_path: Path) -> Path:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * PROGRESS_MIN_BYTES)
    return path


def summary(deck_id: str, source: Path) -> DeckSummary:
    return DeckSummary(deck_id, deck_id, source, {"basic": 1500}, 1500)


def as_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's stderr (captured: called in the test's body) taken for a terminal."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)


def test_progress_is_drawn_on_stderr_when_it_is_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    as_a_terminal(monkeypatch)
    (tmp_path / "a").mkdir()
    first, second = big_source(tmp_path / "a"), big_source(tmp_path)
    bar = ProgressBar()
    bar.start([first, second])
    bar.advance(summary("first", first))
    bar.close()
    err = capsys.readouterr().err
    assert "[------------------------------] building 2 decks from 2.0 MB of sources" in err
    assert "[###############---------------] 1,500 cards built (first)" in err


def test_no_progress_when_stderr_is_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    bar = ProgressBar()
    source = big_source(tmp_path)
    bar.start([source])
    bar.advance(summary("only", source))
    bar.close()
    assert capsys.readouterr().err == ""


def test_no_progress_under_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    as_a_terminal(monkeypatch)
    bar = ProgressBar(enabled=False)
    bar.start([big_source(tmp_path)])
    bar.close()
    assert capsys.readouterr().err == ""


def test_one_deck_fills_the_bar_step_by_step_naming_its_cards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    as_a_terminal(monkeypatch)
    monkeypatch.setattr(progress, "PROGRESS_MIN_BYTES", 0)  # a small deck stands for a big one
    bar = ProgressBar()
    build(
        [FIXTURES / "output" / "decks" / "rivers.yaml"],
        tmp_path / "out",
        jobs=1,
        on_start=bar.start,
        on_step=bar.step,
        on_deck=bar.advance,
    )
    bar.close()
    drawn = capsys.readouterr().err.split("\r")[1:]
    assert drawn[0].startswith("[" + "-" * 30 + "] building 1 deck from ")
    steps = [line.split("] ", 1)[1].rstrip("\n").removesuffix("\x1b[K") for line in drawn]
    assert steps[1:-1] == [
        "rivers.yaml (2 cards): read",
        "rivers.yaml (2 cards): modelled",
        "rivers.yaml (2 cards): wrote rivers.apkg",
        "rivers.yaml (2 cards): wrote rivers.csv",
        "rivers.yaml (2 cards): wrote rivers.quizlet.txt",
    ]
    filled = [line.count("#") for line in drawn[:-1]]
    assert filled == sorted(filled)
    assert 0 < filled[1] < filled[2] < filled[3] < 30  # within the deck, before it is done
    assert filled[-1] == 30
    assert steps[-1] == "2 cards built (rivers)"
