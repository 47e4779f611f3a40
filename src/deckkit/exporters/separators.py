"""The separators of a Quizlet import file, apart from the exporter: a build's result names
them, and a build with nothing to do reports them without loading the exporters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Separators:
    """What to choose in Quizlet's import dialog for a file."""

    term: str
    card: str

    def describe(self) -> str:
        """How the choice reads in Quizlet's dialog."""
        term = "Tab" if self.term == "\t" else f"Custom: {self.term}"
        card = "New line" if self.card == "\n" else f"Custom: {self.card}"
        return f"between term and definition: {term}; between cards: {card}"

    def join(self, pairs: list[tuple[str, str]]) -> str:
        """The file's text for these pairs."""
        body = self.card.join(f"{term}{self.term}{text}" for term, text in pairs)
        return body + "\n" if self.card == "\n" else body

    def splits_back(self, pairs: list[tuple[str, str]]) -> bool:
        """True when Quizlet, splitting at every separator, gets exactly these pairs back."""
        if not pairs:
            return True  # nothing to split (and an empty body would read as one empty card)
        if len(self.term) == 1 and len(self.card) == 1 and self.term != self.card:
            # One-character separators cannot straddle a field's edge: found in no field, they
            # split back exactly (and looking for them is much quicker than splitting).
            separators = (self.term, self.card)
            return not any(sep in text for pair in pairs for text in pair for sep in separators)
        body = self.card.join(f"{term}{self.term}{text}" for term, text in pairs)
        cards = body.split(self.card)
        return len(cards) == len(pairs) and all(
            tuple(card.split(self.term)) == pair for card, pair in zip(cards, pairs, strict=True)
        )
