"""Reader: Quizlet's export text.

Term and definition per card, separated as chosen in Quizlet's export dialog (Tab / Comma /
custom between term and definition, New line / Semicolon / custom between cards). Plain text, no
quoting, no media, no note identities: every card is a new basic note.
https://help.quizlet.com/hc/en-us/articles/360034345672
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deckkit.budgets import NOTES
from deckkit.errors import CannotImport, ImportTooLarge
from deckkit.importers.escaping import plain_to_html
from deckkit.importers.reading import read_text
from deckkit.importers.types import Collected, NoteTypeInfo, ReadOptions, SourceNote

# Separator names as Quizlet's export dialog words them.
SEPARATOR_NAMES = {"tab": "\t", "comma": ",", "newline": "\n", "new line": "\n", "semicolon": ";"}
# How the notice about cards without a separator ends; a caller may add how to give them.
SEPARATORS_ADVICE = "pass the separators chosen in Quizlet's export dialog"

QUIZLET_NOTE_TYPE = NoteTypeInfo(
    id=0,
    name="Quizlet term/definition",
    fields=("Term", "Definition"),
    templates=(),
    deckkit_kind="basic",
)


@dataclass(frozen=True)
class QuizletReader:
    """Quizlet's export text; any ``.txt`` that the Anki text reader before it did not take."""

    title: str = "Quizlet export"

    def detect(self, path: Path) -> bool:
        return path.suffix.lower() == ".txt"

    @contextmanager
    def read(self, path: Path, options: ReadOptions) -> Iterator[Collected]:
        yield read_quizlet(
            path,
            term_separator=options.term_separator,
            card_separator=options.card_separator,
            deck_name=options.deck_name,
        )


def parse_separator(value: str) -> str:
    """A separator by its name in Quizlet's export dialog ("comma"), or as text with \\t, \\n."""
    named = SEPARATOR_NAMES.get(value.strip().lower())
    if named is not None:
        return named
    text = value.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
    if not text:
        raise CannotImport("a separator cannot be empty")
    return text


def read_quizlet(
    path: Path,
    *,
    term_separator: str = "\t",
    card_separator: str = "\n",
    deck_name: str | None = None,
) -> Collected:
    """Term/definition pairs of a Quizlet export, each a basic card (plain text made HTML).

    The file is read within the text export cap; more cards than the notes cap are refused.
    """
    text = read_text(path).replace("\r\n", "\n")
    notes: list[SourceNote] = []
    unsplit = 0
    name = deck_name or path.stem
    cap = NOTES.cap()
    for chunk in _split(text, card_separator):
        if not chunk.strip():
            continue
        if len(notes) + unsplit >= cap:
            raise ImportTooLarge(NOTES.refusal(str(path), verb="has cards for"))
        if term_separator not in chunk:
            unsplit += 1
            continue
        term, definition = chunk.split(term_separator, 1)
        notes.append(
            SourceNote(
                guid=None,
                note_type=QUIZLET_NOTE_TYPE,
                fields=(plain_to_html(term), plain_to_html(definition)),
                tags=(),
                deck=name,
            )
        )
    notices = (_unsplit_notice(path, unsplit, term_separator),) if unsplit else ()
    return Collected(notes=tuple(notes), notices=notices, guids_are_original=False)


def _split(text: str, separator: str) -> Iterator[str]:
    """``text.split(separator)``, one part at a time: the parts of a large file are never all in
    memory (a file of separators alone would make millions)."""
    if not separator:
        raise CannotImport("a separator cannot be empty")
    start = 0
    while (end := text.find(separator, start)) >= 0:
        yield text[start:end]
        start = end + len(separator)
    yield text[start:]


def _unsplit_notice(path: Path, unsplit: int, term_separator: str) -> str:
    sep = "Tab" if term_separator == "\t" else repr(term_separator)
    return (
        f"{unsplit} card(s) of {path.name} hold no term/definition separator ({sep}) and were "
        f"left out; {SEPARATORS_ADVICE}"
    )
