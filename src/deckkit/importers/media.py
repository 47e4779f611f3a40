"""Media an imported deck refers to: each file copied once into ``media/`` beside the sources,
under the author's name where deckkit packed it, and every reference rewritten to it.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from deckkit.fieldtext.media import is_url

MEDIA_DIR = "media"

_PACKED_NAME = re.compile(r"^(?P<stem>[A-Za-z0-9_-]+)-(?P<hash>[0-9a-f]{10})(?P<ext>\.[a-z0-9]+)?$")
_SAFE_MEDIA_NAME = re.compile(r"[^\w.()+,=@~-]+")
_SRC = re.compile(
    r"""(?P<head><(?:img|audio|video|source)\b[^>]*?\bsrc\s*=\s*)"""
    r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^"'\s>]+))""",
    re.IGNORECASE,
)
_SOUND = re.compile(r"\[sound:(?P<ref>[^\]]+)\]")


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
        self.taken: set[str] = set()  # lower-cased relative paths
        self.out: list[MediaOut] = []
        self.missing: list[str] = []

    def rewrite(self, text: str) -> str:
        if "<" not in text and "[sound:" not in text:
            return text

        def replace_src(match: re.Match[str]) -> str:
            raw = match.group("dq") if match.group("dq") is not None else match.group("sq")
            if raw is None:
                raw = match.group("bare")
            new = self._relative(html.unescape(raw))
            if new is None:
                return match.group(0)
            return f'{match.group("head")}"{html.escape(new, quote=True)}"'

        def replace_sound(match: re.Match[str]) -> str:
            new = self._relative(match.group("ref"))
            return match.group(0) if new is None else f"[sound:{new}]"

        return _SOUND.sub(replace_sound, _SRC.sub(replace_src, text))

    def _relative(self, name: str) -> str | None:
        if not name or is_url(name) or name.startswith("data:"):
            return None
        if name in self.by_source:
            return self.by_source[name]
        source = self._find(name)
        if source is None:
            if name not in self.missing:
                self.missing.append(name)
            return None
        relative = self._name_for(source)
        self.by_source[name] = relative
        self.taken.add(relative.lower())
        self.out.append(MediaOut(relative, source))
        return relative

    def _find(self, name: str) -> Path | None:
        if self.media_dir is None or "/" in name or "\\" in name or name in (".", ".."):
            return None
        for candidate in (name, unquote(name)):
            path = self.media_dir / candidate
            if path.is_file():
                return path
        return None

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
                if relative.lower() not in self.taken:
                    return relative
        safe = _SAFE_MEDIA_NAME.sub("_", name).strip("._") or "media"
        stem, dot, ext = safe.rpartition(".")
        if not dot:
            stem, ext = safe, ""
        relative = f"{MEDIA_DIR}/{safe}"
        number = 2
        while relative.lower() in self.taken:
            relative = f"{MEDIA_DIR}/{stem}-{number}{'.' + ext if ext else ''}"
            number += 1
        return relative

    def files(self) -> list[MediaOut]:
        return list(self.out)

    def notices(self) -> Iterator[str]:
        if self.missing:
            shown = ", ".join(self.missing[:5]) + (
                f" and {len(self.missing) - 5} more" if len(self.missing) > 5 else ""
            )
            yield (
                f"{len(self.missing)} media file(s) referenced but not in the input, references "
                f"kept as written: {shown}; put the files in the media folder and point the "
                "references at them (deckkit validate lists each one)"
            )
