"""Names deckkit writes from untrusted input work on every system the sources are checked out on:
an imported deck's media named like a Windows device (``con.png``) or differing only in case
(``Photo.png`` / ``photo.png``, one file on macOS and Windows) get names of their own."""

from __future__ import annotations

import shutil
import struct
import wave
import zlib
from pathlib import Path

import pytest

import deckkit
from conftest import FIXTURES

# Reaches inside: the naming rule itself is checked on names no file system here would refuse.
from deckkit.filenames import MAX_NAME_BYTES, clash_key, portable_name

NOTES = FIXTURES / "portable-names" / "notes.txt"


def png(colour: tuple[int, int, int]) -> bytes:
    """A one-pixel PNG of one colour: two files of different colours have different bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(colour))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    # Made at test time: two names differing only in case cannot be checked out on macOS.
    folder = tmp_path / "collection.media"
    folder.mkdir()
    (folder / "con.png").write_bytes(png((255, 0, 0)))
    (folder / "Photo.png").write_bytes(png((0, 255, 0)))
    (folder / "photo.png").write_bytes(png((0, 0, 255)))
    with wave.open(str(folder / "aux.wav"), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\x00\x00" * 80)
    return folder


def test_imported_media_get_names_every_system_accepts(tmp_path: Path, media_dir: Path) -> None:
    notes = tmp_path / "notes.txt"
    shutil.copy(NOTES, notes)
    result = deckkit.import_file(notes, tmp_path / "sources", media_dir=media_dir)
    names = sorted(path.name for path in result.media)
    assert len(names) == 4
    assert all(portable_name(name) == name for name in names), names
    assert len({clash_key(name) for name in names}) == 4, names
    assert not any(name.split(".")[0].casefold() in ("con", "aux") for name in names)
    # The rewritten references point at those copies, so the deck builds and validates.
    built = deckkit.build([tmp_path / "sources"], tmp_path / "build")
    assert built.ok, built.problems


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CON.png", "_CON.png"),
        ("nul", "_nul"),
        ("lpt9.tar.gz", "_lpt9.tar.gz"),
        ("com10.png", "com10.png"),
        ('a<b>:c"d|e?f*.png', "a_b__c_d_e_f_.png"),
        ("trailing dot. ", "trailing dot"),
        ("...", "file"),
        ("ok name (2).png", "ok name (2).png"),
    ],
)
def test_portable_name(name: str, expected: str) -> None:
    assert portable_name(name) == expected


def test_a_long_name_keeps_its_extension_within_the_limit() -> None:
    name = portable_name("é" * 200 + ".jpeg")
    assert name.endswith(".jpeg")
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES


def test_a_deck_id_naming_a_windows_device_is_a_warning(tmp_path: Path) -> None:
    source = tmp_path / "aux.yaml"
    source.write_text("deck: Aux\nid: aux\ncards:\n  - id: a\n    front: a\n    back: b\n")
    problems = deckkit.validate([source]).problems
    assert [(p.line, p.column, p.code, p.severity) for p in problems] == [
        (2, 5, "check.portable-name", "warning")
    ]


def test_an_imported_deck_named_like_a_device_gets_an_id_windows_accepts(tmp_path: Path) -> None:
    export = tmp_path / "vocabulary.txt"
    export.write_text("chat\tcat\nchien\tdog\n", encoding="utf-8")
    result = deckkit.import_file(export, tmp_path / "sources", fmt="quizlet", deck_name="Con")
    assert [deck.id for deck in result.decks] == ["con-deck"]
    assert [deck.path.name for deck in result.decks] == ["con-deck.yaml"]
    assert result.ok
