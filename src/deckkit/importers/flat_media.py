"""The media of a deck kept exactly as Anki had it: every file of the package's media folder copied
into ``media/`` beside the sources under its own name, as in Anki's ``collection.media``.

Fields are left as they are (``exactly_as_written``), so a file keeps its name unless that name
cannot be one on every system the sources are checked out on (:func:`deckkit.filenames
.portable_name`: Windows' device names, its forbidden characters, names that differ only in case
on macOS and Windows), or a different file already has it in the output's ``media/``. Only then
is the file renamed, and only the references to it rewritten.

References are read by deckkit's one reader (:mod:`deckkit.fieldtext.media`), and a name is
looked up only as a plain file name inside the package's media folder
(:func:`~deckkit.fieldtext.media.file_in_folder`): ``<img src="..%2F..%2Fsecret">`` finds
nothing. A name that finds no file there is one the package itself lacked: it stays as written
and is recorded in the deck's ``missing_media``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

from deckkit.fieldtext.media import (
    FLAT_MEDIA_FOLDER,
    MediaReference,
    file_in_folder,
    is_url,
    rewrite_media_references,
)
from deckkit.filenames import clash_key, names_a_device, portable_name
from deckkit.importers.media import MediaOut
from deckkit.importers.types import RenamedMedia

# What may stand around a file name that a template or its CSS loads: quotes, brackets, '=' and
# white space (Anki's own reading of them: `"_x.js"`, `src=_x.js`, `url(_x.woff)`, `[sound:_x]`).
_AROUND_A_NAME = re.compile(r"""[\s"'()<>=\[\]:]+""")


@dataclass
class FlatMedia:
    """The files of one package's media folder, named for the output, and what refers to them.

    ``existing``: the files already in the output's ``media/`` folder, by
    :func:`~deckkit.filenames.clash_key` of their names.
    """

    media_dir: Path | None
    package: dict[str, Path]  # own name → file, every file of the package, in name order
    existing: Mapping[str, Path] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # own name → name written
    renamed: list[RenamedMedia] = field(default_factory=list)
    referenced: set[str] = field(default_factory=set)  # own names fields refer to
    missing: dict[str, list[str]] = field(default_factory=dict)  # deck → names it lacks
    _found: dict[str, Path | None] = field(default_factory=dict)
    _deck: str = ""
    # The next number to try for each name, so that thousands of names that differ only in case
    # are numbered in linear time, not by trying 2, 3... again for each.
    _next: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        taken: set[str] = set()
        for name, path in self.package.items():
            new, reason = self._name_for(name, path, taken)
            taken.add(clash_key(new))
            self.names[name] = new
            if reason:
                self.renamed.append(RenamedMedia(name, new, reason))

    def _name_for(self, name: str, path: Path, taken: set[str]) -> tuple[str, str]:
        """The name a file is written under, and why it is not its own ("" when it is)."""
        safe = portable_name(name, fallback="media")
        reason = "" if safe == name else _why_not_portable(name)
        if clash_key(safe) in taken:
            reason = reason or "another file of the package differs from it only in case"
        elif not self._free(safe, path):
            reason = reason or f"a different file is already {FLAT_MEDIA_FOLDER}/{safe}"
        if not reason:
            return name, ""
        stem, dot, extension = safe.rpartition(".")
        if not dot or not stem:
            stem, extension = safe, ""
        number = self._next.get(clash_key(safe), 2)
        candidate = safe
        while clash_key(candidate) in taken or not self._free(candidate, path):
            candidate = f"{stem}-{number}" + (f".{extension}" if extension else "")
            number += 1
        self._next[clash_key(safe)] = number
        return candidate, reason

    def _free(self, name: str, path: Path) -> bool:
        """Whether ``name`` is free in the output's media folder for this file: no file there
        clashes with it, or the one that does is this very file under this very name."""
        there = self.existing.get(clash_key(name))
        return there is None or (there.name == name and _same_bytes(there, path))

    def start_deck(self, deck: str) -> None:
        """References from here on are a deck's: its missing files are recorded for it."""
        self._deck = deck
        self.missing.setdefault(deck, [])

    def rewrite(self, text: str) -> str:
        """The text as written, but for references to files written under another name."""
        return rewrite_media_references(text, self._renamed)

    def _renamed(self, ref: MediaReference) -> str | None:
        name = ref.name
        if is_url(name):
            return None
        if name not in self._found:
            found = None if self.media_dir is None else file_in_folder(name, self.media_dir)
            self._found[name] = found if found is not None and found.name in self.package else None
        found = self._found[name]
        if found is None:
            missing = self.missing.setdefault(self._deck, [])
            if name not in missing:
                missing.append(name)
            return None
        self.referenced.add(found.name)
        new = self.names[found.name]
        return None if new == found.name else new

    def unreferenced(self) -> list[str]:
        """The own names of the files no field refers to, in name order."""
        return [name for name in self.package if name not in self.referenced]

    def relative(self, name: str) -> str:
        """Where a file of the package is written, relative to the sources: ``media/<name>``."""
        return f"{FLAT_MEDIA_FOLDER}/{self.names[name]}"

    def out(self) -> list[MediaOut]:
        """Every file to copy."""
        return [MediaOut(self.relative(name), path) for name, path in self.package.items()]

    def all_missing(self) -> list[str]:
        """Every name referenced but not in the package, each once, in order of decks."""
        return list(dict.fromkeys(name for names in self.missing.values() for name in names))


def package_files(
    media_dir: Path | None, extra: Iterable[tuple[str, Path]] = ()
) -> dict[str, Path]:
    """Every regular file of a package's media folder, and the ``extra`` ones found elsewhere
    (name, file), by name, in name order; nothing but plain files directly inside the folder."""
    found: dict[str, Path] = {}
    if media_dir is not None and media_dir.is_dir():
        for entry in media_dir.iterdir():
            if entry.is_file() and not entry.is_symlink():
                found[entry.name] = entry
    for name, path in extra:
        found.setdefault(name, path)
    return dict(sorted(found.items()))


def existing_media(output_dir: Path) -> dict[str, Path]:
    """The files already in an output folder's ``media/``, by clash key of their names."""
    folder = output_dir / FLAT_MEDIA_FOLDER
    if not folder.is_dir():
        return {}
    return {
        clash_key(entry.name): entry
        for entry in sorted(folder.iterdir())
        if entry.is_file() or entry.is_symlink()
    }


def template_media(texts: Iterable[str], names: AbstractSet[str]) -> list[str]:
    """Which of the file ``names`` the templates and CSS ``texts`` load, in name order.

    Read as Anki's exporter reads them (a name in quotes, after ``src=``, in ``url()`` or
    ``[sound:]``), in linear time: the texts are cut at those delimiters once and the pieces
    looked up, never searched once per name.
    """
    found: set[str] = set()
    for text in texts:
        found.update(piece for piece in _AROUND_A_NAME.split(text) if piece in names)
    return sorted(found)


def _why_not_portable(name: str) -> str:
    if names_a_device(name):
        return "Windows reserves the name for a device"
    return (
        "not a name every system can hold: Windows refuses some characters and trailing dots, "
        "Anki names longer than 120 bytes"
    )


def _same_bytes(one: Path, other: Path) -> bool:
    try:
        if one.stat().st_size != other.stat().st_size:
            return False
        return one.read_bytes() == other.read_bytes()
    except OSError:
        return False


def summary_of_missing(names: list[str]) -> Iterator[str]:
    """The notice for references to files the package lacks."""
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        yield (
            f"{len(names)} media file(s) referenced but not in the package: {shown}; they are "
            "recorded under missing_media, so that validate and build warn instead of failing "
            "(Anki shows them as missing too)"
        )
