"""deckkit: flashcards written as YAML, validated and compiled into Anki and Quizlet decks.

The public API is what ``__all__`` names; everything else may change between releases. The
library never prints or exits; ``deckkit.cli`` is a thin layer over it.

    import deckkit
    result = deckkit.build(["sources"], "build")

The pipeline, stage by stage: ``deckkit.sources`` (find, load, validate) → ``deckkit.model``
(with ``deckkit.notetypes``) → ``deckkit.exporters`` → ``deckkit.pipeline`` (plan, run,
publish); beside it ``deckkit.importers`` and ``deckkit.preview``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    from deckkit.errors import (
        CannotImport,
        ClockBehind,
        DeckkitError,
        LockfileError,
        LockOutdated,
        OutputFolderError,
        TargetExists,
        UnknownImportFormat,
        UsageError,
    )
    from deckkit.importers import ImportResult, import_file
    from deckkit.pipeline import BuildResult, DeckSummary, build
    from deckkit.preview import PreviewResult, write_preview
    from deckkit.problems import Problem
    from deckkit.sources.validation import ValidationResult, validate

# Each public name and the module it comes from. They are loaded on first use, so that
# `import deckkit` (and the command's start, where a Ctrl-C must not meet a half-imported
# package) stays cheap.
_PUBLIC = {
    "build": "deckkit.pipeline",
    "BuildResult": "deckkit.pipeline",
    "DeckSummary": "deckkit.pipeline",
    "validate": "deckkit.sources.validation",
    "ValidationResult": "deckkit.sources.validation",
    "import_file": "deckkit.importers",
    "ImportResult": "deckkit.importers",
    "write_preview": "deckkit.preview",
    "PreviewResult": "deckkit.preview",
    "Problem": "deckkit.problems",
    "DeckkitError": "deckkit.errors",
    "UsageError": "deckkit.errors",
    "OutputFolderError": "deckkit.errors",
    "LockfileError": "deckkit.errors",
    "LockOutdated": "deckkit.errors",
    "ClockBehind": "deckkit.errors",
    "CannotImport": "deckkit.errors",
    "UnknownImportFormat": "deckkit.errors",
    "TargetExists": "deckkit.errors",
}

__all__ = [
    "BuildResult",
    "CannotImport",
    "ClockBehind",
    "DeckSummary",
    "DeckkitError",
    "ImportResult",
    "LockOutdated",
    "LockfileError",
    "OutputFolderError",
    "PreviewResult",
    "Problem",
    "TargetExists",
    "UnknownImportFormat",
    "UsageError",
    "ValidationResult",
    "__version__",
    "build",
    "import_file",
    "validate",
    "write_preview",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deckkit' has no attribute {name!r}")
