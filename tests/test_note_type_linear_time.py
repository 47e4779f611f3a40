"""Declared note types from a stranger's deck take time in proportion to their size (issue 13's
"still safe"): a note type of many thousands of fields, a template of a megabyte, cards naming
fields that do not exist, CSS of many url()s. As in tests/test_linear_time.py, each runs in a
capped process, and an input 8 times larger may take at most 16 times as long."""

from __future__ import annotations

import json
from pathlib import Path

from test_linear_time import assert_linear, deckkit, no_traceback


def wide_note_type(size: int) -> str:
    """A deck whose note type has ``size`` fields, every one shown by a section of the front and
    one unknown field beside each; a card gives them all, misspelling one; cards name fields the
    note type lacks, leave its required field out and make no card."""
    names = [f"F{i}" for i in range(size)]
    front = "".join(f"{{{{#{n}}}}}{{{{{n}}}}}{{{{/{n}}}}}{{{{G{i}}}}}" for i, n in enumerate(names))
    note_type = {
        "name": "Wide",
        "fields": [{"name": "F0", "required": True}, *names[1:]],
        "sort_field": "F",
        "templates": [{"name": "Card 1", "front": front, "back": "{{FrontSide}}"}],
    }
    given = {name: "x" for name in names[1:]} | {"F0x": "typo"}
    cards = [{"id": "all", "note_type": "Wide", "fields": given}]
    cards += [
        {"id": f"c{j}", "note_type": "Wide", "fields": {f"H{j}": "x"}} for j in range(size // 10)
    ]
    deck = {"deck": "Wide", "id": "wide", "note_types": [note_type], "cards": cards}
    return json.dumps(deck)  # JSON is YAML: one line each, quick to write


def huge_templates(size: int) -> str:
    """A deck whose note type's templates and CSS repeat what costs a checker time: sections of
    one field nested ``size`` deep, ``size`` nested sections of fields that do not exist and are
    never closed, comments never closed, files loaded that are not listed, and url()s."""
    templates = [
        {"name": "Nested", "front": "{{#A}}" * size + "{{Word}}" + "{{/A}}" * size},
        {"name": "Open", "front": "".join(f"{{{{^N{i}}}}}" for i in range(size)) + "{{Word}}"},
        {"name": "Comments", "front": "<!--{{" * size + "{{Word}}"},
        {"name": "Loads", "front": "".join(f'<img src="_p{i}.png">' for i in range(size))},
    ]
    for template in templates:
        template["back"] = "{{FrontSide}}"
    css = "".join(f".c{i} {{ background: url(_img{i}.png) }}\n" for i in range(size))
    note_type = {"name": "Huge", "fields": ["Word", "A"], "templates": templates, "css": css}
    cards = [
        {"id": f"c{j}", "note_type": "Huge", "fields": {"Word": f"w{j}", "A": "a" * (j % 2)}}
        for j in range(200)
    ]
    deck = {"deck": "Huge", "id": "huge", "note_types": [note_type], "cards": cards}
    return json.dumps(deck)


def test_a_note_type_of_many_fields_is_checked_in_linear_time(tmp_path: Path) -> None:
    source = tmp_path / "wide.yaml"
    source.write_text(wide_note_type(2_000), encoding="utf-8")
    done = deckkit("validate", source, cwd=tmp_path)
    no_traceback(done)
    assert "did you mean 'F0'?" in done.stdout  # the card's misspelt field
    assert "check.no-card" in done.stdout
    setup = """
        from test_note_type_linear_time import wide_note_type
        from deckkit import validate
        source = Path("wide.yaml")
        source.write_text(wide_note_type(size), encoding="utf-8")
    """
    call = "assert len(validate([source]).problems) < 10 + size // 2"
    assert_linear(setup, call, 2_500, tmp_path)


def test_a_megabyte_of_templates_and_css_is_checked_in_linear_time(tmp_path: Path) -> None:
    source = tmp_path / "huge.yaml"
    source.write_text(huge_templates(20_000), encoding="utf-8")
    assert source.stat().st_size > 1_000_000
    done = deckkit("validate", source, cwd=tmp_path)
    no_traceback(done)
    assert "check.template-media-unlisted" in done.stdout
    setup = """
        from test_note_type_linear_time import huge_templates
        from deckkit import validate
        source = Path("huge.yaml")
        source.write_text(huge_templates(size), encoding="utf-8")
    """
    assert_linear(setup, "assert validate([source]).problems", 2_500, tmp_path)


def test_the_preview_reads_css_of_many_urls_in_linear_time(tmp_path: Path) -> None:
    setup = """
        from deckkit.preview.css import balanced_css
        from deckkit.preview.sanitise import media_url
        css = "".join(f".c{i} {{ background: url(_img{i}.png) }} " for i in range(size))
        local = media_url({f"_img{i}.png" for i in range(0, size, 2)})
    """
    assert_linear(setup, 'assert "media/_img0.png" in balanced_css(css, local)', 20_000, tmp_path)
