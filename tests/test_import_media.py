"""`deckkit import` reads media references as Anki does, and never reads outside the media folder.

fixtures/import-media/notes.txt is what Anki writes for File > Export > "Notes in Plain Text"
(HTML, tags, deck, note type and GUID columns) for notes whose fields refer to media with spaces
in the name, both kinds of quotes, ``&amp;`` and character references, ``<IMG SRC=...>`` unquoted,
``<source>``, ``<object data>``, ``[sound:...]`` and a hand-written percent-encoded name;
collection.media/ beside it is that collection's media folder (Anki stores added files under
lower-case names). fixtures/import-media/hostile.txt refers to files outside its media folder in
every way a name can spell a path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from conftest import FIXTURES, import_apkg
from deckkit import validate
from deckkit.cli import main

# Reaches inside: the media folder's path rule and the importer's renaming are tested name by name,
# and the written sources are read back with deckkit's own reader and loader.
from deckkit.fieldtext.media import file_in_folder, media_references
from deckkit.importers.media import MediaNamer
from deckkit.sources.loader import load_source

IMPORT_MEDIA = FIXTURES / "import-media"
NOTES = IMPORT_MEDIA / "notes.txt"
COLLECTION_MEDIA = IMPORT_MEDIA / "collection.media"
HOSTILE = IMPORT_MEDIA / "hostile.txt"


def digests(folder: Path) -> list[str]:
    return sorted(hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir())


def files_below(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


# --- an Anki CSV export, imported, built and imported into Anki -------------------------------


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    out = tmp_path / "sources"
    output = invoke("import", str(NOTES), "-o", str(out), "--media-dir", str(COLLECTION_MEDIA))
    assert "media: 9 file(s) extracted" in output
    assert "referenced but not in the input" not in output
    return out


def test_every_file_an_anki_export_refers_to_is_copied_once(sources: Path) -> None:
    assert digests(sources / "media") == digests(COLLECTION_MEDIA)
    assert validate([sources]).ok


def test_every_reference_is_rewritten_to_its_copy_the_way_it_was_written(sources: Path) -> None:
    source = load_source(sources / "imported-media-names.yaml")
    cards = {card["guid"]: card for card in source.data["cards"]}
    assert cards["iiLj9Tn>`R"]["back"] == "The same picture: <img src='media/it_s_here.png'>"
    assert cards["w,_F)hKpFR"]["front"] == '<IMG SRC="media/upper.png">'
    assert cards["o{0|)g}Fke"]["front"].startswith('<object data="media/vector_drawing.svg"')
    names = [
        ref.name
        for card in cards.values()
        for key, value in card.items()
        if key not in ("id", "guid", "type", "tags")
        for ref in media_references(value)
    ]
    assert len(names) == 11
    assert all((sources / name).is_file() for name in names), names


def test_anki_s_media_check_finds_no_missing_and_no_unused_file_in_the_rebuilt_deck(
    sources: Path, tmp_path: Path, collection: Collection
) -> None:
    lock = tmp_path / "deckkit.lock"
    built = tmp_path / "built"
    invoke("build", str(sources), "-o", str(built), "--format", "apkg", "--lockfile", str(lock))
    log = import_apkg(collection, built / "imported-media-names.apkg")
    assert len(log.new) == 7
    check = collection.media.check()
    assert (list(check.missing), list(check.unused)) == ([], [])
    assert digests(Path(collection.media.dir())) == digests(COLLECTION_MEDIA)


# --- how a name is looked up ------------------------------------------------------------------


def test_a_name_is_looked_up_as_written_before_it_is_percent_decoded(tmp_path: Path) -> None:
    (tmp_path / "a%20b.png").write_bytes(b"as written")
    (tmp_path / "a b.png").write_bytes(b"decoded")
    (tmp_path / "c d.png").write_bytes(b"only decoded")
    assert file_in_folder("a%20b.png", tmp_path) == (tmp_path / "a%20b.png").resolve()
    assert file_in_folder("c%20d.png", tmp_path) == (tmp_path / "c d.png").resolve()


def test_entities_are_decoded_before_the_name_is_percent_decoded(tmp_path: Path) -> None:
    (tmp_path / "salt & pepper.png").write_bytes(b"picture")
    namer = MediaNamer(tmp_path)
    field = '<img src="salt%20&amp;%20pepper.png"> [sound:salt &amp; pepper.png]'
    assert namer.rewrite(field) == (
        '<img src="media/salt_pepper.png"> [sound:media/salt_pepper.png]'
    )
    assert [out.relative for out in namer.files()] == ["media/salt_pepper.png"]


def test_a_file_referred_to_by_two_spellings_is_copied_once(tmp_path: Path) -> None:
    (tmp_path / "a b.png").write_bytes(b"picture")
    namer = MediaNamer(tmp_path)
    field = "<img src='a b.png'><img src=\"a%20b.png\"><img src=a&#32;b.png>"
    assert namer.rewrite(field) == (
        '<img src=\'media/a_b.png\'><img src="media/a_b.png"><img src="media/a_b.png">'
    )
    assert len(namer.files()) == 1


def test_a_remote_or_data_reference_is_left_as_it_is(tmp_path: Path) -> None:
    namer = MediaNamer(tmp_path)
    field = '<img src="https://example.org/a.png"><img src="data:image/png;base64,AAAA">'
    assert namer.rewrite(field) == field
    assert (namer.files(), list(namer.notices())) == ([], [])


# --- references out of the media folder -------------------------------------------------------


@pytest.fixture
def media_among_secrets(tmp_path: Path) -> Path:
    """A media folder whose parent, grandparent and a link in it lead to secrets."""
    outer = tmp_path / "outer"
    media = outer / "inner" / "media"
    media.mkdir(parents=True)
    (outer / "secret.txt").write_text("TOP SECRET: grandparent")
    (outer / "inner" / "secret.txt").write_text("TOP SECRET: parent")
    (outer / "etc").mkdir()
    (outer / "etc" / "hostname").write_text("TOP SECRET: host name")
    (media / "inside.png").write_bytes(b"\x89PNG\r\n\x1a\ninside")
    (media / "link.png").symlink_to(outer / "inner" / "secret.txt")
    return media


def test_references_out_of_the_media_folder_copy_nothing_from_outside_it(
    media_among_secrets: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sources"
    args = ["import", str(HOSTILE), "-o", str(out), "--media-dir", str(media_among_secrets)]
    result = CliRunner().invoke(main, args)
    # The sources are written, and their references to files they lack are problems.
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    # Ten references, nine names: "..&#47;secret.txt" is "../secret.txt".
    assert "9 media file(s) referenced but not in the input" in result.output
    assert files_below(out) == {"imported-hostile.yaml", "deck.schema.json", "media/inside.png"}
    assert (out / "media" / "inside.png").read_bytes() == b"\x89PNG\r\n\x1a\ninside"
    for path in out.rglob("*"):
        if path.is_file():
            assert b"TOP SECRET" not in path.read_bytes(), path
    etc_passwd = Path("/etc/passwd")
    if etc_passwd.is_file():
        assert etc_passwd.read_bytes() not in (out / "imported-hostile.yaml").read_bytes()
    # Each reference is kept as written, for a person to see.
    written = (out / "imported-hostile.yaml").read_text("utf-8")
    for ref in ('"%2Fetc%2Fpasswd"', "[sound:..%2F..%2Fetc%2Fhostname]", "..%2F..%2Fsecret.txt"):
        assert ref in written


@pytest.mark.parametrize(
    "name",
    [
        "%2Fetc%2Fpasswd",
        "..%2F..%2Fetc%2Fhostname",
        "..%2F..%2Fsecret.txt",
        "..%2Fsecret.txt",
        "../secret.txt",
        "..%5Csecret.txt",
        "%2E%2E%2Fsecret.txt",
        "/etc/passwd",
        "link.png",
        "inside.png%00.txt",
        ".",
        "..",
        "%2E%2E",
        "",
    ],
)
def test_no_spelling_of_a_name_finds_a_file_outside_the_media_folder(
    name: str, media_among_secrets: Path
) -> None:
    assert file_in_folder(name, media_among_secrets) is None
    namer = MediaNamer(media_among_secrets)
    field = f"<img src=\"{name}\"> [sound:{name}] <object data='{name}'></object>"
    assert namer.rewrite(field) == field
    assert namer.files() == []
