"""Benchmark for issue 13, point 7: an 8,853-note deck of a 9-field note type, imported and built.

    /work/main/.venv/bin/python bench/note_types.py [--src SRC] [--repeats 3] [--quick]

Needs, in the interpreter running it, the official ``anki`` package (``pip install
'deckkit[anki]'``: it makes the package as Anki desktop would) and deckkit's own dependencies.
Linux or macOS (it reads each child's peak memory with ``os.wait4``). Every deckkit command runs
as ``python -m deckkit ...`` in a child process with ``PYTHONPATH=SRC`` (default: the ``src``
folder beside this script), so a later run can time another checkout: ``--src /work/main/src``.

What it does, in one run:

1. Makes, once (seeded, deterministic contents; kept in ``bench/.data/note-types``, git-ignored,
   remade when the generator changes), with the ``anki`` package and Anki's own exporter
   (``Collection.export_anki_package``) a realistic language deck, ``core-9k.apkg``:
   8,853 notes of one standard note type of 9 fields (Word, Reading, Meaning, Part of speech,
   Example, Example translation, Audio ``[sound:…]``, Image ``<img src=…>``, Notes) with two
   templates, the second conditional (``{{#Audio}}``: a listening card for notes with audio),
   custom CSS that loads a ``_``-prefixed font; 2,000 notes of a 6-field cloze note type; a few
   hundred small media files; nine sub-decks and a grammar sub-deck; hierarchical tags.
2. Writes the same 8,853 vocabulary notes as sources by hand, the way an author would (the
   build side, measurable whatever the import does): ``declared/``, one deck whose top-level
   ``note_types`` declares the 9-field note type and whose cards give ``fields:`` by name, with
   the media beside it; and ``basic/``, the same notes as 8,853 cards of deckkit's basic type
   (the fields joined into front and back, the same media), to compare the cost per card.
3. Times whole processes (wall time, CPU time, peak RSS of that child from ``os.wait4``), for
   each of three source sets: the ``.apkg`` through ``deckkit import DECK -o SOURCES --lockfile
   LOCK``, then ``declared/`` and ``basic/`` (copied to a scratch folder first):
   - ``deckkit validate SOURCES``
   - ``deckkit build SOURCES -o OUT --lockfile LOCK`` (first build: fresh OUT; after an import
     LOCK is what the import wrote, if anything)
   - the no-change rebuild: the same command again
   - the one-edit rebuild: one card's ``Notes`` field edited in the sources, the same command
   A step that fails is a row saying so (exit status and the last line of its output), and the
   steps after it for that source set are skipped; the run goes on.
   Each build is checked: the notes in the built ``.apkg`` files are counted (read back with
   SQLite), and the one-edit rebuild must change exactly one note's lockfile entry.
4. Prints a Markdown report and writes it to ``bench/results-issue13.md`` (``--results``).

``--stages`` instead prints, for ``declared/`` and ``basic/``, the CPU time of each stage of a
build run one after the other in one process (load, schema, checks, model, fields, which cards
each note makes, lock entries, each format): where the time goes, without a profiler's overhead.

Each timing is the median of ``--repeats`` runs (default 3; ``--quick``: 1), each repeat from a
fresh import or a fresh copy of the sources; peak memory is the largest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from run import MB, png, scalar, seconds  # bench/run.py: the house's generator helpers

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".data" / "note-types"
SEED = 13  # issue 13
GENERATOR_VERSION = 1  # raise when the generated deck changes, to remake the cached data
VOCAB_NOTES = 8_853  # the largest real deck of the study
CLOZE_NOTES = 2_000
SUB_DECKS = 9
TOP_DECK = "Japanese Core 9k"
AUDIO_EVERY = 30  # one note in 30 has a sound (about 300 files)
IMAGE_EVERY = 59  # one note in 59 has a picture (about 150 files)
EDIT_MARKER = "bench-edit-marker"  # the Notes field of one vocabulary note: the edit step's target
EDIT_NOTE = 4_242
FONT = "_core9k-jp.woff2"  # a template asset: loaded by the CSS, kept by Anki for its "_"

# ---------------------------------------------------------------------------------------------
# the note types, one definition for the package and the hand-written sources

VOCAB_TYPE = "Core 9k vocabulary"
VOCAB_FIELDS = (
    "Word",
    "Reading",
    "Meaning",
    "Part of speech",
    "Example",
    "Example translation",
    "Audio",
    "Image",
    "Notes",
)
VOCAB_TEMPLATES = (
    (
        "Recognition",
        '<div class="word">{{Word}}</div>',
        '{{FrontSide}}\n<hr id="answer">\n<div class="reading">{{Reading}}</div>\n'
        '<div class="meaning">{{Meaning}}</div>\n<div class="pos">{{Part of speech}}</div>\n'
        '<div class="example">{{Example}}<br>{{Example translation}}</div>\n'
        '{{Audio}}{{Image}}\n{{#Notes}}<div class="notes">{{Notes}}</div>{{/Notes}}',
    ),
    (
        "Listening",  # conditional: only notes with a sound make this card
        '{{#Audio}}<div class="listen">{{Audio}}</div>'
        '<div class="pos">{{Part of speech}}</div>{{/Audio}}',
        '{{FrontSide}}\n<hr id="answer">\n<div class="word">{{Word}}</div>\n'
        '<div class="reading">{{Reading}}</div>\n<div class="meaning">{{Meaning}}</div>',
    ),
)
VOCAB_CSS = f"""@font-face {{ font-family: core9k-jp; src: url("{FONT}"); }}
.card {{ font-family: core9k-jp, sans-serif; font-size: 22px; text-align: center; }}
.word {{ font-size: 48px; }}
.reading {{ color: #555; }}
.pos {{ font-size: 14px; color: #888; font-style: italic; }}
.example {{ margin-top: 1em; font-size: 18px; }}
.notes {{ font-size: 14px; border-top: 1px dashed #ccc; }}
.nightMode .reading {{ color: #aaa; }}
"""
CLOZE_TYPE = "Grammar cloze (6 fields)"
CLOZE_FIELDS = ("Text", "Extra", "Source", "Notes", "Image", "Audio")
CLOZE_TEMPLATE = (
    "Cloze",
    "{{cloze:Text}}",
    '{{cloze:Text}}<br>{{Extra}}\n<div class="source">{{Source}}</div>{{Image}}{{Audio}}',
)
CLOZE_CSS = ".card { font-size: 22px; }\n.cloze { font-weight: bold; color: #07c; }\n"

# ---------------------------------------------------------------------------------------------
# contents


KANA = (
    "あ い う え お か き く け こ さ し す せ そ た ち つ て と な に ぬ ね の "
    "は ひ ふ へ ほ ま み む め も や ゆ よ ら り る れ ろ わ を ん が ぎ ぐ げ "
    "ご ざ じ ず ぜ ぞ だ で ど ば び ぶ べ ぼ ぱ ぴ ぷ ぺ ぽ きょ しゃ ちゅ りょ"
).split()
KANJI = (
    "日一国人年大十二本中長出三時行見月分後前生五間上東四今金九入学高円子外八六下来気小七山話"
    "女北午百書先名川千水半男西電校語土木聞食車何南万毎白天母火右読友左休父雨会手事自社発者地"
    "業方新場員立開問代明動京目通言理体田主題意不作用度強公持野以思家世多正安院心界教文元重近"
)
ENGLISH = (
    "time year person way day thing man world life hand part child eye woman place work week "
    "case point number group problem fact be have do say get make go know take see come think "
    "look want give use find tell ask seem feel try leave call good new first last long great "
    "little own other old right big high different small large next early young important few "
    "public bad same able river mountain station letter morning evening weather money friend"
).split()
PARTS_OF_SPEECH = (
    "noun",
    "verb (godan)",
    "verb (ichidan)",
    "i-adjective",
    "na-adjective",
    "adverb",
    "counter",
    "expression",
)
TAG_POOL = (
    *(f"jlpt::n{level}" for level in range(1, 6)),
    *(f"core::{step}k" for step in range(1, 10)),
    "topic::food",
    "topic::travel",
    "topic::work",
    "topic::family",
    "topic::weather",
    "topic::school",
    "leech",
    "marked",
)


@dataclass(frozen=True)
class Note:
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str  # the sub-deck, as Anki names it


class Writer:
    """Plausible notes from one seeded random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def kana(self, low: int, high: int) -> str:
        return "".join(self.rng.choice(KANA) for _ in range(self.rng.randint(low, high)))

    def english(self, low: int, high: int) -> str:
        return " ".join(self.rng.choice(ENGLISH) for _ in range(self.rng.randint(low, high)))

    def tags(self) -> tuple[str, ...]:
        return tuple(sorted(self.rng.sample(TAG_POOL, self.rng.randint(1, 3))))

    def vocab(self, index: int) -> Note:
        rng = self.rng
        word = "".join(rng.choice(KANJI) for _ in range(rng.randint(1, 3))) + (
            self.kana(1, 2) if rng.random() < 0.4 else ""
        )
        meanings = "; ".join(self.english(1, 3) for _ in range(rng.randint(1, 3)))
        example = f"{self.kana(2, 6)}<b>{word}</b>{self.kana(3, 10)}。"
        if rng.random() < 0.1:
            example += f"<br>{self.kana(4, 12)}。"
        translation = self.english(5, 14).capitalize() + "."
        if rng.random() < 0.05:
            translation += "&nbsp;(<i>formal</i>)"
        audio = f"[sound:{audio_name(index)}]" if index % AUDIO_EVERY == 0 else ""
        image = f'<img src="{image_name(index)}">' if index % IMAGE_EVERY == 7 else ""
        notes = ""
        if index == EDIT_NOTE:
            notes = f"Seen in lesson 12; {EDIT_MARKER}"
        elif rng.random() < 0.12:
            notes = f"Compare <b>{self.kana(2, 4)}</b>: {self.english(4, 10)}."
        fields = (
            word,
            self.kana(2, 6),
            meanings,
            rng.choice(PARTS_OF_SPEECH),
            example,
            translation,
            audio,
            image,
            notes,
        )
        part = index * SUB_DECKS // VOCAB_NOTES + 1
        return Note(fields, self.tags(), f"{TOP_DECK}::Core {part}")

    def cloze(self, index: int) -> Note:
        rng = self.rng
        pieces = [self.kana(2, 5) for _ in range(rng.randint(4, 9))]
        for number, position in enumerate(sorted(rng.sample(range(len(pieces)), 2)), 1):
            hint = f"::{self.english(1, 1)}" if rng.random() < 0.3 else ""
            pieces[position] = f"{{{{c{number}::{pieces[position]}{hint}}}}}"
        fields = (
            "".join(pieces) + "。",
            self.english(4, 12).capitalize() + "." if rng.random() < 0.6 else "",
            f"Grammar book, p. {rng.randint(1, 400)}",
            self.english(3, 8) if rng.random() < 0.2 else "",
            f'<img src="{image_name(index * 3 + 1)}">' if index % 40 == 0 else "",
            "",
        )
        return Note(fields, self.tags(), f"{TOP_DECK}::Grammar")


def audio_name(index: int) -> str:
    return f"core9k-{index:05d}.mp3"


def image_name(index: int) -> str:
    return f"core9k-{index:05d}.png"


def fake_mp3(rng: random.Random) -> bytes:
    """A small file that starts like an MP3 (ID3 header, one frame header): media as bytes."""
    header = b"ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64"
    return header + rng.randbytes(rng.randint(400, 1600))


@dataclass(frozen=True)
class Contents:
    vocab: list[Note]
    cloze: list[Note]
    media: dict[str, bytes]  # file name -> bytes


def contents() -> Contents:
    """The deck's notes and media, the same on every run."""
    writer = Writer(random.Random(f"deckkit-bench-issue-{SEED}"))
    vocab = [writer.vocab(i) for i in range(VOCAB_NOTES)]
    cloze = [writer.cloze(i) for i in range(CLOZE_NOTES)]
    media_rng = random.Random(f"deckkit-bench-issue-{SEED}-media")
    media: dict[str, bytes] = {}
    for note in (*vocab, *cloze):
        for name in referenced_media(note):
            if name not in media:
                seed = len(media)
                media[name] = (
                    fake_mp3(media_rng) if name.endswith(".mp3") else png(16, 16, seed % 50)
                )
    media[FONT] = b"wOF2" + media_rng.randbytes(3000)
    return Contents(vocab, cloze, media)


def referenced_media(note: Note) -> list[str]:
    names = []
    for value in note.fields:
        if value.startswith("[sound:"):
            names.append(value[len("[sound:") : -1])
        elif value.startswith('<img src="'):
            names.append(value[len('<img src="') : -2])
    return names


# ---------------------------------------------------------------------------------------------
# the package, made with Anki itself


def make_package(data: Contents, target: Path) -> None:
    """``target``: the deck exported by Anki's own exporter, as File > Export would."""
    from anki.collection import (
        AddNoteRequest,
        Collection,
        DeckIdLimit,
        ExportAnkiPackageOptions,
    )
    from anki.models import MODEL_CLOZE

    with tempfile.TemporaryDirectory(prefix="deckkit-bench-") as scratch:
        col = Collection(str(Path(scratch) / "collection.anki2"))
        try:
            vocab = _anki_note_type(col, VOCAB_TYPE, VOCAB_FIELDS, VOCAB_TEMPLATES, VOCAB_CSS)
            cloze = _anki_note_type(
                col, CLOZE_TYPE, CLOZE_FIELDS, (CLOZE_TEMPLATE,), CLOZE_CSS, kind=MODEL_CLOZE
            )
            for name, payload in data.media.items():
                col.media.write_data(name, payload)
            requests = []
            for note_type, notes in ((vocab, data.vocab), (cloze, data.cloze)):
                for source in notes:
                    note = col.new_note(note_type)
                    for name, value in zip(note_type["flds"], source.fields, strict=True):
                        note[name["name"]] = value
                    note.tags = list(source.tags)
                    requests.append(AddNoteRequest(note=note, deck_id=_deck_id(col, source.deck)))
            col.add_notes(requests)
            top = _deck_id(col, TOP_DECK)
            options = ExportAnkiPackageOptions(
                with_scheduling=True, with_deck_configs=False, with_media=True, legacy=False
            )
            col.export_anki_package(out_path=str(target), options=options, limit=DeckIdLimit(top))
        finally:
            col.close()


def _deck_id(col, name: str):  # type: ignore[no-untyped-def]
    """The id of the deck ``name``, made if need be (Anki makes its parents too)."""
    found = col.decks.id(name, create=True)
    assert found is not None  # only None with create=False
    return found


def _anki_note_type(  # type: ignore[no-untyped-def]
    col,
    name: str,
    fields: tuple[str, ...],
    templates: tuple[tuple[str, str, str], ...],
    css: str,
    kind: int = 0,
):
    model = col.models.new(name)
    model["type"] = kind
    for field_name in fields:
        col.models.add_field(model, col.models.new_field(field_name))
    for template_name, front, back in templates:
        template = col.models.new_template(template_name)
        template["qfmt"], template["afmt"] = front, back
        col.models.add_template(model, template)
    model["css"] = css
    col.models.add(model)
    return col.models.by_name(name)


# ---------------------------------------------------------------------------------------------
# the same notes as sources written by hand


def write_declared_sources(data: Contents, folder: Path) -> None:
    """One deck declaring the 9-field note type; its cards give ``fields:`` by name."""
    lines = [
        "# Generated by bench/note_types.py: the vocabulary of core-9k.apkg, written by hand.",
        f"deck: {TOP_DECK}",
        "id: core-9k",
        "tags: [core-9k]",
        "",
        "note_types:",
        f"  - name: {VOCAB_TYPE}",
        "    fields:",
        "      - {name: Word, required: true, font: Noto Sans JP, size: 28}",
        *(f"      - {scalar(name)}" for name in VOCAB_FIELDS[1:]),
        "    templates:",
    ]
    for name, front, back in VOCAB_TEMPLATES:
        lines += [
            f"      - name: {name}",
            f"        front: {json.dumps(front, ensure_ascii=False)}",
            f"        back: {json.dumps(back, ensure_ascii=False)}",
        ]
    lines += ["    css: |", *(f"      {line}" for line in VOCAB_CSS.splitlines())]
    lines += [f"    media: [media/{FONT}]", "", "cards:"]
    for index, note in enumerate(data.vocab):
        lines += [
            f"  - id: n{index:05d}",
            f"    note_type: {VOCAB_TYPE}",
            f"    tags: [{', '.join(note.tags)}]",
            "    fields:",
        ]
        for name, value in zip(VOCAB_FIELDS, note.fields, strict=True):
            if value:
                lines.append(f"      {scalar(name)}: {scalar(with_media_folder(value))}")
    _write_sources(folder, "core-9k.yaml", lines, data)


def write_basic_sources(data: Contents, folder: Path) -> None:
    """The same notes as deckkit basic cards: the fields joined into a front and a back."""
    lines = [
        "# Generated by bench/note_types.py: core-9k's vocabulary as basic cards.",
        f"deck: {TOP_DECK} (basic)",
        "id: core-9k-basic",
        "tags: [core-9k]",
        "",
        "cards:",
    ]
    for index, note in enumerate(data.vocab):
        word, reading, *rest = (with_media_folder(value) for value in note.fields)
        back = "<br>".join(value for value in rest if value)
        lines += [
            f"  - id: n{index:05d}",
            f"    tags: [{', '.join(note.tags)}]",
            f"    front: {scalar(f'{word}<br>{reading}')}",
            f"    back: {scalar(back)}",
        ]
    _write_sources(folder, "core-9k-basic.yaml", lines, data)


def with_media_folder(value: str) -> str:
    """A field's media references as a source writes them: the files are in media/."""
    return value.replace("[sound:", "[sound:media/").replace('<img src="', '<img src="media/')


def _write_sources(folder: Path, name: str, lines: list[str], data: Contents) -> None:
    (folder / "media").mkdir(parents=True)
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    used = {FONT} | {media for note in data.vocab for media in referenced_media(note)}
    for media in sorted(used):
        (folder / "media" / media).write_bytes(data.media[media])


def generate() -> Path:
    """The data folder with core-9k.apkg, declared/ and basic/, made unless up to date."""
    stamp = DATA / ".generated"
    expected = f"generator {GENERATOR_VERSION}, seed {SEED}\n"
    if stamp.is_file() and stamp.read_text() == expected:
        return DATA
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    data = contents()
    make_package(data, DATA / "core-9k.apkg")
    write_declared_sources(data, DATA / "declared")
    write_basic_sources(data, DATA / "basic")
    stamp.write_text(expected)
    return DATA


# ---------------------------------------------------------------------------------------------
# measuring


@dataclass
class Run:
    wall: float
    cpu: float  # user + system seconds
    peak_mb: float


@dataclass
class Step:
    """One command over the repeats: its runs, or why it failed."""

    name: str
    runs: list[Run] = field(default_factory=list)
    failure: str | None = None
    checks: list[str] = field(default_factory=list)  # what was verified of its outputs

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)


class StepFailed(Exception):
    pass


def measure(command: list[str], log: Path, env: dict[str, str]) -> Run:
    """Run ``command`` to completion: its wall time, CPU time and own peak RSS."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        last = lines[-1].replace(f"{ROOT}/", "") if lines else "(no output)"
        raise StepFailed(f"exit {code}: {last}")
    peak = usage.ru_maxrss / MB if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return Run(wall, usage.ru_utime + usage.ru_stime, peak)


STEPS = ("import", "validate", "build", "no-change rebuild", "one-edit rebuild")


@dataclass
class SourceSet:
    name: str
    notes: int  # notes the deck holds
    steps: dict[str, Step] = field(default_factory=dict)

    def step(self, name: str) -> Step:
        return self.steps.setdefault(name, Step(name))


def run_set(
    source_set: SourceSet,
    prepare: Callable[[Path, Path, dict[str, str]], Run | None],
    repeats: int,
    env: dict[str, str],
    say: Callable[[str], None],
) -> None:
    """Time one source set ``repeats`` times; a failed step ends that set's measurements."""
    work = DATA / "runs" / source_set.name
    for repeat in range(repeats):
        shutil.rmtree(work, ignore_errors=True)
        sources, out, lock = work / "sources", work / "out", work / "deckkit.lock"
        current = "import"
        try:
            say(f"{source_set.name}, run {repeat + 1}: sources")
            made = prepare(sources, lock, env)
            if made is not None:
                source_set.step("import").runs.append(made)
            current = "validate"
            say(f"{source_set.name}, run {repeat + 1}: validate")
            validate = [*DECKKIT, "validate", str(sources)]
            source_set.step(current).runs.append(measure(validate, work / "validate.log", env))
            build = [*DECKKIT, "build", str(sources), "-o", str(out), "--lockfile", str(lock)]
            for current in STEPS[2:]:
                if current == "one-edit rebuild":
                    edit_one_field(sources)
                before = read_lock(lock)
                say(f"{source_set.name}, run {repeat + 1}: {current}")
                log = work / f"{current.replace(' ', '-')}.log"
                step = source_set.step(current)
                step.runs.append(measure(build, log, env))
                if repeat == 0:  # the outputs are the same on every repeat
                    step.checks.append(f"{built_notes(out):,} notes built")
                    step.checks.append(f"{changed_entries(before, read_lock(lock))} changed")
        except StepFailed as error:
            source_set.step(current).failure = str(error)
            say(f"  {current} failed: {error}")
            return


# `python -m deckkit`, not the console script: SRC may be a checkout that is not installed.
DECKKIT = (sys.executable, "-m", "deckkit")


def import_package(package: Path) -> Callable[[Path, Path, dict[str, str]], Run | None]:
    def prepare(sources: Path, lock: Path, env: dict[str, str]) -> Run | None:
        command = [*DECKKIT, "import", str(package), "-o", str(sources), "--lockfile", str(lock)]
        log = sources.parent / "import.log"
        made = measure(command, log, env)
        if not any(sources.rglob("*.y*ml")):  # an import that brought nothing in says why last
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            raise StepFailed(f"no sources written: {' / '.join(lines[-3:])}")
        return made

    return prepare


def copy_sources(folder: Path) -> Callable[[Path, Path, dict[str, str]], Run | None]:
    def prepare(sources: Path, lock: Path, env: dict[str, str]) -> Run | None:
        shutil.copytree(folder, sources)
        return None

    return prepare


def edit_one_field(sources: Path) -> None:
    """Edit the one card whose ``Notes`` field holds the marker, wherever the sources keep it."""
    for path in sorted(sources.rglob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        if EDIT_MARKER in text:
            path.write_text(text.replace(EDIT_MARKER, EDIT_MARKER + " (edited)", 1), "utf-8")
            return
    raise StepFailed(f"no source holds '{EDIT_MARKER}': the import lost the note to edit")


def read_lock(lock: Path) -> dict[str, object]:
    if not lock.is_file():
        return {}
    data = json.loads(lock.read_text(encoding="utf-8"))
    entries: dict[str, object] = {f"note type {k}": v for k, v in data["note_types"].items()}
    for deck, cards in data["notes"].items():
        entries |= {f"{deck}/{card}": entry for card, entry in cards.items()}
    return entries


def changed_entries(before: dict[str, object], after: dict[str, object]) -> str:
    changed = [key for key in before.keys() | after.keys() if before.get(key) != after.get(key)]
    return f"{len(changed):,} lock {'entry' if len(changed) == 1 else 'entries'}"


def built_notes(out: Path) -> int:
    """The notes in every .apkg of ``out``, read back from their collections."""
    total = 0
    with tempfile.TemporaryDirectory(prefix="deckkit-bench-") as scratch:
        for package in sorted(out.rglob("*.apkg")):
            with zipfile.ZipFile(package) as archive:
                archive.extract("collection.anki2", scratch)
            connection = sqlite3.connect(Path(scratch) / "collection.anki2")
            try:
                total += connection.execute("SELECT count(*) FROM notes").fetchone()[0]
            finally:
                connection.close()
    return total


# ---------------------------------------------------------------------------------------------
# stages: where a build's time goes, in one process

# Run as `python -c STAGE_TIMER SOURCE` with deckkit on PYTHONPATH: the CPU seconds of each stage
# of building one source, as the build runs them (without its second process), as JSON.
STAGE_TIMER = """
import json, sys, tempfile, time
from pathlib import Path
from deckkit.exporters import EXPORTERS
from deckkit.lockfile import deck_entries
from deckkit.model import deck_from_source
from deckkit.sources.checks import source_problems
from deckkit.sources.loader import gc_paused, load_source
from deckkit.sources.schema import schema_problems
from deckkit.stamps import Stamps

times = {}
def timed(name, work):
    start = time.process_time()
    result = work()
    times[name] = time.process_time() - start
    return result

with gc_paused(), tempfile.TemporaryDirectory() as scratch:
    source = timed("load (YAML)", lambda: load_source(Path(sys.argv[1]), all_positions=False))
    timed("schema", lambda: schema_problems(source))
    timed("checks", lambda: source_problems(source))
    deck = timed("model", lambda: deck_from_source(source))
    timed("fields (Deck.fields)", lambda: deck.fields)
    timed("cards each note makes (Deck.card_ordinals)", lambda: deck.card_ordinals)
    timed("lock entries", lambda: deck_entries({}, deck, 1_700_000_000))
    stamps = Stamps(notes={}, note_types={}, default=1_700_000_000)
    for output in EXPORTERS.values():
        target = Path(scratch) / f"deck{output.suffix}"
        timed(output.suffix, lambda: output.export(deck, target, stamps))
print(json.dumps(times))
"""


def stage_table(src: Path, repeats: int) -> str:
    """Each stage's CPU seconds (medians) for the two hand-written source sets."""
    data = generate()
    env = dict(os.environ, PYTHONPATH=str(src))
    columns = {
        "declared 9-field": data / "declared" / "core-9k.yaml",
        "basic": data / "basic" / "core-9k-basic.yaml",
    }
    results: dict[str, dict[str, float]] = {}
    for name, source in columns.items():
        runs = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", STAGE_TIMER, str(source)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(repeats)
        ]
        results[name] = {stage: statistics.median(run[stage] for run in runs) for stage in runs[0]}
    stages = list(results["declared 9-field"])
    lines = [
        f"Stages of one build, CPU s (medians of {repeats}), deckkit from {deckkit_label(src)}:",
        "",
        "| stage | " + " | ".join(columns) + " |",
        "|---|" + "--:|" * len(columns),
    ]
    for stage in stages:
        cells = " | ".join(f"{results[name][stage]:.3f}" for name in columns)
        lines.append(f"| {stage} | {cells} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# report


def cell(step: Step | None, skipped: bool) -> str:
    if step is None or (not step.runs and step.failure is None):
        return "skipped" if skipped else "—"
    if step.failure is not None and not step.runs:
        return f"**failed** ({step.failure})"
    shown = f"{seconds(step.wall)}"
    return shown + (f" (then **failed**: {step.failure})" if step.failure else "")


def table(sets: list[SourceSet]) -> list[str]:
    lines = [
        "| step | " + " | ".join(f"{s.name} ({s.notes:,} notes) s" for s in sets) + " |",
        "|---|" + "--:|" * len(sets),
    ]
    for name in STEPS:
        cells = []
        for source_set in sets:
            failed_before = any(
                source_set.steps.get(earlier) is not None
                and source_set.steps[earlier].failure is not None
                for earlier in STEPS[: STEPS.index(name)]
            )
            cells.append(cell(source_set.steps.get(name), failed_before))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def details(sets: list[SourceSet]) -> list[str]:
    lines = [
        "| source set | step | wall s | CPU s | peak MB | ms per note (wall) | checked | runs |",
        "|---|---|--:|--:|--:|--:|---|--:|",
    ]
    for source_set in sets:
        for name in STEPS:
            step = source_set.steps.get(name)
            if step is None or not step.runs:
                continue
            per_note = 1000 * step.wall / source_set.notes
            lines.append(
                f"| {source_set.name} | {name} | {seconds(step.wall)} | {seconds(step.cpu)} "
                f"| {step.peak_mb:.0f} | {per_note:.2f} | {'; '.join(step.checks)} "
                f"| {len(step.runs)} |"
            )
    return lines


def comparison(declared: SourceSet, basic: SourceSet) -> list[str]:
    lines = [
        f"Cost per card, {declared.name} against {basic.name} (same notes, same media):",
        "",
        "| step | declared / basic (wall) | declared / basic (CPU) |",
        "|---|--:|--:|",
    ]
    for name in STEPS[1:]:
        mine, theirs = declared.steps.get(name), basic.steps.get(name)
        if mine and theirs and mine.runs and theirs.runs:
            lines.append(
                f"| {name} | {mine.wall / theirs.wall:.2f}× | {mine.cpu / theirs.cpu:.2f}× |"
            )
    return lines


def commands(src: Path) -> list[str]:
    """The commands each source set goes through, as run (RUN: its folder under bench/.data)."""
    run = "RUN"
    build = f"python -m deckkit build {run}/sources -o {run}/out --lockfile {run}/deckkit.lock"
    return [
        f"Commands, each run as its own process with `PYTHONPATH={src}` (RUN is "
        f"`{(DATA / 'runs').relative_to(ROOT)}/<source set>`, emptied before each repeat):",
        "",
        f"1. import (the .apkg only): `python -m deckkit import "
        f"{(DATA / 'core-9k.apkg').relative_to(ROOT)} -o {run}/sources --lockfile "
        f"{run}/deckkit.lock`; the hand-written sets are copied to `{run}/sources` instead",
        f"2. validate: `python -m deckkit validate {run}/sources`",
        f"3. build: `{build}`",
        "4. no-change rebuild: the same command",
        f"5. one-edit rebuild: '{EDIT_MARKER}' becomes '{EDIT_MARKER} (edited)' in the one "
        "source holding it (the Notes field of one vocabulary note), then the same command",
    ]


def deckkit_label(src: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=src, capture_output=True, text=True
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return f"{src} (not a git checkout)"
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    dirty = git("status", "--porcelain", "--", ".")
    return f"{src} ({branch} at {commit}{', with uncommitted changes' if dirty else ''})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Time deckkit import/validate/build on an 8,853-note 9-field deck (issue 13)."
    )
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="folder holding the deckkit package"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument("--quick", action="store_true", help="one run per measurement")
    parser.add_argument(
        "--results", type=Path, default=BENCH / "results-issue13.md", help="markdown output"
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="only print each stage's CPU time for the hand-written sources (in one process)",
    )
    args = parser.parse_args()
    src = args.src.resolve()
    if not (src / "deckkit" / "__init__.py").is_file():
        parser.error(f"--src {src}: no deckkit package there")
    repeats = 1 if args.quick else max(1, args.repeats)
    if args.stages:
        print(stage_table(src, repeats))
        return

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    env = dict(os.environ, PYTHONPATH=str(src))
    where = subprocess.run(
        [*DECKKIT, "--version"], env=env, capture_output=True, text=True, check=True
    )  # also the warm-up: bytecode compiled before anything is timed
    say(f"deckkit {where.stdout.strip()} from {deckkit_label(src)}")
    started = time.perf_counter()
    say("generating the deck (once; cached in bench/.data/note-types)")
    data = generate()
    package = data / "core-9k.apkg"
    load_before = os.getloadavg()
    sets = [
        SourceSet("imported from .apkg", VOCAB_NOTES + CLOZE_NOTES),
        SourceSet("declared 9-field sources", VOCAB_NOTES),
        SourceSet("basic sources", VOCAB_NOTES),
    ]
    preparations = [
        import_package(package),
        copy_sources(data / "declared"),
        copy_sources(data / "basic"),
    ]
    for source_set, prepare in zip(sets, preparations, strict=True):
        run_set(source_set, prepare, repeats, env, say)

    command = "python bench/note_types.py" + (
        f" --src {args.src}" if args.src != ROOT / "src" else ""
    )
    command += " --quick" if args.quick else f" --repeats {repeats}" if repeats != 3 else ""
    cpu = platform.processor() or "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0].split(":", 1)[1].strip() if names else cpu
    from importlib.metadata import version

    parts = [
        "# deckkit benchmark (issue 13, point 7): a 9-field note type at 8,853 notes",
        "",
        f"Made by `{command}`; the script's docstring says what is measured. Wall times in "
        f"seconds, medians of {repeats} run{'s' if repeats > 1 else ''}.",
        "",
        f"- `{package.name}`: {VOCAB_NOTES:,} notes of '{VOCAB_TYPE}' (9 fields, 2 templates, "
        f"the second conditional) and {CLOZE_NOTES:,} of '{CLOZE_TYPE}', "
        f"{SUB_DECKS + 1} sub-decks, {package.stat().st_size / MB:.1f} MB, made with the `anki` "
        f"package {version('anki')} and exported by Anki's own exporter.",
        "",
        *table(sets),
        "",
        *commands(src),
        "",
        *comparison(sets[1], sets[2]),
        "",
        "Details (CPU: user + system of the process; peak: its largest resident memory):",
        "",
        *details(sets),
        "",
        f"- deckkit: {deckkit_label(src)}",
        f"- machine: {os.cpu_count()} CPUs ({cpu}), shared with other work; Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        f"- run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{time.perf_counter() - started:.0f} s in all; load average (1 min) "
        f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after",
        "",
    ]
    text = "\n".join(parts)
    print(text)
    args.results.write_text(text, encoding="utf-8")
    say(f"wrote {args.results}")


if __name__ == "__main__":
    main()
