"""Media an imported deck refers to: each file copied once into ``media/`` beside the sources,
under the author's name where deckkit packed it, and every reference rewritten to it.

References are read and rewritten by deckkit's one reader, with Anki's rules
(:mod:`deckkit.fieldtext.media`): any tag Anki's media check reads (``<IMG SRC=…>``, ``<source>``,
``<object data>``), quoted or not, entities decoded, ``[sound:…]``. A name is looked up in the
deck's media folder as written, then percent-decoded (:func:`file_name_candidates`), and only
ever as a plain file name inside that folder (:func:`file_in_folder`): an imported file is
untrusted, and ``<img src="..%2F..%2F.ssh%2Fid_rsa">`` must copy nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deckkit.fieldtext.media import (
    MediaReference,
    file_in_folder,
    is_url,
    rewrite_media_references,
)
from deckkit.filenames import clash_key, portable_name

MEDIA_DIR = "media"

_PACKED_NAME = re.compile(r"^(?P<stem>[A-Za-z0-9_-]+)-(?P<hash>[0-9a-f]{10})(?P<ext>\.[a-z0-9]+)?$")
_SAFE_MEDIA_NAME = re.compile(r"[^\w.()+,=@~-]+")


@dataclass(frozen=True)
class MediaOut:
    """A media file to copy: from ``source`` to ``relative`` in the output folder."""

    relative: str  # e.g. media/pic.png
    source: Path


class MediaNamer:
    """Media references to `media/<name>` beside the sources, each file extracted once."""

    def __init__(self, media_dir: Path | None) -> None:
        self.media_dir = media_dir
        self.by_source: dict[str, str] = {}  # name in the input → relative path written
        self.by_file: dict[Path, str] = {}  # file found (resolved) → relative path written
        self.taken: set[str] = set()  # relative paths written, by clash_key
        self.next_number: dict[str, int] = {}
        self.out: list[MediaOut] = []
        self.missing: list[str] = []

    def rewrite(self, text: str) -> str:
        """The text with each reference to a file of the media folder renamed to its copy."""
        return rewrite_media_references(text, self._relative)

    def _relative(self, ref: MediaReference) -> str | None:
        name = ref.name
        if is_url(name):
            return None
        if name in self.by_source:
            return self.by_source[name]
        source = None if self.media_dir is None else file_in_folder(name, self.media_dir)
        if source is None:
            if name not in self.missing:
                self.missing.append(name)
            return None
        # One copy of a file however it is spelled ('a b.png', 'a%20b.png', 'a&#32;b.png').
        relative = self.by_file.get(source)
        if relative is None:
            relative = self._name_for(source)
            self.by_file[source] = relative
            self.taken.add(clash_key(relative))
            self.out.append(MediaOut(relative, source))
        self.by_source[name] = relative
        return relative

    def _name_for(self, source: Path) -> str:
        name = source.name
        packed = _PACKED_NAME.match(name)
        if packed and hashlib.sha256(source.read_bytes()).hexdigest()[:10] == packed.group("hash"):
            # A name deckkit packed: back to the author's name. On a clash, a folder named by the
            # hash keeps the file name, so a rebuild packs it under the same name again.
            original = packed.group("stem") + (packed.group("ext") or "")
            for relative in (
                f"{MEDIA_DIR}/{original}",
                f"{MEDIA_DIR}/{packed.group('hash')}/{original}",
            ):
                if clash_key(relative) not in self.taken:
                    return relative
        # The name must also work on the Windows and macOS checkouts of the sources.
        safe = portable_name(_SAFE_MEDIA_NAME.sub("_", name).strip("._"), fallback="media")
        stem, dot, ext = safe.rpartition(".")
        if not dot:
            stem, ext = safe, ""
        relative = f"{MEDIA_DIR}/{safe}"
        # The next number to try for each name: thousands of names that clean up to one name
        # are numbered in linear time, not by probing from 2 each time.
        number = self.next_number.get(clash_key(relative), 2)
        while clash_key(relative) in self.taken:
            relative = f"{MEDIA_DIR}/{stem}-{number}{'.' + ext if ext else ''}"
            number += 1
        self.next_number[clash_key(f"{MEDIA_DIR}/{safe}")] = number
        return relative

    def files(self) -> list[MediaOut]:
        """Every file to copy, in the order first referred to."""
        return list(self.out)

    def notices(self) -> Iterator[str]:
        """What a person should know: the references to files not in the media folder."""
        if self.missing:
            shown = ", ".join(self.missing[:5]) + (
                f" and {len(self.missing) - 5} more" if len(self.missing) > 5 else ""
            )
            yield (
                f"{len(self.missing)} media file(s) referenced but not in the input, references "
                f"kept as written: {shown}; put the files in the media folder and point the "
                "references at them (deckkit validate lists each one)"
            )
