"""Shared fixtures: building decks and importing them with Anki's own backend (`anki`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from anki.collection import Collection
from anki.import_export_pb2 import (
    IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
    CsvMetadata,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
    ImportCsvRequest,
)

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


def run_deckkit(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m deckkit ARGS`` as a real process in ``cwd``, its output captured as text; a
    failing command is returned, not raised."""
    return subprocess.run(
        [sys.executable, "-m", "deckkit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Collection]:
    """A fresh, empty Anki collection, closed after the test."""
    (tmp_path / "collection").mkdir()
    col = Collection(str(tmp_path / "collection" / "collection.anki2"))
    try:
        yield col
    finally:
        col.close()


def default_import_options(col: Collection) -> ImportAnkiPackageOptions:
    """The options of Anki desktop's import dialog out of the box: "Merge note types" off,
    "Update notes" and "Update note types" if newer, no scheduling, no deck presets.

    Set here rather than read from the dialog's presets: Anki saves each import's options in the
    collection as the next import's presets, so after one import with "Merge note types" every
    later "default" import of a test would merge too."""
    options = col._backend.get_import_anki_package_presets()
    options.merge_notetypes = False
    options.update_notes = IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER
    options.update_notetypes = IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER
    options.with_scheduling = False
    options.with_deck_configs = False
    return options


def import_apkg(col: Collection, package: Path):  # type: ignore[no-untyped-def]
    """Import a package as Anki desktop's dialog does by default; returns the import log."""
    options = default_import_options(col)
    response = col.import_anki_package(
        ImportAnkiPackageRequest(package_path=str(package), options=options)
    )
    col.models._clear_cache()  # the Python side caches note types across raw backend calls
    return response.log


def import_csv(col: Collection, path: Path, *, update: bool = True):  # type: ignore[no-untyped-def]
    """Import a CSV with Anki's own importer, reading its # header lines; returns the log."""
    metadata = col.get_csv_metadata(str(path), delimiter=None)
    if update:
        # The "Existing notes" choice of the import dialog; Anki's default keeps the old note.
        metadata.dupe_resolution = CsvMetadata.DupeResolution.UPDATE
    response = col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata))
    col.models._clear_cache()
    return response.log
