"""Benchmark for issue 16: a Markdown deck builds within 2x the time of the same deck as HTML.

    PYTHONPATH=src python bench/markdown_speed.py [--cards 100000] [--runs 3]

Writes two sources into ``bench/.data/markdown`` (git-ignored) holding the same cards, word for
word: one with ``markdown: true``, one without (its text then is HTML, ``**`` and all). The
cards are what a Markdown author writes (seeded, deterministic): bold and code spans, emphasis,
lists, links, maths, clozes with Markdown inside, tables and fenced code blocks in some, and
plain sentences in others. Each deck is built from scratch (``deckkit build FILE -o OUT``, all
three formats, no lockfile, a fresh output folder each run, outside any project), in a process
of its own; the median and best wall times and the median CPU time of ``--runs`` runs are
printed, with the ratios, and written to ``bench/results-markdown.md``. Wall time is what the
issue's target is about; on a busy machine the best run is the one least slowed by other work,
and CPU time (the build's processes together) is what the work costs whatever else runs.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "markdown"
WORDS = (
    "commit branch merge rebase stash index tree blob remote fetch pull push tag head diff log "
    "reset revert cherry pick bisect hook config alias origin upstream worktree patch"
).split()


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _block(text: str) -> str:
    return "|\n" + "".join(f"      {line}\n" if line else "\n" for line in text.split("\n"))


def _card(rng: random.Random, index: int) -> str:
    kind = index % 10
    head = f"  - id: card-{index}\n"
    if kind in (0, 1, 2):
        front = f"What does **git {rng.choice(WORDS)}** do to `{rng.choice(WORDS)}.txt`?"
        back = f"It _{_words(rng, 3)}_ the {_words(rng, 4)} ([docs](https://git-scm.com))."
        return head + f"    front: {_quoted(front)}\n    back: {_quoted(back)}\n"
    if kind in (3, 4):
        front = f"Plain question {index}: {_words(rng, 8)}?"
        back = f"Plain answer, {_words(rng, 6)}."
        return head + f"    front: {_quoted(front)}\n    back: {_quoted(back)}\n"
    if kind == 5:
        verb = rng.choice(WORDS)
        text = f"The {{{{c1::**{verb}**::a verb}}}} keeps $x_{index}^2$ in {_words(rng, 3)}."
        return head + f"    type: cloze\n    text: {_quoted(text)}\n"
    if kind == 6:
        back = "\n".join(f"- `{rng.choice(WORDS)}`: {_words(rng, 4)}" for _ in range(3))
        return head + f"    front: {_quoted('Name three commands.')}\n    back: {_block(back)}"
    if kind == 7:
        rows = "\n".join(f"| `{rng.choice(WORDS)}` | {_words(rng, 2)} |" for _ in range(3))
        back = f"| command | what |\n|---|---|\n{rows}"
        return head + f"    front: {_quoted('Which does what?')}\n    back: {_block(back)}"
    if kind == 8:
        back = f"```python\ndef f_{index}(x):\n    return x * {index}  # {_words(rng, 2)}\n```"
        return head + f"    front: {_quoted('Write f.')}\n    back: {_block(back)}"
    front = f"Why {_words(rng, 5)}?"
    back = f"Because {_words(rng, 4)}.\n\nAnd then ~~{_words(rng, 2)}~~ {_words(rng, 3)}."
    return head + f"    front: {_quoted(front)}\n    back: {_block(back)}"


def write_sources(cards: int) -> tuple[Path, Path]:
    """The Markdown source and its HTML twin, written once per size."""
    DATA.mkdir(parents=True, exist_ok=True)
    rng = random.Random(16)
    body = "".join(_card(rng, index) for index in range(cards))
    paths = []
    for name, flag in (("markdown", "markdown: true\n"), ("html", "")):
        path = DATA / f"{name}-{cards}.yaml"
        if not path.exists():
            header = f"deck: Bench::{name}\nid: bench-{name}\n{flag}cards:\n"
            path.write_text(header + body, encoding="utf-8")
        paths.append(path)
    return paths[0].resolve(), paths[1].resolve()


def _absolute_pythonpath() -> dict[str, str]:
    """This environment, with PYTHONPATH's folders absolute (``src`` works from another folder)."""
    folders = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    absolute = os.pathsep.join(str(Path(folder).resolve()) for folder in folders)
    return {**os.environ, "PYTHONPATH": absolute}


def build_seconds(source: Path) -> tuple[float, float]:
    """The wall time and the CPU time (its processes' together) of one full build of ``source``
    into a fresh folder, run outside any project (no deckkit.toml, so no lockfile)."""
    with tempfile.TemporaryDirectory(prefix="deckkit-bench-") as scratch:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "deckkit", "build", "-q", str(source), "-o", "out"],
            check=True,
            cwd=scratch,
            env=_absolute_pythonpath(),
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--results", type=Path, default=HERE / "results-markdown.md")
    options = parser.parse_args()
    markdown, html = write_sources(options.cards)
    runs: dict[str, list[tuple[float, float]]] = {"html": [], "markdown": []}
    for _ in range(options.runs):  # interleaved: a busy machine slows both alike
        runs["html"].append(build_seconds(html))
        runs["markdown"].append(build_seconds(markdown))
    wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    best = {k: min(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    rows = [
        ("`deckkit build`, wall time (median)", wall),
        ("`deckkit build`, wall time (best)", best),
        ("CPU time, all its processes (median)", cpu),
    ]
    table = (
        f"| {options.cards:,} cards, {options.runs} runs each | HTML deck | Markdown deck "
        "| ratio (target ≤ 2) |\n|---|---|---|---|\n"
    ) + "".join(
        f"| {name} | {t['html']:.2f} s | {t['markdown']:.2f} s "
        f"| {t['markdown'] / t['html']:.2f} |\n"
        for name, t in rows
    )
    print(table)
    options.results.write_text(
        "# Markdown fields: build time (issue 16)\n\n"
        f"`PYTHONPATH=src python bench/markdown_speed.py --cards {options.cards} "
        f"--runs {options.runs}`\n\n" + table,
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
