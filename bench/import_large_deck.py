"""Issue 13, point 7: `deckkit import` and `deckkit build` of an 8,853-note deck with 9 fields.

    python bench/import_large_deck.py [--notes 8853] [--runs 3]

Makes the deck the honest way, with Anki's own `anki` package (seeded, so every run makes the
same notes): one note type of 9 fields and 2 card templates ("Japanese mining": Word, Reading,
Meaning, Audio, Sentence, Sentence Meaning, Picture, Notes, Frequency), HTML, a bare `List<T>`,
a sound on every third note, 50 small sound files; exported with Anki's exporter. Then, in a
fresh folder each run, times whole processes (wall time, median of the runs; peak memory of the
child from ``os.wait4``): ``deckkit import mining.apkg -o sources`` and ``deckkit build sources
--format apkg -j 1``. Last, imports the rebuilt deck into a collection holding the original and
prints Anki's counts (new and updated must be 0). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions
from anki.import_export_pb2 import ImportAnkiPackageRequest

REPO = Path(__file__).resolve().parent.parent
FIELDS = ("Word", "Reading", "Meaning", "Audio", "Sentence", "Sentence Meaning", "Picture",
          "Notes", "Frequency")  # fmt: skip


def make_deck(folder: Path, notes: int) -> Path:
    """The deck, exported by Anki into ``folder/mining.apkg``."""
    col = Collection(str(folder / "author" / "collection.anki2"))
    try:
        model = col.models.new("Japanese mining")
        for name in FIELDS:
            col.models.add_field(model, col.models.new_field(name))
        for name, front, back in (
            ("Recognition", "{{Word}}",
             "{{FrontSide}}<hr id=answer>{{Reading}}<br>{{Meaning}}<br>{{Sentence}}"),
            ("Listening", "{{#Audio}}{{Audio}}{{/Audio}}", "{{FrontSide}}<hr id=answer>{{Word}}"),
        ):  # fmt: skip
            template = col.models.new_template(name)
            template["qfmt"], template["afmt"] = front, back
            col.models.add_template(model, template)
        col.models.add(model)
        model = col.models.by_name("Japanese mining")
        deck = col.decks.id("Mining")
        for i in range(50):
            col.media.write_data(f"audio{i}.mp3", b"ID3" + bytes([i]) * 2000)
        rnd = random.Random(13)
        for i in range(notes):
            note = col.new_note(model)
            note["Word"] = f"単語{i}"
            note["Reading"] = f"たんご{i}"
            note["Meaning"] = f"word number {i}, <b>bold</b> &amp; List<T>"
            note["Audio"] = f"[sound:audio{i % 50}.mp3]" if i % 3 == 0 else ""
            note["Sentence"] = "これは例文です。" * rnd.randint(1, 5)
            note["Sentence Meaning"] = "This is an example sentence. " * rnd.randint(1, 4)
            note["Notes"] = f"<div>note {i}</div>" if i % 2 else ""
            note["Frequency"] = str(rnd.randint(1, 50_000))
            note.tags = [f"freq::{i // 1000}", "mining"]
            col.add_note(note, deck)
        options = ExportAnkiPackageOptions(
            with_scheduling=False, with_deck_configs=False, with_media=True, legacy=False
        )
        target = folder / "mining.apkg"
        col.export_anki_package(out_path=str(target), options=options, limit=DeckIdLimit(deck))
        return target
    finally:
        col.close()


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak MB of ``python -m deckkit ARGS`` (which must succeed)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "deckkit", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    assert os.waitstatus_to_exitcode(status) == 0, args
    return seconds, usage.ru_maxrss / 1024


def reimported(original: Path, rebuilt: Path, folder: Path) -> tuple[int, int]:
    """(new, updated) notes when the rebuilt deck meets a collection holding the original."""
    col = Collection(str(folder / "learner" / "collection.anki2"))
    try:
        options = col._backend.get_import_anki_package_presets()
        for package in (original, rebuilt):
            log = col.import_anki_package(
                ImportAnkiPackageRequest(package_path=str(package), options=options)
            ).log
        return len(log.new), len(log.updated)
    finally:
        col.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=8853)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deckkit-bench-") as scratch:
        folder = Path(scratch)
        (folder / "author").mkdir()
        (folder / "learner").mkdir()
        package = make_deck(folder, options.notes)
        rows: dict[str, list[tuple[float, float]]] = {"import": [], "build": []}
        for run in range(options.runs):
            work = folder / f"run{run}"
            work.mkdir()
            rows["import"].append(timed(["import", str(package), "-o", "sources"], work))
            rows["build"].append(
                timed(["build", "sources", "-o", "build", "--format", "apkg", "-j", "1"], work)
            )
        new, updated = reimported(package, folder / "run0" / "build" / "mining.apkg", folder)
    print(f"{options.notes:,} notes of 9 fields, {options.runs} runs (median wall s, peak MB)\n")
    print("| step | wall s | peak MB |\n|---|--:|--:|")
    for step, timings in rows.items():
        seconds = statistics.median(t for t, _m in timings)
        print(f"| deckkit {step} | {seconds:.2f} | {max(m for _t, m in timings):.0f} |")
    print(f"\nthe rebuilt deck imported into a collection holding the original: {new} new, "
          f"{updated} updated")  # fmt: skip


if __name__ == "__main__":
    main()
