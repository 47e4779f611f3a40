"""Property-based tests (issue 6 §5) with hypothesis.

(a) For any text or bytes in a source file, `validate` returns problems (or none) and never raises.
(b) For any valid deck — every card type, text from all of Unicode (right-to-left, emoji, combining
    marks, quotes, tabs, newlines, separators) — the build succeeds; Anki imports the .apkg with
    every card rendering; the CSV imported after it changes no note; and the Quizlet file splits
    into exactly one pair per card.

Text excludes what neither YAML nor Anki's XML-based storage can carry: control characters other
than tab and newline, surrogates, U+FFFE and U+FFFF. It also has no braces: a literal `{{` in a
field is legitimate but would look like an unrendered template field; braces are exercised by the
cloze deletions themselves. Anki stores text in NFC, so text is compared after NFC.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from anki.collection import Collection
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import import_apkg, import_csv
from deckkit import build, validate

# Reaches inside: the properties compare what Anki shows with the model's field values and with
# deckkit's rule for blank text, which only those stages expose.
from deckkit.cardtypes import LETTERS
from deckkit.cli import main
from deckkit.exporters.quizlet import Separators
from deckkit.fieldtext.markup import is_blank
from deckkit.model import Deck, deck_from_source
from deckkit.notetypes import note_fields, note_type_for
from deckkit.problems import Problem
from deckkit.sources.loader import reads_as_text

FAST = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,  # nothing written into the worktree
)
SLOW = settings(FAST, max_examples=100)


class _Yaml12Dumper(yaml.SafeDumper):
    """PyYAML writes YAML 1.1: it leaves text such as `08` or `1e3` plain, which YAML 1.2 (how
    deckkit and editors read sources) takes for a number. Such text is written in quotes."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    node = dumper.represent_str(value)
    if not reads_as_text(value):
        node.style = "'"
    return node


_Yaml12Dumper.add_representer(str, _represent_text)


def yaml_12(data: Any) -> str:
    """``data`` as YAML that a YAML 1.2 reader reads back as ``data``."""
    return yaml.dump(data, Dumper=_Yaml12Dumper, allow_unicode=True, sort_keys=True)


# What Anki writes into a rendered card when a template or a note is broken.
TEMPLATE_ERRORS = (
    "{{",
    "The front of this card is blank",
    "there is no field called",
    "No cloze",
    "cloze-error",
    "Invalid template",
)
_STYLE = re.compile(r"<style>.*?</style>", re.DOTALL)
_YAML_LINE_BREAK = re.compile(r"\r\n|\r|\n|\x85|\u2028|\u2029")


# --- (a) validate never raises ---------------------------------------------------------------


def validate_file(data: bytes) -> tuple[list[Problem], int]:
    """Validate one file holding ``data``; its problems and the number of lines YAML sees."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deck.yaml"
        path.write_bytes(data)
        result = validate([path])
    text = data.decode("utf-8", errors="replace")
    return list(result.problems), len(_YAML_LINE_BREAK.findall(text)) + 1


def assert_well_formed(problems: list[Problem], lines: int) -> None:
    for problem in problems:
        assert problem.severity in ("error", "warning")
        assert re.fullmatch(r"[a-z]+\.[A-Za-z-]+", problem.code), problem
        assert 1 <= problem.line <= lines + 1, problem
        assert problem.column >= 1, problem
        assert "\n" not in problem.as_text()


YAML_PIECES = [
    "deck",
    "id",
    "cards",
    "type",
    "cloze",
    "multiple_choice",
    "choices",
    "answer",
    "front",
    "back",
    "text",
    "tags",
    "level",
    ":",
    ": ",
    " ",
    "  ",
    "\n",
    "\n  ",
    "\n    ",
    "\t",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "<<: ",
    "!!python/object/apply:os.system ",
    "!tag ",
    "!!str ",
    "'",
    '"',
    "|",
    ">-",
    "#",
    "---\n",
    "...\n",
    "? ",
    "%YAML 1.1\n",
    "~",
    "null",
    "1",
    "1.5",
    "yes",
    "é",
    "日本",
    "🎉",
    "\ufeff",
    "\r\n",
    "\x00",
    "\x85",
    "\u2028",
    "{{c1::x}}",
    '<img src="../x.png">',
    "[sound:/etc/passwd]",
    "<script>",
    "<b>",
    "List<T>",
    "A",
    "x" * 80,
]


@FAST
@given(st.text())
def test_validate_never_raises_for_any_text(text: str) -> None:
    assert_well_formed(*validate_file(text.encode("utf-8")))


@FAST
@given(st.binary())
def test_validate_never_raises_for_any_bytes(data: bytes) -> None:
    assert_well_formed(*validate_file(data))


@FAST
@given(st.lists(st.sampled_from(YAML_PIECES), max_size=40).map("".join))
def test_validate_never_raises_for_yaml_like_text(text: str) -> None:
    assert_well_formed(*validate_file(text.encode("utf-8")))


# --- (b) any valid deck builds and imports ---------------------------------------------------

PIECES = [
    "\t",
    "\n",
    "\n\n",
    " ",
    "  ",
    ";;;",
    "|",
    "||",
    "|||",
    "#",
    "# ",
    ",",
    '"',
    "'",
    "“quoted”",
    "\\",
    "::",
    " :: ",
    " / ",
    "&",
    "&amp;",
    "&nbsp;",
    "&#233;",
    "<",
    ">",
    "List<T>",
    "2 < 3 & 5 > 4",
    "<b>bold</b>",
    "<i>it</i>",
    "<br>",
    "مرحبا",
    "שלום",
    "\u200f",
    "\u202e",
    "\u200b",
    "🎉",
    "👩\u200d👩\u200d👧",
    "🇫🇷",
    "e\u0301",
    "\u0301",
    "A\u030a",
    "\u00a0",
    "\u2028",
    "\u2029",
    "\u3000",
    "\ufeff",
    "~",
    "- ",
    ": ",
    "? ",
    "!",
    "*",
    "%",
    "@",
    "`",
    "[",
    "]",
    "null",
    "yes",
    "1e3",
    " => ",
    "@@",
]
# Not all of deckkit's custom Quizlet separators are pieces: text holding every one of them (and a
# tab) is the known failure test_a_deck_holding_every_custom_quizlet_separator_still_builds pins.
NO_BRACES = "{}"
FORBIDDEN = "\ufffe\uffff"


def characters(exclude: str = "") -> st.SearchStrategy[str]:
    return st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters=FORBIDDEN + NO_BRACES + exclude
    )


TEXT = st.lists(st.one_of(characters(), st.sampled_from(PIECES)), max_size=12).map("".join)
TEXT = st.one_of(TEXT, TEXT.map(lambda s: "#" + s))  # '#' at the start: a comment in YAML and CSV
REQUIRED = TEXT.filter(lambda s: bool(s.strip()) and not is_blank(s))
# Cloze answers and hints: visible text with none of the cloze syntax's own characters.
CLOZE_PART = st.text(characters(":<>&\\\t\n "), min_size=1, max_size=8).filter(
    lambda s: not is_blank(s)
)
SLUG = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,24}", fullmatch=True).filter(
    lambda s: ".." not in s
)
TAG = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
        blacklist_characters=FORBIDDEN + "\t\n\x0b\x0c\x1c\x1d\x1e\x1f\x85",
    ),
    min_size=1,
    max_size=12,
).filter(lambda s: re.fullmatch(r"\S+", s) is not None)
LEVEL = st.sampled_from(["beginner", "intermediate", "advanced"])


@st.composite
def cloze_text(draw: st.DrawFn) -> str:
    parts = [draw(TEXT)]
    for _ in range(draw(st.integers(1, 3))):
        number = draw(st.integers(1, 3))
        hint = draw(st.none() | CLOZE_PART)
        deletion = f"{{{{c{number}::{draw(CLOZE_PART)}{'::' + hint if hint else ''}}}}}"
        parts += [deletion, draw(TEXT)]
    return "".join(parts)


@st.composite
def card(draw: st.DrawFn, card_id: str) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["basic", "reversed", "cloze", "type_in", "multiple_choice", "open"])
    )
    raw: dict[str, Any] = {"id": card_id}
    if kind != "basic" or draw(st.booleans()):
        raw["type"] = kind
    if draw(st.booleans()):
        raw["tags"] = draw(st.lists(TAG, max_size=3))
    if draw(st.booleans()):
        raw["level"] = draw(LEVEL)
    optional = {"extra", "explanation", "hint", "answer"}

    def maybe(name: str, value: st.SearchStrategy[Any]) -> None:
        if name not in optional or draw(st.booleans()):
            raw[name] = draw(value)

    if kind in ("basic", "reversed"):
        maybe("front", REQUIRED)
        maybe("back", REQUIRED)
    elif kind == "cloze":
        raw["text"] = draw(cloze_text())
        maybe("extra", TEXT)
    elif kind == "type_in":
        maybe("front", REQUIRED)
        raw["answer"] = draw(REQUIRED)
        maybe("extra", TEXT)
    elif kind == "multiple_choice":
        raw["question"] = draw(REQUIRED)
        choices = draw(st.lists(REQUIRED, min_size=2, max_size=8))
        raw["choices"] = choices
        letters = draw(st.lists(st.sampled_from(LETTERS[: len(choices)]), min_size=1, unique=True))
        raw["answer"] = letters[0] if len(letters) == 1 and draw(st.booleans()) else letters
        maybe("explanation", TEXT)
    else:
        raw["prompt"] = draw(REQUIRED)
        maybe("hint", TEXT)
        if draw(st.booleans()):
            raw["concepts"] = draw(st.lists(REQUIRED, min_size=1, max_size=4))
        maybe("answer", TEXT)
    return raw


@st.composite
def deck_source(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(SLUG, min_size=1, max_size=6, unique=True))
    data: dict[str, Any] = {
        "deck": draw(REQUIRED),
        "id": draw(SLUG),
        "cards": [draw(card(card_id)) for card_id in ids],
    }
    if draw(st.booleans()):
        data["description"] = draw(TEXT)
    if draw(st.booleans()):
        data["tags"] = draw(st.lists(TAG, max_size=3))
    return data


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def notes_by_guid(col: Collection) -> dict[str, tuple[str, tuple[str, ...], frozenset[str]]]:
    """Per note GUID: note type name, fields and tags."""
    found = {}
    for note_id in col.find_notes(""):
        note = col.get_note(note_id)
        found[note.guid] = (note.note_type()["name"], tuple(note.fields), frozenset(note.tags))
    return found


def cards_by_guid(col: Collection) -> dict[tuple[str, int], str]:
    """Per (note GUID, card ord): the name of the deck the card is in."""
    return {
        (col.get_card(card_id).note().guid, col.get_card(card_id).ord): col.decks.name(
            col.get_card(card_id).did
        )
        for card_id in col.find_cards("")
    }


def quizlet_pairs(text: str, separators: Separators) -> list[list[str]]:
    body = text[:-1] if separators.card == "\n" and text.endswith("\n") else text
    return [entry.split(separators.term) for entry in body.split(separators.card)]


def the_deck(source: Path) -> Deck:
    result = validate([source])
    assert result.ok
    return deck_from_source(result.sources[0])


# Found by the property below (with many more examples): a tab in one field and every custom
# separator deckkit knows in the others leave no candidate separator.
EVERY_SEPARATOR = {
    "deck": "Separators",
    "id": "separators",
    "cards": [
        {"id": "tab", "front": "a\tb", "back": "c"},
        {"id": "all", "front": ";;; ||| @@@ ~~~", "back": "^^^ %%% &&&"},
    ],
}


@SLOW
@given(deck_source())
def test_any_valid_deck_builds_imports_renders_and_round_trips(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        source = root / "sources" / "deck.yaml"
        source.parent.mkdir()
        source.write_text(yaml_12(data), encoding="utf-8")

        result = build([source], root / "out")
        assert result.ok, [p.as_text() for p in result.problems]
        deck = the_deck(source)
        assert len(deck.cards) == len(data["cards"])

        (root / "collection").mkdir()
        col = Collection(str(root / "collection" / "collection.anki2"))
        try:
            import_apkg(col, root / "out" / f"{data['id']}.apkg")
            assert col.note_count() == len(deck.cards)
            assert col.card_count() == result.anki_cards()

            # Every card renders: no field left unrendered, no error of Anki's.
            for card_id in col.find_cards(""):
                rendered = col.get_card(card_id)
                for side in (rendered.question(), rendered.answer()):
                    body = _STYLE.sub("", side)
                    for error in TEMPLATE_ERRORS:
                        assert error not in body, body[:500]

            # The notes hold exactly the fields and note types deckkit exported.
            after_apkg = notes_by_guid(col)
            assert set(after_apkg) == {card.guid for card in deck.cards}
            for exported in deck.cards:
                name, fields, tags = after_apkg[exported.guid]
                assert name == note_type_for(exported.type, exported.note_type).name
                assert fields == tuple(nfc(f) for f in note_fields(exported.content))
                assert {t.casefold() for t in tags} == {nfc(t).casefold() for t in exported.tags}
            decks_after_apkg = cards_by_guid(col)

            # The CSV, imported after the package, finds every note and changes none of them.
            import_csv(col, root / "out" / f"{data['id']}.csv")
            assert col.note_count() == len(deck.cards)
            assert notes_by_guid(col) == after_apkg
            assert cards_by_guid(col) == decks_after_apkg
        finally:
            col.close()

        # Quizlet: exactly one term/definition pair per card.
        separators = result.quizlet_separators[data["id"]]
        quizlet = (root / "out" / f"{data['id']}.quizlet.txt").read_text("utf-8")
        pairs = quizlet_pairs(quizlet, separators)
        assert len(pairs) == len(deck.cards), (separators, quizlet)
        assert all(len(pair) == 2 for pair in pairs), (separators, quizlet)


@SLOW
@given(deck_source())
def test_any_valid_deck_written_by_pyyaml_validates_clean_of_errors(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "deck.yaml"
        source.write_text(yaml_12(data), encoding="utf-8")
        result = validate([source])
    assert result.ok, [p.as_text() for p in result.problems]
    # What deckkit read is what PyYAML wrote: the loader agrees with YAML on every value.
    assert result.sources[0].data == data


def test_a_deck_holding_every_custom_quizlet_separator_still_builds(tmp_path: Path) -> None:
    source = tmp_path / "sources" / "deck.yaml"
    source.parent.mkdir()
    source.write_text(yaml_12(EVERY_SEPARATOR), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "build",
            str(source),
            "-o",
            str(tmp_path / "out"),
            "--lockfile",
            str(tmp_path / "deckkit.lock"),
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 0, result.output
    built = build([source], tmp_path / "again")
    separators = built.quizlet_separators["separators"]
    text = (tmp_path / "again" / "separators.quizlet.txt").read_text("utf-8")
    assert quizlet_pairs(text, separators) == [["a\tb", "c"], [";;; ||| @@@ ~~~", "^^^ %%% &&&"]]
