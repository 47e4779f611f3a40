"""An Anki package measured against deckkit's budgets before Anki's importer reads it.

Anki's importer unpacks whatever a package holds, as large as it turns out to be: the collection
into a temporary file, the media into the media folder (``rslib/src/import_export/package``:
the zip crate reads an entry to its end whatever its header says, and the newest package format
compresses the collection, the media list and every media file once more with zstd). A 586-byte
package can so make it write 4 GB. deckkit therefore reads the package first, with Python's
``zipfile``, and copies the entries Anki will read into a new package in the scratch folder,
which is what Anki then reads:

- before reading anything: the input must be a regular file; the entries Anki reads are found
  as Anki finds them (the ``meta`` entry's version, else which collection file there is); they
  must be stored or deflated, the only methods Anki reads; their number and the sizes their
  headers declare must fit the caps (:mod:`deckkit.budgets`);
- while copying: the bytes actually read are what count, not the headers (Python stops an entry
  at its declared size and checks its CRC, so a lying header is a damaged package); an entry
  that Anki unpacks with zstd is decompressed on the way, without keeping the output, and its
  unpacked size counted, stopping as soon as it passes the cap.

Anki thus reads exactly the bytes that were counted, and nothing else of the input.
"""

from __future__ import annotations

import io
import json
import re
import struct
import sys
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from deckkit.budgets import (
    CHUNK,
    COLLECTION,
    MEDIA,
    MEDIA_FILE,
    MEDIA_FILES,
    PACKAGE_INDEX,
    Budget,
    open_regular,
)
from deckkit.errors import CannotImport, ImportTooLarge

# Anki's package versions (PackageMetadata.Version) and the collection file each one holds.
LATEST = 3
COLLECTION_FILES = {1: "collection.anki2", 2: "collection.anki21", LATEST: "collection.anki21b"}
META = "meta"
MEDIA_LIST = "media"
# Media files are entries named by their index in the media list: "0", "1", ...
_MEDIA_ENTRY = re.compile(r"0|[1-9][0-9]{0,9}")
_READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # Anki's zip crate: these only
CHECKED_NAME = "checked-package"
# The room one entry may take in a zip's directory: 46 bytes, then its name, extra fields and
# comment (Anki writes about 60). The directory's size is the 6th field of the end record.
_DIRECTORY_RECORD = 512
_DIRECTORY_SIZE = 5


@dataclass(frozen=True)
class _Entry:
    """An entry Anki reads, and the cap on its unpacked size."""

    info: zipfile.ZipInfo
    budget: Budget
    zstd: bool  # Anki unpacks it once more with zstd


def checked_copy(path: Path, folder: Path, *, what: str) -> Path:
    """A copy of the package ``path`` in ``folder`` with only the entries Anki's importer reads,
    each one's unpacked size counted against the caps.

    Raises :class:`ImportTooLarge` over a cap, :class:`CannotImport` when ``path`` is not a
    regular file or not a package Anki can read (``what`` names the kind of package).
    """
    not_readable = f"cannot read {path} as {what}"
    target = folder / CHECKED_NAME
    with open_regular(path, lambda reason: CannotImport(f"{path} {reason}")) as handle:
        _check_directory(handle, path)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
            raise CannotImport(f"{not_readable}: not a zip file ({_reason(error)})") from error
        with archive:
            entries = _entries(archive, not_readable)
            _check_declared(path, entries)
            try:
                with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as copy:
                    media = _Media(path)
                    for entry in entries:
                        _copy(archive, entry, copy, media, not_readable, path)
            except OSError as error:  # reading the input, or writing the copy (a full disk)
                raise CannotImport(f"cannot import {path}: {error.strerror or error}") from error
    return target


def _check_directory(handle: IO[bytes], path: Path) -> None:
    """Refuse a zip directory too long for the media files cap, before zipfile reads it: it
    makes an object of every entry listed (a 400 MB file of five million empty entries would
    take 2 GB). The directory's size is the one zipfile itself will go by, from its own reader
    of the zip's end record."""
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:  # pragma: no cover - a Python without it: zipfile's checks only
        return
    try:
        record = end_record(handle)
    except (OSError, ValueError, struct.error):
        return  # not a zip file: zipfile says so next
    if record is not None and record[_DIRECTORY_SIZE] > _DIRECTORY_RECORD * (
        MEDIA_FILES.cap() + len(COLLECTION_FILES) + 2
    ):
        raise ImportTooLarge(MEDIA_FILES.refusal(str(path), verb="lists entries for"))


def _entries(archive: zipfile.ZipFile, not_readable: str) -> list[_Entry]:
    """The entries Anki reads from the archive, as its importer picks them (meta.rs)."""
    # When two entries have one name, Python's zipfile reads the last: only that one is copied.
    by_name = {info.filename: info for info in archive.infolist()}
    version = 2 if COLLECTION_FILES[2] in by_name else 1
    meta = by_name.get(META)
    if meta is not None:
        version = _version(archive, meta, not_readable)
    collection = by_name.get(COLLECTION_FILES[version])
    if collection is None:
        raise CannotImport(f"{not_readable}: it holds no {COLLECTION_FILES[version]}")
    zstd = version == LATEST
    entries = [_Entry(collection, COLLECTION, zstd)]
    if meta is not None:
        entries.insert(0, _Entry(meta, PACKAGE_INDEX, False))
    if MEDIA_LIST in by_name:
        entries.append(_Entry(by_name[MEDIA_LIST], PACKAGE_INDEX, zstd))
    entries += [
        _Entry(info, MEDIA_FILE, zstd)
        for name, info in by_name.items()
        if _MEDIA_ENTRY.fullmatch(name)
    ]
    for entry in entries:
        if entry.info.compress_type not in _READABLE_METHODS:
            raise CannotImport(
                f"{not_readable}: entry {entry.info.filename!r} uses a compression Anki does "
                "not read"
            )
    return entries


def _version(archive: zipfile.ZipFile, meta: zipfile.ZipInfo, not_readable: str) -> int:
    """The package version its ``meta`` entry states (a PackageMetadata message)."""
    from anki.import_export_pb2 import PackageMetadata

    if meta.file_size > PACKAGE_INDEX.cap() or meta.compress_type not in _READABLE_METHODS:
        raise CannotImport(f"{not_readable}: its meta entry is not one Anki writes")
    try:
        with archive.open(meta) as stream:
            data = stream.read(meta.file_size + 1)
        version = int(PackageMetadata.FromString(data).version)
    except Exception as error:  # zipfile, zlib and protobuf raise many kinds; all mean damaged
        raise CannotImport(f"{not_readable}: its meta entry is damaged") from error
    if version not in COLLECTION_FILES:
        raise CannotImport(f"{not_readable}: it was made by a newer Anki (version {version})")
    return version


def _check_declared(path: Path, entries: list[_Entry]) -> None:
    """The caps against what the entries' headers declare, before reading any of them."""
    media = [entry for entry in entries if entry.budget is MEDIA_FILE]
    if len(media) > MEDIA_FILES.cap():
        raise ImportTooLarge(MEDIA_FILES.refusal(str(path), found=len(media)))
    for entry in entries:
        if entry.info.file_size > entry.budget.cap():
            raise ImportTooLarge(_too_large(path, entry, entry.info.file_size))
    total = sum(entry.info.file_size for entry in media)
    if total > MEDIA.cap():
        raise ImportTooLarge(MEDIA.refusal(f"{path}: its media", verb="unpack to", found=total))


class _Media:
    """The unpacked size of a package's media so far, against the cap on all of them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.total = 0

    def add(self, size: int) -> None:
        self.total += size
        if self.total > MEDIA.cap():
            raise ImportTooLarge(MEDIA.refusal(f"{self.path}: its media", verb="unpack to"))


def _copy(
    archive: zipfile.ZipFile,
    entry: _Entry,
    copy: zipfile.ZipFile,
    media: _Media,
    not_readable: str,
    path: Path,
) -> None:
    """Copy one entry as Anki will read it, counting its unpacked size."""
    info = entry.info
    cap = entry.budget.cap()
    if entry.budget is MEDIA_FILE:
        cap = min(cap, MEDIA.cap() - media.total)
    target = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
    target.file_size = info.file_size  # tells zipfile whether the copy needs ZIP64 headers
    unpacked = 0
    counter = _ZstdCounter(cap) if entry.zstd else None
    try:
        with archive.open(info) as source, copy.open(target, "w") as out:
            for chunk in _chunks(source):
                out.write(chunk)
                unpacked = counter.feed(chunk) if counter else unpacked + len(chunk)
                if unpacked > cap:
                    break
            if counter is not None and unpacked <= cap:
                counter.finish()
    except _Damaged as error:
        raise CannotImport(
            f"{not_readable}: entry {info.filename!r} is damaged ({error})"
        ) from None
    except (zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, ValueError) as error:
        raise CannotImport(
            f"{not_readable}: entry {info.filename!r} is damaged ({_reason(error)})"
        ) from error
    if unpacked > cap:
        if entry.budget is MEDIA_FILE and unpacked <= entry.budget.cap():
            media.add(unpacked)  # raises: it is all the media together that is too large
        raise ImportTooLarge(_too_large(path, entry))
    if entry.budget is MEDIA_FILE:
        media.add(unpacked)


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    while chunk := source.read(CHUNK):
        yield chunk


def _too_large(path: Path, entry: _Entry, found: int | None = None) -> str:
    name = entry.info.filename
    if entry.budget is COLLECTION:
        subject = f"{path}: its collection"
    elif entry.budget is MEDIA_FILE:
        subject = f"{path}: media file {name!r}"
    else:
        subject = f"{path}: its {name!r} entry"
    return entry.budget.refusal(subject, verb="unpacks to", found=found)


class _Damaged(Exception):
    """The zstd data of an entry cannot be decompressed."""


class _ZstdCounter:
    """Decompresses zstd data fed in pieces, keeping only the count of unpacked bytes (as Anki
    does, every frame of the data, one after the other)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.unpacked = 0
        self.frame: Any = _zstd().ZstdDecompressor()
        self.in_frame = False  # part of a frame has been fed

    def feed(self, data: bytes) -> int:
        """Decompress ``data``; the unpacked count so far (stopping once it passes the cap)."""
        error = _zstd().ZstdError
        while data or not self.frame.needs_input:
            self.in_frame = True
            try:
                self.unpacked += len(self.frame.decompress(data, max_length=CHUNK))
            except error as failure:
                raise _Damaged(str(failure)) from None
            data = b""
            if self.unpacked > self.cap:
                break
            if self.frame.eof:
                data = self.frame.unused_data
                self.frame = _zstd().ZstdDecompressor()
                self.in_frame = False
        return self.unpacked

    def finish(self) -> None:
        """Refuse data that ends inside a frame."""
        if self.in_frame and not self.frame.eof:
            raise _Damaged("the zstd data ends in the middle of a frame")


def _zstd() -> Any:
    """Python's zstd module (3.14 on), else its backport, an extra of ``deckkit[anki]``."""
    try:
        if sys.version_info >= (3, 14):
            from compression import zstd
        else:
            from backports import zstd
    except ImportError as error:
        raise CannotImport(
            "reading Anki packages needs the `backports.zstd` package, which is not installed: "
            "pip install 'deckkit[anki]'"
        ) from error
    return zstd


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def left_out_media(package: Path, media_folder: Path, folder: Path) -> list[tuple[str, Path]]:
    """The media files of a checked package (:func:`checked_copy`) that Anki's importer left out
    of ``media_folder``, extracted into ``folder``: (name in the package, file) pairs.

    Anki's importer keeps the files notes refer to, and those whose names start with ``_`` or
    ``latex-``; a package may carry others (an older Anki's, another tool's). Each is written as
    ``folder/<its index>``, never under its own name: a stranger's name is only ever data here.
    A file whose bytes Anki kept under another name (one it normalised) is not left out.
    """
    with zipfile.ZipFile(package) as archive:
        entries = {entry.info.filename: entry for entry in _entries(archive, "a checked package")}
        listed = entries.get(MEDIA_LIST)
        if listed is None:
            return []
        kept = {unicodedata.normalize("NFC", name) for name in _names_in(media_folder)}
        sizes = _sizes(media_folder)
        left_out = []
        for index, name in _media_names(archive, listed):
            entry = entries.get(str(index))
            if entry is None or unicodedata.normalize("NFC", name) in kept:
                continue
            target = folder / str(index)
            with archive.open(entry.info) as source, target.open("wb") as out:
                _unpack(source, out, zstd=entry.zstd)
            if not any(_same(target, other) for other in sizes.get(target.stat().st_size, ())):
                left_out.append((name, target))
        return left_out


def _names_in(folder: Path) -> list[str]:
    return [entry.name for entry in folder.iterdir()] if folder.is_dir() else []


def _sizes(folder: Path) -> dict[int, list[Path]]:
    """The files of a folder by size, to compare an extracted file only with those of its size."""
    by_size: dict[int, list[Path]] = {}
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.is_file():
                by_size.setdefault(entry.stat().st_size, []).append(entry)
    return by_size


def _same(one: Path, other: Path) -> bool:
    return one.read_bytes() == other.read_bytes()


def _media_names(archive: zipfile.ZipFile, listed: _Entry) -> list[tuple[int, str]]:
    """(zip entry index, file name) for each file a package's media list names, as Anki reads
    the list (a JSON map in older packages, zstd-compressed MediaEntries in the newest); names
    that are not one plain file name are left out, as Anki refuses them."""
    with archive.open(listed.info) as source:
        data = io.BytesIO()
        _unpack(source, data, zstd=listed.zstd)
    names: list[tuple[int, str]] = []
    try:
        if listed.zstd:
            from anki.import_export_pb2 import MediaEntries

            names = list(
                enumerate(entry.name for entry in MediaEntries.FromString(data.getvalue()).entries)
            )
        else:
            mapping = json.loads(data.getvalue())
            names = [
                (int(key), value)
                for key, value in (mapping.items() if isinstance(mapping, dict) else ())
                if _MEDIA_ENTRY.fullmatch(str(key)) and isinstance(value, str)
            ]
    except Exception:  # a media list Anki could not read either: it imported no media
        return []
    return [(index, name) for index, name in names if _plain_file_name(name)]


def _plain_file_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\\x00")


def _unpack(source: IO[bytes], out: IO[bytes], *, zstd: bool) -> None:
    """Copy an entry, decompressing Anki's zstd layer (its size was counted by the checked copy)."""
    frame = _zstd().ZstdDecompressor() if zstd else None
    for chunk in _chunks(source):
        if frame is None:
            out.write(chunk)
            continue
        while chunk or not frame.needs_input:
            out.write(frame.decompress(chunk, max_length=CHUNK))
            chunk = b""
            if frame.eof:
                chunk = frame.unused_data
                frame = _zstd().ZstdDecompressor()
