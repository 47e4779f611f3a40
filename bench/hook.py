"""Benchmark for issue 15: the pre-commit hook on a 100-deck repository when one file changed.

    PYTHONPATH=src .venv/bin/python bench/hook.py [--decks 100] [--cards 50] [--runs 5]

Makes a fresh git repository in a temporary folder: a project file, DECKS decks of CARDS cards
each (every fifth card shows an image, one of ten in sources/media/), built once with
``deckkit build`` and committed. Then it times, as whole processes (wall time, median of RUNS):

- ``deckkit validate --staged`` the first time (no copy of the index, no cache yet);
- the same with nothing changed since;
- the same after one deck was edited, rebuilt (``deckkit build``) and staged with its lockfile:
  each run edits the deck anew, so that deck is checked again every time;
- the same edit with the lockfile left unstaged: the hook refuses it (stale lockfile);
- ``pre-commit run`` end to end for that one-deck commit, the hook configured as
  ``deckkit init`` writes it (``repo: local``, the deckkit of this interpreter's environment).

Prints a markdown table; nothing is written in this repository.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
IMAGE = REPO / "tests" / "fixtures" / "quizlet-media" / "media" / "diagram.png"


def main(argv: Sequence[str] | None = None) -> int:
    options = arguments(argv)
    folder = Path(tempfile.mkdtemp(prefix="deckkit-hook-bench-"))
    try:
        rows = measure(folder / "course", options.decks, options.cards, options.runs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{options.decks} decks × {options.cards} cards, median of {options.runs} runs:\n")
    print("| what | seconds | exit |")
    print("|---|---:|---:|")
    for what, seconds, status in rows:
        print(f"| {what} | {seconds:.3f} | {status} |")
    return 0


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decks", type=int, default=100)
    parser.add_argument("--cards", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    return parser.parse_args(argv)


def measure(root: Path, decks: int, cards: int, runs: int) -> list[tuple[str, float, int]]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    env["PRE_COMMIT_HOME"] = str(root.parent / "pre-commit-home")
    make_course(root, decks, cards)

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)

    def must(*command: str) -> None:
        done = run(*command)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")

    deckkit = str(BIN / "deckkit")
    hook = (deckkit, "validate", "--staged", "-q")
    must(*GIT, "init", "-q", "-b", "main")
    must(deckkit, "build", "-q")
    must(*GIT, "add", ".")
    must(*GIT, "commit", "-q", "--no-verify", "-m", "course")
    rows = [("first check (no copy, no cache)", *timed(lambda: run(*hook)))]
    rows.append(("nothing changed", *median(runs, lambda: None, lambda: run(*hook))))
    edited = root / "sources" / "deck-007.yaml"
    text = edited.read_text(encoding="utf-8")
    count = iter(range(10_000))

    def edit(stage_lock: bool) -> Callable[[], None]:
        def change() -> None:
            edited.write_text(text.replace("Answer 3 ", f"Answer 3 ({next(count)}) "))
            must(deckkit, "build", "-q")
            must(*GIT, "add", "sources/deck-007.yaml", *(["deckkit.lock"] if stage_lock else []))

        return change

    rows.append(
        ("one deck changed, lockfile staged", *median(runs, edit(True), lambda: run(*hook)))
    )
    rows.append(
        ("one deck changed, lockfile not staged", *median(runs, edit(False), lambda: run(*hook)))
    )
    pre_commit = (str(BIN / "pre-commit"), "run")
    must(str(BIN / "pre-commit"), "install-hooks")
    rows.append(
        ("pre-commit run, one deck changed", *median(runs, edit(True), lambda: run(*pre_commit)))
    )
    return rows


def timed(action: Callable[[], subprocess.CompletedProcess[str]]) -> tuple[float, int]:
    start = time.perf_counter()
    done = action()
    return time.perf_counter() - start, done.returncode


def median(
    runs: int, prepare: Callable[[], None], action: Callable[[], subprocess.CompletedProcess[str]]
) -> tuple[float, int]:
    """The median time of ``action`` after each ``prepare``, and its worst exit status."""
    times, statuses = [], []
    for _ in range(runs):
        prepare()
        seconds, status = timed(action)
        times.append(seconds)
        statuses.append(status)
    return statistics.median(times), max(statuses)


def make_course(root: Path, decks: int, cards: int) -> None:
    """The project: deckkit.toml, DECKS decks in sources/, ten images, deckkit init's hook."""
    from deckkit.project_starter import starter_files

    media = root / "sources" / "media"
    media.mkdir(parents=True)
    for number in range(10):
        shutil.copy(IMAGE, media / f"figure-{number}.png")
    (root / "deckkit.toml").write_text('sources = ["sources"]\n', encoding="utf-8")
    (root / ".gitignore").write_text("/build/\n", encoding="utf-8")
    config = starter_files("sources")[".pre-commit-config.yaml"]
    (root / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    for deck in range(decks):
        lines = [f"deck: Course::Topic {deck}", f"id: deck-{deck:03d}", "cards:"]
        for card in range(cards):
            image = f' <img src="media/figure-{card % 10}.png">' if card % 5 == 0 else ""
            lines += [
                f"  - id: card-{card}",
                f"    front: What is fact {card} of topic {deck}?",
                f"    back: Answer {card} about topic {deck}{image}",
                "    tags: [bench]",
            ]
        path = root / "sources" / f"deck-{deck:03d}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
