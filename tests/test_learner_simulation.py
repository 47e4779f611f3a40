"""Learners' collections under every author action (issue 14): a randomized simulation of an
author and a learner (tests/learner_simulation.py) finds no duplicate, no conflicting or forked
note, no lost review and no lost edit, and every harmful action is refused by the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from learner_simulation import ACTIONS, simulate

REFUSED = {"retype", "rename_card", "clock_behind"}  # the actions a build must refuse


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_author_action_is_safe_for_the_learner_or_refused(tmp_path: Path, seed: int) -> None:
    report = simulate(tmp_path / "sim", seed, cycles=30)
    assert report.violations == []
    assert set(report.actions) == set(ACTIONS)  # the run tried every action
    assert set(report.refusals) <= REFUSED
    # Each harmful action is refused every time it is tried (the author then undoes it).
    assert {action: report.refusals.get(action, 0) for action in REFUSED} == {
        action: report.actions[action] for action in REFUSED
    }
