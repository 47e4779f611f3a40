"""Media referenced from fields: found, checked against the source folder, packed under flat names.

Anki keeps media flat in ``collection.media`` and matches them by file name, so
``media/a/diagram.png`` and ``media/b/diagram.png`` would collide. Each file is packed as
``<stem>-<first 10 hex digits of its SHA-256><suffix>``: the same file referenced twice is packed
once, two different files never share a name, and an edited image gets a new name (Anki would
otherwise keep its old copy).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path

from deckkit.problems import display_path

_SRC_ATTRIBUTE = re.compile(
    r"""(?P<head><(?:img|audio|video|source)\b[^>]*?\bsrc\s*=\s*)(?P<quote>["']?)(?P<ref>[^"'\s>]*)(?P=quote)""",
    re.IGNORECASE,
)
_SOUND_TAG = re.compile(r"\[sound:(?P<ref>[^\]]+)\]")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class MediaFile:
    """A media file on disk and the flat name it is packed under."""

    source: Path
    packed_name: str


def may_refer_to_media(field_text: str) -> bool:
    """False for text that surely refers to no media (most fields): a quick test, no regex."""
    return "[sound:" in field_text or ("<" in field_text and "src" in field_text.lower())


def media_references(field_text: str) -> list[str]:
    """Every media path a field refers to, as written (HTML entities decoded)."""
    if not may_refer_to_media(field_text):
        return []
    refs = [unescape(m.group("ref")) for m in _SRC_ATTRIBUTE.finditer(field_text)]
    refs += [unescape(m.group("ref")) for m in _SOUND_TAG.finditer(field_text)]
    return [ref for ref in refs if ref]


def is_url(ref: str) -> bool:
    """True for a remote reference such as https://... (not file:, not a Windows drive letter)."""
    return (
        bool(_URL_SCHEME.match(ref))
        and not re.match(r"^[A-Za-z]:[\\/]", ref)
        and not ref.lower().startswith("file:")
    )


def reference_problem(ref: str, source_dir: Path) -> tuple[str, str] | None:
    """Why a reference cannot be packed, as (message, code), or None when it resolves."""
    if is_url(ref):
        return None  # remote media stay as they are: Anki loads them when online
    if ref.lower().startswith("file:"):
        return (
            f"media '{ref}' is a file: URL, which reads outside the source folder; "
            "refer to the file relative to the source file",
            "check.media-outside",
        )
    if ref.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", ref):
        return (
            f"media '{ref}' is an absolute path; refer to it relative to the source file",
            "check.media-outside",
        )
    root = source_dir.resolve()
    target = (source_dir / ref).resolve()
    if not target.is_relative_to(root):
        return (
            f"media '{ref}' lies outside the source's folder {source_dir}; move it inside",
            "check.media-outside",
        )
    if not target.is_file():
        return (
            f"media file '{ref}' does not exist (looked for {display_path(target)})",
            "check.media-missing",
        )
    return None


def packed_name(path: Path) -> str:
    """The flat, collision-free name a media file gets inside Anki."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    stem = _UNSAFE_NAME_CHARS.sub("_", path.stem).strip("_") or "media"
    return f"{stem}-{digest}{path.suffix.lower()}"


def rewrite_references(field_text: str, source_dir: Path, packed: dict[Path, MediaFile]) -> str:
    """Replace each media path with its packed name, recording the files in ``packed``."""
    if not may_refer_to_media(field_text):
        return field_text

    def packed_for(ref: str) -> str:
        target = (source_dir / unescape(ref)).resolve()
        media = packed.get(target)
        if media is None:
            media = MediaFile(target, packed_name(target))
            packed[target] = media
        return media.packed_name

    def replace_src(match: re.Match[str]) -> str:
        if is_url(unescape(match.group("ref"))):
            return match.group(0)
        quote = match.group("quote") or '"'
        name = escape(packed_for(match.group("ref")), quote=True)
        return f"{match.group('head')}{quote}{name}{quote}"

    def replace_sound(match: re.Match[str]) -> str:
        if is_url(match.group("ref")):
            return match.group(0)
        return f"[sound:{packed_for(match.group('ref'))}]"

    return _SOUND_TAG.sub(replace_sound, _SRC_ATTRIBUTE.sub(replace_src, field_text))
