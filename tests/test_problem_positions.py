"""A problem inside a text value points at the character at fault (issue 12), in every way YAML
writes text: plain, single- and double-quoted (escapes, folded lines), literal and folded blocks.

Values are written by PyYAML's own emitter in each style; for each character a check could point
at, the position found must hold that character as written (or the backslash of its escape), or
be the value's start when the walk does not know the form (never a wrong place).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from deckkit.sources.loader import LoadedSource, load_source

# Reaches inside: ValuePositions is how every check places a problem within a value; the checks'
# own tests (test_validation.py, test_scripts_and_remote_resources.py) show it through validate.
from deckkit.sources.positions import ValuePositions

STYLES = [None, "'", '"', "|", ">"]
pieces = st.sampled_from(
    [
        "a",
        "b",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "<b>",
        "x:y",
        "#",
        "'",
        '"',
        "\\",
        "é",
        "\x1f",
        "\x00",
    ]
)
values = st.lists(pieces, min_size=1, max_size=12).map("".join)


def written(tmp_path: Path, value: str, style: str | None) -> Path:
    """A deck whose card front is ``value``, emitted by PyYAML in ``style`` where it can."""
    scalar = yaml.safe_dump(value, default_style=style, allow_unicode=True, width=20)
    scalar = scalar.removesuffix("...\n")
    first, _, rest = scalar.partition("\n")
    indented = "".join(("      " + line if line else "") + "\n" for line in rest.split("\n"))
    text = "deck: D\nid: d\ncards:\n  - id: a\n    back: b\n    front: " + first + "\n"
    path = tmp_path / "deck.yaml"
    path.write_text(text + indented.rstrip("\n") + "\n", encoding="utf-8")
    return path


def loaded_front(path: Path) -> tuple[LoadedSource, str | None]:
    source = load_source(path)
    data = source.data
    front = data["cards"][0].get("front") if isinstance(data, dict) else None
    return source, front if isinstance(front, str) else None


@settings(
    max_examples=800, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=values, style=st.sampled_from(STYLES), data=st.data())
def test_each_character_is_found_where_it_was_written(
    value: str, style: str | None, data: st.DataObject, tmp_path: Path
) -> None:
    path = written(tmp_path, value, style)
    source, loaded = loaded_front(path)
    assume(loaded == value)  # what PyYAML wrote reads back as written (not so at its edges)
    start = source.mark_of_value(("cards", 0, "front"))
    lines = path.read_text("utf-8").splitlines()
    positions = ValuePositions(source)
    index = data.draw(st.integers(0, len(value) - 1))
    mark = positions.mark(("cards", 0, "front"), loaded, index)
    if mark == start:
        return  # the value's start: allowed (a form the walk does not follow, or index 0)
    char = loaded[index]
    at = lines[mark.line - 1][mark.column - 1 :]
    if char in "\n ":
        return  # a line break or a folded one: placed at the break, which splitlines drops
    assert at.startswith(char) or at.startswith("\\") or (char == "'" and at.startswith("''"))


def test_the_walk_follows_the_common_forms(tmp_path: Path) -> None:
    """Not just the value's start: escapes, folds and blocks are followed to the character."""
    for style, value in [
        ('"', "a\x1fb"),
        ('"', "first line and\nsecond \x00 line"),
        ("|", "line one\nline two <script>"),
        (">", "folded text that goes on and on over several lines <script> here"),
        ("'", "it''s <b>"),
        (None, "plain <b> text"),
    ]:
        path = written(tmp_path, value, style)
        source, loaded = loaded_front(path)
        assert loaded == value, path.read_text("utf-8")
        index = max(loaded.find("<"), loaded.find("\x1f"), loaded.find("\x00"))
        mark = ValuePositions(source).mark(("cards", 0, "front"), loaded, index)
        assert mark != source.mark_of_value(("cards", 0, "front")), (style, value)
