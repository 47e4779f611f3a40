"""HTML that Anki would misread (issue 6 §3), checked through Anki's own rendering.

The rule (README "Errors and safety"): a `<` that does not open a known tag and a `&` that does not
start an entity are escaped, so they show as text; known tags and entities are kept; a script (a
`<script>` element, an `on...=` handler, a `javascript:` link) and a tag left open are warnings,
which `--strict` turns into errors. Each deck here is built, imported into a fresh collection with
the `anki` package and rendered with `card.question()` / `card.answer()`; what a learner sees is
read from that HTML with a real HTML parser, as a browser would.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner, Result

from conftest import import_apkg
from deckkit import build
from deckkit.cli import main

# Reaches inside: note_guid finds, in Anki's collection, the note deckkit made for a card.
from deckkit.model import note_guid

DECK_ID = "html-rules"


def deck_text(cards: dict[str, tuple[str, str]]) -> str:
    """A deck of basic cards: card id → (front, back), written as JSON strings (valid YAML)."""
    lines = ["deck: HTML rules", f"id: {DECK_ID}", "cards:"]
    for card_id, (front, back) in cards.items():
        lines += [
            f"  - id: {card_id}",
            f"    front: {json.dumps(front)}",
            f"    back: {json.dumps(back)}",
        ]
    return "\n".join(lines) + "\n"


class _Page(HTMLParser):
    """What a browser shows: text and entities decoded, styles and scripts left out, and for
    each element the text inside it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []
        self.inside: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("br", "hr", "img", "input"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if "style" in self.open or "script" in self.open:
            return
        self.text.append(data)
        for tag in self.open:
            self.inside.setdefault(tag, []).append(data)


def page(html: str) -> _Page:
    parser = _Page()
    parser.feed(html)
    parser.close()
    return parser


def shown(html: str) -> str:
    """The visible text of rendered card HTML."""
    return "".join(page(html).text)


@pytest.fixture
def render(tmp_path: Path, collection: Collection):  # type: ignore[no-untyped-def]
    """Build basic cards, import the .apkg with Anki; card id → (question HTML, answer HTML)."""

    def render_cards(cards: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        source = tmp_path / "sources" / "deck.yaml"
        source.parent.mkdir(exist_ok=True)
        source.write_text(deck_text(cards), encoding="utf-8")
        result = build([source], tmp_path / "out")
        assert result.ok, [p.as_text() for p in result.problems]
        import_apkg(collection, tmp_path / "out" / f"{DECK_ID}.apkg")
        by_guid = {note_guid(DECK_ID, card_id): card_id for card_id in cards}
        rendered = {}
        for card_id in collection.find_cards(""):
            card = collection.get_card(card_id)
            rendered[by_guid[card.note().guid]] = (card.question(), card.answer())
        assert set(rendered) == set(cards)
        return rendered

    return render_cards


# --- what is escaped, what is kept ---------------------------------------------------------


def test_generic_type_and_comparisons_show_as_text_in_anki(render) -> None:  # type: ignore[no-untyped-def]
    cards = render({"generic": ("What can a List<T> hold?", "2 < 3 & 5 > 4")})
    question, answer = cards["generic"]
    assert re.search(r"List&lt;T(&gt;|>)", question)
    assert "<T>" not in question
    assert "2 &lt; 3 &amp; 5 " in answer
    assert "What can a List<T> hold?" in shown(question)
    assert "2 < 3 & 5 > 4" in shown(answer)


def test_several_generic_types_and_arrows_show_as_text(render) -> None:  # type: ignore[no-untyped-def]
    front = "Map<String, List<Integer>> or x<-y and a<b"
    cards = render({"generics": (front, "i<n; i++ -> <<shift>>")})
    question, answer = cards["generics"]
    assert front in shown(question)
    assert "i<n; i++ -> <<shift>>" in shown(answer)


def test_known_tags_stay_markup(render) -> None:  # type: ignore[no-untyped-def]
    cards = render(
        {"bold": ("<b>bold</b> and <i>italic</i>", 'a <span class="x">span</span><br>b')}
    )
    question, answer = cards["bold"]
    assert "<b>bold</b>" in question
    assert page(question).inside["b"] == ["bold"]
    assert page(question).inside["i"] == ["italic"]
    assert "<" not in shown(question)
    assert page(answer).inside["span"] == ["span"]
    assert "<br>" in answer


def test_entities_are_kept_as_written(render) -> None:  # type: ignore[no-untyped-def]
    cards = render(
        {"entities": ("Tom &amp; Jerry&nbsp;show", "&lt;tag&gt; &#8364; &#x20AC; &copy;")}
    )
    question, answer = cards["entities"]
    assert "Tom &amp; Jerry&nbsp;show" in question
    assert "&amp;amp;" not in question
    assert "&amp;nbsp;" not in question
    assert "Tom & Jerry\u00a0show" in shown(question)
    assert "<tag> € € ©" in shown(answer)


def test_an_ampersand_that_starts_no_entity_is_escaped(render) -> None:  # type: ignore[no-untyped-def]
    cards = render({"amp": ("R&D, AT&T and &&", "a & b")})
    question, answer = cards["amp"]
    assert "R&amp;D" in question
    assert "R&D, AT&T and &&" in shown(question)
    assert "a & b" in shown(answer)


def test_an_unknown_tag_shows_as_text(render) -> None:  # type: ignore[no-untyped-def]
    cards = render({"foo": ("Use <foo> here", "and </foo> or <custom-element x=1>")})
    question, answer = cards["foo"]
    assert "<foo>" not in question
    assert "Use <foo> here" in shown(question)
    assert "and </foo> or <custom-element x=1>" in shown(answer)


def test_a_comment_stays_a_comment(render) -> None:  # type: ignore[no-untyped-def]
    cards = render({"comment": ("visible<!-- hidden -->text", "b")})
    question, _ = cards["comment"]
    assert "<!-- hidden -->" in question
    assert "visibletext" in shown(question)


def test_a_less_than_sign_at_the_end_of_a_field_shows(render) -> None:  # type: ignore[no-untyped-def]
    cards = render({"end": ("x <", "<b")})
    question, answer = cards["end"]
    assert shown(question).rstrip().endswith("x <")
    assert shown(answer).rstrip().endswith("<b")


# --- warnings: scripts and unclosed tags -----------------------------------------------------


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sources").mkdir()
    return tmp_path


def write_deck(folder: Path, cards: dict[str, tuple[str, str]]) -> Path:
    path = folder / "sources" / "deck.yaml"
    path.write_text(deck_text(cards), encoding="utf-8")
    return path


SCRIPTS = {
    "script-element": "<script>alert(1)</script>hello",
    "script-uppercase": "<SCRIPT src=x.js></SCRIPT>hello",
    "handler": '<b onclick="alert(1)">hello</b>',
    # No src: a remote one would add its own warning (check.media-url).
    "handler-on-image": '<img alt="x" onerror="alert(1)">hello',
    "javascript-link": '<a href="javascript:alert(1)">hello</a>',
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_a_script_is_a_warning_and_validate_exits_0(name: str, in_tmp: Path) -> None:
    write_deck(in_tmp, {"one": ("front", SCRIPTS[name])})
    result = invoke("validate", "sources")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "sources/deck.yaml:6:11: warning: field contains a script (<script>, an on...= handler or "
        "javascript:), which Anki runs when showing the card; remove it unless you wrote it "
        "yourself [check.script]"
    ]


@pytest.mark.parametrize("command", ["validate", "build"])
def test_strict_makes_a_script_an_error_with_exit_1(command: str, in_tmp: Path) -> None:
    write_deck(in_tmp, {"one": ("<script>alert(1)</script>front", "back")})
    before = sorted(p.name for p in in_tmp.iterdir())
    result = invoke(command, "--strict", "sources", *(["-o", "out"] if command == "build" else []))
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("sources/deck.yaml:5:12: error: field contains a script")
    assert "[check.script]" in result.stdout
    assert sorted(p.name for p in in_tmp.iterdir()) == before  # nothing written


def test_build_with_a_script_succeeds_and_prints_the_warning(in_tmp: Path) -> None:
    write_deck(in_tmp, {"one": ("<script>alert(1)</script>front", "back")})
    result = invoke("build", "sources", "-o", "out")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("sources/deck.yaml:5:12: warning: field contains a script")
    assert lines[0].endswith("[check.script]")
    assert lines[1].startswith(f"wrote out/{DECK_ID}.apkg")
    assert lines[-1].startswith("built 1 deck in out/")
    assert (in_tmp / "out" / f"{DECK_ID}.apkg").is_file()


def test_an_unchanged_deck_still_prints_its_warning_on_the_next_build(in_tmp: Path) -> None:
    write_deck(in_tmp, {"one": ("<script>alert(1)</script>front", "back")})
    first = invoke("build", "sources", "-o", "out")
    second = invoke("build", "sources", "-o", "out")
    assert second.exit_code == 0
    warnings = [line for line in second.stdout.splitlines() if "[check.script]" in line]
    assert warnings == [line for line in first.stdout.splitlines() if "[check.script]" in line]
    assert len(warnings) == 1


def test_strict_build_after_a_lenient_one_fails_on_the_warning(in_tmp: Path) -> None:
    write_deck(in_tmp, {"one": ("<script>alert(1)</script>front", "back")})
    assert invoke("build", "sources", "-o", "out").exit_code == 0
    result = invoke("build", "--strict", "sources", "-o", "out")
    assert result.exit_code == 1, result.output
    assert "error: field contains a script" in result.stdout


def test_an_unclosed_tag_is_a_warning_naming_the_tag(in_tmp: Path) -> None:
    write_deck(in_tmp, {"one": ("<b>bold forever", "back")})
    result = invoke("validate", "sources")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "sources/deck.yaml:5:12: warning: <b> is never closed; Anki would apply it to the rest of "
        "the card: add </b> [check.unclosed-tag]"
    ]
    strict = invoke("validate", "--strict", "sources")
    assert strict.exit_code == 1
    assert "error: <b> is never closed" in strict.stdout


@pytest.mark.parametrize(
    "text",
    [
        "<b>closed</b>",
        "<p>paragraph without its end tag",
        "line<br>break",
        "<img alt='a remote image would warn of its own (check.media-url)'/>",
        "<ul><li>one<li>two</ul>",
        "List<T> and <foo>",
    ],
)
def test_closed_void_and_optional_end_tags_give_no_warning(text: str, in_tmp: Path) -> None:
    write_deck(in_tmp, {"one": (text, "back")})
    result = invoke("validate", "sources")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_text_that_looks_like_a_tag_by_accident_is_warned_about(in_tmp: Path) -> None:
    # "<b and c >" is a <b> tag with two attributes to Anki: the rest of the card turns bold and
    # "and c" vanishes. deckkit keeps it (it is a known tag) but must say so.
    write_deck(in_tmp, {"one": ("if a <b and c > d then", "back")})
    result = invoke("validate", "sources")
    assert "[check.unclosed-tag]" in result.stdout


def test_a_warning_in_a_choice_points_at_the_choice(in_tmp: Path) -> None:
    (in_tmp / "sources" / "deck.yaml").write_text(
        "deck: HTML rules\nid: html-rules\ncards:\n  - id: one\n    type: multiple_choice\n"
        "    question: Which?\n    choices:\n      - plain\n      - <i>open\n    answer: A\n",
        encoding="utf-8",
    )
    result = invoke("validate", "sources")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "sources/deck.yaml:9:9: warning: <i> is never closed; Anki would apply it to the rest of "
        "the card: add </i> [check.unclosed-tag]"
    ]
