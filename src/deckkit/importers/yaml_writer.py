"""An imported deck's source text: YAML as a person writes it, with a header that says where it
came from and what its `guid` and `note_type` keys are for.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from deckkit.sources.loader import reads_as_text

SCHEMA_FILE = "deck.schema.json"


class Flow(list[Any]):
    """A short list written on one line: `tags: [a, b]`."""


class FlowMap(dict[Any, Any]):
    """A short mapping written on one line: `- {name: Front, role: front}`."""


class _SourceDumper(yaml.SafeDumper):
    """Block style, lists indented under their key, multi-line text as `|` literals, no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


# Characters a YAML reader takes for line breaks or drops, which PyYAML writes as they are in
# plain, quoted and block scalars (a field's NEL came back as a space): only double quotes,
# where they are escaped, keep them.
_NOT_LITERAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if _NOT_LITERAL.search(value):
        style = '"'
    elif "\n" in value and not value.endswith("\n\n"):
        # A `|` block; not one keeping several final line breaks (`|+`), which would also keep
        # the blank line written after it between cards.
        style = "|"
    elif not reads_as_text(value):
        # PyYAML quotes what YAML 1.1 reads as another type; deckkit reads YAML 1.2, where
        # `1e3` and `0o17` are numbers too.
        style = "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow(dumper: yaml.SafeDumper, value: Flow) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value), flow_style=True)


def _represent_flow_map(dumper: yaml.SafeDumper, value: FlowMap) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(value), flow_style=True)


_SourceDumper.add_representer(str, _represent_str)
_SourceDumper.add_representer(Flow, _represent_flow)
_SourceDumper.add_representer(FlowMap, _represent_flow_map)


# A card is written with libyaml's emitter where PyYAML has it: the same representers, ten times
# quicker (PyYAML's own emitter took 4 of the 6 seconds an import of 8,853 notes took). libyaml
# writes a list under a key without indenting it, so a card holding a block list (choices) is
# written by the Python emitter, whose lists are indented like the rest of the file.
class _CardDumper(getattr(yaml, "CSafeDumper", _SourceDumper)):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


_CardDumper.add_representer(str, _represent_str)
_CardDumper.add_representer(Flow, _represent_flow)
_CardDumper.add_representer(FlowMap, _represent_flow_map)


def source_text(data: dict[str, Any], origin: str) -> str:
    """A deck's source file: the header, then ``data`` as block-style YAML."""
    return "\n".join([*_header(data, origin), ""]) + _body(data)


def _body(data: dict[str, Any]) -> str:
    keys = list(data)
    split = keys.index("cards") if "cards" in keys else len(keys)
    body = _dumped({key: data[key] for key in keys[:split]}, _SourceDumper)
    if "cards" in data:
        # A blank line before the cards and between them.
        body += "\ncards:\n" + "\n".join(_card_text(card) for card in data["cards"])
    rest = _dumped({key: data[key] for key in keys[split + 1 :]}, _SourceDumper)
    # A blank line before each key after the cards, and between the note types.
    rest = re.sub(r"^([a-z_]+):\n", r"\n\1:\n", rest, flags=re.MULTILINE)
    if "note_types" in data:
        rest = re.sub(r"(?<!\nnote_types:)\n(  - name: )", r"\n\n\1", rest)
    return body + rest


def _dumped(data: Any, dumper: type[Any], width: int = 100) -> str:
    if data == {}:
        return ""
    text: str = yaml.dump(
        data,
        Dumper=dumper,
        sort_keys=False,
        allow_unicode=True,
        width=width,
        default_flow_style=False,
    )
    return text


def _card_text(card: dict[str, Any]) -> str:
    """One card as an item of the ``cards`` list: its mapping, indented under ``  - ``."""
    block_list = any(isinstance(v, list) and not isinstance(v, Flow) for v in card.values())
    text = _dumped(card, _SourceDumper if block_list else _CardDumper, width=96)
    lines = text.split("\n")[:-1]  # split on line feeds only: the text ends with one
    return "".join(
        ("  - " if position == 0 else "    " if line else "") + line + "\n"
        for position, line in enumerate(lines)
    )


def _header(data: dict[str, Any], origin: str) -> list[str]:
    header = [
        f"# yaml-language-server: $schema={SCHEMA_FILE}",
        "#",
        f"# Brought in with `deckkit import` from {origin}."
        if origin
        else "# Brought in with `deckkit import`.",
        "# A card's `guid` is the identity of the Anki note it came from: keep it, so that",
        "# importing the rebuilt deck updates that note and its history instead of adding a copy.",
    ]
    if data.get("exactly_as_written"):
        header += [
            "# Its text is Anki's, byte for byte (`exactly_as_written`), and its media are the",
            "# files of media/ under their names in Anki; deckkit.lock holds each note's time in",
            "# the package, so that the first build changes nothing in a learner's collection.",
        ]
    if "note_types" in data:
        header += [
            "# A card's `note_type` names the Anki note type it had, kept under `note_types` at",
            "# the end: Anki updates a note only from a note of the same note type. Keep their ids",
            "# and field and template names; changed templates or styling reach learners by the",
            "# time deckkit.lock gives them.",
        ]
    return header
