"""Load one YAML card source into plain data, keeping where every key and value was written.

The loader walks libyaml's event stream itself instead of using a YAML constructor, so that it can
keep a position for each node, refuse what a card source never needs (anchors, aliases, explicit
tags such as ``!!python/object``), and report duplicate keys instead of letting the last one win.
It never raises for bad input: every problem becomes a :class:`~deckkit.problems.Problem`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deckkit.gc_pause import gc_paused as gc_paused
from deckkit.problems import Problem, display_path
from deckkit.sources.syntax_hints import explain

_EventLoader: type[yaml.CSafeLoader] | type[yaml.SafeLoader]
try:  # libyaml is several times faster; PyYAML falls back to pure Python without it.
    from yaml import CSafeLoader as _EventLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _EventLoader

PathKey = tuple[str | int, ...]
MAX_DEPTH = 64  # card sources are four levels deep; anything deeper is a mistake or an attack
# Values (scalars, lists, mappings) in one source: a 100,000-card deck has about 1.3 million. The
# cap keeps a hostile file (millions of one-character items) within seconds and ~500 MB.
MAX_NODES = 1_800_000
# 100,000 cards take about 15 MB; a source several times larger is split into decks, not read
# (it would take minutes and gigabytes, and may be an attack).
MAX_SOURCE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a source file."""

    line: int
    column: int


@dataclass
class LoadedSource:
    """A parsed source file: its data (None when unreadable) and the position of every node.

    With ``all_positions`` False only the top-level keys' positions were kept (see load_source):
    a deeper path's mark is then its top-level ancestor's, good for nothing but a placeholder.
    """

    path: Path
    display: str
    data: Any
    problems: list[Problem] = field(default_factory=list)
    all_positions: bool = True
    # Positions packed into one int each (see unpack_position): a million Mark objects would
    # cost a second on a large file.
    value_marks: dict[PathKey, int] = field(default_factory=dict)
    key_marks: dict[PathKey, int] = field(default_factory=dict)
    skipped_paths: set[PathKey] = field(default_factory=set)
    # The project's default for field text (``markdown = true`` in deckkit.toml): whether it is
    # Markdown where neither the deck nor the card says.
    markdown: bool = False
    nodes: int = 0  # values read (see MAX_NODES)

    def mark_of_value(self, path: PathKey) -> Mark:
        """Where the value at ``path`` was written, or its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            position = self.value_marks.get(path[:end])
            if position is not None:
                return unpack_position(position)
        return Mark(1, 1)

    def mark_of_key(self, path: PathKey) -> Mark:
        """Where the key naming ``path`` was written (falls back to its value)."""
        position = self.key_marks.get(path)
        return unpack_position(position) if position else self.mark_of_value(path)

    def problem(self, mark: Mark, message: str, code: str, severity: str = "error") -> Problem:
        """A problem in this file at ``mark``."""
        return Problem(self.display, mark.line, mark.column, message, code, severity)


def load_source(path: Path, *, all_positions: bool = True, markdown: bool = False) -> LoadedSource:
    """Read and parse one source file; problems are collected, never raised.

    ``all_positions=False`` keeps only the positions of the top-level keys: recording a position
    for each of a large file's million values is a third of the time it takes to read it, and a
    file without problems never needs them. A caller that finds a problem in such a source reads
    it again with every position to report it (see ``deckkit.pipeline.check_source``).
    ``markdown`` is the project's default for field text (:attr:`LoadedSource.markdown`).
    """
    source = LoadedSource(
        path=path,
        display=display_path(path),
        data=None,
        all_positions=all_positions,
        markdown=markdown,
    )
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            message = (
                f"file is {size / 1024 / 1024:.0f} MB; deckkit reads sources up to "
                f"{MAX_SOURCE_BYTES // 1024 // 1024} MB: split it into several decks"
            )
            source.problems.append(source.problem(Mark(1, 1), message, "io.too-large"))
            return source
        raw = path.read_bytes()
    except OSError as error:
        source.problems.append(
            source.problem(Mark(1, 1), f"cannot read file: {error.strerror}", "io.read")
        )
        return source
    text = _decode(raw, source)
    del raw  # the bytes are not needed once decoded: a large file would be held twice
    if text is not None:
        _parse(text, source)
    return source


def _decode(raw: bytes, source: LoadedSource) -> str | None:
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        # Columns count characters, as everywhere else, not bytes.
        line_start = before[before.rfind(b"\n") + 1 :]
        column = len(line_start.decode("utf-8", errors="replace")) + 1
        message = (
            f"file is not UTF-8 text (byte 0x{raw[error.start]:02x} cannot be decoded); "
            "save it as UTF-8"
        )
        source.problems.append(source.problem(Mark(line, column), message, "yaml.encoding"))
        return None


def parse_text(text: str) -> LoadedSource:
    """``text`` read as a source is read, fast (deckkit.sources.rereading reads cards so)."""
    source = LoadedSource(path=Path("<text>"), display="<text>", data=None, all_positions=False)
    _parse(text, source)
    return source


def _parse(text: str, source: LoadedSource) -> None:
    builder = _Builder(source)
    try:
        with gc_paused():
            builder.run(yaml.parse(text, Loader=_EventLoader))
            source.nodes = builder.nodes
    except yaml.MarkedYAMLError as error:
        source.data = None
        problem = _syntax_problem(error, text, source)
        # A value read as a mapping key on the same line is the same mistake, said once.
        source.problems[:] = [
            p for p in source.problems if not (p.code == "yaml.key" and p.line == problem.line)
        ]
        source.problems.append(problem)
        return
    except yaml.YAMLError as error:  # reader errors (control characters) carry only an offset
        source.data = None
        position = getattr(error, "position", 0) or 0
        before = text[:position]
        mark = Mark(before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1)
        reason = getattr(error, "reason", None) or "unreadable YAML"
        message = f"YAML cannot contain this character ({reason}); is this a text file?"
        source.problems.append(source.problem(mark, message, "yaml.syntax"))
        return
    except _TooLarge as error:
        source.data = None
        message = (
            f"more than {MAX_NODES:,} YAML values (a 100,000-card deck has about 1.3 million); "
            "split the file into several decks"
        )
        source.problems.append(source.problem(error.mark, message, "yaml.too-large"))
        return
    except _TooDeep as error:
        source.data = None
        source.problems.append(
            source.problem(
                error.mark, f"nesting deeper than {MAX_DEPTH} levels is not allowed", "yaml.depth"
            )
        )
        return
    if builder.documents == 0 or (builder.root is None and not builder.root_mark):
        source.problems.append(
            source.problem(
                Mark(1, 1),
                "file is empty: a deck source needs 'deck', 'id' and 'cards'",
                "yaml.empty",
            )
        )
    source.data = builder.root


def _syntax_problem(error: yaml.MarkedYAMLError, text: str, source: LoadedSource) -> Problem:
    mark = error.problem_mark or error.context_mark
    if mark and error.context_mark and mark.line >= len(text.splitlines()):
        mark = error.context_mark  # past the last line: point at what was left open
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = error.problem or "invalid YAML"
    lines = text.splitlines()
    at_line = lines[line - 1] if 0 < line <= len(lines) else ""
    first = error.context_mark.line + 1 if error.context_mark else 1
    explained = None if "\t" in at_line[:column] else explain(problem, lines, first, line, column)
    if "\t" in at_line[: max(column, 1)] or "\t" in at_line[:1]:
        message = "YAML syntax error: a tab is used for indentation; indent with spaces"
    elif explained is not None:
        line, column = explained.line, explained.column
        message = f"YAML syntax error: {explained.message}"
    else:
        message = f"YAML syntax error: {problem}"
        if error.context:
            message += f" ({error.context}"
            if error.context_mark and error.context_mark.line + 1 != line:
                message += f" at line {error.context_mark.line + 1}"
            message += ")"
    return source.problem(Mark(line, column), message, "yaml.syntax")


class _TooDeep(Exception):
    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark


class _TooLarge(_TooDeep):
    """More values than any real deck has: stop before memory runs out."""


_NO_KEY = object()


class _Builder:
    """Turns parser events into dicts, lists and scalars, recording each node's position.

    One tight loop: a 100,000-card file is over a million events, so per-event work is kept to
    a type check, a dict store and a position tuple.
    """

    def __init__(self, source: LoadedSource) -> None:
        self.source = source
        # How deep a node may be to have its position kept: the root is 0, top-level keys 1.
        self.kept_depth = MAX_DEPTH + 1 if source.all_positions else 1
        self.root: Any = None
        self.root_mark: Mark | None = None
        self.documents = 0
        self.nodes = 0
        # Each frame: [container, path, pending key, pending key position]
        self.stack: list[list[Any]] = []

    def run(self, events: Iterator[yaml.Event]) -> None:
        value_marks = self.source.value_marks
        key_marks = self.source.key_marks
        stack = self.stack
        kept_depth = self.kept_depth
        number_like = _PLAIN_NUMBER_LIKE.match
        scalar_event = yaml.ScalarEvent
        mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        # Exact class tests (`type(event) is`): the cheapest test, and mypy narrows `event` by it.
        for event in events:
            if type(event) is scalar_event:
                if event.anchor is not None or (event.tag is not None and not any(event.implicit)):
                    self._check_node_properties(event)
                self.nodes += 1
                if self.nodes > MAX_NODES:
                    raise _TooLarge(_mark(event))
                depth = len(stack)
                if depth <= kept_depth:
                    start = event.start_mark
                    assert start is not None  # the parser marks every event it emits
                    position = ((start.line + 1) << 32) | (start.column + 1)
                else:
                    position = 0  # not kept (see load_source)
                if not depth:
                    self._set_root(_scalar_value(event), position)
                    continue
                frame = stack[-1]
                container = frame[0]
                if type(container) is not list and frame[2] is _NO_KEY:
                    self._take_key(frame, event, position)
                    continue
                # Text, quoted or plain, is by far the most common value: no need to resolve it.
                value = event.value
                if not value or (event.implicit[0] and number_like(value)):
                    value = _scalar_value(event)
                if type(container) is list:
                    if position:
                        value_marks[(*frame[1], len(container))] = position
                    container.append(value)
                else:
                    key = frame[2]
                    frame[2] = _NO_KEY
                    if type(key) is _DuplicateKey:
                        continue
                    container[key] = value
                    if position:
                        path = (*frame[1], key)
                        key_marks[path] = frame[3]
                        value_marks[path] = position
            elif type(event) is mapping_start or type(event) is sequence_start:
                self._check_node_properties(event)
                position = _position(event)
                self.nodes += 1
                new: dict[str, Any] | list[Any] = {} if type(event) is mapping_start else []
                path = self._attach(new, event, position)
                if len(stack) >= MAX_DEPTH:
                    raise _TooDeep(unpack_position(position))
                stack.append([new, path, _NO_KEY, None])
            elif type(event) is mapping_end or type(event) is sequence_end:
                stack.pop()
            elif type(event) is yaml.AliasEvent:
                self._alias(event)
            elif type(event) is yaml.DocumentStartEvent:
                self.documents += 1
                if self.documents == 2:
                    self._error(
                        event,
                        "a source holds one deck: remove the second YAML document ('---')",
                        "yaml.multiple-documents",
                    )
                    return

    def _set_root(self, value: Any, position: int) -> tuple[()]:
        self.root = value
        self.root_mark = unpack_position(position)
        self.source.value_marks[()] = position
        return ()

    def _attach(self, value: Any, event: yaml.Event, position: int) -> PathKey:
        """Put a new mapping or list in its parent; returns its path."""
        if not self.stack:
            return self._set_root(value, position)
        frame = self.stack[-1]
        container = frame[0]
        if type(container) is list:
            path: PathKey = (*frame[1], len(container))
            container.append(value)
        elif frame[2] is _NO_KEY:
            message = "a key must be plain text, not a list or mapping"
            if type(event) is yaml.MappingStartEvent and event.flow_style:
                message += (  # {{c1::…}}: the outer brace opens a mapping, the inner one its key
                    "; an unquoted value starting with '{' is read as a mapping: if it is text, "
                    'put the whole value in quotes (text: "{{c1::…}} …")'
                )
                self.source.skipped_paths.add(frame[1])  # what it is not is said here, once
            self._error(event, message, "yaml.key")
            frame[2] = _DuplicateKey("?")  # the value that follows is dropped, not read as a key
            frame[3] = position
            return (*frame[1], "?")
        else:
            key = frame[2]
            frame[2] = _NO_KEY
            if type(key) is _DuplicateKey:
                return (*frame[1], key.key, "#duplicate")
            path = (*frame[1], key)
            container[key] = value
            if len(self.stack) <= self.kept_depth:
                self.source.key_marks[path] = frame[3]
        if len(self.stack) <= self.kept_depth:
            self.source.value_marks[path] = position
        return path

    def _alias(self, event: yaml.AliasEvent) -> None:
        self._error(
            event,
            f"YAML aliases ('*{event.anchor}') are not supported: write the value out",
            "yaml.alias",
        )
        position = _position(event)
        if self.stack and type(self.stack[-1][0]) is dict and self.stack[-1][2] is _NO_KEY:
            self.stack[-1][2] = _DuplicateKey(f"*{event.anchor}")
            self.stack[-1][3] = position
        else:
            self.source.skipped_paths.add(self._attach(None, event, position))

    def _take_key(self, frame: list[Any], event: yaml.ScalarEvent, position: int) -> None:
        mapping, path = frame[0], frame[1]
        key = event.value
        if key == "<<" and event.implicit[0]:
            self._error(
                event, "YAML merge keys ('<<') are not supported: write the keys out", "yaml.merge"
            )
        if key in mapping:
            first = self.source.key_marks.get((*path, key))
            where = f" (first written at line {first >> 32})" if first else ""
            self._error(event, f"duplicate key '{key}'{where}: keep one", "yaml.duplicate-key")
            frame[2] = _DuplicateKey(key)
        else:
            frame[2] = key
        frame[3] = position

    def _check_node_properties(self, event: yaml.NodeEvent) -> None:
        if event.anchor is not None:
            self._error(
                event,
                f"YAML anchors ('&{event.anchor}') are not supported: write each value out",
                "yaml.anchor",
            )
        tag = getattr(event, "tag", None)
        implicit = getattr(event, "implicit", True)
        if tag is None:
            return
        explicit = not any(implicit) if isinstance(implicit, tuple) else not implicit
        if explicit and tag not in ("!", "tag:yaml.org,2002:str"):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            self._error(
                event, f"YAML tags such as '{shown}' are not allowed: remove it", "yaml.tag"
            )

    def _error(self, event: yaml.Event, message: str, code: str) -> None:
        self.source.problems.append(self.source.problem(_mark(event), message, code))


class _DuplicateKey:
    def __init__(self, key: str) -> None:
        self.key = key


def _position(event: yaml.Event) -> int:
    """Where ``event`` starts, packed into one int (see unpack_position)."""
    start = event.start_mark
    assert start is not None  # the parser marks every event it emits
    return ((start.line + 1) << 32) | (start.column + 1)


def unpack_position(position: int) -> Mark:
    """The Mark of a packed position: 1-based line in the high bits, column in the low 32.

    A 100,000-card file has over a million positions; one int each, instead of a tuple of two,
    saves a quarter of the loader's memory.
    """
    return Mark(position >> 32, position & 0xFFFFFFFF)


def _mark(event: yaml.Event) -> Mark:
    return unpack_position(_position(event))


# Plain scalars are read by YAML 1.2's core schema, as editors and check-jsonschema read them:
# `yes`, `no`, `on`, `off`, `y`, `1_000`, `1:30` are text (YAML 1.1, PyYAML's own reading, made
# them booleans and numbers, so `answer: yes` passed the editor and failed here).
_PLAIN_NUMBER_LIKE = re.compile(r"^[-+.0-9]|^(?:true|false|null|~)$", re.I)
_CORE_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_CORE_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False}
_CORE_BOOL["FALSE"] = False
_CORE_INT = re.compile(r"[-+]?[0-9]+")
_CORE_OCTAL = re.compile(r"0o[0-7]+")
_CORE_HEX = re.compile(r"0x[0-9a-fA-F]+")
_CORE_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_CORE_INFINITY = re.compile(r"([-+]?)\.(?:inf|Inf|INF)")
_CORE_NAN = frozenset({".nan", ".NaN", ".NAN"})


def _scalar_value(event: yaml.ScalarEvent) -> Any:
    """Plain scalars resolve to numbers, booleans and null as YAML 1.2's core schema says; all
    else is text."""
    if not event.implicit[0] or (event.value == "" and event.style in ("'", '"')):
        return event.value
    value = event.value
    if value and not _PLAIN_NUMBER_LIKE.match(value):
        return value
    try:
        return _core_value(value)
    except ValueError:  # over Python's 4,300 digits: far beyond any number Anki keeps
        return value  # text, which the schema refuses where a number belongs


def reads_as_text(value: str) -> bool:
    """Whether ``value`` written as a plain (unquoted) scalar is read back as this text; a
    writer of sources quotes it otherwise (``"1e3"``, ``"0o17"``: text for YAML 1.1's writers)."""
    if value and not _PLAIN_NUMBER_LIKE.match(value):
        return True
    try:
        return bool(_core_value(value) == value)
    except ValueError:  # a number too long for Python: read as text
        return True


def _core_value(value: str) -> Any:
    """A plain scalar as YAML 1.2's core schema reads it (text when it is no other type)."""
    if value in _CORE_NULL:
        return None
    if value in _CORE_BOOL:
        return _CORE_BOOL[value]
    if _CORE_INT.fullmatch(value):
        return int(value)
    if _CORE_OCTAL.fullmatch(value):
        return int(value[2:], 8)
    if _CORE_HEX.fullmatch(value):
        return int(value[2:], 16)
    if _CORE_FLOAT.fullmatch(value):
        return float(value)
    infinity = _CORE_INFINITY.fullmatch(value)
    if infinity:
        return float(f"{infinity[1]}inf")
    if value in _CORE_NAN:
        return float("nan")
    return value
