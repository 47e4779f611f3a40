"""deckkit: flashcards written as YAML, validated and compiled into Anki and Quizlet decks.

The library never prints or exits; ``deckkit.cli`` is a thin layer over it.
"""

from __future__ import annotations

from deckkit.build import BuildResult, build, validate
from deckkit.problems import Problem

__version__ = "0.1.0"

__all__ = ["BuildResult", "Problem", "__version__", "build", "validate"]
