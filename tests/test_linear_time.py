"""A stranger's text takes time in proportion to its size (issue 12): no pattern or loop reads it
again and again.

Each attack named in the issue (and a few found while fixing them) runs through deckkit's public
API or command line in a real process capped at 120 s and 2 GB of address space. Time is never
compared with a fixed number of seconds: where a step used to be quadratic or worse, the input is
made 8 times larger and the time may grow at most 16-fold (a quadratic step grows 64-fold; the
sizes are ones where the old code took seconds, so it fails by its timeout or by that ratio). The
inputs are generated here, in ``tmp_path``.

tests/test_fast_paths.py pins each rewritten function against its old definition: same results.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import resource
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from conftest import REPO
from deckkit.cardtypes import MultipleChoice
from deckkit.exporters.quizlet import Separators
from deckkit.notetypes import choices_html, concepts_html

TIMEOUT = 120  # seconds, for every process here


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src"), "PYTHONDONTWRITEBYTECODE": "1"}


def deckkit(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m deckkit ARGS` in its own process, capped at 120 s and 2 GB."""
    return subprocess.run(
        [sys.executable, "-m", "deckkit", *map(str, args)],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_cap_address_space,
        check=False,
    )


def best_seconds(setup: str, call: str, cwd: Path) -> float:
    """The shortest of three timings of ``call`` after ``setup``, in a fresh capped process.

    Only the call is timed: not starting Python, importing deckkit or writing the input. The
    setup may use ``Path`` and this module's helpers."""
    prelude = f"import sys\nfrom pathlib import Path\nsys.path.insert(0, {str(REPO / 'tests')!r})\n"
    code = (
        prelude
        + textwrap.dedent(setup)
        + textwrap.dedent(f"""
        import time
        times = []
        for _ in range(3):
            start = time.perf_counter()
            {call}
            times.append(time.perf_counter() - start)
        print(min(times))
    """)
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_cap_address_space,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout.split()[-1])


def assert_linear(setup: str, call: str, size: int, cwd: Path) -> None:
    """``call`` on an input 8 times larger takes at most 16 times as long.

    ``setup`` makes the input from ``size`` (a Python name it can use)."""
    small = best_seconds(f"size = {size}\n" + textwrap.dedent(setup), call, cwd)
    large = best_seconds(f"size = {8 * size}\n" + textwrap.dedent(setup), call, cwd)
    assert large <= 16 * small, f"8x the input took {large / small:.0f}x as long"


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr


# --- import: reading back deckkit's own lists -------------------------------------------------

CSV_HEADER = [
    "#separator:Comma",
    "#html:true",
    "#guid column:1",
    "#notetype column:2",
    "#deck column:3",
    "#tags column:4",
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    """An Anki CSV export as deckkit writes one: GUID, note type, deck, tags, then the fields."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\n".join(CSV_HEADER) + "\n")
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return path


def crafted_choices(repeats: int) -> str:
    """A "Marked choices" field holding the markup between every two of 8 choices many times
    over, and never closed: a lazy pattern of 8 groups tried every way of placing them."""
    placeholders = tuple(f"\x00{i}\x00" for i in range(8))
    full = choices_html(MultipleChoice("", placeholders, tuple("ABCDEFGH"), ""), marked=True)
    gaps = re.split("\x00\\d+\x00", full)
    return gaps[0] + "x" + "".join((gap + "x") * repeats for gap in gaps[1:-1]) + "</span>"


def multiple_choice_row(marked: str) -> list[str]:
    return ["guid-mc", "deckkit Multiple choice", "Attack", "", "Q?", "", marked, "A", ""]


def open_row(concepts: str, guid: str = "guid-open") -> list[str]:
    return [guid, "deckkit Explain", "Attack", "", "Explain.", "", concepts, "", ""]


def test_a_crafted_multiple_choice_field_is_refused_at_once(tmp_path: Path) -> None:
    """5.7 KB: the old reader would have taken about ten minutes (4.7 KB took 205 s)."""
    marked = crafted_choices(6)
    assert len(marked) < 6000
    attack = write_csv(tmp_path / "attack.csv", [multiple_choice_row(marked)])
    done = deckkit("import", attack, "-o", tmp_path / "sources", cwd=tmp_path)
    no_traceback(done)
    assert "its choices could not be read" in done.stdout + done.stderr


def test_reading_back_multiple_choice_fields_takes_linear_time(tmp_path: Path) -> None:
    setup = """
        from test_linear_time import crafted_choices, multiple_choice_row, write_csv
        from deckkit import import_file
        attack = write_csv(Path("attack.csv"), [multiple_choice_row(crafted_choices(size))])
    """
    call = 'import_file(attack, Path("sources"), force=True)'
    assert_linear(setup, call, 200, tmp_path)


def test_a_checklist_of_thousands_of_items_imports_at_once(tmp_path: Path) -> None:
    """2,000 concepts took 213 s and 700 MB; 3,000 '<li>' in a 12 KB CSV took longer."""
    concepts = concepts_html(tuple(f"concept {i}" for i in range(2000)))
    rows = [open_row(concepts), open_row("<li>" * 3000, guid="guid-li")]
    attack = write_csv(tmp_path / "attack.csv", rows)
    done = deckkit("import", attack, "-o", tmp_path / "sources", cwd=tmp_path)
    no_traceback(done)
    assert "its concepts could not be read" in done.stdout + done.stderr
    written = (tmp_path / "sources").glob("*.yaml")
    assert any("concept 1999" in path.read_text("utf-8") for path in written)


def test_reading_back_checklists_takes_linear_time(tmp_path: Path) -> None:
    setup = """
        from test_linear_time import open_row, write_csv
        from deckkit import import_file
        from deckkit.notetypes import concepts_html
        # Each concept holds an '<li' of its own: there are more '<li' than concepts.
        items = concepts_html(tuple(f"concept {i}: <li>" for i in range(size)))
        attack = write_csv(Path("attack.csv"), [open_row(items)])
    """
    call = 'import_file(attack, Path("sources"), force=True)'
    assert_linear(setup, call, 1000, tmp_path)


def test_unescaping_imported_text_takes_linear_time(tmp_path: Path) -> None:
    """Each '&lt;' used to copy the rest of the field to look at it (and each '<' of a Quizlet
    export likewise): quadratic in a field of many."""
    setup = """
        from test_linear_time import write_csv
        from deckkit import import_file
        row = ["guid-b", "Basic", "Attack", "", "&lt;b x " * size, "back"]
        attack = write_csv(Path("attack.csv"), [row])
    """
    call = 'import_file(attack, Path("sources"), force=True)'
    assert_linear(setup, call, 20_000, tmp_path)


def test_a_quizlet_export_of_many_bare_tags_takes_linear_time(tmp_path: Path) -> None:
    setup = """
        from deckkit import import_file
        attack = Path("attack.txt")
        attack.write_text("term\\t" + "<b x " * size + "\\n", encoding="utf-8")
    """
    call = 'import_file(attack, Path("sources"), fmt="quizlet", force=True)'
    assert_linear(setup, call, 50_000, tmp_path)


# --- validate and build: a source's fields ----------------------------------------------------


def write_source(path: Path, front: str) -> Path:
    """A deck of one basic card whose front is ``front`` (a JSON string is a YAML one)."""
    path.write_text(
        f"deck: Attack\nid: attack\ncards:\n  - id: a\n    front: {json_string(front)}\n"
        "    back: b\n",
        encoding="utf-8",
    )
    return path


def json_string(text: str) -> str:
    return json.dumps(text)


def test_the_media_scan_of_a_field_of_unclosed_img_tags_takes_linear_time(
    tmp_path: Path,
) -> None:
    """160 KB of '<img ' without a '>' took 68 s to validate."""
    setup = """
        from test_linear_time import write_source
        from deckkit import validate
        source = write_source(Path("attack.yaml"), "<img " * size)
    """
    assert_linear(setup, "assert validate([source]).ok", 32_000, tmp_path)


def test_the_unclosed_tag_check_of_a_field_of_mismatched_tags_takes_linear_time(
    tmp_path: Path,
) -> None:
    """350 KB of '<b></i>' took 28 s to validate."""
    setup = """
        from test_linear_time import write_source
        from deckkit import validate
        source = write_source(Path("attack.yaml"), "<b></i>" * size)
    """
    assert_linear(setup, "validate([source])", 25_000, tmp_path)


def test_escaping_a_field_of_many_unclosed_known_tags_takes_linear_time(tmp_path: Path) -> None:
    """40,000 '<img ' took about 5 s to escape, at each of validate's checks and at the build."""
    setup = """
        from test_linear_time import write_source
        from deckkit import build
        source = write_source(Path("attack.yaml"), "<img " * size)
    """
    call = 'build([source], Path("out"), formats=["csv"], lockfile=Path("deckkit.lock"))'
    assert_linear(setup, call, 40_000, tmp_path)


def test_line_breaks_in_a_field_of_many_tags_take_linear_time(tmp_path: Path) -> None:
    """Each line break outside a tag becomes <br> (issue 15): one tag spanning many lines, many
    tags each on its line, and a deck checking for elements that lay out their own lines."""
    setup = """
        from test_linear_time import write_source
        from deckkit import build
        source = write_source(Path("attack.yaml"), "<i \\n" * size + ">" + "<b>\\n" * size)
    """
    call = 'build([source], Path("out"), formats=["csv"], lockfile=Path("deckkit.lock"))'
    assert_linear(setup, call, 40_000, tmp_path)


# --- build: the Quizlet export's separators ---------------------------------------------------


def test_choosing_quizlet_separators_ends_whatever_the_fields_hold(tmp_path: Path) -> None:
    """A tab in one card, every usual custom separator in another and a definition ending in '~':
    each longer run of '~' was tried in turn, for ever."""
    source = tmp_path / "attack.yaml"
    source.write_text(
        "deck: Attack\nid: attack\ncards:\n"
        '  - {id: a, front: "a\\tb", back: "ends with ~"}\n'
        '  - {id: b, front: "c", back: ";;; ||| @@@ ~~~ ^^^ %%% &&& ~~~~~~~~~~~~"}\n',
        encoding="utf-8",
    )
    done = deckkit(
        "build", source, "-o", tmp_path / "out", "--format", "quizlet", "--lockfile",
        tmp_path / "deckkit.lock", cwd=tmp_path,
    )  # fmt: skip
    no_traceback(done)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Custom: ~~~~~~~~~~~~~#" in done.stdout  # longer than any run of '~' in a card
    text = (tmp_path / "out" / "attack.quizlet.txt").read_text("utf-8")
    separators = Separators(" " + "^" * 13 + " ", "~" * 13 + "#")
    assert [tuple(card.split(separators.term)) for card in text.split(separators.card)] == [
        ("a\tb", "ends with ~"),
        ("c", ";;; ||| @@@ ~~~ ^^^ %%% &&& ~~~~~~~~~~~~"),
    ]


def test_choosing_quizlet_separators_takes_linear_time_in_the_longest_run(
    tmp_path: Path,
) -> None:
    """Each length up to the longest run of '~' in a card was tried on the whole deck."""
    setup = """
        from deckkit import build
        source = Path("attack.yaml")
        source.write_text(
            "deck: Attack\\nid: attack\\ncards:\\n"
            '  - {id: a, front: "a\\\\tb", back: "x"}\\n'
            f'  - {{id: b, front: "c", back: ";;; ||| @@@ ^^^ %%% &&& {"~" * size}"}}\\n',
            encoding="utf-8",
        )
    """
    call = 'build([source], Path("out"), formats=["quizlet"], lockfile=Path("deckkit.lock"))'
    assert_linear(setup, call, 20_000, tmp_path)


# --- import: mapping a stranger's note type ---------------------------------------------------


def test_mapping_a_note_type_of_thousands_of_fields_takes_linear_time(tmp_path: Path) -> None:
    """A note type's template naming its last field over and over was looked up in the list of
    fields each time, and every field was searched for in a template as a section.

    Reaches inside (deckkit.importers.mapping): a package with such a note type takes Anki's own
    importer, which deckkit runs first, longer than the mapping this times."""
    setup = """
        from deckkit.importers.mapping import roles_for
        from deckkit.importers.types import NoteTypeInfo
        names = tuple(f"F{i}" for i in range(size))
        reverse = "{{F0}}" + "".join(f"{{{{#{name}}}}}{{{{/{name}}}}}" for name in names)
        forward = "{{" + names[-1] + "}}"
        note_type = NoteTypeInfo(
            1, "N", names, ((forward * size, "{{FrontSide}}"), (reverse, "{{FrontSide}}"))
        )
    """
    assert_linear(setup, "roles_for(note_type)", 2_500, tmp_path)


def test_finding_the_files_a_stranger_s_templates_load_takes_linear_time(tmp_path: Path) -> None:
    """Which of a package's ``_`` files its templates and CSS load: thousands of files, and CSS
    of thousands of unclosed ``url(_`` (a pattern reading lazily to a ')' read on to the end
    from each). Reaches inside (deckkit.importers.flat_media), timed alone."""
    setup = """
        from deckkit.importers.flat_media import template_media
        names = {f"_f{i}.woff2" for i in range(size)}
        css = "url(_" * size + "".join(f'url("_f{i}.woff2")' for i in range(0, size, 7))
    """
    call = "assert len(template_media([css, '{{Front}}'], names)) == len(range(0, size, 7))"
    assert_linear(setup, call, 100_000, tmp_path)


def test_naming_thousands_of_files_that_differ_only_in_case_takes_linear_time(
    tmp_path: Path,
) -> None:
    """Files one on macOS and Windows are renamed: each numbered from where the last stopped.
    Reaches inside (deckkit.importers.flat_media), timed alone."""
    setup = """
        import itertools
        from deckkit.importers.flat_media import FlatMedia
        folder = Path("media")
        folder.mkdir(exist_ok=True)
        spellings = itertools.product(*(("a", "A") for _ in range(size.bit_length())))
        names = ("".join(letters) + ".png" for letters in itertools.islice(spellings, size))
        files = {name: folder / "x" for name in names}
    """
    call = "assert len(FlatMedia(folder, dict(sorted(files.items()))).renamed) == len(files) - 1"
    assert_linear(setup, call, 2_000, tmp_path)


def many_note_types(size: int) -> str:
    """A source declaring ``size`` note types, whose ``size`` cards each name an undeclared one."""
    lines = ["deck: Attack", "id: attack", "cards:"]
    lines += [f"  - {{id: c{i}, note_type: Missing, front: f, back: b}}" for i in range(size)]
    lines.append("note_types:")
    lines += [
        f"  - {{name: T{i}, id: {i + 1}, mod: 0, kind: basic,"
        " fields: [{name: F, role: front}, {name: B, role: back}],"
        ' templates: [{name: C, front: "{{F}}", back: "{{B}}"}]}'
        for i in range(size)
    ]
    return "\n".join(lines) + "\n"


def test_cards_naming_an_unknown_note_type_take_linear_time(tmp_path: Path) -> None:
    """Each card's problem listed every declared note type: quadratic time and memory."""
    setup = """
        from test_linear_time import many_note_types
        from deckkit import validate
        source = Path("attack.yaml")
        source.write_text(many_note_types(size), encoding="utf-8")
    """
    call = "assert max(len(p.message) for p in validate([source]).problems) < 400"
    assert_linear(setup, call, 1_000, tmp_path)


def test_templates_and_cloze_texts_of_many_unclosed_tags_are_read_in_linear_time() -> None:
    # Reaches inside: the two readers a stranger's import or kept template reaches, timed alone.
    from deckkit.importers.plan import _revealed
    from deckkit.notetypes import template_syntax_problem, template_tags

    def seconds(read: Callable[[int], object], size: int) -> float:
        started = time.perf_counter()
        read(size)
        return time.perf_counter() - started

    for read in (
        lambda n: list(template_tags("{{#A}}" + "{{ " * n)),
        lambda n: template_syntax_problem("{{#A}}x" * n),
        lambda n: _revealed("{{c1::a}}" + "{{c1::" * n),
    ):
        small = seconds(read, 5_000)
        large = seconds(read, 40_000)
        assert large < 16 * small + 0.5  # 8x the input; the old patterns took minutes here


def test_mathjax_in_a_revealed_cloze_is_read_as_anki_reads_it_in_linear_time() -> None:
    # Reaches inside: the preview's MathJax step, pinned to Anki's pattern and timed alone.
    from deckkit.preview.templates import _HTML, _strip_html_inside_mathjax

    anki = re.compile(r"(\\[(\[])(.*?)(\\[)\]])", re.DOTALL | re.IGNORECASE)
    pieces = ["\\(", "\\)", "\\[", "\\]", "<b>", "</b>", "<", "x", "\\", "("]
    for size in range(6):
        for text in map("".join, itertools.product(pieces, repeat=min(size, 3))):
            expected = anki.sub(lambda m: m[1] + _HTML.sub("", m[2]) + m[3], text)
            assert _strip_html_inside_mathjax(text) == expected
    started = time.perf_counter()
    _strip_html_inside_mathjax("\\( <b>" * 5_000)
    small = time.perf_counter() - started
    started = time.perf_counter()
    _strip_html_inside_mathjax("\\( <b>" * 40_000)
    assert time.perf_counter() - started < 16 * small + 0.5  # 8x the input
