"""Media references read as Anki reads them (issue 11), checked against Anki's own backend.

fixtures/media-names/ is a deck whose media names have spaces, quotes, '&', '%', '#', non-ASCII
letters and upper-case extensions, referred to every way Anki's media check reads a reference
(``<img>``, ``<IMG SRC=...>``, unquoted and quoted values, ``<audio>``/``<source>``,
``<object data>``, ``[sound:...]``, entities, percent-encoding). It is built with deckkit.build,
imported into a fresh collection, and then Anki's media check must find no missing and no unused
file, and every image and sound of every rendered card must be in the collection's media folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from anki.collection import Collection
from anki.sound import SoundOrVideoTag
from click.testing import CliRunner, Result

from conftest import FIXTURES, import_apkg
from deckkit import BuildResult, build, validate
from deckkit.cli import main

# Reaches inside: the reader's rules are checked case by case, each against Anki's own media
# check.
from deckkit.fieldtext.media import (
    MediaReference,
    is_url,
    may_refer_to_media,
    media_references,
    rewrite_media_references,
)

MEDIA_NAMES = FIXTURES / "media-names"
DECK_ID = "media-names"
# Not committed: Windows allows no '"' in a file name (see the fixture's comment).
DOUBLE_QUOTED = 'say "cheese".png'
# ASCII letters, digits, '_', '-' and '.' only: Anki keeps such a name as it is.
PACKED_NAME = re.compile(r"[A-Za-z0-9_-]+-[0-9a-f]{10}\.[a-z0-9_]+")


@pytest.fixture
def deck_dir(tmp_path: Path) -> Path:
    """The media-names deck, copied, with the file Windows could not check out added."""
    target = tmp_path / "media-names"
    shutil.copytree(MEDIA_NAMES, target)
    # A picture of its own (packed files are told apart by content too).
    (target / "media" / DOUBLE_QUOTED).write_bytes(
        (MEDIA_NAMES / "media" / "it's here.png").read_bytes() + b"\0"
    )
    return target


@pytest.fixture
def built(deck_dir: Path, tmp_path: Path) -> BuildResult:
    # These tests read the .apkg: Quizlet, which cannot carry media, would warn at every card.
    result = build([deck_dir], tmp_path / "out", formats=["apkg", "csv"])
    assert result.problems == (), "\n".join(p.as_text() for p in result.problems)
    return result


@pytest.fixture
def package(built: BuildResult, tmp_path: Path) -> Path:
    path = tmp_path / "out" / f"{DECK_ID}.apkg"
    assert path in built.written
    return path


@pytest.fixture
def imported(collection: Collection, package: Path) -> Collection:
    log = import_apkg(collection, package)
    assert len(log.new) == 12
    return collection


def packed_names(package: Path) -> list[str]:
    with zipfile.ZipFile(package) as archive:
        return list(json.loads(archive.read("media")).values())


def digests(folder: Path) -> set[str]:
    return {hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}


class MediaInHtml(HTMLParser):
    """The files a browser would load from HTML: src and data of media elements.

    Python's own HTML parser, not deckkit's reader, so that the test does not grade itself.
    Anki percent-encodes names when it renders a card (encode_iri_paths), so they are decoded.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.files: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("img", "audio", "video", "source", "object"):
            self.files += [unquote(v) for k, v in attrs if k in ("src", "data") and v]


def files_in_html(html: str) -> list[str]:
    parser = MediaInHtml()
    parser.feed(html)
    parser.close()
    return parser.files


# --- the deck, built and imported into Anki ------------------------------------------------------


def test_the_deck_validates_without_a_problem(deck_dir: Path) -> None:
    assert validate([deck_dir]).problems == ()


def test_each_file_is_packed_once_however_often_and_however_it_is_referred_to(
    package: Path, deck_dir: Path
) -> None:
    with zipfile.ZipFile(package) as archive:
        names = json.loads(archive.read("media")).values()
        packed = {hashlib.sha256(archive.read(number)).hexdigest() for number in archive.namelist()}
    assert len(names) == len(set(names)) == 13
    assert digests(deck_dir / "media") <= packed


def test_packed_names_are_plain_ascii(package: Path) -> None:
    for name in packed_names(package):
        assert PACKED_NAME.fullmatch(name), name


def test_anki_media_check_finds_no_missing_and_no_unused_file(imported: Collection) -> None:
    result = imported.media.check()
    assert list(result.missing) == []
    assert list(result.unused) == []


def test_anki_keeps_every_packed_name_as_it_is(imported: Collection, package: Path) -> None:
    # Anki renames a file whose name it does not accept (normalize_filename) and the fields
    # with it: the collection must hold exactly the names the package gives.
    assert sorted(path.name for path in Path(imported.media.dir()).iterdir()) == sorted(
        packed_names(package)
    )


def test_the_collection_holds_every_source_file(imported: Collection, deck_dir: Path) -> None:
    assert digests(Path(imported.media.dir())) == digests(deck_dir / "media")


def test_every_image_and_sound_of_every_card_renders_from_the_collection(
    imported: Collection,
) -> None:
    media_dir = Path(imported.media.dir())
    shown: set[str] = set()
    for card_id in imported.find_cards(""):
        card = imported.get_card(card_id)
        pictures = files_in_html(card.question()) + files_in_html(card.answer())
        sounds = [
            tag.filename
            for tag in card.question_av_tags() + card.answer_av_tags()
            if isinstance(tag, SoundOrVideoTag)
        ]
        assert pictures or sounds, f"card {card.note().guid}/{card.ord} shows no media"
        for name in pictures + sounds:
            assert (media_dir / name).is_file(), f"{name} is shown but not in the collection"
        shown.update(pictures + sounds)
    assert shown == {path.name for path in media_dir.iterdir()}


# --- the command line ----------------------------------------------------------------------------


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def one_card_deck(folder: Path, front: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "deck.yaml"
    source.write_text(
        "deck: Names\nid: names\ncards:\n  - id: one\n"
        f"    front: '{front}'\n"  # line 5, the value at column 12
        "    back: b\n",
        encoding="utf-8",
    )
    return source


def test_a_picture_whose_name_has_a_space_builds(tmp_path: Path) -> None:
    # Issue 11: this crashed with IsADirectoryError on the source folder.
    source = one_card_deck(tmp_path / "src", '<img src="media/transfer learning.png">')
    (source.parent / "media").mkdir()
    shutil.copy(MEDIA_NAMES / "media" / "transfer learning.png", source.parent / "media")
    result = invoke(
        "build", str(source.parent), "-o", str(tmp_path / "out"), "--lockfile", str(tmp_path / "l")
    )
    assert result.exit_code == 0, result.output
    (name,) = packed_names(tmp_path / "out" / "names.apkg")
    assert name.startswith("transfer_learning-")


def test_a_missing_file_whose_name_has_a_space_is_a_problem_at_its_field(tmp_path: Path) -> None:
    source = one_card_deck(tmp_path, '<img src="media/no such picture.png">')
    (tmp_path / "media").mkdir()
    (problem,) = validate([source]).problems
    assert (problem.line, problem.column, problem.code) == (5, 12, "check.media-missing")
    assert problem.message.startswith("media file 'media/no such picture.png' does not exist")
    result = invoke("validate", str(source))
    assert result.exit_code == 1
    assert f"{source}:5:12: error: media file 'media/no such picture.png' does not exist" in (
        result.output
    )


@pytest.mark.parametrize(
    "front",
    [
        '<img src="media">',
        '<img src="media/">',
        '<img src=".">',
        '<img src=" ">',
        "[sound:media/]",
        '<img src="media/%00.png">',
        '<img src="' + "x" * 5000 + '.png">',
    ],
)
def test_a_reference_to_a_folder_or_to_nothing_is_a_missing_file(
    front: str, tmp_path: Path
) -> None:
    source = one_card_deck(tmp_path / "src", front)
    (source.parent / "media").mkdir()
    result = invoke(
        "build", str(source.parent), "-o", str(tmp_path / "out"), "--lockfile", str(tmp_path / "l")
    )
    assert result.exit_code == 1, result.output
    assert ":5:12: error: media file '" in result.output
    assert "[check.media-missing]" in result.output
    assert max(len(line) for line in result.output.splitlines()) < 1000  # names are shortened
    assert not (tmp_path / "out").exists()


def test_an_empty_reference_refers_to_nothing(tmp_path: Path) -> None:
    source = one_card_deck(tmp_path, '<img src=""> [sound:]')
    assert validate([source]).problems == ()


def test_long_and_odd_names_reach_anki_under_the_names_the_fields_use(
    tmp_path: Path, collection: Collection
) -> None:
    # Anki cuts names to 120 bytes and drops characters such as ']' (normalize_filename): a
    # packed name must need neither, or the field would name a file Anki does not have.
    names = ["a" * 200 + ".png", "odd.p]g", "x." + "y" * 40]
    source = one_card_deck(
        tmp_path / "src", " ".join(f'<img src="media/{name}">' for name in names)
    )
    (source.parent / "media").mkdir()
    for number, name in enumerate(names):
        (source.parent / "media" / name).write_bytes(b"picture %d" % number)
    result = build([source.parent], tmp_path / "out")
    assert result.ok, result.problems
    import_apkg(collection, tmp_path / "out" / "names.apkg")
    check = collection.media.check()
    assert (list(check.missing), list(check.unused)) == ([], [])
    kept = sorted(path.name for path in Path(collection.media.dir()).iterdir())
    assert kept == sorted(packed_names(tmp_path / "out" / "names.apkg"))


# --- the reader, against Anki's media check -----------------------------------------------------
#
# These reach inside (deckkit.fieldtext.media): the rules are many, and a deck per rule would bury
# each one in a build. Each field is also given to Anki's own media check, so a rule that Anki
# changes fails here.

AGREED = [
    ('<img src="a b.png">', ["a b.png"]),
    ("<IMG SRC=UP.PNG>", ["UP.PNG"]),
    ("<img src='say \"hi\".png'>", ['say "hi".png']),
    ('<img src="it\'s.png">', ["it's.png"]),
    ('<img src="a&amp;b.png">', ["a&b.png"]),
    ('<img src="a&copy.png">', ["a&copy.png"]),  # no ';': text, not an entity
    ('<img src="caf&#233; cr&#xE8;me.png">', ["café crème.png"]),
    ('<img src="n&nbsp;b.png">', ["n b.png"]),
    ('<img src="x%20y.png">', ["x%20y.png"]),  # Anki's check does not percent-decode
    ('<img src="no #1.png">', ["no #1.png"]),
    ('<img alt="a > b" src="gt.png">', ["gt.png"]),
    ('<img\nsrc="line.png">', ["line.png"]),
    ('<img src="two\nlines.png">', ["two\nlines.png"]),
    ("<img src=a.png/>", ["a.png/"]),
    ('<img src="open.png>', ['"open.png']),  # a quote never closed is part of the name
    ('<img src="first.png" src="second.png">', ["first.png"]),
    ('<img data-src="lazy.png">', ["lazy.png"]),
    ('<object data="o.svg" type="image/svg+xml"></object>', ["o.svg"]),
    ('<audio src="s.mp3" controls></audio>', ["s.mp3"]),
    ('<video src="v.webm" poster="poster.png"></video>', ["v.webm"]),
    ('<audio controls><source src="in audio.ogg" type="audio/ogg"></audio>', ["in audio.ogg"]),
    ('<embed src="e.swf"><track src="t.vtt"><a href="doc.pdf">doc</a>', []),
    ('<img src="https://example.com/remote.png">', []),
    ("[sound:my song.mp3]", ["my song.mp3"]),
    ("[sound:s&amp;t.MP3]", ["s&t.MP3"]),
    ("[sound:two\nlines.mp3]", ["two\nlines.mp3"]),
    ('<img src="Grüße.PNG"> [sound:Köln.mp3]', ["Grüße.PNG", "Köln.mp3"]),
    ("plain text, <b>bold</b>, a [link] and src=x", []),
]


@pytest.fixture(scope="module")
def anki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collection]:
    folder = tmp_path_factory.mktemp("anki")
    col = Collection(str(folder / "collection.anki2"))
    try:
        yield col
    finally:
        col.close()


def anki_reads(col: Collection, field: str) -> set[str]:
    """The files Anki's media check says a note holding ``field`` refers to (none exist)."""
    note = col.new_note(col.models.by_name("Basic"))  # type: ignore[arg-type]
    note["Front"] = field
    col.add_note(note, col.decks.id("Default"))  # type: ignore[arg-type]
    try:
        return set(col.media.check().missing)
    finally:
        col.remove_notes([note.id])


def local_names(field: str) -> list[str]:
    return [ref.name for ref in media_references(field) if not is_url(ref.name)]


@pytest.mark.parametrize(("field", "names"), AGREED)
def test_the_reader_finds_what_anki_media_check_finds(
    field: str, names: list[str], anki: Collection
) -> None:
    assert local_names(field) == names
    assert anki_reads(anki, field) == set(names)


# Where deckkit reads a field differently from Anki's check, on purpose; a build rewrites each of
# these into the form both read alike (see the rewrite test below).
DIFFERENT = [
    # A browser shows it; Anki's check reads only 'src=' (the rewrite writes that).
    ('<img src = "spaced.png">', ["spaced.png"], set()),
    # An unquoted value ends at any white space for a browser; for Anki only at a space.
    ("<img src=tab.png\talt=x>", ["tab.png"], {"tab.png\talt=x"}),
    # '<img-x' is no tag that deckkit keeps (escape_bare_markup writes '&lt;img-x').
    ("<img-x src=custom.png>", [], {"custom.png"}),
]


@pytest.mark.parametrize(("field", "ours", "ankis"), DIFFERENT)
def test_where_deckkit_reads_a_field_otherwise_than_anki(
    field: str, ours: list[str], ankis: set[str], anki: Collection
) -> None:
    assert local_names(field) == ours
    assert anki_reads(anki, field) == ankis


def test_rewritten_references_are_what_anki_media_check_reads(
    collection: Collection,
) -> None:
    fields = [field for field, _ in AGREED] + [field for field, _, _ in DIFFERENT[:2]]
    fields += ['<img src="[sound:inside.mp3]">', "[sound:a]b.mp3]"]
    media_dir = Path(collection.media.dir())
    new_names: list[str] = []

    def rename(ref: MediaReference) -> str | None:
        if is_url(ref.name):
            return None
        # A name a rewrite must escape for its place: '&', both quotes, ']'.
        new_names.append(f"new {len(new_names)} & 'co' \"q\" ].png")
        return new_names[-1]

    for field in fields:
        rewritten = rewrite_media_references(field, rename)
        note = collection.new_note(collection.models.by_name("Basic"))  # type: ignore[arg-type]
        note["Front"] = rewritten
        collection.add_note(note, collection.decks.id("Default"))  # type: ignore[arg-type]
    for name in new_names:
        (media_dir / name).write_bytes(name.encode())
    check = collection.media.check()
    assert (list(check.missing), list(check.unused)) == ([], [])


def test_rewriting_keeps_each_quote_and_writes_unquoted_values_in_double_quotes() -> None:
    field = "<img src='a.png'> <IMG SRC=b.png> <img src = \"c.png\"> [sound:d e.mp3]"
    assert rewrite_media_references(field, lambda ref: "n.png") == (
        '<img src=\'n.png\'> <IMG SRC="n.png"> <img src="n.png"> [sound:n.png]'
    )


def test_a_reference_knows_where_it_is_written() -> None:
    field = 'See <img alt="x" src="a&amp;b.png"> and [sound:c d.mp3].'
    picture, sound = media_references(field)
    assert (picture.name, field[picture.start : picture.end]) == ("a&b.png", "a&amp;b.png")
    assert (picture.kind, picture.element, picture.quote) == ("attribute", "img", '"')
    assert field[picture.tag_start : picture.tag_end] == '<img alt="x" src="a&amp;b.png">'
    assert (sound.name, sound.kind, field[sound.tag_start : sound.tag_end]) == (
        "c d.mp3",
        "sound",
        "[sound:c d.mp3]",
    )


@pytest.mark.parametrize("field", [field for field, names in AGREED if names])
def test_the_quick_test_lets_every_reference_through(field: str) -> None:
    assert may_refer_to_media(field)


@pytest.mark.parametrize(
    "field",
    [
        "<img " * 40_000,
        '<img src="' * 40_000,
        "<img src='" * 40_000 + ">",
        '<img a="' * 40_000 + ">",
        "[sound:" * 40_000,
        "[sound:" * 40_000 + "]",
        "<img src=" + "a" * 400_000,
        "<img src=x " + "b=c " * 100_000,
        "<img src=x>[sound:y]" * 20_000,
    ],
)
def test_hostile_fields_are_read_in_linear_time(field: str) -> None:
    started = time.perf_counter()
    rewrite_media_references(field, lambda ref: "n.png")
    assert time.perf_counter() - started < 1.0
