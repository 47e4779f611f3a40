"""`deckkit import` of any Anki deck, proved with Anki's own `anki` package (issue 13).

A deck is made in Anki the honest way: a collection with note types of its own (extra fields,
several templates, Anki's field options, browser formats, a sort field, a LaTeX preamble, CSS
and a script loaded from the media folder), notes with a bare ``List<T>``, a LaTeX image, a
picture, a sound, a reference to a file the deck lacks, an "optional reversed card" note asking
for its reverse, notes whose times are in milliseconds; exported with Anki's own exporter.

Then the journey of issue 13: a learner imports it, studies and edits a note; the author runs
``deckkit import`` and ``deckkit build``; the learner imports the rebuilt deck with Anki's default
options and nothing changes. A fresh collection gets from the rebuilt deck what it got from the
original: every field byte for byte, every note type and option, every file under its name.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import genanki
import pytest
import yaml
from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import import_apkg
from deckkit import validate
from deckkit.cli import main
from deckkit.filenames import portable_name

# Stages inside an import, for what a package from Anki cannot hold: planned notes written and
# read back by the build's own loader and model.
from deckkit.importers.locking import record_times
from deckkit.importers.plan import plan_import
from deckkit.importers.types import Collected, NoteTypeInfo, SourceNote
from deckkit.importers.write import write_plan
from deckkit.model import deck_from_source
from deckkit.problems import Problem, display_path
from deckkit.sources.loader import load_source

DAY = 86_400
# The LaTeX of a field as Anki reads `[$]x^2[/$]`, and the name of the image Anki makes of it.
LATEX = "$x^2$"
LATEX_IMAGE = f"latex-{hashlib.sha1(LATEX.encode()).hexdigest()}.png"
LATEX_PRE = (
    "\\documentclass[12pt]{article}\n\\usepackage{tikz}\n\\usepackage{graphicx}\n"
    "\\pagestyle{empty}\n\\begin{document}\n"
)
MEDIA = {
    "_highlight.js": b"/* highlight */ window.hl = 1;",
    "_dk-font.woff2": b"wOF2 a font",
    LATEX_IMAGE: b"\x89PNG\r\n\x1a\nx squared",
    "paste-1a2b3c.jpg": b"\xff\xd8\xff a cat",
    "neko.mp3": b"ID3 meow",
}
VOCAB_OPTIONS: list[dict[str, Any]] = [
    {"name": "Word", "font": "Noto Sans JP", "size": 28, "description": "The word as written"},
    {"name": "Reading", "font": "Noto Sans JP"},
    {"name": "Meaning", "sticky": True},
    {"name": "Audio", "collapsed": True},
    {"name": "Example", "plainText": True, "excludeFromSearch": True},
    {"name": "Arabic", "font": "Amiri", "size": 22, "rtl": True},
]


# --- the deck, made in Anki --------------------------------------------------------------------


def _note_type(
    col: Collection,
    name: str,
    fields: list[dict[str, Any]],
    templates: list[tuple[str, str, str, str]],
    **config: Any,
) -> dict[str, Any]:
    model = col.models.new(name)
    for options in fields:
        field = col.models.new_field(options["name"])
        field.update(options)
        col.models.add_field(model, field)
    for template_name, front, back, browser_front in templates:
        template = col.models.new_template(template_name)
        template["qfmt"], template["afmt"], template["bqfmt"] = front, back, browser_front
        col.models.add_template(model, template)
    model.update(config)
    col.models.add(model)
    return col.models.by_name(name)  # type: ignore[no-any-return]


def author_deck(col: Collection) -> int:
    """The author's deck in Anki; returns the id of its top deck."""
    vocab = _note_type(
        col,
        "Vocab (test)",
        VOCAB_OPTIONS,
        [
            (
                "Recognition",
                '<script src="_highlight.js"></script><div>{{Word}}</div>',
                "{{FrontSide}}<hr id=answer>{{Meaning}}<br>{{Example}}{{Audio}}",
                "{{Word}}",
            ),
            (
                "Recall",
                "{{#Meaning}}{{Meaning}}{{/Meaning}}",
                "{{FrontSide}}<hr id=answer>{{Word}} {{Reading}}",
                "",
            ),
        ],
        css='@font-face { font-family: dk; src: url("_dk-font.woff2"); }\n.card { color: navy }\n',
        sortf=2,
    )
    maths = _note_type(
        col,
        "Maths (test)",
        [{"name": "Front"}, {"name": "Back"}, {"name": "Notes"}],
        [("Card 1", "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}<br>{{Notes}}", "")],
        latexPre=LATEX_PRE,
        latexPost="\\end{document}\n% kept",
    )
    cloze = _note_type(
        col,
        "Cloze with source (test)",
        [{"name": "Text"}, {"name": "Extra"}, {"name": "Source"}],
        [("Cloze", "{{cloze:Text}}", "{{cloze:Text}}<br>{{Extra}}<br>{{Source}}", "")],
        type=1,
    )
    for name, data in MEDIA.items():
        assert col.media.write_data(name, data) == name
    vocab_deck = col.decks.id("Course::Vocab")
    maths_deck = col.decks.id("Course::Maths")
    top = col.decks.id("Course")

    def add(model: dict[str, Any], deck: int, tags: list[str], **fields: str) -> None:
        note = col.new_note(model)
        for name, text in fields.items():
            note[name] = text
        note.tags = tags
        col.add_note(note, deck)

    add(vocab, vocab_deck, ["jlpt::n5"], Word="猫", Reading="ねこ", Meaning="cat",
        Audio="[sound:neko.mp3]", Example='<img src="paste-1a2b3c.jpg"> A <b>cat</b> sat.',
        Arabic="قطة")  # fmt: skip
    add(vocab, vocab_deck, ["code"], Word="List<T>", Meaning="a list of T & more",
        Example="List<T> xs = new ArrayList<>();")  # fmt: skip
    add(vocab, vocab_deck, [], Word="写真", Meaning="photograph", Example='<img src="gone.png">')
    add(maths, maths_deck, ["maths"], Front="[$]x^2[/$]", Back="x squared", Notes="tikz")
    add(maths, maths_deck, ["maths"], Front="2 < 3?", Back="yes &amp; always")
    add(cloze, top, [], Text="{{c1::Paris}} is in {{c2::France}}", Source="atlas")
    add(col.models.by_name("Basic (optional reversed card)"), top, ["level::beginner"],
        Front="oui", Back="yes", **{"Add Reverse": "y"})  # fmt: skip
    add(col.models.by_name("Basic"), top, [], Front="chat", Back="cat")
    # Made a while ago; two notes stamped in milliseconds, as some tools write them.
    col.db.execute("update notes set mod = ?", int(time.time()) - 2 * DAY)
    col.db.execute(
        "update notes set mod = ? where flds like '%x squared%' or flds like '%always%'",
        (int(time.time()) - 2 * DAY) * 1000,
    )
    return top


def export_package(col: Collection, deck_id: int, target: Path) -> Path:
    """File > Export > "Anki Deck Package", with media, as Anki desktop writes it."""
    options = ExportAnkiPackageOptions(
        with_scheduling=False, with_deck_configs=False, with_media=True, legacy=False
    )
    col.export_anki_package(out_path=str(target), options=options, limit=DeckIdLimit(deck_id))
    return target


@pytest.fixture
def original(tmp_path: Path) -> Path:
    """The author's deck, exported by Anki."""
    col = Collection(str(_folder(tmp_path / "author") / "collection.anki2"))
    try:
        return export_package(col, author_deck(col), tmp_path / "course.apkg")
    finally:
        col.close()


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Collection]:
    col = Collection(str(_folder(tmp_path / "fresh") / "collection.anki2"))
    try:
        yield col
    finally:
        col.close()


# --- what Anki holds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """What a collection holds of the deck: notes by GUID, note types by id, cards, media."""

    notes: dict[str, tuple[int, tuple[str, ...], frozenset[str], int]]  # mid, fields, tags, mod
    note_types: dict[int, dict[str, Any]]
    cards: dict[str, list[tuple[int, int, int]]]  # by note GUID: (ord, reps, due)
    media: dict[str, bytes]


_FIELD_KEYS = ("name", "font", "size", "rtl", "description", "sticky", "plainText", "collapsed",
               "excludeFromSearch")  # fmt: skip
_TEMPLATE_KEYS = ("name", "qfmt", "afmt", "bqfmt", "bafmt")


def held(col: Collection) -> Held:
    notes = {}
    for guid, mid, flds, tags, mod in col.db.all("select guid, mid, flds, tags, mod from notes"):
        notes[guid] = (mid, tuple(flds.split("\x1f")), frozenset(tags.split()), mod)
    note_types = {}
    for model in col.models.all():
        note_types[int(model["id"])] = {
            "name": model["name"],
            "mod": model["mod"],
            "type": model["type"],
            "sortf": model["sortf"],
            "css": model["css"],
            "latex": (model["latexPre"], model["latexPost"], model["latexsvg"]),
            "fields": [tuple(f[k] for k in _FIELD_KEYS) for f in model["flds"]],
            "templates": [tuple(t[k] for k in _TEMPLATE_KEYS) for t in model["tmpls"]],
        }
    cards: dict[str, list[tuple[int, int, int]]] = {}
    for guid, ord_, reps, due in col.db.all(
        "select n.guid, c.ord, c.reps, c.due from cards c join notes n on n.id = c.nid "
        "order by 1, 2"
    ):
        cards.setdefault(guid, []).append((ord_, reps, due))
    folder = Path(col.media.dir())
    media = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    return Held(notes, note_types, cards, media)


NO_PROJECT_NOTE = "note: no deckkit.toml in this folder or above"


def deckkit(*args: str | Path) -> list[str]:
    """The command line, in the working folder; its output lines (it must succeed), but the
    note that, without a project file, it uses the default lockfile."""
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    return [line for line in result.output.splitlines() if not line.startswith(NO_PROJECT_NOTE)]


def build_apkg(sources: Path = Path("sources")) -> list[Path]:
    deckkit("build", sources, "-o", "build", "--format", "apkg", "-j", "1")
    return sorted(Path("build").glob("*.apkg"))


# --- the journey -------------------------------------------------------------------------------


def test_a_learner_sees_nothing_change_until_the_author_edits(
    tmp_path: Path, original: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    learner = collection
    import_apkg(learner, original)
    for cid in learner.find_cards(""):  # studied: every card reviewed, one due in a week
        card = learner.get_card(cid)
        card.reps = 3
        learner.update_card(card)
    learner.sched.set_due_date([min(learner.find_cards(""))], "7")
    edited = learner.get_note(learner.find_notes('"Word:写真"')[0])
    edited["Meaning"] = "photograph (my mnemonic: sha-shin)"
    learner.update_note(edited)  # a learner's edit, after the deck's own times
    in_ms = learner.get_note(learner.find_notes('"Front:2 < 3?"')[0])
    in_ms["Notes"] = "my note"  # and of a note stamped in milliseconds (now in seconds: older)
    learner.update_note(in_ms)
    before = held(learner)

    monkeypatch.chdir(tmp_path)
    output = deckkit("import", original, "-o", "sources")
    said = output[next(i for i, line in enumerate(output) if line.startswith("imported")) :]
    assert [line for line in output if line not in said] == [
        "sources/course-vocab.yaml:45:16: warning: media file 'gone.png' was already missing "
        "from the deck this source was imported from (missing_media); Anki shows a broken image "
        "until you put the file in media/ and remove it from missing_media "
        "[check.missing-media-known]",
        "sources/course-vocab.yaml:64:16: warning: the front template 1 of note type 'Vocab "
        "(test)' contains a script (<script>, an on...= handler or javascript:), which Anki runs "
        "when showing the card; remove it unless you wrote it yourself [check.script]",
    ]
    assert said[0] == (
        f"imported 3 deck(s) from {original.name} (Anki package): "
        "8 cards (1 basic, 7 by field name)"
    )
    assert "media: 5 file(s) extracted into sources/media under their names in the package" in said
    assert (
        "lockfile: deckkit.lock records the times in the package of 8 note(s) and 5 note type(s): "
        "the first build changes nothing in a learner's collection; commit it with the sources"
    ) in said
    assert (
        "note: 2 note(s) have modification times in milliseconds (some tools write them, and "
        "learners hold them so); the lockfile keeps them in seconds, marked ms: the first build "
        "is older than the learner's notes and their edits, and an edit of yours is stamped in "
        "milliseconds, newer to Anki"
    ) in said
    assert (
        "note: 1 media file(s) referenced but not in the package: gone.png; they are recorded "
        "under missing_media, so that validate and build warn instead of failing (Anki shows "
        "them as missing too)"
    ) in said
    assert not any(line.startswith(("skipped", "media renamed")) for line in said)

    packages = build_apkg()
    logs = [import_apkg(learner, package) for package in packages]
    assert [sum(len(getattr(log, kind)) for log in logs) for kind in ("new", "updated")] == [0, 0]
    assert sum(len(log.conflicting) for log in logs) == 0
    after = held(learner)
    assert after.notes == before.notes  # every field, tag and time; the learner's edit too
    assert after.cards == before.cards  # every card, its reviews and its due date
    assert after.note_types == before.note_types  # none added, none changed
    assert after.media == before.media

    # The author edits two notes, one stamped in milliseconds: both reach the learner.
    source = Path("sources/course-maths.yaml")
    text = source.read_text("utf-8")
    assert text.count("Back: x squared\n") == 1
    source.write_text(text.replace("Back: x squared\n", "Back: x to the power of 2\n"), "utf-8")
    source = Path("sources/course-vocab.yaml")
    text = source.read_text("utf-8")
    assert text.count("Meaning: a list of T & more\n") == 1
    source.write_text(text.replace("& more\n", "& more, generic\n"), "utf-8")
    logs = [import_apkg(learner, package) for package in build_apkg()]
    assert sum(len(log.updated) for log in logs) == 2
    assert sum(len(log.new) + len(log.conflicting) for log in logs) == 0
    again = held(learner)
    changed = {guid for guid in before.notes if again.notes[guid] != before.notes[guid]}
    assert {again.notes[guid][1][:3] for guid in changed} == {
        ("[$]x^2[/$]", "x to the power of 2", "tikz"),  # a note stamped in milliseconds
        ("List<T>", "", "a list of T & more, generic"),
    }
    assert learner.get_note(edited.id)["Meaning"] == "photograph (my mnemonic: sha-shin)"
    assert learner.get_note(in_ms.id)["Notes"] == "my note"
    assert again.cards == before.cards


def test_a_fresh_collection_gets_from_the_rebuilt_deck_what_it_got_from_the_original(
    tmp_path: Path, original: Path, fresh: Collection, collection: Collection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import_apkg(fresh, original)
    expected = held(fresh)
    monkeypatch.chdir(tmp_path)
    deckkit("import", original, "-o", "sources")
    for package in build_apkg():
        import_apkg(collection, package)
    got = held(collection)
    assert {guid: note[1] for guid, note in got.notes.items()} == {
        guid: note[1] for guid, note in expected.notes.items()
    }  # every field, byte for byte: List<T>, &amp;, entities and media names as they were
    assert {guid: note[2] for guid, note in got.notes.items()} == {
        guid: note[2] for guid, note in expected.notes.items()
    }
    # Every note's time; one stamped in milliseconds comes in seconds (older than the learner's
    # copy in milliseconds, so that it changes nothing there).
    assert {guid: note[3] for guid, note in got.notes.items()} == {
        guid: mod // 1000 if mod >= 10**11 else mod
        for guid, (_mid, _fields, _tags, mod) in expected.notes.items()
    }
    assert {guid: [c[0] for c in cards] for guid, cards in got.cards.items()} == {
        guid: [c[0] for c in cards] for guid, cards in expected.cards.items()
    }  # the same cards: both of the note asking for its reverse card

    # The same note types, ids, fields with their options, templates, CSS, LaTeX: all but the
    # time of those Anki renamed ("Basic+": the fresh collection has its own "Basic"), which
    # Anki stamps when it imports them.
    used = {mid for mid, _fields, _tags, _mod in expected.notes.values()}

    def comparable(note_types: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        return {
            i: {k: v for k, v in nt.items() if k != "mod" or not nt["name"].endswith("+")}
            for i, nt in note_types.items()
            if i in used
        }

    assert comparable(got.note_types) == comparable(expected.note_types)
    assert len(comparable(got.note_types)) == 5
    assert {nt["name"] for nt in expected.note_types.values()} <= {
        nt["name"] for nt in got.note_types.values()
    }
    assert got.media == expected.media == MEDIA  # the template files and the LaTeX image too


def test_the_sources_declare_each_note_type_as_anki_has_it(
    tmp_path: Path, original: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    deckkit("import", original, "-o", "sources")
    vocab = yaml.safe_load(Path("sources/course-vocab.yaml").read_text("utf-8"))
    assert vocab["exactly_as_written"] is True
    (declared,) = vocab["note_types"]
    assert "kind" not in declared  # its cards give their fields by name
    assert "mod" not in declared  # the lockfile holds its time
    assert declared["fields"] == [
        {"name": "Word", "font": "Noto Sans JP", "size": 28, "description": "The word as written"},
        {"name": "Reading", "font": "Noto Sans JP"},
        {"name": "Meaning", "font": "Arial", "sticky": True},
        {"name": "Audio", "font": "Arial", "collapsed": True},
        {"name": "Example", "font": "Arial", "plain_text": True, "exclude_from_search": True},
        {"name": "Arabic", "font": "Amiri", "size": 22, "rtl": True},
    ]
    assert declared["sort_field"] == "Meaning"
    assert declared["templates"][0]["browser_front"] == "{{Word}}"
    assert "browser_front" not in declared["templates"][1]
    assert declared["media"] == ["media/_dk-font.woff2", "media/_highlight.js"]
    assert {card["fields"]["Word"] for card in vocab["cards"]} == {"猫", "List<T>", "写真"}
    assert vocab["missing_media"] == ["gone.png"]
    maths = yaml.safe_load(Path("sources/course-maths.yaml").read_text("utf-8"))
    (declared,) = maths["note_types"]
    assert (declared["latex_pre"], declared["latex_post"]) == (LATEX_PRE, "\\end{document}\n% kept")
    assert maths["cards"][1]["fields"] == {"Front": "2 < 3?", "Back": "yes &amp; always"}
    course = yaml.safe_load(Path("sources/course.yaml").read_text("utf-8"))
    assert course["media"] == [f"media/{LATEX_IMAGE}"]  # made by Anki from a field's LaTeX
    by_type = {card["note_type"]: card for card in course["cards"]}
    assert by_type["Basic (optional reversed card)"]["fields"] == {
        "Front": "oui", "Back": "yes", "Add Reverse": "y",
    }  # fmt: skip
    assert by_type["Basic (optional reversed card)"]["level"] == "beginner"
    assert by_type["Basic"]["front"] == "chat"  # a card shape that gives back every field
    lock = json.loads(Path("deckkit.lock").read_text("utf-8"))
    assert sorted(lock["notes"]) == ["course", "course-maths", "course-vocab"]


# --- media: names kept, renamed only when they must be ------------------------------------------

PLAIN = genanki.Model(
    1_600_000_101,
    "Plain with a script",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Notes"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": '{{Front}}<script src="_x.js"></script>',
            "afmt": "{{FrontSide}}<hr id=answer>{{Back}}{{Notes}}",
        }
    ],
)
PACKAGE_MEDIA = {
    "Photo.png": b"upper-case photo",
    "photo.png": b"lower-case photo",  # one file with Photo.png on macOS and Windows
    "pic.png": b"the package's picture",
    "_x.js": b"window.x = 1;",
    "_orphan.css": b".nobody { loads: me }",
    "notes.txt": b"no note refers to me",
}


def genanki_media_package(folder: Path) -> Path:
    """A package another tool wrote (genanki), carrying files Anki itself would not make: names
    that differ only in case, and files no note refers to."""
    deck = genanki.Deck(2_000_000_101, "Pictures")
    deck.add_note(
        genanki.Note(
            PLAIN,
            ['<img src="Photo.png"><img src="photo.png">', '<img src="pic.png">', "List<T>"],
            guid="g-pictures",
        )
    )
    files = []
    for name, data in PACKAGE_MEDIA.items():
        (_folder(folder / "files") / name).write_bytes(data)
        files.append(str(folder / "files" / name))
    target = folder / "pictures.apkg"
    genanki.Package(deck, media_files=files).write_to_file(str(target), timestamp=1_700_000_000)
    return target


def test_media_keep_their_names_but_where_two_files_would_be_one(
    tmp_path: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = genanki_media_package(tmp_path)
    import_apkg(collection, package)
    before = held(collection)
    monkeypatch.chdir(tmp_path)
    _folder(Path("sources/media"))
    Path("sources/media/pic.png").write_bytes(b"another deck's picture")  # already there
    said = deckkit("import", package, "-o", "sources")
    assert [line for line in said if line.startswith("media")] == [
        "media: 6 file(s) extracted into sources/media under their names in the package",
        "media renamed, references rewritten: 'photo.png' → media/photo-2.png (another file of "
        "the package differs from it only in case)",
        "media renamed, references rewritten: 'pic.png' → media/pic-2.png (a different file is "
        "already media/pic.png)",
    ]
    assert Path("sources/media/pic.png").read_bytes() == b"another deck's picture"
    data = yaml.safe_load(Path("sources/pictures.yaml").read_text("utf-8"))
    assert data["cards"][0]["fields"] == {
        "Front": '<img src="Photo.png"><img src="photo-2.png">',  # only the renamed ones
        "Back": '<img src="pic-2.png">',
        "Notes": "List<T>",
    }
    assert data["media"] == ["media/_orphan.css", "media/notes.txt"]  # loaded by nothing
    assert data["note_types"][0]["media"] == ["media/_x.js"]  # its template loads it
    # The same import again finds its own files: nothing new is renamed or written.
    assert deckkit("import", package, "-o", "sources")[1:] == said[1:]

    (built,) = build_apkg()
    with zipfile.ZipFile(built) as archive:
        names = set(json.loads(archive.read("media")).values())
    assert names == {"Photo.png", "photo-2.png", "pic-2.png", "_x.js", "_orphan.css", "notes.txt"}
    log = import_apkg(collection, built)
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
    assert held(collection).notes == before.notes


def test_names_from_a_package_never_leave_the_media_folder(tmp_path: Path) -> None:
    """Names are a stranger's data: whatever they spell, each file is written inside media/."""
    (tmp_path / "in").mkdir()
    hostile = ["../escape.txt", "a/b.png", "..", "con", "COM1.txt", "x" * 300 + ".png", "a\\b"]
    unused = []
    for index, name in enumerate(hostile):
        path = tmp_path / "in" / str(index)
        path.write_bytes(name.encode())
        unused.append((name, path))
    info = NoteTypeInfo(id=1_500_000_000_001, name="T", fields=("A",), templates=(("{{A}}", ""),))
    note = SourceNote("g", info, (f'<img src="{hostile[0]}">',), (), "D")
    collected = Collected(notes=(note,), note_types_are_original=True, unused_media=tuple(unused))
    written = write_plan(plan_import(collected), tmp_path / "out")
    media = tmp_path / "out" / "media"
    assert len(written.media) == len(hostile)
    for path in written.media:
        assert path.parent == media
        assert portable_name(path.name) == path.name
    assert {path.read_bytes().decode() for path in written.media} == set(hostile)
    assert {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()} == {
        *(Path("in") / str(i) for i in range(len(hostile))),
        *(p.relative_to(tmp_path) for p in written.media),
        Path("out/d.yaml"),
        Path("out/deck.schema.json"),
    }
    # The reference names no file of the package: it is kept as written, as a missing file.
    assert source_data(tmp_path / "out" / "d.yaml")["missing_media"] == ["../escape.txt"]


_ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(_ANY_TEXT, min_size=1, max_size=4))
def test_any_field_text_comes_back_from_the_written_source_byte_for_byte(
    texts: list[str],
) -> None:
    info = NoteTypeInfo(
        id=1_500_000_000_002,
        name="Any",
        fields=tuple(f"F{i}" for i in range(len(texts) + 1)),
        templates=(("{{F0}}", ""),),
    )
    note = SourceNote("g", info, ("x", *texts), (), "D", mod=1)
    with tempfile.TemporaryDirectory() as folder:
        written = write_plan(
            plan_import(Collected(notes=(note,), note_types_are_original=True)), Path(folder)
        )
        deck = deck_from_source(load_source(written.decks[0].path))
        assert deck.fields == (("x", *texts),)


def source_data(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = load_source(path).data
    return data


def test_a_deck_with_errors_gets_no_times_until_it_is_fixed(tmp_path: Path) -> None:
    """Its build would fail: its notes' times wait for an import of the fixed deck. Reaches
    inside (deckkit.importers.locking): no package Anki reads makes sources with errors."""
    info = NoteTypeInfo(id=1_500_000_000_003, name="T", fields=("A",), templates=(("{{A}}", ""),))
    notes = tuple(SourceNote(f"g{deck}", info, ("a",), (), deck, mod=7) for deck in ("D", "E"))
    plan = plan_import(Collected(notes=notes, note_types_are_original=True))
    written = write_plan(plan, tmp_path / "sources")
    broken = Problem(display_path(written.decks[0].path), 1, 1, "broken", "check.x")
    lock = record_times(
        tmp_path / "deckkit.lock", plan.decks, validate([tmp_path]).sources, [broken]
    )
    assert (lock.notes, lock.note_types, lock.left_out) == (1, 1, ("D",))
    times = json.loads((tmp_path / "deckkit.lock").read_text("utf-8"))["notes"]
    assert list(times) == ["e"]
    assert times["e"]["a"]["mod"] == 7


def test_a_note_type_stamped_in_milliseconds_builds_and_its_changes_reach_learners(
    tmp_path: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = Collection(str(_folder(tmp_path / "ms-author") / "collection.anki2"))
    try:
        basic = author.models.copy(author.models.by_name("Basic"))  # a name learners lack
        deck = author.decks.id("Stamped")
        note = author.new_note(basic)
        note["Front"], note["Back"] = "a", "b"
        author.add_note(note, deck)
        author.db.execute(
            "update notetypes set mtime_secs = 1700000000123 where id = ?", basic["id"]
        )
        package = export_package(author, deck, tmp_path / "stamped.apkg")
    finally:
        author.close()
    import_apkg(collection, package)
    monkeypatch.chdir(tmp_path)
    deckkit("import", package, "-o", "sources")
    log = import_apkg(collection, build_apkg()[0])  # builds: the clock is not behind
    assert (len(log.new), len(log.updated)) == (0, 0)
    assert collection.models.get(basic["id"])["mod"] == 1_700_000_000_123
    source = Path("sources/stamped.yaml")
    source.write_text(source.read_text("utf-8").replace("color: black;", "color: navy;"), "utf-8")
    import_apkg(collection, build_apkg()[0])
    assert "color: navy;" in collection.models.get(basic["id"])["css"]
