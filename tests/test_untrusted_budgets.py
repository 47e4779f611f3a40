"""Every reader of a stranger's file has a budget (issue 12): bombs, huge files, files that are
not regular files and attacker-sized counts are refused before they cost memory, disk or time.

The attacks run `python -m deckkit` in a real process capped at 120 s and 2 GB of address space:
each refusal must be one line and exit status 2, never a traceback, and leave nothing written.
The attack files are made here: a real package (built by deckkit, or exported by Anki itself)
whose entries are then swapped for bombs, written byte by byte so that headers can lie.
"""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions
from click.testing import CliRunner, Result

from conftest import REPO
from deckkit import build
from deckkit.cli import main

MIB = 1 << 20
# Each zstd frame of a bomb unpacks to this; a bomb is many such frames one after the other.
FRAME = 128 * MIB


# --- running deckkit -------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def deckkit(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """`python -m deckkit ARGS` in its own process, at most 120 s and 2 GB of address space.
    Its temporary files go to `cwd/tmp`, so that a test can see what it left there."""
    (cwd / "tmp").mkdir(exist_ok=True)
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": str(cwd / "tmp"),
        **(env or {}),
    }
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "deckkit", *map(str, args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_cap_address_space,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def assert_refused(run: Run, *words: str) -> None:
    """Exit status 2 with one error line holding ``words``, and no traceback."""
    assert "Traceback" not in run.stdout + run.stderr, run.stderr[-3000:]
    assert run.code == 2, (run.code, run.stdout[-2000:], run.stderr[-2000:])
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, run.stderr
    for word in words:
        assert word in errors[0], errors[0]


def invoke(*args: str | Path) -> Result:
    """deckkit in this process: for the caps lowered by an environment variable."""
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def largest_file(folder: Path) -> int:
    sizes = [path.stat().st_size for path in folder.rglob("*") if path.is_file()]
    return max(sizes, default=0)


# --- packages, and bombs in them -------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A zip entry as its bytes: ``data`` as stored, ``size`` and ``crc`` as the headers say."""

    name: str
    data: bytes
    size: int
    crc: int
    method: int = zipfile.ZIP_DEFLATED


def deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def raw_entry(name: str, data: bytes) -> Raw:
    """An honest entry."""
    return Raw(name, deflated(data), len(data), zlib.crc32(data))


@cache
def deflated_zeros(size: int) -> tuple[bytes, int]:
    """``size`` zero bytes, deflated, and their CRC-32."""
    return deflated(bytes(size)), zlib.crc32(bytes(size))


@cache
def zstd_zeros(size: int) -> bytes:
    """Zstandard frames that unpack to ``size`` zero bytes (a multiple of FRAME)."""
    if sys.version_info >= (3, 14):
        from compression import zstd
    else:
        from backports import zstd

    return zstd.compress(bytes(FRAME)) * (size // FRAME)


def write_zip(path: Path, entries: Iterable[Raw]) -> Path:
    """A zip file with exactly these entries, headers included: nothing checks that they are
    true, which is the point."""
    out, central = bytearray(), bytearray()
    count = 0
    for entry in entries:
        name = entry.name.encode()
        offset = len(out)
        fields = (entry.method, 0, 0x21, entry.crc, len(entry.data), entry.size, len(name))
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, *fields, 0) + name + entry.data
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, *fields, 0, 0, 0, 0, 0, offset
        )
        central += name
        count += 1
    start = len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0)
    path.write_bytes(bytes(out))
    return path


def rewritten(package: Path, target: Path, swap: dict[str, Raw]) -> Path:
    """``package`` with the entries named in ``swap`` replaced (or added)."""
    with zipfile.ZipFile(package) as archive:
        entries = [
            swap.get(info.filename) or raw_entry(info.filename, archive.read(info))
            for info in archive.infolist()
        ]
        names = set(archive.namelist())
    return write_zip(target, [*entries, *(raw for name, raw in swap.items() if name not in names)])


def legacy_package(tmp_path: Path, *, images: int = 1) -> Path:
    """A package as deckkit builds it (legacy format: collection.anki2 and a JSON media list),
    one card showing ``images`` images, named "0", "1"... in the zip."""
    sources = tmp_path / "made" / "sources"
    (sources / "media").mkdir(parents=True)
    for number in range(images):
        (sources / "media" / f"pic{number}.png").write_bytes(b"\x89PNG small %d" % number)
    front = "".join(f'<img src="media/pic{number}.png">' for number in range(images))
    (sources / "deck.yaml").write_text(
        f"deck: Made\nid: made\ncards:\n  - id: one\n    front: '{front}'\n    back: b\n"
        "  - id: two\n    front: f2\n    back: b2\n",
        encoding="utf-8",
    )
    result = build([sources], tmp_path / "made" / "out", formats=["apkg"])
    assert result.ok, result.problems
    return result.written[0]


def latest_package(tmp_path: Path) -> Path:
    """A package as Anki exports it today: collection.anki21b, the media list and each media
    file compressed once more with zstd."""
    (tmp_path / "anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        image = col.media.write_data("picture.png", b"\x89PNG a picture")
        deck = col.decks.id("Shared")
        note = col.new_note(col.models.by_name("Basic"))
        note.fields[0], note.fields[1] = f'<img src="{image}">', "back"
        col.add_note(note, deck)
        options = ExportAnkiPackageOptions(with_media=True, legacy=False)
        target = tmp_path / "from-anki.apkg"
        col.export_anki_package(out_path=str(target), options=options, limit=DeckIdLimit(deck))
    finally:
        col.close()
    with zipfile.ZipFile(target) as archive:
        assert {"meta", "collection.anki21b", "media", "0"} <= set(archive.namelist())
    return target


# --- bombs ---------------------------------------------------------------------------------


def test_a_3_mb_package_whose_media_unpack_to_3_gb_is_refused_before_unpacking(
    tmp_path: Path,
) -> None:
    bomb, crc = deflated_zeros(100 * MIB)
    package = rewritten(
        legacy_package(tmp_path, images=30),
        tmp_path / "bomb.apkg",
        {str(number): Raw(str(number), bomb, 100 * MIB, crc) for number in range(30)},
    )
    assert package.stat().st_size < 4 * MIB

    run = deckkit("import", package, "-o", "imported", cwd=tmp_path)

    assert_refused(run, "bomb.apkg", "media", "2 GiB", "DECKKIT_MAX_MEDIA_BYTES")
    assert run.seconds < 30
    assert not (tmp_path / "imported").exists()
    assert largest_file(tmp_path / "tmp") < MIB


def test_a_media_file_whose_header_lies_about_its_size_is_not_unpacked(tmp_path: Path) -> None:
    # The header says 1 KiB; the data inflates to 150 MiB, with the CRC of all of it, so that a
    # reader going by the data alone (Anki's) takes it whole.
    bomb, crc = deflated_zeros(150 * MIB)
    package = rewritten(
        legacy_package(tmp_path), tmp_path / "liar.apkg", {"0": Raw("0", bomb, 1024, crc)}
    )

    run = deckkit("import", package, "-o", "imported", cwd=tmp_path)

    assert_refused(run, "liar.apkg", "'0'", "damaged")
    assert not (tmp_path / "imported").exists()
    assert largest_file(tmp_path / "tmp") < MIB


def test_a_zstd_collection_bomb_is_refused_after_unpacking_only_the_cap(tmp_path: Path) -> None:
    # The newest package format: Anki would unpack the collection, 4 GB of it, into a temporary
    # file before finding that it is not a database.
    meta = raw_entry("meta", b"\x08\x03")  # PackageMetadata(version=VERSION_LATEST)
    collection = raw_entry("collection.anki21b", zstd_zeros(32 * FRAME))
    package = write_zip(tmp_path / "bomb.apkg", [meta, collection])
    assert package.stat().st_size < 8192

    run = deckkit("import", package, "-o", "imported", cwd=tmp_path)

    assert_refused(run, "bomb.apkg", "collection", "300 MiB", "DECKKIT_MAX_COLLECTION_BYTES")
    assert run.seconds < 30
    assert not (tmp_path / "imported").exists()
    assert largest_file(tmp_path / "tmp") < MIB


def test_a_zstd_media_bomb_in_a_package_anki_exported_is_refused(tmp_path: Path) -> None:
    package = rewritten(
        latest_package(tmp_path),
        tmp_path / "bomb.apkg",
        {"0": raw_entry("0", zstd_zeros(24 * FRAME))},
    )

    run = deckkit("import", package, "-o", "imported", cwd=tmp_path)

    assert_refused(run, "bomb.apkg", "media file '0'", "100 MiB", "DECKKIT_MAX_MEDIA_FILE_BYTES")
    assert not (tmp_path / "imported").exists()
    assert largest_file(tmp_path / "tmp") < MIB


def test_a_package_within_the_caps_still_imports_in_both_formats(tmp_path: Path) -> None:
    for package in (legacy_package(tmp_path), latest_package(tmp_path)):
        out = tmp_path / f"imported-{package.stem}"
        run = deckkit("import", package, "-o", out, cwd=tmp_path)
        assert run.code == 0, run.stderr
        assert list((out / "media").iterdir())


@pytest.mark.parametrize("name", ["big.csv", "big.txt"])
def test_a_600_mb_text_export_is_refused_unread(tmp_path: Path, name: str) -> None:
    big = tmp_path / name
    with big.open("wb") as handle:
        handle.truncate(600 * 1000 * 1000)  # sparse: nothing to write, all of it to read
    options = ["--from", "quizlet"] if name.endswith(".txt") else []

    run = deckkit("import", big, *options, "-o", "imported", cwd=tmp_path)

    assert_refused(run, name, "572 MiB", "64 MiB", "DECKKIT_MAX_TEXT_BYTES")
    assert run.seconds < 30
    assert not (tmp_path / "imported").exists()


@pytest.mark.parametrize(
    ("name", "options"),
    [("words.txt", ["--from", "quizlet"]), ("notes.csv", [])],
)
def test_a_small_file_of_a_million_tiny_notes_is_refused_before_anki_reads_them(
    tmp_path: Path, name: str, options: list[str]
) -> None:
    # 4 MB, far below the text cap: each note still costs a few kilobytes to import.
    export = tmp_path / name
    export.write_text("a\tb\n" * 1_000_000 if name.endswith(".txt") else "a,b\n" * 1_000_000)

    run = deckkit("import", export, *options, "-o", "imported", cwd=tmp_path)

    assert_refused(run, name, "200,000 notes", "DECKKIT_MAX_NOTES")
    assert run.seconds < 30
    assert not (tmp_path / "imported").exists()


@pytest.mark.parametrize("name", ["export.csv", "export.txt", "deck.apkg"])
def test_an_input_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path, name: str) -> None:
    os.mkfifo(tmp_path / name)
    run = deckkit("import", name, "-o", "imported", cwd=tmp_path)
    assert_refused(run, name, "FIFO, not a regular file")


@pytest.mark.parametrize("name", ["export.csv", "export.txt", "deck.apkg"])
def test_an_input_linked_to_dev_zero_is_refused_unread(tmp_path: Path, name: str) -> None:
    (tmp_path / name).symlink_to("/dev/zero")
    run = deckkit("import", name, "-o", "imported", cwd=tmp_path)
    assert_refused(run, name, "device, not a regular file")


# --- caps set by environment variables --------------------------------------------------------


def quizlet_export(tmp_path: Path, cards: int) -> Path:
    export = tmp_path / "words.txt"
    export.write_text("".join(f"term {n}\tdefinition {n}\n" for n in range(cards)))
    return export


def test_the_notes_cap_is_set_by_its_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = quizlet_export(tmp_path, 3)
    monkeypatch.setenv("DECKKIT_MAX_NOTES", "2")
    result = invoke("import", export, "--from", "quizlet", "-o", tmp_path / "refused")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: {export} has cards for more than 2 notes, deckkit's cap for one import; "
        "set DECKKIT_MAX_NOTES to raise it"
    )
    assert not (tmp_path / "refused").exists()

    monkeypatch.setenv("DECKKIT_MAX_NOTES", "3")
    assert invoke("import", export, "--from", "quizlet", "-o", tmp_path / "ok").exit_code == 0


def test_the_notes_cap_holds_for_packages_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = legacy_package(tmp_path)  # two notes
    monkeypatch.setenv("DECKKIT_MAX_NOTES", "1")
    result = invoke("import", package, "-o", tmp_path / "refused")
    assert result.exit_code == 2
    assert "holds 2 notes, more than 1 notes" in result.output
    assert not (tmp_path / "refused").exists()


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DECKKIT_MAX_TEXT_BYTES", "10", ["holds 40 bytes, more than 10 bytes"]),
        ("DECKKIT_MAX_MEDIA_FILES", "2", ["holds 3 files, more than 2 files"]),
        ("DECKKIT_MAX_MEDIA_FILE_BYTES", "5", ["media file '0' unpacks to"]),
        ("DECKKIT_MAX_MEDIA_BYTES", "20", ["its media unpack to", "more than 20 bytes"]),
        ("DECKKIT_MAX_COLLECTION_BYTES", "1K", ["its collection unpacks to", "1 KiB"]),
    ],
)
def test_each_import_cap_is_set_by_its_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, words: list[str]
) -> None:
    if variable == "DECKKIT_MAX_TEXT_BYTES":
        target = [quizlet_export(tmp_path, 2), "--from", "quizlet"]
    else:
        target = [legacy_package(tmp_path, images=3)]
    monkeypatch.setenv(variable, value)
    result = invoke("import", *target, "-o", tmp_path / "refused")
    assert result.exit_code == 2, result.output
    message = result.output.splitlines()[-1]
    assert message.endswith(f"set {variable} to raise it")
    for word in words:
        assert word in message, message


def test_a_package_listing_far_more_entries_than_the_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = rewritten(
        legacy_package(tmp_path),
        tmp_path / "many.apkg",
        {str(number): raw_entry(str(number), b"") for number in range(100)},
    )
    monkeypatch.setenv("DECKKIT_MAX_MEDIA_FILES", "2")
    result = invoke("import", package, "-o", tmp_path / "refused")
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == (
        f"Error: {package} lists entries for more than 2 files, deckkit's cap for a package's "
        "media; set DECKKIT_MAX_MEDIA_FILES to raise it"
    )


def test_a_cap_that_is_not_a_number_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECKKIT_MAX_NOTES", "lots")
    result = invoke("import", quizlet_export(tmp_path, 1), "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: DECKKIT_MAX_NOTES='lots' is not a number (like 500000)"
    )


# --- linear time -----------------------------------------------------------------------------


def test_40000_quizlet_cards_with_one_term_get_their_ids_in_linear_time(tmp_path: Path) -> None:
    # Each card's id is the term's slug made unique: term, term-2, term-3... Probing from 2 for
    # every card took 150 s for 40,000 cards.
    export = tmp_path / "same.txt"
    export.write_text("".join(f"term\tdefinition {n}\n" for n in range(40_000)))

    run = deckkit("import", export, "--from", "quizlet", "-o", "imported", cwd=tmp_path)

    assert run.code == 0, run.stderr[-2000:]
    assert run.seconds < 60
    text = (tmp_path / "imported" / "same.yaml").read_text(encoding="utf-8")
    assert "  - id: term\n" in text
    assert "  - id: term-40000\n" in text
