"""Writing a planned import: the deck sources, the schema beside them and the media.

Nothing is written when any file would replace a different existing one without ``force``; each
file is written atomically (:mod:`deckkit.atomic`), so none is ever left half-written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from deckkit.atomic import replace_bytes, write_atomically
from deckkit.errors import CannotImport, TargetExists
from deckkit.importers.plan import ImportPlan
from deckkit.importers.types import ImportedDeck
from deckkit.importers.yaml_writer import SCHEMA_FILE
from deckkit.sources.schema import schema_text


@dataclass(frozen=True)
class Written:
    """The files an import wrote."""

    decks: tuple[ImportedDeck, ...]
    media: tuple[Path, ...]
    schema: Path | None


def write_plan(plan: ImportPlan, output_dir: Path, *, force: bool = False) -> Written:
    """Write the planned files; refuses to replace a different existing file unless ``force``."""
    if not plan.decks:
        return Written((), (), None)
    texts: list[tuple[Path, bytes]] = [
        (output_dir / deck.file_name, deck.text.encode("utf-8")) for deck in plan.decks
    ]
    texts.append((output_dir / SCHEMA_FILE, schema_text().encode("utf-8")))
    copies = [(output_dir / item.relative, item.source) for item in plan.media]
    every: list[tuple[Path, bytes | Path]] = [*texts, *copies]
    clashes = [
        target
        for target, content in every
        if target.exists() and not _same_content(target, content)
    ]
    if clashes and not force:
        raise TargetExists(f"not overwriting existing files: {_shown(clashes)}", clashes)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for target, content in texts:
            replace_bytes(target, content)
        for target, source in copies:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, partial(shutil.copyfile, source))
    except OSError as error:
        raise CannotImport(f"cannot write into {output_dir}: {error.strerror or error}") from error
    decks = tuple(
        ImportedDeck(output_dir / deck.file_name, deck.id, deck.name, deck.cards_by_type)
        for deck in plan.decks
    )
    return Written(decks, tuple(target for target, _s in copies), output_dir / SCHEMA_FILE)


def _same_content(target: Path, content: bytes | Path) -> bool:
    if not target.is_file():
        return False
    data = content.read_bytes() if isinstance(content, Path) else content
    return target.stat().st_size == len(data) and target.read_bytes() == data


def _shown(paths: list[Path]) -> str:
    """The first five paths, and how many more."""
    more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
    return ", ".join(str(p) for p in paths[:5]) + more
