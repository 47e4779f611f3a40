"""Media referenced from fields: found, checked against the source folder, packed under flat names.

What a field refers to is what Anki's own media check reads (``HTML_MEDIA_TAGS``, ``AV_TAGS``,
``extract_media_refs``, ``replace_media_refs`` and ``decode_entities`` in
https://github.com/ankitects/anki/blob/main/rslib/src/text.rs, used by
https://github.com/ankitects/anki/blob/main/rslib/src/media/check.rs): a file referred to any
other way would be "missing" or "unused" there, and Check Media offers to delete unused files.
:func:`media_references` is the one reader; everything in deckkit that finds, checks, rewrites or
strips references goes through it.

- **Tags**: ``img``, ``audio``, ``video``, ``object`` and ``source``, in any case (``<IMG SRC=…>``).
  Not ``embed``, ``track``, ``<a href>``, ``<video poster>``, ``srcset`` or CSS ``url()``: Anki's
  check does not read them. A tag counts only when a ``>`` ends it (otherwise its ``<`` is text,
  and :func:`deckkit.fieldtext.markup.escape_bare_markup` escapes it).
- **Attribute**: ``src`` or ``data``, or a name ending in one after a non-letter (``data-src``;
  Anki's ``\\b(?:src|data)\\b=``), in any case. Only the first such attribute with a value in a
  tag, as Anki.
- **Value**: in double quotes (anything but ``"``, spaces and ``'`` included), in single quotes
  (anything but ``'``) or unquoted (up to white space or ``>``). A quote that is never closed is
  part of an unquoted value, as in Anki. An empty value refers to nothing.
- **Sounds and videos**: ``[sound:name]``, the name being everything up to the first ``]`` (spaces
  and line breaks included), at least one character.
- **HTML entities** in the name are decoded (``a&amp;b.png`` is the file ``a&b.png``), by Anki's
  rule: :func:`deckkit.fieldtext.entities.decode_entities`. This holds for ``[sound:]`` too.
- **Percent-encoding** is not decoded by Anki's check: fields hold names unencoded and Anki
  percent-encodes them only to display them (``encode_iri_paths``), so ``a%20b.png`` is the file
  ``a%20b.png`` to Anki's check, while the card's browser shows ``a b.png``. In a source, the
  file beside it is looked for as written first, then as a browser reads it (surrounding white
  space trimmed, percent-decoded), then in the other Unicode normal form (NFC/NFD: a Mac's file
  names): :func:`file_name_candidates`.
- **Remote**: a reference with a URL scheme (``https:``) is left as it is (:func:`is_url`).
- **A flat media folder** (Anki's ``collection.media``, an imported deck's): a reference names a
  file there only as one plain file name inside that folder, in each of its decoded spellings, so
  that no reference reads outside it (``..%2Fsecret.txt``, ``%2Fetc%2Fpasswd``, a link out):
  :func:`file_in_folder`.

Where deckkit reads a source otherwise than Anki's check, on purpose (a build rewrites each
reference into the form both read alike):

- ``src = "a.png"``: a browser shows it, so deckkit reads it; Anki's check reads only ``src=``.
- An unquoted value ends at any white space, as in a browser; Anki's check reads on up to a space
  or ``>`` (``<img src=a.png<TAB>alt=x>`` is ``a.png<TAB>alt=x`` there).
- Attributes are read one by one, so ``title="see src=x"`` is no reference; Anki's check reads
  ``x"`` from it (and not the tag's real ``src`` after it). A tag written inside another tag's
  attribute value is not read either.
- ``<img-x src=…>`` is text to deckkit (escaped as such), a tag to Anki's check.
- Any URL scheme is remote (``data:``, ``ftp:``); Anki's check skips only ``http(s)://`` (it
  turns a ``data:image/…;base64`` picture into a file, and calls the others missing).

Each referenced file is packed as ``<stem>-<first 10 hex digits of its SHA-256><suffix>``, since
Anki keeps media flat in ``collection.media`` and matches them by name (``media/a/diagram.png``
and ``media/b/diagram.png`` would collide): the same file referenced twice is packed once, two
different files never share a name, and an edited image gets a new name (Anki would otherwise
keep its old copy). A packed name holds only ASCII letters, digits, ``_``, ``-`` and ``.`` and at
most 120 bytes, so that Anki stores the file under exactly that name (``normalize_filename`` in
https://github.com/ankitects/anki/blob/main/rslib/src/media/files.rs drops ``[]<>:"/?*^\\|``,
control characters and no-break spaces and cuts names to 120 bytes).

A rewrite (:func:`rewrite_media_references`) writes each new name where the old one was, as Anki
reads it back: an attribute as ``src="name"`` (an unquoted value gets double quotes, a quoted one
keeps its quotes, spaces around ``=`` are dropped since Anki reads only ``src=``), the name
HTML-escaped; a sound as ``[sound:name]`` with ``&``, ``<``, ``>`` and ``]`` as entities (Anki
decodes them both to check and to play).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from deckkit.fieldtext.entities import decode_entities
from deckkit.problems import display_path, shorten
from deckkit.suggest import Hints, closest, meant

ReferenceKind = Literal["attribute", "sound"]

# Anki's HTML_MEDIA_TAGS: the tags whose src/data its media check reads. The name must end where
# a known tag's name ends for escape_bare_markup, or the '<' would be escaped as text there.
_MEDIA_ELEMENT = re.compile(r"<(img|audio|video|object|source)(?=[\s/>])", re.IGNORECASE)
# One attribute of a tag (or the tag's end), read as a browser reads attributes. A quote opens a
# quoted value only when it is closed; otherwise it is part of an unquoted value, as in Anki.
_ATTRIBUTE = re.compile(
    r"""[\s/]*(?:
        (?P<end>>)
      | (?P<name>[^\s/>][^\s/>=]*)
        (?:(?P<equals>\s*=\s*)(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+)))?
    )""",
    re.VERBOSE,
)
# src or data after a non-word character or alone: Anki's \b(?:src|data)\b= (so data-src too).
_REFERRING_NAME = re.compile(r"(?:.*\W)?(?:src|data)", re.IGNORECASE | re.DOTALL)
# Anki's AV_TAGS: the name is everything up to the first ']', line breaks included.
_SOUND_TAG = re.compile(r"\[sound:(.+?)\]", re.DOTALL)
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A folder part on any system ('/', '\'), or a NUL (no file name holds one).
_NOT_A_PLAIN_FILE_NAME = re.compile(r"[/\\\x00]")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_NAME_BYTES = 120  # Anki's MAX_MEDIA_FILENAME_LENGTH (rslib/src/sync/media/mod.rs)
_MAX_SUFFIX = 16
_HASH_PART = 11  # "-" and 10 hex digits
_SHOWN = 200  # characters of a name a problem quotes


@dataclass(frozen=True)
class MediaReference:
    """One media reference in a field: the file it names and where, and how, it is written."""

    name: str  # the file name, HTML entities decoded: what Anki's media check looks for
    written: str  # the name as written: text[start:end]
    start: int
    end: int
    kind: ReferenceKind
    element: str  # "img", "audio", "video", "object", "source" (lower case), or "sound"
    quote: str  # '"' or "'" around an attribute value; "" unquoted or in a sound tag
    tag_start: int  # text[tag_start:tag_end] is the whole <img ...> or [sound:...]
    tag_end: int
    rewrite_start: int  # text[rewrite_start:rewrite_end] is what a rewrite replaces: from the
    rewrite_end: int  # end of the attribute's name to its closing quote; a sound's name

    def written_as(self, new_name: str) -> str:
        """What replaces text[rewrite_start:rewrite_end] so that Anki reads ``new_name`` here."""
        if self.kind == "sound":
            return escape(new_name, quote=False).replace("]", "&#93;")
        quote = self.quote or '"'
        return f"={quote}{escape(new_name, quote=True)}{quote}"


@dataclass(frozen=True)
class MediaFile:
    """A media file on disk and the flat name it is packed under."""

    source: Path
    packed_name: str


def may_refer_to_media(field_text: str) -> bool:
    """False for text that surely refers to no media (most fields): a quick test, no regex."""
    if "[sound:" in field_text:
        return True
    if "<" not in field_text or "=" not in field_text:
        return False
    lowered = field_text.lower()
    return "src" in lowered or "data" in lowered


def media_references(field_text: str) -> list[MediaReference]:
    """Every media reference in a field, in the order written; never an empty one."""
    if not may_refer_to_media(field_text):
        return []
    found = list(_attribute_references(field_text))
    if "[sound:" not in field_text:
        return found
    sounds: list[MediaReference] = []
    attributes = iter(found)  # in order, and no two overlap: one walk along both suffices
    attribute = next(attributes, None)
    for sound in _sound_references(field_text):
        while attribute is not None and attribute.rewrite_end <= sound.tag_start:
            attribute = next(attributes, None)
        # A sound tag in an attribute's value ('src="[sound:x]"') is part of that value: Anki
        # rewrites attributes first, and only one of the two can be rewritten.
        if attribute is None or sound.tag_end <= attribute.rewrite_start:
            sounds.append(sound)
    return sorted(found + sounds, key=lambda ref: ref.start) if found else sounds


def rewrite_media_references(
    field_text: str, new_name: Callable[[MediaReference], str | None]
) -> str:
    """The field with each reference renamed to ``new_name(reference)`` (None keeps it)."""
    pieces: list[str] = []
    done = 0
    for ref in media_references(field_text):
        name = new_name(ref)
        if name is None:
            continue
        pieces += (field_text[done : ref.rewrite_start], ref.written_as(name))
        done = ref.rewrite_end
    if not pieces:
        return field_text
    pieces.append(field_text[done:])
    return "".join(pieces)


def replace_sound_tags(text: str, replacement: Callable[[MediaReference], str]) -> str:
    """``text`` with each whole ``[sound:...]`` tag replaced by ``replacement(reference)``."""
    if "[sound:" not in text:
        return text
    pieces: list[str] = []
    done = 0
    for ref in _sound_references(text):
        pieces += (text[done : ref.tag_start], replacement(ref))
        done = ref.tag_end
    pieces.append(text[done:])
    return "".join(pieces)


def without_sound_tags(text: str) -> str:
    """``text`` without its ``[sound:...]`` tags (they show nothing: Anki plays them)."""
    if "[sound:" not in text:
        return text
    end = text.rfind("]") + 1  # nothing after the last ']' is a tag (see _sound_references)
    return _SOUND_TAG.sub("", text[:end]) + text[end:]


def has_sound_tag(text: str) -> bool:
    """True when ``text`` holds a ``[sound:...]`` tag."""
    return "[sound:" in text and next(_sound_references(text), None) is not None


def _attribute_references(text: str) -> Iterator[MediaReference]:
    # Every search starts after the previous tag's end, and a tag that never ends stops the
    # scan: each character is read about once, whatever the input.
    position = 0
    while True:
        tag = _MEDIA_ELEMENT.search(text, position)
        if tag is None:
            return
        referring: re.Match[str] | None = None
        cursor = tag.end()
        while True:
            attribute = _ATTRIBUTE.match(text, cursor)
            if attribute is None:  # only at the end of the text: the tag is never closed
                return
            cursor = attribute.end()
            if attribute.group("end"):
                break
            if referring is None and attribute.group("equals") and _is_referring(attribute):
                referring = attribute
        if referring is not None:
            ref = _attribute_reference(tag, referring, cursor)
            if ref.written:
                yield ref
        position = cursor


def _is_referring(attribute: re.Match[str]) -> bool:
    return _REFERRING_NAME.fullmatch(attribute.group("name")) is not None


def _attribute_reference(
    tag: re.Match[str], attribute: re.Match[str], tag_end: int
) -> MediaReference:
    if attribute.group("dq") is not None:
        group, quote = "dq", '"'
    elif attribute.group("sq") is not None:
        group, quote = "sq", "'"
    else:
        group, quote = "bare", ""
    written = attribute.group(group)
    return MediaReference(
        name=decode_entities(written),
        written=written,
        start=attribute.start(group),
        end=attribute.end(group),
        kind="attribute",
        element=tag.group(1).lower(),
        quote=quote,
        tag_start=tag.start(),
        tag_end=tag_end,
        rewrite_start=attribute.start("equals"),
        rewrite_end=attribute.end(),
    )


def _sound_references(text: str) -> Iterator[MediaReference]:
    # Searching only up to the last ']' keeps a text of many '[sound:' and no ']' linear.
    for match in _SOUND_TAG.finditer(text, 0, text.rfind("]") + 1):
        written = match.group(1)
        yield MediaReference(
            name=decode_entities(written),
            written=written,
            start=match.start(1),
            end=match.end(1),
            kind="sound",
            element="sound",
            quote="",
            tag_start=match.start(),
            tag_end=match.end(),
            rewrite_start=match.start(1),
            rewrite_end=match.end(1),
        )


def is_url(ref: str) -> bool:
    """True for a remote reference such as https://... (not file:, not a Windows drive letter)."""
    return (
        bool(_URL_SCHEME.match(ref))
        and not re.match(r"^[A-Za-z]:[\\/]", ref)
        and not ref.lower().startswith("file:")
    )


def file_name_candidates(name: str) -> tuple[str, ...]:
    """The spellings of a file a reference may mean, most literal first, none empty.

    As written (Anki's reading); then as a browser reads a URL: trimmed and percent-decoded
    (``a%20b.png``); then each in the other Unicode normal form (NFC or NFD).
    """
    trimmed = name.strip(" \t\n\r\f")
    decoded = unquote(trimmed)
    spellings = [name, trimmed, decoded]
    for spelling in (name, decoded):
        spellings += (
            unicodedata.normalize("NFC", spelling),
            unicodedata.normalize("NFD", spelling),
        )
    return tuple(spelling for spelling in dict.fromkeys(spellings) if spelling)


def resolve_reference(name: str, source_dir: Path) -> Path:
    """The file a local reference means: its first spelling that is a file, else as written."""
    for spelling in file_name_candidates(name):
        target = _resolved(source_dir / spelling)
        if target is not None and _is_file(target):
            return target
    return _resolved(source_dir / name) or source_dir / name


def file_in_folder(name: str, folder: Path) -> Path | None:
    """The file a reference names in a flat media folder (Anki's), or None: never one outside.

    ``name`` is a reference's name (entities decoded); each of its spellings
    (:func:`file_name_candidates`: as written, then percent-decoded) counts only as one plain
    file name, without a folder part, ``..`` or NUL, and only when it is, links followed, a
    regular file inside ``folder``. The path returned is the resolved one.
    """
    root = _resolved(folder)
    if root is None:
        return None
    for spelling in file_name_candidates(name):
        if _NOT_A_PLAIN_FILE_NAME.search(spelling) or spelling in (".", ".."):
            continue
        target = _resolved(root / spelling)
        if target is not None and target.is_relative_to(root) and _is_file(target):
            return target
    return None


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, ValueError):  # a NUL ('%00'), a name too long, a loop of links
        return None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def reference_problem(
    ref: str, source_dir: Path, *, hints: Hints | None = None
) -> tuple[str, str] | None:
    """Why a reference cannot be packed, as (message, code), or None when it resolves; with
    ``hints``, a missing file's message names the file of its folder it most likely meant."""
    if is_url(ref):
        return None  # remote media stay as they are: Anki loads them when online
    # A name may be megabytes long; a problem is one line.
    shown = shorten(ref, _SHOWN)
    if ref.lower().startswith("file:"):
        return (
            f"media '{shown}' is a file: URL, which reads outside the source folder; "
            "refer to the file relative to the source file",
            "check.media-outside",
        )
    if ref.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", ref):
        return (
            f"media '{shown}' is an absolute path; refer to it relative to the source file",
            "check.media-outside",
        )
    root = source_dir.resolve()
    target = resolve_reference(ref, source_dir)
    if not target.is_relative_to(root):
        return (
            f"media '{shown}' lies outside the source's folder {source_dir}; move it inside",
            "check.media-outside",
        )
    if not _is_file(target):
        looked_for = shorten(display_path(target), _SHOWN)
        hint = _meant_file(ref, target, hints) if hints is not None else ""
        return (
            f"media file '{shown}' does not exist (looked for {looked_for}){hint}",
            "check.media-missing",
        )
    return None


_FOLDER_NAMES = 2_000  # the names of a media folder compared with a missing one, at most


def _meant_file(ref: str, target: Path, hints: Hints) -> str:
    """ " (did you mean 'media/a.png'?)": the reference spelt with the name of the file in its
    folder it most likely meant (``Three-Way-Merge.png`` for ``three-way-merge.png``)."""
    if len(ref) > _SHOWN or not hints.take():
        return ""
    try:
        with os.scandir(target.parent) as entries:
            names = sorted(entry.name for entry in itertools.islice(entries, _FOLDER_NAMES))
    except (OSError, ValueError):
        return ""
    written = ref.rpartition("/")[2]
    found = closest(written, names)
    return meant(ref[: len(ref) - len(written)] + found) if found is not None else ""


# The folder of media that a deck written exactly as Anki had it (``exactly_as_written``) names by
# plain file name, as Anki names the files of its ``collection.media``: beside the deck's file.
FLAT_MEDIA_FOLDER = "media"


def flat_reference_problem(ref: str, folder: Path) -> tuple[str, str] | None:
    """Why a reference of a deck written as Anki had it names no file of its flat media folder."""
    if is_url(ref) or file_in_folder(ref, folder) is not None:
        return None
    shown = shorten(ref, _SHOWN)
    return (
        f"media file '{shown}' is not in {display_path(folder)} (this deck names its media as "
        "Anki does: a plain file name in that folder); put the file there",
        "check.media-missing",
    )


def packed_name(path: Path) -> str:
    """The flat, collision-free name a media file gets inside Anki."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    suffix = path.suffix.lower()
    if _UNSAFE_NAME_CHARS.search(suffix[1:]) or len(suffix) > _MAX_SUFFIX:
        # Anki would drop or cut some of it, and the fields would name a file it does not have.
        suffix = "." + _UNSAFE_NAME_CHARS.sub("_", suffix[1:])[: _MAX_SUFFIX - 1]
    stem = _UNSAFE_NAME_CHARS.sub("_", path.stem).strip("_") or "media"
    stem = stem[: _MAX_NAME_BYTES - _HASH_PART - len(suffix)]
    return f"{stem}-{digest}{suffix}"


class MediaPacker:
    """Packs the media of one source: references renamed, each file recorded once.

    A deck written exactly as Anki had it (``exactly_as_written``) names its media as Anki does:
    plain file names in one flat folder (``flat_folder``: the ``media`` folder beside the deck,
    like Anki's ``collection.media``). Its fields are then never rewritten, and each file is
    packed under the name the field gives it. Names in ``missing`` are files the deck's original
    package already lacked: left as written, packed as nothing.
    """

    def __init__(
        self,
        source_dir: Path,
        *,
        flat_folder: Path | None = None,
        missing: frozenset[str] = frozenset(),
    ) -> None:
        self.source_dir = source_dir
        self.flat_folder = flat_folder
        self.missing = missing
        self._by_path: dict[Path, MediaFile] = {}
        # Looking a name up on disk is most of the work, and a deck names its few files often.
        self._by_name: dict[str, MediaFile] = {}
        self._flat_seen: set[str] = set()

    def pack(self, field_text: str) -> str:
        """The field with each local media reference renamed to its packed name."""
        if self.flat_folder is not None:
            self._collect_flat(field_text)
            return field_text
        return rewrite_media_references(field_text, self._packed_name)

    def add(self, path: Path) -> None:
        """Pack a file no field refers to (a template's script, a LaTeX image) under its name."""
        target = path.resolve()
        self._by_path.setdefault(target, MediaFile(target, target.name))

    def files(self) -> tuple[MediaFile, ...]:
        """Every file packed so far, in the order of their packed names."""
        return tuple(sorted(self._by_path.values(), key=lambda media: media.packed_name))

    def _collect_flat(self, field_text: str) -> None:
        assert self.flat_folder is not None
        for ref in media_references(field_text):
            name = ref.name
            if name in self._flat_seen or is_url(name) or name in self.missing:
                continue
            self._flat_seen.add(name)
            target = file_in_folder(name, self.flat_folder)
            if target is not None:
                self._by_path.setdefault(target, MediaFile(target, name))

    def _packed_name(self, ref: MediaReference) -> str | None:
        media = self._by_name.get(ref.name)
        if media is None:
            if is_url(ref.name) or ref.name in self.missing:
                return None
            target = resolve_reference(ref.name, self.source_dir)
            media = self._by_path.get(target) or MediaFile(target, packed_name(target))
            self._by_path[target] = media
            self._by_name[ref.name] = media
        return media.packed_name
