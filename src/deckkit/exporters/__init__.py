"""Exporters: one module per output format, each writing one deck to one file.

An exporter is a function ``(deck, target, stamps) -> report``; what it returns (the Quizlet
exporter: the separators it chose) is reported to the user, ``None`` otherwise. ``EXPORTERS``
names every format with the file name suffix it writes; the pipeline stages each file and
publishes them together.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from deckkit.exporters.separators import Separators

if TYPE_CHECKING:
    from deckkit.model import Deck
    from deckkit.stamps import Stamps


class Exporter(Protocol):
    """Writes one deck to ``target``; returns something to report, or None."""

    def __call__(self, deck: Deck, target: Path, stamps: Stamps, /) -> Separators | None: ...


@dataclass(frozen=True)
class OutputFormat:
    """One output format: the suffix of the file it writes and the exporter that writes it."""

    suffix: str
    export: Exporter


@dataclass(frozen=True)
class _Deferred:
    """An exporter imported when it first writes: a build with nothing to write (and a command
    that only lists the formats) never loads genanki and the model behind the exporters."""

    module: str
    name: str

    def __call__(self, deck: Deck, target: Path, stamps: Stamps, /) -> Separators | None:
        export: Exporter = getattr(importlib.import_module(self.module), self.name)
        return export(deck, target, stamps)


EXPORTERS: dict[str, OutputFormat] = {
    "apkg": OutputFormat(".apkg", _Deferred("deckkit.exporters.apkg", "write_apkg")),
    "csv": OutputFormat(".csv", _Deferred("deckkit.exporters.csv", "write_csv")),
    "quizlet": OutputFormat(
        ".quizlet.txt", _Deferred("deckkit.exporters.quizlet", "write_quizlet")
    ),
}

__all__ = ["EXPORTERS", "Exporter", "OutputFormat", "Separators"]
