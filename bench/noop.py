"""Benchmark for issue 15: a build with nothing changed, end to end and in-process, and where its
time goes.

    /work/main/.venv/bin/python bench/noop.py [--cards 100000] [--runs 15] [--rev REV ...]

Uses the sources bench/run.py generates (the spread layout: 100 files, ``--cards`` cards in all).
For each deckkit (the working tree, and each ``--rev`` exported as bench/run.py does), it builds
once into its own folder under ``bench/.data/noop/`` (``-o OUT --lockfile LOCK``, all formats,
as bench/run.py's no-change rebuild), builds again once to settle, and then times:

- ``process``: the no-change ``python -m deckkit build`` as a user runs it (wall time, and CPU
  time, user + system, which other work on the machine disturbs less; the runs of every deckkit
  are interleaved, so that such load falls on all alike);
- ``in-process``: within one Python process already started, the same command's ``main()``
  (imports of deckkit and click, the build, the report), then ``deckkit.build()`` alone again
  with everything imported.

Then, for the working tree only, where the time goes: Python's own start (``python -c pass``),
the imports of the command (``-X importtime``, by top-level package), and the build's parts under
cProfile. Bytecode is written and the page cache warmed before anything is timed. Prints markdown.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # bench/run.py: the data generator and the --rev export

NOOP = bench.DATA / "noop"


def build_command(folder: Path, work: Path) -> list[str]:
    return ["build", str(folder), "-o", str(work / "out"), "--lockfile", str(work / "deckkit.lock")]


def wall(command: list[str], env: dict[str, str]) -> float:
    return timed(command, env)[0]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """A process's wall time and CPU time (user + system: less disturbed by other work)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_utime + usage.ru_stime


IN_PROCESS = """
import contextlib, io, sys, time
start = time.perf_counter()
try:
    from deckkit.cli.entry import main
except ImportError:  # a revision from before the console script's own module
    from deckkit.cli import main
sys.argv = ["deckkit", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as ended:
        assert not ended.code, ended.code
command = time.perf_counter() - start
import deckkit
from pathlib import Path
args = sys.argv[2:]
start = time.perf_counter()
build = deckkit.build if callable(deckkit.build) else deckkit.build.build  # older: a module
result = build([Path(args[0])], Path(args[2]), lockfile=Path(args[4]))
library = time.perf_counter() - start
assert result.ok and not result.written
print(command, library)
"""


def in_process(arguments: list[str], env: dict[str, str]) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, *arguments],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    command, library = done.stdout.split()
    return float(command), float(library)


def import_times(arguments: list[str], env: dict[str, str]) -> dict[str, float]:
    """Milliseconds of ``-X importtime`` by top-level package (self times added up)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "deckkit", *arguments],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _cumulative, name = line.removeprefix("import time:").split("|")
        parts = name.strip().split(".")
        package = ".".join(parts[:2]) if parts[0] == "deckkit" else parts[0]
        totals[package] = totals.get(package, 0.0) + int(own) / 1000
    return totals


def profile_parts(arguments: list[str]) -> list[tuple[str, float]]:
    """Cumulative seconds of the build's parts under cProfile, in this process."""
    from deckkit.cli.entry import main

    profile = cProfile.Profile()
    sys.argv = ["deckkit", *arguments]
    saved = sys.stdout
    sys.stdout = io.StringIO()
    profile.enable()
    try:
        main()
    except SystemExit:
        pass
    finally:
        profile.disable()
        sys.stdout = saved
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    wanted = {
        "build_command": "the `build` command (from its start, imports excluded)",
        "make_plan": "  plan: cache, lockfile check, every source up to date?",
        "read_build_cache": "    read and check the cache (JSON)",
        "code_fingerprint": "    hash deckkit's own files (a new version rebuilds)",
        "_lock_settled": "    the lockfile as the last build left it? (stat)",
        "_settled_decks": "    each source, its media and outputs unchanged? (stat)",
        "discover_sources": "  find the sources",
        "settled_result": "  the result from the cache",
        "report_problems": "  print the remembered warnings",
    }
    found = {}
    for (_file, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        if name in wanted:
            found[name] = max(found.get(name, 0.0), cumulative)
    return [(wanted[name], found.get(name, 0.0)) for name in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rev", action="append", default=[], help="also time deckkit at REV")
    args = parser.parse_args()

    folder = bench.generate(args.cards, bench.LAYOUTS[1])
    deckkits: dict[str, dict[str, str]] = {}
    for rev in [*args.rev, None]:
        env, label = bench.deckkit_environment(rev)
        if rev is None:  # this checkout's deckkit, whichever the environment has installed
            env["PYTHONPATH"] = str(bench.ROOT / "src")
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
        deckkits[label] = env
    works = {label: NOOP / str(index) for index, label in enumerate(deckkits)}
    for label, env in deckkits.items():
        work = works[label]
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        command = [sys.executable, "-m", "deckkit", *build_command(folder, work)]
        full = wall(command, env)
        print(f"{label}: full build {full:.2f} s", file=sys.stderr)
        wall(command, env)  # settles (and writes bytecode)

    process: dict[str, list[float]] = {label: [] for label in deckkits}
    cpu: dict[str, list[float]] = {label: [] for label in deckkits}
    inside: dict[str, list[tuple[float, float]]] = {label: [] for label in deckkits}
    for _ in range(args.runs):
        for label, env in deckkits.items():
            arguments = build_command(folder, works[label])
            elapsed, used = timed([sys.executable, "-m", "deckkit", *arguments], env)
            process[label].append(elapsed)
            cpu[label].append(used)
            inside[label].append(in_process(arguments, env))

    print(
        f"No-change `deckkit build` of {args.cards:,} cards in 100 files, {args.runs} runs each:\n"
    )
    print(
        "| deckkit | process s (median) | min | max | process CPU s (median) "
        "| in-process `main()` s | `build()` alone s |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|")
    for label in deckkits:
        times = process[label]
        command = statistics.median(t for t, _ in inside[label])
        library = statistics.median(t for _, t in inside[label])
        print(
            f"| {label} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} "
            f"| {statistics.median(cpu[label]):.3f} | {command:.3f} | {library:.3f} |"
        )

    label, env = list(deckkits.items())[-1]
    arguments = build_command(folder, works[label])
    starts = [wall([sys.executable, "-c", "pass"], env) for _ in range(args.runs)]
    imports = [import_times(arguments, env) for _ in range(5)]
    packages = sorted({p for run in imports for p in run})
    medians = {p: statistics.median(run.get(p, 0.0) for run in imports) for p in packages}
    print(f"\nWhere the time goes ({label}):\n")
    print(f"- Python's own start (`python -c pass`): {statistics.median(starts):.3f} s")
    print(f"- imports (`-X importtime`, self times, median of 5): {sum(medians.values()):.0f} ms")
    for package, ms in sorted(medians.items(), key=lambda item: -item[1])[:12]:
        print(f"  - {package}: {ms:.1f} ms")
    sys.path.insert(0, env["PYTHONPATH"])
    print("- the build under cProfile (cumulative s; cProfile slows it):")
    for name, seconds in profile_parts(arguments):
        print(f"  - {name}: {seconds:.3f}")


if __name__ == "__main__":
    main()
