"""deckkit: flashcards written as YAML, validated and compiled into Anki and Quizlet decks.

The library never prints or exits; ``deckkit.cli`` is a thin layer over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["BuildResult", "Problem", "__version__", "build", "validate"]

if TYPE_CHECKING:
    from deckkit.build import BuildResult, build, validate
    from deckkit.problems import Problem


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that `import deckkit` (and the command's start, where a Ctrl-C
    # must not meet a half-imported package) stays cheap.
    if name in ("BuildResult", "build", "validate", "Problem"):
        from deckkit.build import BuildResult, build, validate
        from deckkit.problems import Problem

        # Importing deckkit.build set the package's `build` to that module: the public names
        # (the function among them) take their places for good, as an eager import would.
        globals().update(BuildResult=BuildResult, build=build, validate=validate, Problem=Problem)
        return globals()[name]
    raise AttributeError(f"module 'deckkit' has no attribute {name!r}")
