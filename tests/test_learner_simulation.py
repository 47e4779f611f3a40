"""Issue 14's simulation (tests/learner_simulation.py), a few seeds and cycles: every author
action is safe for the learner, or refused by the build and undone by the author."""

from __future__ import annotations

from pathlib import Path

import pytest

from learner_simulation import simulate


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_author_action_is_safe_for_the_learner_or_refused(tmp_path: Path, seed: int) -> None:
    report = simulate(tmp_path / "sim", seed, cycles=30)

    assert report.violations == []
    assert report.cycles == 30
    # The actions deckkit refuses (a retype would be conflicting, a renamed id a duplicate,
    # a clock behind older than learners' copies) are refused, not let through.
    assert set(report.refusals) <= {"retype", "rename_card", "clock_behind"}
