"""Names deckkit gives files it writes from untrusted input (imported media, imported decks):
the same name must work on Linux, macOS and Windows, where the sources are shared through git.

Windows refuses the device names (``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1`` to ``COM9``,
``LPT1`` to ``LPT9``, with any extension), the characters ``<>:"/\\|?*`` and control characters,
and drops trailing dots and spaces; macOS and Windows compare names without case (and macOS after
Unicode normalisation), so ``Photo.png`` and ``photo.png`` are one file there.
https://learn.microsoft.com/windows/win32/fileio/naming-a-file
"""

from __future__ import annotations

import re
import unicodedata

_DEVICE_NAMES = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{n}" for n in range(1, 10)]
    + [f"lpt{n}" for n in range(1, 10)]
    + ["com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³"]
)
_NOT_PORTABLE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
MAX_NAME_BYTES = 120  # Anki's own limit for media names (rslib/src/media/files.rs)


def portable_name(name: str, *, fallback: str = "file") -> str:
    """``name`` changed as little as possible into a file name every system accepts."""
    name = _NOT_PORTABLE.sub("_", unicodedata.normalize("NFC", name)).strip(" .") or fallback
    if names_a_device(name):
        name = f"_{name}"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        stem, dot, extension = name.rpartition(".")
        if not dot or len(extension) > 16:
            stem, extension = name, ""
        suffix = f".{extension}" if extension else ""
        room = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
        name = _cut_to_bytes(stem, room).rstrip(" .") + suffix
    return name.rstrip(" .") or fallback


def _cut_to_bytes(text: str, limit: int) -> str:
    """The longest start of ``text`` whose UTF-8 takes at most ``limit`` bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def names_a_device(name: str) -> bool:
    """Whether Windows reads ``name`` as a device (``con``, ``aux.txt``, ``LPT1.png``)."""
    return name.partition(".")[0].casefold() in _DEVICE_NAMES


# What Anki's normalize_filename (rslib/src/media/files.rs) drops from a media file's name, after
# putting it in NFC: these characters, ASCII controls and unassigned code points.
_ANKI_DROPS = re.compile(r'[\[\]<>:"/?*^\\|\x00-\x1f\x7f]')
_ANKI_DEVICE = re.compile(r"^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\.|$)", re.IGNORECASE)


def anki_media_name(name: str) -> str:
    """The name Anki stores a media file under when it imports one called ``name``: in NFC,
    without the characters it drops, no-break spaces made spaces, ``_`` after a Windows device
    name or a trailing dot or space, cut to 120 bytes (its stem and extension each cut)."""
    name = unicodedata.normalize("NFC", name)
    name = _ANKI_DROPS.sub("", name)
    name = "".join(c for c in name if unicodedata.category(c) != "Cn").replace("\u00a0", " ")
    name = _ANKI_DEVICE.sub(r"\1_\2", name)
    if name.endswith((" ", ".")):
        name += "_"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = extension, ""
        extension = _cut_to_bytes(extension, 10)
        stem = _cut_to_bytes(stem, MAX_NAME_BYTES - len(extension.encode("utf-8")) - 2)
        name = f"{stem}.{extension}" if extension else stem
        if name.endswith((" ", ".")):
            name += "_"
    return name


def clash_key(name: str) -> str:
    """What two names must differ in to be two files on every system (case, Unicode form)."""
    return unicodedata.normalize("NFC", name).casefold()


__all__ = ["MAX_NAME_BYTES", "anki_media_name", "clash_key", "names_a_device", "portable_name"]
