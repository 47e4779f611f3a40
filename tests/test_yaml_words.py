"""Plain words are read as YAML 1.2 reads them, so deckkit agrees with editors and
check-jsonschema about which values are text (issue 15: `answer: yes`)."""

from __future__ import annotations

import json
from pathlib import Path

from deckkit import validate
from deckkit.importers.yaml_writer import source_text
from deckkit.sources.loader import load_source

FIXTURES = Path(__file__).parent / "fixtures"
YES_NO = FIXTURES / "yaml-words" / "yes-no.yaml"


def test_yes_no_on_off_are_text_as_in_yaml_1_2() -> None:
    result = validate([YES_NO])
    assert result.problems == ()
    cards = load_source(YES_NO).data["cards"]
    assert cards[0]["back"] == "yes"
    assert cards[1]["choices"] == ["yes", "no", "on", "off"]
    assert cards[2]["back"] == "1:30"  # YAML 1.1 read 90 (base 60)
    assert cards[2]["tags"] == ["on", "y"]


def test_true_false_null_and_numbers_keep_their_yaml_1_2_types(tmp_path: Path) -> None:
    source = tmp_path / "types.yaml"
    source.write_text(
        "a: true\nb: False\nc: null\nd: ~\ne: 42\nf: 0o17\ng: 0x1F\nh: 1.5e3\ni: -.inf\n"
        "j: 010\nk: 1_000\nl: Yes\n",
        encoding="utf-8",
    )
    data = load_source(source).data
    assert data == {
        "a": True,
        "b": False,
        "c": None,
        "d": None,
        "e": 42,
        "f": 15,
        "g": 31,
        "h": 1500.0,
        "i": float("-inf"),
        "j": 10,  # YAML 1.1: 8 (octal)
        "k": "1_000",
        "l": "Yes",
    }


def test_the_schema_says_how_deckkit_reads_yaml() -> None:
    schema = json.loads(
        (FIXTURES.parent.parent / "schemas" / "deck.schema.json").read_text("utf-8")
    )
    assert "YAML 1.2" in schema["$comment"]
    assert "yes, no, on, off" in schema["$comment"]


def test_an_imported_text_that_yaml_1_2_reads_as_a_number_is_written_in_quotes(
    tmp_path: Path,
) -> None:
    texts = ["1e3", "0o17", "+.5", ".NaN", "true", "null", "yes", "1:30", "x"]
    card = {"id": "a", "front": "1.5e3", "back": "0o17", "tags": texts}
    source = tmp_path / "imported.yaml"
    source.write_text(source_text({"deck": "D", "id": "d", "cards": [card]}, ""), "utf-8")
    (read,) = load_source(source).data["cards"]
    assert read == card
