"""The progress bar of large builds: on a terminal only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from deckkit import DeckSummary

# Reaches inside: the progress bar draws only on a terminal, which click's CliRunner is not.
from deckkit.cli.progress import PROGRESS_MIN_BYTES, ProgressBar


def big_source(tmp_path: Path) -> Path:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * PROGRESS_MIN_BYTES)
    return path


def summary(deck_id: str) -> DeckSummary:
    return DeckSummary(deck_id, deck_id, Path(f"{deck_id}.yaml"), {"basic": 1500}, 1500)


def test_progress_is_drawn_on_stderr_when_it_is_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bar = ProgressBar()
    bar.start([big_source(tmp_path), big_source(tmp_path)])
    bar.advance(summary("first"))
    bar.close()
    err = capsys.readouterr().err
    assert "[------------------------------] 0/2 building 2 deck(s)" in err
    assert "[###############---------------] 1/2 1,500 cards (first)" in err


def test_no_progress_when_stderr_is_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    bar = ProgressBar()
    bar.start([big_source(tmp_path)])
    bar.advance(summary("only"))
    bar.close()
    assert capsys.readouterr().err == ""
