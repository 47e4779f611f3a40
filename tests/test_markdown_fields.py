"""Markdown fields (issue 16): a deck, a card or the project file says its field text is Markdown,
and every output shows it rendered: Anki (read back with the `anki` package's own importers), the
CSV, the preview and Quizlet's plain text. Decks that do not say so build as before, byte for
byte. The example deck is tests/fixtures/markdown/git-basics.yaml; its problems' positions are
pinned by tests/fixtures/bad/markdown-problems.expected (see test_cli)."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import pytest
from anki.collection import Collection
from anki.notes import Note
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, REPO, import_apkg, import_csv
from conftest import run_deckkit as deckkit
from deckkit import build, validate
from deckkit.exporters.quizlet import Separators
from deckkit.fieldtext.markdown import MARKDOWN_CSS, markdown_html
from deckkit.fieldtext.markup import is_blank

# Reaches inside: the preview's page and the note GUIDs deckkit gives each card.
from deckkit.model import deck_from_source, note_guid
from deckkit.preview.page import page_html
from deckkit.sources.markdown_fields import hidden_definitions, may_show_nothing
from preview_page import sides_html

GIT_BASICS = FIXTURES / "markdown" / "git-basics.yaml"
DECK_ID = "markdown-git-basics"
PROJECT = FIXTURES / "projects" / "markdown"

# Each card's fields as Anki holds them once the .apkg is imported (code and table aside).
EXPECTED_FIELDS = {
    "stage": [
        "How do you stage <code>notes.txt</code>?",
        "<strong>git add</strong> <code>notes.txt</code>",
    ],
    "paragraphs": [
        "<p>What does a blank line do?</p>\n<p>It starts a new paragraph.</p>",
        "Two lines\nwritten apart are one line; a line ending in a backslash<br />\nbreaks.",
    ],
    "maths": [
        "Euler: {{c1::\\(e^{i\\pi} + 1 = 0\\)}} and the product \\(a_1*b_2\\) costs $5 or $6.",
        "\\[\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\\]",
    ],
    "cloze-bold": [
        "The command {{c1::<strong>git commit</strong>::a verb}} records "
        "{{c2::<em>staged</em> changes}}.",
        "",
    ],
    "media": [
        'What does this diagram show? <img src="diagram-1dfb4e7219.png" alt="the diagram" />',
        'A beep: [sound:beep-19513e6f6d.wav] and raw HTML <img src="diagram-1dfb4e7219.png" '
        'width="80">',
    ],
    "raw-html": [
        "Is <b>raw HTML</b> kept, and is List&lt;T> text?",
        '<div class="note">Yes: *this* is inside a block of HTML.</div>\n'
        "<ul>\n<li>and <strong>this</strong> is a list</li>\n<li>of two items</li>\n</ul>",
    ],
    # markdown: false on the card: HTML, line breaks made <br> (issue 15's rule).
    "plain": ["This card is HTML: **not bold**", "two lines<br>as two lines"],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built")
    result = build([GIT_BASICS], out, lockfile=out / "deckkit.lock")
    assert result.ok, result.problems
    return out


def anki_note(col: Collection, card_id: str) -> Note:
    guid = note_guid(DECK_ID, card_id)
    return col.get_note(col.db.scalar("select id from notes where guid = ?", guid))


def test_anki_holds_the_rendered_html(built: Path, collection: Collection) -> None:
    import_apkg(collection, built / f"{DECK_ID}.apkg")
    for card_id, fields in EXPECTED_FIELDS.items():
        assert list(anki_note(collection, card_id).fields) == fields, card_id


def test_anki_makes_a_card_for_each_deletion_of_a_markdown_cloze(
    built: Path, collection: Collection
) -> None:
    import_apkg(collection, built / f"{DECK_ID}.apkg")
    cards = anki_note(collection, "cloze-bold").cards()
    assert [card.ord for card in cards] == [0, 1]
    assert "[a verb]" in cards[0].question()
    assert "<strong>git commit</strong>" in cards[0].answer()
    assert "<em>staged</em> changes" in cards[1].answer()


def test_code_is_highlighted_and_its_css_is_in_the_note_types(
    built: Path, collection: Collection
) -> None:
    import_apkg(collection, built / f"{DECK_ID}.apkg")
    code = anki_note(collection, "code").fields[1]
    assert code.startswith('<div class="highlight"><pre><span></span><code><span class="k">def')
    assert '<span class="o">&lt;</span>' in code  # the code's '<' is text
    for name in ("deckkit Basic", "deckkit Cloze"):
        css = collection.models.by_name(name)["css"]  # type: ignore[index]
        assert css.endswith(MARKDOWN_CSS)
        assert ".highlight .k {" in css
        assert ".nightMode .highlight .k, .night_mode .highlight .k {" in css


def test_media_of_markdown_fields_are_packed(built: Path, collection: Collection) -> None:
    import_apkg(collection, built / f"{DECK_ID}.apkg")
    media = sorted(p.name for p in Path(collection.media.dir()).iterdir())
    assert media == ["beep-19513e6f6d.wav", "diagram-1dfb4e7219.png"]


def test_tables_and_strikethrough_are_rendered(built: Path, collection: Collection) -> None:
    import_apkg(collection, built / f"{DECK_ID}.apkg")
    table = anki_note(collection, "table").fields[1]
    assert table.startswith("<table>\n<thead>\n<tr>\n<th>command</th>")
    assert "<td><del>git push -f</del> <code>git push</code></td>" in table


def test_the_csv_gives_anki_the_same_fields(built: Path, collection: Collection) -> None:
    import_apkg(collection, built / f"{DECK_ID}.apkg")
    before = {card_id: list(anki_note(collection, card_id).fields) for card_id in EXPECTED_FIELDS}
    import_csv(collection, built / f"{DECK_ID}.csv")
    assert collection.note_count() == 9
    for card_id, fields in before.items():
        assert list(anki_note(collection, card_id).fields) == fields, card_id


def test_the_csv_alone_imports_the_rendered_html(built: Path, collection: Collection) -> None:
    """Into a collection that has the note types (as after a first .apkg import) but not these
    notes: the CSV makes them, with the Markdown rendered."""
    import_apkg(collection, built / f"{DECK_ID}.apkg")
    collection.remove_notes(list(collection.find_notes("")))
    import_csv(collection, built / f"{DECK_ID}.csv")
    assert collection.note_count() == 9
    assert list(anki_note(collection, "stage").fields) == EXPECTED_FIELDS["stage"]
    assert len(anki_note(collection, "cloze-bold").cards()) == 2


def test_quizlet_gets_the_rendering_as_plain_text(built: Path) -> None:
    text = (built / f"{DECK_ID}.quizlet.txt").read_text("utf-8")
    separators = Separators("\t", ";;;")
    by_term = dict(tuple(card.split(separators.term)) for card in text.split(separators.card))
    assert by_term["How do you stage notes.txt?"] == "git add notes.txt"
    assert by_term["What does a blank line do?\nIt starts a new paragraph."] == (
        "Two lines\nwritten apart are one line; a line ending in a backslash\nbreaks."
    )
    assert by_term["The command _____ (a verb) records _____."] == "git commit; staged changes"
    assert "**" not in text.replace("**not bold**", "")


def test_the_preview_shows_the_rendering_and_the_highlighter_css() -> None:
    [source] = validate([GIT_BASICS]).sources
    page = page_html([deck_from_source(source)])
    sides = sides_html(page)  # the cards are data the page's script shows
    assert "<strong>git add</strong> <code>notes.txt</code>" in sides
    assert '<span class="k">def</span>' in sides
    assert MARKDOWN_CSS in page


def test_maths_is_left_to_mathjax_untouched() -> None:
    assert markdown_html("$a_1*b_2$ and $x_1*y_2$") == "\\(a_1*b_2\\) and \\(x_1*y_2\\)"
    assert markdown_html("$$\na < b\n$$") == "\\[a &lt; b\\]"
    assert markdown_html("it costs $5, or $6") == "it costs $5, or $6"


def test_a_sound_tag_is_kept_whole() -> None:
    assert markdown_html("[sound:a*b*_c_.mp3] **x**") == "[sound:a*b*_c_.mp3] <strong>x</strong>"
    assert markdown_html("*[sound:_intro_.mp3]*") == "<em>[sound:_intro_.mp3]</em>"
    assert markdown_html("`[sound:my_file.mp3]`") == "<code>[sound:my_file.mp3]</code>"


def test_a_markdown_link_cannot_run_a_script() -> None:
    assert markdown_html("[click](javascript:alert(1))") == '<a href="">click</a>'
    assert markdown_html("[x]( JavaScript:alert(1))") == '<a href="">x</a>'


# --- decks that do not use Markdown --------------------------------------------------------


@pytest.mark.parametrize(
    "original",
    [
        FIXTURES / "good" / "all-types.yaml",
        FIXTURES / "good" / "bom-crlf.yaml",
        REPO / "sources" / "glossary.yaml",
        REPO / "sources" / "fine-tuning-domains.yaml",
    ],
    ids=lambda path: path.name,
)
def test_a_deck_saying_markdown_false_builds_byte_for_byte_as_before(
    original: Path, tmp_path: Path
) -> None:
    """A deck as it is and with ``markdown: false`` added: the same bytes in every output (the
    build of this repository's sources before and after the change compares equal too)."""
    saying = tmp_path / "saying" / original.name
    shutil.copytree(original.parent, saying.parent)
    text = original.read_text("utf-8-sig")
    saying.write_text(re.sub("^cards:", "markdown: false\ncards:", text, count=1, flags=re.M))
    assert "markdown: false" in saying.read_text("utf-8")
    outputs = []
    for source in (original, saying):
        out = tmp_path / f"out-{len(outputs)}"
        # A lockfile, so that times come from the clock rather than the files' (copied) mtimes.
        lockfile = tmp_path / f"{len(outputs)}.lock"
        assert build([source], out, lockfile=lockfile, clock=lambda: 1_764_500_000).ok
        outputs.append({p.name: p.read_bytes() for p in out.iterdir() if p.name[0] != "."})
    assert outputs[0] == outputs[1]


def test_an_html_deck_gets_no_highlighter_css(tmp_path: Path, collection: Collection) -> None:
    assert build([FIXTURES / "good" / "all-types.yaml"], tmp_path).ok
    import_apkg(collection, tmp_path / "all-types.apkg")
    assert all(".highlight" not in model["css"] for model in collection.models.all())


# --- the project file ----------------------------------------------------------------------


def test_the_project_file_makes_every_deck_markdown_unless_it_says(tmp_path: Path) -> None:
    project = Path(shutil.copytree(PROJECT, tmp_path / "markdown"))
    result = deckkit(project / "sources", "build", "-q")
    assert result.returncode == 0, result.stderr
    commands = (project / "build" / "commands.csv").read_text("utf-8")
    assert '"<strong>git add</strong>","stages <code>a file</code>"' in commands
    assert '"**as written**","an HTML card"' in commands  # the card says markdown: false
    html_deck = (project / "build" / "html-deck.csv").read_text("utf-8")
    assert '"**as written**","HTML"' in html_deck  # the deck says markdown: false


def test_the_project_files_markdown_reaches_the_preview(tmp_path: Path) -> None:
    project = Path(shutil.copytree(PROJECT, tmp_path / "markdown"))
    result = deckkit(project, "preview")
    assert result.returncode == 0, result.stderr
    page = (project / "build" / "preview" / "index.html").read_text("utf-8")
    assert "<strong>git add</strong>" in sides_html(page)
    assert "**as written**" in sides_html(page)


def test_a_wrong_markdown_value_in_the_project_file_is_placed(tmp_path: Path) -> None:
    project = Path(shutil.copytree(PROJECT, tmp_path / "markdown"))
    (project / "deckkit.toml").write_text('# Markdown?\nmarkdown = "yes"\n', "utf-8")
    result = deckkit(project, "validate")
    assert result.returncode == 2
    assert "deckkit.toml:2:1: 'markdown' must be true or false" in result.stderr


# --- problems in Markdown fields -----------------------------------------------------------


def test_warnings_in_markdown_fields_point_at_the_yaml() -> None:
    """Rendered HTML is what the HTML rules read (a tag in a code span is text), and each
    warning is placed in the YAML: at the field, or at a URL where it is written."""
    case = FIXTURES / "markdown-warnings" / "warnings.yaml"
    result = deckkit(REPO, "validate", case.relative_to(REPO).as_posix())
    assert result.returncode == 0, result.stderr
    expected = case.with_suffix(".expected").read_text("utf-8").splitlines()
    assert result.stdout.splitlines() == expected


# --- what the checks skip ------------------------------------------------------------------

# Letters, spaces of every kind, and every character Markdown or deckkit's rules read.
MARKDOWN_ALPHABET = "ab é1 \t\n\r\x00\x1c\x1f\x85\xa0\u2028\u3000\\`*_[]!<>&$~|#-+=.:(){}\"'"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=MARKDOWN_ALPHABET, max_size=40))
def test_the_checks_skip_rendering_only_what_surely_shows_something(text: str) -> None:
    """The empty-field check renders a Markdown field only when it may show nothing."""
    if not may_show_nothing(text):
        assert not is_blank(markdown_html(text))


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=60) | st.text(alphabet=MARKDOWN_ALPHABET, max_size=60))
def test_any_text_renders(text: str) -> None:
    """No text makes the renderer fail, and a sound tag after it comes back whole (in raw HTML or
    code, which Markdown leaves as written, with character references, which Anki decodes), but
    on a line that Markdown reads as a link definition, which deckkit warns about."""
    field = f"{text} [sound:_a_b*c*.mp3]"
    html = markdown_html(field)
    assert "[sound:_a_b*c*.mp3]" in unescape(unescape(html)) or hidden_definitions(field)


def test_the_highlighter_css_reaches_a_collection_that_has_the_note_type_already(
    built: Path, tmp_path: Path, collection: Collection
) -> None:
    """An HTML deck imported first gives the collection deckkit Basic without the CSS; the
    Markdown deck's note type is newer and brings it; the HTML deck imported again leaves it."""
    assert build([FIXTURES / "good" / "all-types.yaml"], tmp_path).ok
    html_deck, markdown_deck = tmp_path / "all-types.apkg", built / f"{DECK_ID}.apkg"

    def basic_css() -> str:
        return str(collection.models.by_name("deckkit Basic")["css"])  # type: ignore[index]

    import_apkg(collection, html_deck)
    html_notes = collection.note_count()
    assert MARKDOWN_CSS not in basic_css()
    import_apkg(collection, markdown_deck)
    assert basic_css().endswith(MARKDOWN_CSS)
    import_apkg(collection, html_deck)
    assert basic_css().endswith(MARKDOWN_CSS)
    assert collection.note_count() == html_notes + 9  # no note skipped, none twice
