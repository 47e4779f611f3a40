"""Load one YAML card source into plain data, keeping where every key and value was written.

The loader walks libyaml's event stream itself instead of using a YAML constructor, so that it can
keep a position for each node, refuse what a card source never needs (anchors, aliases, explicit
tags such as ``!!python/object``), and report duplicate keys instead of letting the last one win.
It never raises for bad input: every problem becomes a :class:`~deckkit.problems.Problem`.
"""

from __future__ import annotations

import codecs
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from deckkit.problems import Problem, display_path

try:  # libyaml is several times faster; PyYAML falls back to pure Python without it.
    from yaml import CSafeLoader as _EventLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _EventLoader  # type: ignore[assignment]

PathKey = tuple[Union[str, int], ...]
MAX_DEPTH = 64  # card sources are four levels deep; anything deeper is a mistake or an attack

_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a source file."""

    line: int
    column: int


@dataclass
class LoadedSource:
    """A parsed source file: its data (None when unreadable) and the position of every node."""

    path: Path
    display: str
    data: Any
    problems: list[Problem] = field(default_factory=list)
    value_marks: dict[PathKey, Mark] = field(default_factory=dict)
    key_marks: dict[PathKey, Mark] = field(default_factory=dict)
    skipped_paths: set[PathKey] = field(default_factory=set)

    def mark_of_value(self, path: PathKey) -> Mark:
        """Where the value at ``path`` was written, or its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            mark = self.value_marks.get(path[:end])
            if mark is not None:
                return mark
        return Mark(1, 1)

    def mark_of_key(self, path: PathKey) -> Mark:
        """Where the key naming ``path`` was written (falls back to its value)."""
        return self.key_marks.get(path) or self.mark_of_value(path)

    def problem(self, mark: Mark, message: str, code: str, severity: str = "error") -> Problem:
        """A problem in this file at ``mark``."""
        return Problem(self.display, mark.line, mark.column, message, code, severity)


def load_source(path: Path) -> LoadedSource:
    """Read and parse one source file; problems are collected, never raised."""
    source = LoadedSource(path=path, display=display_path(path), data=None)
    try:
        raw = path.read_bytes()
    except OSError as error:
        source.problems.append(
            source.problem(Mark(1, 1), f"cannot read file: {error.strerror}", "io.read")
        )
        return source
    text = _decode(raw, source)
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
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        message = (
            f"file is not UTF-8 text (byte 0x{raw[error.start]:02x} cannot be decoded); "
            "save it as UTF-8"
        )
        source.problems.append(source.problem(Mark(line, column), message, "yaml.encoding"))
        return None


def _parse(text: str, source: LoadedSource) -> None:
    builder = _Builder(source)
    try:
        with _gc_paused():
            for event in yaml.parse(text, Loader=_EventLoader):
                builder.feed(event)
    except yaml.MarkedYAMLError as error:
        source.data = None
        source.problems.append(_syntax_problem(error, text, source))
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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Loading allocates millions of small objects and no cycles; the cycle collector would
    rescan them all again and again (it triples the time of a 100,000-card file)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _syntax_problem(error: yaml.MarkedYAMLError, text: str, source: LoadedSource) -> Problem:
    mark = error.problem_mark or error.context_mark
    if mark and error.context_mark and mark.line >= len(text.splitlines()):
        mark = error.context_mark  # past the last line: point at what was left open
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = error.problem or "invalid YAML"
    lines = text.splitlines()
    at_line = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in at_line[: max(column, 1)] or "\t" in at_line[:1]:
        message = "YAML syntax error: a tab is used for indentation; indent with spaces"
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


_NO_KEY = object()


class _Builder:
    """Turns parser events into dicts, lists and scalars, recording each node's position."""

    def __init__(self, source: LoadedSource) -> None:
        self.source = source
        self.root: Any = None
        self.root_mark: Mark | None = None
        self.documents = 0
        # Each frame: [container, path, pending key, pending key mark]
        self.stack: list[list[Any]] = []

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents == 2:
                self._error(
                    event,
                    "a source holds one deck: remove the second YAML document ('---')",
                    "yaml.multiple-documents",
                )
        elif self.documents > 1:
            return
        elif isinstance(event, yaml.ScalarEvent):
            self._check_node_properties(event)
            if self.stack and self.stack[-1][2] is _NO_KEY and isinstance(self.stack[-1][0], dict):
                self._take_key(event)
            else:
                self._add_value(_scalar_value(event), event)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self._check_node_properties(event)
            container: dict[str, Any] | list[Any] = (
                {} if isinstance(event, yaml.MappingStartEvent) else []
            )
            if self.stack and self.stack[-1][2] is _NO_KEY and isinstance(self.stack[-1][0], dict):
                self._error(event, "a key must be plain text, not a list or mapping", "yaml.key")
                path = (*self.stack[-1][1], "?")
                self.stack[-1][2] = _DuplicateKey("?")
                self.stack[-1][3] = _mark(event)
            else:
                path = self._add_value(container, event)
            if len(self.stack) >= MAX_DEPTH:
                raise _TooDeep(_mark(event))
            self.stack.append([container, path, _NO_KEY, None])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self.stack.pop()
        elif isinstance(event, yaml.AliasEvent):
            self._error(
                event,
                f"YAML aliases ('*{event.anchor}') are not supported: write the value out",
                "yaml.alias",
            )
            if self.stack and self.stack[-1][2] is _NO_KEY and isinstance(self.stack[-1][0], dict):
                self.stack[-1][2] = f"*{event.anchor}"
                self.stack[-1][3] = _mark(event)
            else:
                self.source.skipped_paths.add(self._add_value(None, event))

    def _take_key(self, event: yaml.ScalarEvent) -> None:
        frame = self.stack[-1]
        mapping, path = frame[0], frame[1]
        key = event.value
        mark = _mark(event)
        if key == "<<" and event.implicit[0]:
            self._error(event, "YAML merge keys ('<<') are not supported: write the keys out", "yaml.merge")
        if key in mapping:
            first = self.source.key_marks.get((*path, key))
            where = f" (first written at line {first.line})" if first else ""
            self._error(event, f"duplicate key '{key}'{where}: keep one", "yaml.duplicate-key")
            key = _DuplicateKey(key)
        frame[2] = key
        frame[3] = mark

    def _add_value(self, value: Any, event: yaml.Event) -> PathKey:
        mark = _mark(event)
        if not self.stack:
            self.root = value
            self.root_mark = mark
            self.source.value_marks[()] = mark
            return ()
        frame = self.stack[-1]
        container, parent = frame[0], frame[1]
        if isinstance(container, list):
            path = (*parent, len(container))
            container.append(value)
        else:
            key = frame[2]
            frame[2] = _NO_KEY
            if isinstance(key, _DuplicateKey):  # keep the first value; the error is reported
                return (*parent, key.key, "#duplicate")
            path = (*parent, key)
            container[key] = value
            self.source.key_marks[path] = frame[3]
        self.source.value_marks[path] = mark
        return path

    def _check_node_properties(self, event: yaml.NodeEvent) -> None:
        if event.anchor is not None:
            self._error(
                event,
                f"YAML anchors ('&{event.anchor}') are not supported: write each value out",
                "yaml.anchor",
            )
        tag = getattr(event, "tag", None)
        implicit = getattr(event, "implicit", True)
        explicit = tag is not None and (
            not any(implicit) if isinstance(implicit, tuple) else not implicit
        )
        if explicit and tag not in ("!", "tag:yaml.org,2002:str"):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            self._error(event, f"YAML tags such as '{shown}' are not allowed: remove it", "yaml.tag")

    def _error(self, event: yaml.Event, message: str, code: str) -> None:
        self.source.problems.append(self.source.problem(_mark(event), message, code))


class _DuplicateKey:
    def __init__(self, key: str) -> None:
        self.key = key


def _mark(event: yaml.Event) -> Mark:
    return Mark(event.start_mark.line + 1, event.start_mark.column + 1)


_PLAIN_NUMBER_LIKE = re.compile(r"^[-+.0-9]|^(?:true|false|yes|no|on|off|null|~)$", re.I)


def _scalar_value(event: yaml.ScalarEvent) -> Any:
    """Plain scalars resolve to numbers, booleans and null as YAML says; all else is text."""
    if not event.implicit[0] or event.value == "" and event.style in ("'", '"'):
        return event.value
    if event.value and not _PLAIN_NUMBER_LIKE.match(event.value):
        return event.value
    tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, (True, False))
    if tag in _SAFE_SCALAR_TAGS:
        node = yaml.ScalarNode(tag, event.value)
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
    return event.value
