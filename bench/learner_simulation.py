"""Issue 14's simulation at length: an author and a learner over many builds, several seeds.

    /work/main/.venv/bin/python bench/learner_simulation.py [--cycles 100] [--seeds 1,2,3]

Runs tests/learner_simulation.py (the one the tests run for 30 cycles) with deckkit from this
checkout, and prints, for each seed, the actions tried, the builds deckkit refused (by action)
and every invariant broken (none expected): duplicates, conflicting or forked notes, lost
reviews, lost learner edits, author changes that never arrived.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src")]

from learner_simulation import simulate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    broken = 0
    for seed in (int(s) for s in args.seeds.split(",")):
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="deckkit-sim-") as folder:
            report = simulate(Path(folder) / "sim", seed, args.cycles)
        seconds = time.monotonic() - started
        print(f"seed {seed}: {report.cycles} cycles in {seconds:.0f} s")
        print(f"  actions: {dict(sorted(report.actions.items()))}")
        print(f"  refused: {dict(sorted(report.refusals.items()))}")
        print(f"  invariants broken: {len(report.violations)}")
        for violation in report.violations:
            print(f"    {violation}")
        broken += len(report.violations)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
