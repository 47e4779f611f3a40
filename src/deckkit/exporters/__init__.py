"""Exporters: one module per output format, each writing one deck to one file.

An exporter is a function ``(deck, target, stamps) -> report``; what it returns (the Quizlet
exporter: the separators it chose) is reported to the user, ``None`` otherwise. ``EXPORTERS``
names every format with the file name suffix it writes; the pipeline stages each file and
publishes them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from deckkit.exporters.apkg import write_apkg
from deckkit.exporters.csv import write_csv
from deckkit.exporters.quizlet import Separators, write_quizlet
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


EXPORTERS: dict[str, OutputFormat] = {
    "apkg": OutputFormat(".apkg", write_apkg),
    "csv": OutputFormat(".csv", write_csv),
    "quizlet": OutputFormat(".quizlet.txt", write_quizlet),
}

__all__ = ["EXPORTERS", "Exporter", "OutputFormat", "Separators"]
