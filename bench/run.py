"""Benchmark for issue 5: deckkit on 1,000 / 10,000 / 100,000-card decks, against a floor.

    /work/venv/bin/python bench/run.py [--sizes 1000,10000,100000] [--quick] [--rev REV]

Needs, besides deckkit itself (PyYAML with libyaml, genanki), in the same environment:

    pip install jsonschema-rs fastjsonschema check-jsonschema

(jsonschema-rs or fastjsonschema for the floor, whichever is there, jsonschema-rs preferred;
check-jsonschema for the comparison). The script stops with this message if they are missing.
Linux or macOS (it reads each child's peak memory with ``os.wait4``).

What it does, in one run:

1. Generates realistic, deterministic (seeded) sources into ``bench/.data/sources`` (git-ignored):
   every card type (basic, reversed, cloze, type_in, multiple_choice, open), deck and card tags,
   levels, HTML (inline tags, lists, entities, bare ``<``/``&`` text), non-ASCII text, folded
   multi-line scalars, and ``<img src="media/....png">`` references to a few small real PNGs. For
   each size N two layouts hold the same N cards: one file, and 100 files of N/100 cards (each its
   own deck with a unique ``id``). Generated data is reused when the generator has not changed.
2. Times whole processes (wall time; peak RSS of that child from ``os.wait4``'s rusage — a
   ``RUSAGE_CHILDREN`` delta cannot give a later child's peak, since ``ru_maxrss`` is a
   high-water mark over all children):
   - ``deckkit validate DIR``
   - ``deckkit build DIR -o OUT --lockfile LOCK`` (all three formats; fresh OUT and LOCK)
   - the no-change rebuild: the same command again, same OUT and LOCK
   - the floor, ``bench/floor.py``: CSafeLoader with gc paused + the fastest validator + genanki
     .apkg and csv writes (the parts the issue adds up to "about 5.5 s" at 100,000 cards)
   - ``check-jsonschema --schemafile schemas/deck.schema.json FILES...``
   Every tool must succeed on every data set (exit 0); a failure stops the run with its output.
3. Prints a markdown table with ratios and the issue's targets, and writes it to
   ``bench/results.md`` (``--results`` to change).

Below 100,000 cards each timing is the median of 3 runs (peak memory: the largest); 100,000-card
timings are single runs. ``--quick`` runs everything once and, unless ``--sizes`` is given,
only 1,000 and 10,000 cards.

``--rev REV`` benchmarks deckkit as committed at REV (``git archive`` into ``bench/.data``, put
first on PYTHONPATH) instead of the working tree, so that a baseline is not disturbed by edits
being made to ``src/`` meanwhile. The floor and check-jsonschema do not depend on it.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import platform
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tarfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCHEMA = ROOT / "schemas" / "deck.schema.json"
DATA = BENCH / ".data"
FLOOR = BENCH / "floor.py"
SEED = 5  # issue 5
GENERATOR_VERSION = 1  # raise when the generated sources change, to regenerate cached data
FILES_IN_SPREAD_LAYOUT = 100
LAYOUTS = ("one file", f"{FILES_IN_SPREAD_LAYOUT} files")
MB = 1024 * 1024

# ---------------------------------------------------------------------------------------------
# requirements


def missing_requirements() -> list[str]:
    """The pip packages this benchmark needs that are not installed (empty when all are)."""
    missing = []
    if importlib.util.find_spec("yaml") is None:
        missing.append("pyyaml")
    else:
        import yaml

        if not hasattr(yaml, "CSafeLoader"):
            missing.append("pyyaml built with libyaml (yaml.CSafeLoader)")
    if importlib.util.find_spec("genanki") is None:
        missing.append("genanki")
    if (
        importlib.util.find_spec("jsonschema_rs") is None
        and importlib.util.find_spec("fastjsonschema") is None
    ):
        missing.append("jsonschema-rs (or fastjsonschema)")
    if tool("check-jsonschema") is None:
        missing.append("check-jsonschema")
    if tool("deckkit") is None:
        missing.append("deckkit (pip install -e .)")
    return missing


def tool(name: str) -> str | None:
    """An executable from this interpreter's environment, else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def required_tool(name: str) -> str:
    found = tool(name)
    if found is None:  # missing_requirements() ran first, so this is not expected
        sys.exit(f"bench/run.py: cannot find the '{name}' command")
    return found


# ---------------------------------------------------------------------------------------------
# source generation


def words(text: str) -> list[str]:
    return text.split()


SYLLABLES = words(
    "ka ri to mo na se lu vi do pe ra ne ti so ma ku le fi ba go ha ji zu wo ye ar en il on ur "
    "tra pla gre sto bri cla dro fle spi mun tal ver sol cor ped nal gas"
)
REAL_WORDS = words(
    "aorta ventricle atrium valve mitral tricuspid pulmonary systole diastole renal nephron "
    "glomerulus alveolus bronchus trachea femur tibia radius ulna clavicle scapula neuron synapse "
    "axon dendrite cortex thalamus contract tort statute precedent plaintiff defendant appeal "
    "verdict liability negligence estoppel easement covenant lien bail habeas jurisdiction "
    "tribunal mandate vocabulary lexicon grammar syntax idiom clause pronoun adverb adjective "
    "gerund subjunctive conditional"
)
ACCENTED = words(
    "café naïve façade über straße déjà-vu crème brûlée señor jalapeño smörgåsbord fiancée "
    "Ærø Zürich São-Paulo Kraków"
)
NON_LATIN = (
    "ありがとう",
    "こんにちは",
    "東京",
    "мир",
    "спасибо",
    "مرحبا",
    "שלום",
    "γνώση",
    "λόγος",
    "नमस्ते",
)
SUBJECTS = (
    "anatomy",
    "cardiology",
    "nephrology",
    "neurology",
    "contract-law",
    "tort-law",
    "civil-procedure",
    "french",
    "german",
    "spanish",
    "japanese",
    "statistics",
)
LEVELS = ("beginner", "intermediate", "advanced")
IMAGES = ("heart-diagram", "nephron", "neuron", "court-structure", "map-europe", "bar-chart")
CARD_TYPES = ("basic", "reversed", "cloze", "type_in", "multiple_choice", "open")
CARD_TYPE_WEIGHTS = (40, 15, 15, 10, 12, 8)


def png(width: int, height: int, seed: int) -> bytes:
    """A small, valid RGB PNG with a seeded gradient."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type: none
        for x in range(width):
            row += bytes(
                ((x * 8 + seed * 40) % 256, (y * 8 + seed * 70) % 256, (x * y + seed * 25) % 256)
            )
        rows.append(bytes(row))

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


_YAML_SPECIAL_START = set("-?:,[]{}#&*!|>'\"%@`")
_NUMBER_OR_KEYWORD = re.compile(
    r"^[-+.0-9]|^(?:true|false|yes|no|on|off|null|y|n|~)$", re.IGNORECASE
)


def scalar(text: str, flow: bool = False) -> str:
    """``text`` as an author would write it in YAML: plain when that reads back the same."""
    plain = (
        text
        and text == text.strip()
        and text[0] not in _YAML_SPECIAL_START
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and "\n" not in text
        and "\t" not in text
        and not _NUMBER_OR_KEYWORD.match(text)
        and not (flow and any(c in text for c in ",[]{}"))
    )
    if plain:
        return text
    if '"' in text and "'" not in text and "\n" not in text:
        return "'" + text + "'"
    return json.dumps(text, ensure_ascii=False)


def folded(key: str, text: str, indent: str, width: int = 88) -> list[str]:
    """``key: >-`` with ``text`` wrapped at spaces (reads back as ``text``: single spaces only)."""
    lines, current = [], ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return [f"{indent}{key}: >-"] + [f"{indent}  {line}" for line in lines]


class CardWriter:
    """Writes random but plausible cards as YAML text, from one seeded random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = sorted({self._word() for _ in range(4000)}) + REAL_WORDS
        self.tags = sorted({f"{rng.choice(SUBJECTS)}::{self._word()}" for _ in range(150)}) + list(
            SUBJECTS
        )

    def _word(self) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4)))

    def word(self) -> str:
        roll = self.rng.random()
        if roll < 0.03:
            return self.rng.choice(ACCENTED)
        if roll < 0.04:
            return self.rng.choice(NON_LATIN)
        return self.rng.choice(self.words)

    def phrase(self, low: int = 3, high: int = 9) -> str:
        return " ".join(self.word() for _ in range(self.rng.randint(low, high)))

    def sentence(self, low: int = 5, high: int = 16) -> str:
        words = [self.word() for _ in range(self.rng.randint(low, high))]
        for _ in range(self.rng.randint(0, 2)):  # a little inline HTML
            i = self.rng.randrange(len(words))
            tag = self.rng.choice(("b", "i", "em", "code", "u", "sub", "sup"))
            words[i] = f"<{tag}>{words[i]}</{tag}>"
        if self.rng.random() < 0.08:
            words.insert(
                self.rng.randrange(len(words)),
                self.rng.choice(("&amp;", "&nbsp;", "&rarr;", "&#8470;")),
            )
        text = " ".join(words)
        return text[0].upper() + text[1:] + self.rng.choice((".", ".", ".", "!", ";"))

    def image(self) -> str:
        return f'<img src="media/{self.rng.choice(IMAGES)}.png">'

    def html_block(self) -> str:
        roll = self.rng.random()
        if roll < 0.15:
            items = "".join(f"<li>{self.phrase(1, 4)}</li>" for _ in range(self.rng.randint(2, 4)))
            return f"<ul>{items}</ul>"
        if roll < 0.22:
            return f"{self.sentence()}<br>{self.sentence()}"
        if roll < 0.26:  # bare markup kept as text: deckkit escapes it on export
            a, b = sorted(self.rng.sample(range(1, 500), 2))
            return f"Yes: {a} < {b} & {b} > {a}; e.g. List<{self.word()}>."
        return self.sentence()

    def card(self, card_id: str) -> list[str]:
        rng = self.rng
        kind = rng.choices(CARD_TYPES, CARD_TYPE_WEIGHTS)[0]
        lines = [f"  - id: {card_id}"]
        if kind != "basic" or rng.random() < 0.1:
            lines.append(f"    type: {kind}")
        if rng.random() < 0.6:
            lines.append(f"    level: {rng.choice(LEVELS)}")
        if rng.random() < 0.5:
            tags = rng.sample(self.tags, rng.randint(1, 3))
            lines.append(f"    tags: [{', '.join(tags)}]")
        with_image = rng.random() < 0.025
        field = self._field
        if kind in ("basic", "reversed"):
            if kind == "reversed":
                front, back = self.word(), self.phrase(1, 3)
            else:
                front = rng.choice(
                    (
                        f"What does <i>{self.word()}</i> mean?",
                        f"Define {self.word()}",
                        f"Which {self.word()} causes {self.phrase(1, 3)}?",
                        f"{self.sentence()} Why?",
                        f"Translate: {self.phrase(2, 5)}",
                    )
                )
                back = self.html_block()
            if with_image:
                front += f"<br>{self.image()}"
            lines += field("front", front) + field("back", back)
        elif kind == "cloze":
            words = [self.word() for _ in range(rng.randint(8, 30))]
            deletions = rng.randint(1, 3)
            for number, i in enumerate(sorted(rng.sample(range(len(words)), deletions)), 1):
                hint = f"::{self.word()}" if rng.random() < 0.3 else ""
                words[i] = f"{{{{c{number}::{words[i]}{hint}}}}}"
            text = " ".join(words) + "."
            lines += field("text", text[0].upper() + text[1:])
            if rng.random() < 0.4:
                lines += field(
                    "extra", self.sentence() + (f"<br>{self.image()}" if with_image else "")
                )
        elif kind == "type_in":
            if rng.random() < 0.3:
                a, b = rng.randint(2, 12), rng.randint(2, 12)
                front, answer = f"{a} × {b} = ?", str(a * b)  # a number: must be quoted
            else:
                answer = self.word()
                front = f"Type the term: {self.sentence(4, 10)}"
            lines += field("front", front) + field("answer", answer)
            if rng.random() < 0.3:
                lines += field("extra", self.sentence())
        elif kind == "multiple_choice":
            count = rng.randint(3, 5)
            choices = [self.phrase(1, 4) for _ in range(count)]
            question = f"Which of these is {self.phrase(2, 5)}?"
            if with_image:
                question += f"<br>{self.image()}"
            lines += field("question", question)
            if rng.random() < 0.5:
                lines.append(f"    choices: [{', '.join(scalar(c, flow=True) for c in choices)}]")
            else:
                lines.append("    choices:")
                lines += [f"      - {scalar(c)}" for c in choices]
            letters = sorted(rng.sample("ABCDE"[:count], rng.choice((1, 1, 1, 1, 2))))
            lines.append(
                f"    answer: {letters[0]}"
                if len(letters) == 1
                else f"    answer: [{', '.join(letters)}]"
            )
            if rng.random() < 0.7:
                lines += field("explanation", self.sentence())
        else:  # open
            lines += field("prompt", f"Explain in your own words: {self.phrase(3, 8)}.")
            if rng.random() < 0.5:
                lines += field("hint", self.sentence(3, 8))
            lines.append("    concepts:")
            lines += [f"      - {scalar(self.phrase(2, 6))}" for _ in range(rng.randint(2, 5))]
            if rng.random() < 0.3:
                lines += field("answer", self.sentence(10, 30))
        return lines

    def _field(self, key: str, text: str) -> list[str]:
        if len(text) > 100 and "\n" not in text and "  " not in text and self.rng.random() < 0.5:
            return folded(key, text, "    ")
        return [f"    {key}: {scalar(text)}"]


def deck_text(deck: str, deck_id: str, cards: list[list[str]], tags: list[str]) -> str:
    head = [
        "# yaml-language-server: $schema=deck.schema.json",
        "# Generated by bench/run.py for the deckkit benchmark.",
        "",
        f"deck: {scalar(deck)}",
        f"id: {deck_id}",
        f'description: "Benchmark deck <b>{deck_id}</b>: {len(cards)} cards."',
        f"tags: [{', '.join(tags)}]",
        "",
        "cards:",
    ]
    body = []
    for card in cards:
        body += card
        body.append("")
    return "\n".join(head + body)


def generate(cards: int, layout: str) -> Path:
    """The source folder for ``cards`` cards in ``layout``, generated unless already up to date."""
    folder = DATA / "sources" / f"{cards}-{'one' if layout == LAYOUTS[0] else 'spread'}"
    stamp = folder / ".generated"
    expected = f"generator {GENERATOR_VERSION}, seed {SEED}, {cards} cards, {layout}\n"
    if stamp.is_file() and stamp.read_text() == expected:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "media").mkdir(parents=True)
    for index, name in enumerate(IMAGES):
        (folder / "media" / f"{name}.png").write_bytes(png(24 + 8 * index, 24, index))
    shutil.copyfile(SCHEMA, folder / "deck.schema.json")  # for editors, as `deckkit init` does
    writer = CardWriter(
        random.Random(f"deckkit-bench-{SEED}-{cards}")
    )  # same cards in both layouts
    card_lines = [writer.card(f"{writer.rng.choice(writer.words)}-{i:06d}") for i in range(cards)]
    if layout == LAYOUTS[0]:
        (folder / "deck.yaml").write_text(
            deck_text("Benchmark::All cards", f"bench-{cards}", card_lines, ["bench"]),
            encoding="utf-8",
        )
    else:
        per_file = -(-cards // FILES_IN_SPREAD_LAYOUT)
        for part in range(FILES_IN_SPREAD_LAYOUT):
            chunk = card_lines[part * per_file : (part + 1) * per_file]
            subject = SUBJECTS[part % len(SUBJECTS)]
            text = deck_text(
                f"Benchmark::{subject}::Part {part:03d}",
                f"bench-{cards}-{part:03d}",
                chunk,
                ["bench", subject],
            )
            (folder / f"{subject}-{part:03d}.yaml").write_text(text, encoding="utf-8")
    stamp.write_text(expected)
    return folder


def source_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


# ---------------------------------------------------------------------------------------------
# measuring


@dataclass
class Run:
    wall: float
    peak_mb: float
    cpu: float  # user + system seconds


@dataclass
class Timing:
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)


class Failed(Exception):
    pass


def measure(command: list[str], log: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``command`` to completion: wall time, the child's own peak RSS and CPU time."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as output:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise Failed(f"exit {process.returncode}: {' '.join(command[:4])} ...\n{tail}")
    peak = (
        usage.ru_maxrss / MB if sys.platform == "darwin" else usage.ru_maxrss / 1024
    )  # bytes vs KiB
    return Run(wall, peak, usage.ru_utime + usage.ru_stime)


@dataclass
class Row:
    layout: str
    cards: int
    files: int
    megabytes: float
    validate: Timing = field(default_factory=Timing)
    build: Timing = field(default_factory=Timing)
    rebuild: Timing = field(default_factory=Timing)
    floor: Timing = field(default_factory=Timing)
    check_jsonschema: Timing = field(default_factory=Timing)


def bench_row(
    cards: int, layout: str, repeats: int, deckkit_env: dict[str, str], say: Callable[[str], None]
) -> Row:
    folder = generate(cards, layout)
    files = source_files(folder)
    size = sum(f.stat().st_size for f in files) / MB
    row = Row(layout, cards, len(files), size)
    work = DATA / "runs" / folder.name
    shutil.rmtree(work, ignore_errors=True)
    check_jsonschema = required_tool("check-jsonschema")
    for _ in range(repeats):
        say(f"  {layout}, {cards} cards: validate")
        row.validate.runs.append(
            measure([*DECKKIT, "validate", str(folder)], work / "validate.log", deckkit_env)
        )
        out, lock = work / "out", work / "deckkit.lock"
        shutil.rmtree(out, ignore_errors=True)
        lock.unlink(missing_ok=True)
        say(f"  {layout}, {cards} cards: build")
        build = [*DECKKIT, "build", str(folder), "-o", str(out), "--lockfile", str(lock)]
        row.build.runs.append(measure(build, work / "build.log", deckkit_env))
        say(f"  {layout}, {cards} cards: no-change rebuild")
        row.rebuild.runs.append(measure(build, work / "rebuild.log", deckkit_env))
        say(f"  {layout}, {cards} cards: floor")
        shutil.rmtree(work / "floor", ignore_errors=True)
        floor = [
            sys.executable,
            str(FLOOR),
            "--schema",
            str(SCHEMA),
            "--out",
            str(work / "floor"),
            *map(str, files),
        ]
        row.floor.runs.append(measure(floor, work / "floor.log"))
        say(f"  {layout}, {cards} cards: check-jsonschema")
        check = [check_jsonschema, "--schemafile", str(SCHEMA), *map(str, files)]
        row.check_jsonschema.runs.append(measure(check, work / "check-jsonschema.log"))
    return row


# `python -m deckkit`, not the console script: the script names the entry point of the installed
# deckkit, which an older revision (--rev) may not have; both revisions start the same way.
DECKKIT = (sys.executable, "-m", "deckkit")


def deckkit_environment(rev: str | None) -> tuple[dict[str, str], str]:
    """The environment deckkit runs in, and a description of which deckkit that is."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if rev is None:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "src")
        label = f"working tree at {commit}" + (" with uncommitted changes in src/" if dirty else "")
    else:
        commit = git("rev-parse", "--short", rev)
        target = DATA / "deckkit-rev" / commit
        if not (target / "src" / "deckkit").is_dir():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            archive = subprocess.run(
                ["git", "archive", commit, "src"], cwd=ROOT, check=True, capture_output=True
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(target, filter="data")
                else:  # pragma: no cover - Python < 3.11.4
                    tar.extractall(target)
        env["PYTHONPATH"] = str(target / "src")
        label = f"commit {commit} (git archive, on PYTHONPATH)"
    where = subprocess.run(
        [sys.executable, "-c", "import deckkit, sys; print(deckkit.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if rev is not None and not where.startswith(str(DATA)):
        sys.exit(f"--rev {rev}: deckkit was imported from {where}, not from the exported copy")
    return env, label


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def version_of(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


# ---------------------------------------------------------------------------------------------
# report


def seconds(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def ratio(value: float) -> str:
    return f"{value:.1f}×" if value >= 10 else f"{value:.2f}×"


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| layout | cards | validate s | build s | no-change rebuild s | floor s "
        "| check-jsonschema s | peak MB validate / build | build / floor "
        "| check-jsonschema / validate |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        walls = (r.validate, r.build, r.rebuild, r.floor, r.check_jsonschema)
        cells = [
            r.layout,
            f"{r.cards:,}",
            *(seconds(t.wall) for t in walls),
            f"{r.validate.peak_mb:.0f} / {r.build.peak_mb:.0f}",
            ratio(r.build.wall / r.floor.wall),
            ratio(r.check_jsonschema.wall / r.validate.wall),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def details(rows: list[Row]) -> list[str]:
    lines = [
        "| layout | cards | files | MB of YAML "
        "| CPU s validate / build / rebuild / floor / check-jsonschema "
        "| peak MB rebuild / floor / check-jsonschema | runs |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        cpu = " / ".join(
            seconds(t.cpu) for t in (r.validate, r.build, r.rebuild, r.floor, r.check_jsonschema)
        )
        peaks = " / ".join(f"{t.peak_mb:.0f}" for t in (r.rebuild, r.floor, r.check_jsonschema))
        lines.append(
            f"| {r.layout} | {r.cards:,} | {r.files} | {r.megabytes:.1f} | {cpu} | {peaks} "
            f"| {len(r.build.runs)} |"
        )
    return lines


def targets(rows: list[Row]) -> list[str]:
    """The issue's targets, judged on the largest size measured for each layout."""
    largest = max(r.cards for r in rows)
    at = [r for r in rows if r.cards == largest]
    note = "" if largest == 100_000 else f" (judged at {largest:,} cards: 100,000 was not run)"
    lines = [
        f"Targets from issue 5{note}:",
        "",
        "| target | layout | measured | met? |",
        "|---|---|--:|---|",
    ]

    def add(target: str, row: Row, shown: str, ok: bool) -> None:
        lines.append(f"| {target} | {row.layout} | {shown} | {'yes' if ok else '**no**'} |")

    for r in at:
        add(
            "build ≤ 1.2× floor",
            r,
            ratio(r.build.wall / r.floor.wall),
            r.build.wall <= 1.2 * r.floor.wall,
        )
    for r in at:
        speedup = r.check_jsonschema.wall / r.validate.wall
        add("validate ≥ 5× faster than check-jsonschema", r, ratio(speedup), speedup >= 5)
    for r in at:
        peak = max(r.validate.peak_mb, r.build.peak_mb, r.rebuild.peak_mb)
        add("peak memory < 1 GB (validate, build, rebuild)", r, f"{peak:.0f} MB", peak < 1024)
    for r in at:
        if r.files == FILES_IN_SPREAD_LAYOUT:
            add("no-change rebuild < 1 s", r, f"{seconds(r.rebuild.wall)} s", r.rebuild.wall < 1)
    return lines


def report(rows: list[Row], meta: list[str], command: str) -> str:
    parts = [
        "# deckkit benchmark (issue 5)",
        "",
        f"Made by `{command}`. The script's docstring says what each column measures.",
        "",
        *table(rows),
        "",
        *targets(rows),
        "",
        "Details (CPU time is user + system of the process; with several runs, times are medians "
        "and peaks the largest):",
        "",
        *details(rows),
        "",
        *meta,
        "",
    ]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Time deckkit validate/build against the floor and check-jsonschema (issue 5).",
        epilog="Needs: pip install jsonschema-rs fastjsonschema check-jsonschema",
    )
    parser.add_argument("--sizes", help="comma-separated card counts (default: 1000,10000,100000)")
    parser.add_argument(
        "--quick", action="store_true", help="one run per measurement; default sizes 1000,10000"
    )
    parser.add_argument("--rev", help="benchmark deckkit as committed at this git revision")
    parser.add_argument(
        "--results", type=Path, default=BENCH / "results.md", help="markdown output"
    )
    args = parser.parse_args()

    missing = missing_requirements()
    if missing:
        sys.exit(
            "bench/run.py needs: " + ", ".join(missing) + "\n"
            f"  {sys.executable} -m pip install jsonschema-rs fastjsonschema check-jsonschema"
        )
    if args.sizes:
        try:
            sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
        except ValueError:
            parser.error("--sizes takes numbers separated by commas, e.g. 1000,10000")
        if not sizes or any(n < FILES_IN_SPREAD_LAYOUT for n in sizes):
            parser.error(
                f"each size must be at least {FILES_IN_SPREAD_LAYOUT} "
                "(the spread layout has that many files)"
            )
    else:
        sizes = [1000, 10_000] if args.quick else [1000, 10_000, 100_000]

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    env, deckkit_label = deckkit_environment(args.rev)
    say(f"deckkit: {deckkit_label}")
    # Warm-up: compile bytecode and fill the page cache before anything is timed.
    for warm_up, extra in (
        ([*DECKKIT, "--version"], env),
        ([required_tool("check-jsonschema"), "--version"], None),
    ):
        subprocess.run(warm_up, env=extra, cwd=ROOT, capture_output=True, check=True)
    subprocess.run(
        [sys.executable, str(FLOOR), "--help"], cwd=ROOT, capture_output=True, check=True
    )

    rows: list[Row] = []
    load_before = os.getloadavg()
    started = time.perf_counter()
    try:
        for cards in sizes:
            for layout in LAYOUTS:
                say(f"generating {cards:,} cards, {layout}")
                repeats = 1 if args.quick or cards >= 100_000 else 3
                rows.append(bench_row(cards, layout, repeats, env, say))
    except Failed as error:
        sys.exit(f"benchmark stopped: {error}")
    floor_line = (
        (DATA / "runs" / f"{rows[0].cards}-one" / "floor.log").read_text().strip().splitlines()[-1]
    )
    validator = json.loads(floor_line)["validator"]

    cpu = platform.processor() or "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0].split(":", 1)[1].strip() if names else cpu
    command = (
        "python bench/run.py"
        + (f" --sizes {args.sizes}" if args.sizes else "")
        + (" --quick" if args.quick else "")
        + (f" --rev {args.rev}" if args.rev else "")
    )
    meta = [
        f"- deckkit: {deckkit_label}",
        f"- floor validator: {validator}; check-jsonschema {version_of('check-jsonschema')}; "
        f"PyYAML {version_of('pyyaml')}; genanki {version_of('genanki')}",
        f"- machine: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        f"- run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{time.perf_counter() - started:.0f} s in all; "
        f"load average (1 min) {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after "
        "(other work on the machine inflates wall times)",
    ]
    text = report(rows, meta, command)
    print(text)
    args.results.write_text(text, encoding="utf-8")
    say(f"wrote {args.results}")


if __name__ == "__main__":
    main()
