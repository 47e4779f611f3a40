"""Hostile and broken sources (issue 6 §1 and §2) through the `deckkit` command.

Every kind of malformed YAML and every path trick must give `path:line:column` problems (exit 1)
or a usage error (exit 2), never a traceback, and nothing may be written or read outside the output
folder. The cases that could cost time or memory (deep nesting, huge scalars, alias bombs, huge
files) run in a real subprocess whose time and peak memory are measured.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import REPO
from deckkit.cli import main

PROBLEM_LINE = re.compile(
    r"^(?P<path>[^\n]+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning): "
    r"(?P<message>.+) \[(?P<code>[a-z]+\.[A-Za-z-]+)\]$"
)
VALID = "deck: Hostile\nid: hostile\ncards:\n  - id: one\n    front: f\n    back: b\n"
SECONDS = 20
MEGABYTES = 500
# Longer than any message deckkit means to print; a problem line quoting a whole scalar is not.
LONGEST_LINE = 1000


@dataclass(frozen=True)
class Found:
    """One problem line of the output."""

    path: str
    line: int
    column: int
    severity: str
    message: str
    code: str


def invoke(*args: str) -> Result:
    """Run deckkit in-process; whatever the input, an exit code and text, never a traceback."""
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def problem_lines(stdout: str) -> list[Found]:
    """Every line of the output, each of which must be a well-formed problem line."""
    found = []
    for text in stdout.splitlines():
        match = PROBLEM_LINE.match(text)
        assert match, f"not a path:line:column problem line: {text[:300]!r}"
        found.append(
            Found(
                match["path"],
                int(match["line"]),
                int(match["column"]),
                match["severity"],
                match["message"],
                match["code"],
            )
        )
    return found


def assert_inside_file(found: Found, data: bytes) -> None:
    """The position names a real place in the file (or the end just after its last line)."""
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    lines = text.splitlines() or [""]
    if found.line == len(lines) + 1:
        assert found.column == 1, found
        return
    assert 1 <= found.line <= len(lines), found
    assert 1 <= found.column <= len(lines[found.line - 1]) + 1, found


def tree(folder: Path) -> dict[str, tuple[int, int, bytes | None]]:
    """Every entry below ``folder``, hidden ones included: (mode, mtime, contents of files)."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        contents = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        entries[path.relative_to(folder).as_posix()] = (info.st_mode, info.st_mtime_ns, contents)
    return entries


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder: the default lockfile and output folder are relative to it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- malformed YAML: exact positions ---------------------------------------------------------

BOM = b"\xef\xbb\xbf"
MISSPELT_BACK = VALID.replace("    back: b", "    bakc: b").encode()  # unknown key at 6:5


def _binary_with_nuls() -> bytes:
    rng = random.Random(6)
    data = bytearray(rng.randbytes(4096))
    for index in range(0, len(data), 97):
        data[index] = 0
    return bytes(data)


# name → (file contents, problems that must be among those reported: (line, column, code))
MALFORMED: dict[str, tuple[bytes, set[tuple[int, int, str]]]] = {
    "syntax-error": (b"deck: [unclosed\nid: a\n", {(1, 7, "yaml.syntax")}),
    "tab-indentation": (b"deck: x\nid: a\ncards:\n\t- id: b\n", {(4, 1, "yaml.syntax")}),
    "bom": (BOM + MISSPELT_BACK, {(6, 5, "schema.unknown-key")}),
    "crlf": (MISSPELT_BACK.replace(b"\n", b"\r\n"), {(6, 5, "schema.unknown-key")}),
    "bom-and-crlf": (BOM + MISSPELT_BACK.replace(b"\n", b"\r\n"), {(6, 5, "schema.unknown-key")}),
    "latin-1": (b"deck: x\nid: caf\xe9\n", {(2, 8, "yaml.encoding")}),
    "utf-16": (VALID.encode("utf-16"), {(1, 1, "yaml.encoding")}),
    "nul-in-utf8-text": (b'deck: "a\x00b"\nid: a\n', {(1, 9, "yaml.syntax")}),
    "empty": (b"", {(1, 1, "yaml.empty")}),
    "only-comments": (b"# nothing here\n\n", {(1, 1, "yaml.empty")}),
    "top-level-list": (b"- deck: x\n- id: a\n", {(1, 1, "schema.type")}),
    "top-level-text": (b"just some words\n", {(1, 1, "schema.type")}),
    "top-level-number": (b"42\n", {(1, 1, "schema.type")}),
    "duplicate-top-key": (
        b"deck: x\ndeck: y\nid: a\ncards:\n  - {id: b, front: f, back: b}\n",
        {(2, 1, "yaml.duplicate-key")},
    ),
    "duplicate-card-key": (
        VALID.replace("    back: b", "    front: g\n    back: b").encode(),
        {(6, 5, "yaml.duplicate-key")},
    ),
    "python-object-apply": (
        b'deck: !!python/object/apply:os.system ["echo pwned"]\nid: a\ncards: []\n',
        {(1, 7, "yaml.tag")},
    ),
    "python-object-new": (
        b"deck: x\nid: !!python/object/new:os.system [echo pwned]\ncards: []\n",
        {(2, 5, "yaml.tag")},
    ),
    "python-name": (b"deck: !!python/name:os.system\nid: a\ncards: []\n", {(1, 7, "yaml.tag")}),
    "local-tag-on-mapping": (b"!deck\ndeck: x\nid: a\ncards: []\n", {(1, 1, "yaml.tag")}),
    "anchor-and-alias": (
        VALID.replace("front: f", "front: &f f").replace("back: b", "back: *f").encode(),
        {(5, 12, "yaml.anchor"), (6, 11, "yaml.alias")},
    ),
    "merge-key": (
        VALID.replace("    back: b", "    <<: {back: b}").encode(),
        {(6, 5, "yaml.merge")},
    ),
    "second-document": (
        VALID.encode() + b"---\n" + VALID.encode(),
        {(7, 1, "yaml.multiple-documents")},
    ),
    # The 64th nested list (column 67) is one level too deep under the top-level mapping.
    "deep-flow-nesting": (b"x: " + b"[" * 100 + b"]" * 100 + b"\n", {(1, 67, "yaml.depth")}),
    "deep-block-nesting": (
        b"x:\n" + b"".join(b"  " * i + b"k:\n" for i in range(1, 101)) + b"  " * 101 + b"v\n",
        {(65, 129, "yaml.depth")},
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_yaml_gives_positioned_problems_and_exit_1(name: str, in_tmp: Path) -> None:
    data, expected = MALFORMED[name]
    (in_tmp / f"{name}.yaml").write_bytes(data)
    result = invoke("validate", f"{name}.yaml")
    assert result.exit_code == 1, result.output
    found = problem_lines(result.stdout)
    assert found, "no problem reported"
    assert {f.path for f in found} == {f"{name}.yaml"}
    assert expected <= {(f.line, f.column, f.code) for f in found}, result.stdout
    for problem in found:
        assert_inside_file(problem, data)


def test_tab_indentation_says_to_indent_with_spaces(in_tmp: Path) -> None:
    (in_tmp / "tabs.yaml").write_bytes(MALFORMED["tab-indentation"][0])
    (problem,) = problem_lines(invoke("validate", "tabs.yaml").stdout)
    assert "indent with spaces" in problem.message


def test_a_valid_deck_with_a_bom_and_crlf_line_ends_is_valid(in_tmp: Path) -> None:
    (in_tmp / "windows.yaml").write_bytes(BOM + VALID.encode().replace(b"\n", b"\r\n"))
    result = invoke("validate", "windows.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_binary_file_with_nuls_is_one_encoding_problem(in_tmp: Path) -> None:
    data = _binary_with_nuls()
    (in_tmp / "binary.yaml").write_bytes(data)
    result = invoke("validate", "binary.yaml")
    assert result.exit_code == 1
    (problem,) = problem_lines(result.stdout)
    assert problem.code == "yaml.encoding"
    assert "not UTF-8" in problem.message


def test_an_undecodable_byte_after_accented_text_is_reported_at_its_character_column(
    in_tmp: Path,
) -> None:
    # Columns count characters everywhere else (tests/fixtures/bad/non-ascii-columns); the byte
    # 0xff here is the 15th character of its line but its 18th byte ("日本" is 6 bytes).
    line = "id: 日本 deck "
    (in_tmp / "mixed.yaml").write_bytes(f"deck: x\n{line}".encode() + b"\xff\n")
    (problem,) = problem_lines(invoke("validate", "mixed.yaml").stdout)
    assert (problem.line, problem.code) == (2, "yaml.encoding")
    assert problem.column == len(line) + 1


@pytest.mark.parametrize("command", ["validate", "build"])
def test_python_tags_are_refused_and_never_executed(command: str, in_tmp: Path) -> None:
    marker = in_tmp / "pwned"
    payloads = [
        f'deck: !!python/object/apply:os.system ["touch {marker}"]',
        f"deck: !!python/object/new:os.system ['touch {marker}']",
        f'deck: !!python/object/apply:subprocess.call [["touch", "{marker}"]]',
    ]
    sources = in_tmp / "sources"
    sources.mkdir()
    for index, payload in enumerate(payloads):
        text = f"{payload}\nid: deck{index}\ncards:\n  - {{id: a, front: f, back: b}}\n"
        (sources / f"deck{index}.yaml").write_text(text, encoding="utf-8")
    result = invoke(command, "sources", *(["-o", "out"] if command == "build" else []))
    assert result.exit_code == 1
    tags = [f for f in problem_lines(result.stdout) if f.code == "yaml.tag"]
    assert [(f.path, f.line, f.column) for f in tags] == [
        (f"sources/deck{i}.yaml", 1, 7) for i in range(len(payloads))
    ]
    assert not marker.exists()
    assert not (in_tmp / "out").exists()


# --- bounded time and memory: a real subprocess ----------------------------------------------


@dataclass(frozen=True)
class Bounded:
    """A finished deckkit process: exit code, output, wall time and peak memory."""

    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    megabytes: float


def _cap_address_space() -> None:
    """In the child: a runaway process fails at 2 GB instead of taking the machine's memory."""
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


def run_bounded(*args: str, cwd: Path, limit: float = SECONDS + 2) -> Bounded:
    """Run `python -m deckkit ARGS`, measuring its own peak RSS (wait4); killed after ``limit``
    seconds or at 2 GB of address space, so that a failure stays cheap."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "deckkit", *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
            preexec_fn=_cap_address_space,
        )
        try:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - start > limit:
                    os.killpg(process.pid, signal.SIGKILL)
                    pid, status, usage = os.wait4(process.pid, 0)
                    break
                time.sleep(0.02)
        finally:
            process.returncode = -1  # reaped here; keeps Popen from waiting again
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return Bounded(
            os.waitstatus_to_exitcode(status),
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss / 1024,  # KiB on Linux
        )


def assert_bounded(run: Bounded) -> None:
    assert run.seconds < SECONDS, f"took {run.seconds:.1f} s"
    assert run.megabytes < MEGABYTES, f"used {run.megabytes:.0f} MB"
    assert "Traceback" not in run.stdout + run.stderr, run.stderr[-2000:]


def write_billion_laughs(path: Path) -> None:
    """Nine levels of nine aliases each: 9**9 'lol's if anything expanded them."""
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        aliases = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"lol{level}: &a{level} [{aliases}]")
    path.write_text(VALID + "\n".join(lines) + "\n", encoding="utf-8")


def test_billion_laughs_is_refused_at_the_first_anchor_quickly(in_tmp: Path) -> None:
    write_billion_laughs(in_tmp / "laughs.yaml")
    run = run_bounded("validate", "laughs.yaml", cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 1
    found = problem_lines(run.stdout)
    assert (7, 7, "yaml.anchor") in {(f.line, f.column, f.code) for f in found}
    assert {f.code for f in found} >= {"yaml.anchor", "yaml.alias"}


def test_billion_laughs_build_writes_nothing(in_tmp: Path) -> None:
    write_billion_laughs(in_tmp / "laughs.yaml")
    run = run_bounded("build", "laughs.yaml", "-o", "out", cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 1
    assert not (in_tmp / "out").exists()
    assert not (in_tmp / "deckkit.lock").exists()


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_ten_thousand_levels_of_nesting_give_a_problem_on_line_1_quickly(
    opening: str, in_tmp: Path
) -> None:
    (in_tmp / "deep.yaml").write_text(opening * 10_000 + "\n", encoding="utf-8")
    run = run_bounded("validate", "deep.yaml", cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 1
    (problem,) = problem_lines(run.stdout)
    assert problem.line == 1
    assert problem.code in ("yaml.depth", "yaml.syntax")
    assert "nesting" in problem.message


def test_a_5_mb_scalar_in_a_valid_deck_validates_quickly(in_tmp: Path) -> None:
    text = VALID.replace("front: f", "front: " + "x" * 5 * 1024 * 1024)
    (in_tmp / "long.yaml").write_text(text, encoding="utf-8")
    run = run_bounded("validate", "long.yaml", cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 0, run.stdout[:500]


@pytest.mark.parametrize(
    ("name", "text", "position"),
    [
        ("top-level", "x" * 5 * 1024 * 1024 + "\n", (1, 1, "schema.type")),
        ("level", VALID + "    level: " + "x" * 5 * 1024 * 1024 + "\n", (7, 12, "schema.enum")),
        (
            "id",
            VALID.replace("id: hostile", "id: " + "x" * 5 * 1024 * 1024),
            (2, 5, "schema.maxLength"),
        ),
    ],
    ids=["top-level", "level", "id"],
)
def test_a_5_mb_wrong_scalar_gives_a_short_problem_line(
    name: str, text: str, position: tuple[int, int, str], in_tmp: Path
) -> None:
    (in_tmp / f"{name}.yaml").write_text(text, encoding="utf-8")
    run = run_bounded("validate", f"{name}.yaml", cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 1
    assert max(len(line) for line in run.stdout.splitlines()) < LONGEST_LINE, (
        f"a problem line of {max(len(line) for line in run.stdout.splitlines())} characters"
    )
    found = problem_lines(run.stdout)
    assert position in {(f.line, f.column, f.code) for f in found}


@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_200_mb_file_is_refused_by_its_size_quickly(command: str, in_tmp: Path) -> None:
    with (in_tmp / "huge.yaml").open("w", encoding="utf-8") as handle:
        handle.write(VALID)
        handle.truncate(200 * 1024 * 1024)  # sparse: costs no disk
    args = ["-o", "out"] if command == "build" else []
    run = run_bounded(command, "huge.yaml", *args, cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 1
    (problem,) = problem_lines(run.stdout)
    assert (problem.path, problem.line, problem.column, problem.code) == (
        "huge.yaml",
        1,
        1,
        "io.too-large",
    )
    assert "200 MB" in problem.message
    assert not (in_tmp / "out").exists()


def test_a_source_just_under_the_size_limit_of_tiny_items_stays_bounded(in_tmp: Path) -> None:
    # 63 MB of one-character list items is 16 million YAML nodes: under the 64 MB size limit,
    # but each node costs deckkit far more memory than its 4 bytes of text.
    with (in_tmp / "items.yaml").open("w", encoding="utf-8") as handle:
        handle.write("x:\n")
        chunk = "- x\n" * 1024 * 1024
        for _ in range(15):
            handle.write(chunk)
    assert (in_tmp / "items.yaml").stat().st_size < 64 * 1024 * 1024
    run = run_bounded("validate", "items.yaml", cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 1
    assert problem_lines(run.stdout)


# --- paths: media --------------------------------------------------------------------------


@pytest.fixture
def media_setup(in_tmp: Path) -> Path:
    """sources/ with a media file inside it, and a secret file outside it."""
    sources = in_tmp / "sources"
    (sources / "media").mkdir(parents=True)
    (sources / "media" / "ok.png").write_bytes(b"\x89PNG inside")
    (in_tmp / "outside").mkdir()
    (in_tmp / "outside" / "secret.png").write_bytes(b"secret")
    return sources


def deck_with_front(front: str, back: str = "b") -> str:
    return (
        "deck: Media\nid: media\ncards:\n"
        f"  - id: one\n    front: {json.dumps(front)}\n    back: {json.dumps(back)}\n"
    )


OUTSIDE_REFERENCES = {
    "absolute": '<img src="/etc/passwd">',
    "absolute-sound": "[sound:/etc/passwd]",
    "dot-dot": '<img src="../outside/secret.png">',
    "dot-dot-sound": "[sound:../outside/secret.png]",
    "down-then-up": '<img src="media/../../outside/secret.png">',
    "dot-dot-as-entities": '<img src="&#46;&#46;/outside/secret.png">',
    "windows-drive": '<img src="C:\\Windows\\win.ini">',
    "file-url": '<img src="file:///etc/passwd">',
}


@pytest.mark.parametrize("name", list(OUTSIDE_REFERENCES))
def test_media_outside_the_source_folder_is_refused_and_nothing_is_written(
    name: str, media_setup: Path, in_tmp: Path
) -> None:
    (media_setup / "deck.yaml").write_text(deck_with_front(OUTSIDE_REFERENCES[name]), "utf-8")
    before = tree(in_tmp)
    result = invoke("build", "sources", "-o", "out")
    assert result.exit_code == 1, result.output
    (problem,) = problem_lines(result.stdout)
    assert (problem.path, problem.line, problem.column, problem.code) == (
        "sources/deck.yaml",
        5,
        12,
        "check.media-outside",
    )
    assert tree(in_tmp) == before


@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_symlink_out_of_the_source_folder_is_refused(
    link: str, media_setup: Path, in_tmp: Path
) -> None:
    if link == "file":
        (media_setup / "media" / "link.png").symlink_to(in_tmp / "outside" / "secret.png")
        ref = "media/link.png"
    else:
        (media_setup / "linked").symlink_to(in_tmp / "outside", target_is_directory=True)
        ref = "linked/secret.png"
    (media_setup / "deck.yaml").write_text(deck_with_front(f'<img src="{ref}">'), "utf-8")
    before = tree(in_tmp)
    result = invoke("build", "sources", "-o", "out")
    assert result.exit_code == 1, result.output
    (problem,) = problem_lines(result.stdout)
    assert (problem.line, problem.column, problem.code) == (5, 12, "check.media-outside")
    assert ref in problem.message
    assert tree(in_tmp) == before


def test_a_symlink_to_a_device_is_not_read(media_setup: Path, in_tmp: Path) -> None:
    (media_setup / "media" / "zero.png").symlink_to("/dev/zero")
    (media_setup / "deck.yaml").write_text(deck_with_front('<img src="media/zero.png">'), "utf-8")
    run = run_bounded("build", "sources", "-o", "out", cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 1
    (problem,) = problem_lines(run.stdout)
    assert problem.code in ("check.media-outside", "check.media-missing")


def test_urls_stay_untouched_and_the_build_succeeds(media_setup: Path, in_tmp: Path) -> None:
    image = "https://example.com/pic.png?size=2&amp;x=1"
    sound = "https://example.com/a.mp3"
    (media_setup / "deck.yaml").write_text(
        deck_with_front(f'<img src="{image}"> and <img src="media/ok.png">', f"[sound:{sound}]"),
        "utf-8",
    )
    result = invoke("build", "sources", "-o", "out")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(in_tmp / "out" / "media.apkg") as package:
        packed = json.loads(package.read("media"))
    assert len(packed) == 1  # only the local file
    assert next(iter(packed.values())).startswith("ok-")
    csv_text = (in_tmp / "out" / "media.csv").read_text("utf-8")
    assert f'<img src=""{image}"">' in csv_text
    assert f"[sound:{sound}]" in csv_text


# --- paths: ids and names -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "../../escaped"),
        ("id", "/tmp/escaped"),
        ("id", "..hidden"),
        ("id", "a/../../b"),
        ("id", "a\\..\\..\\b"),
        ("card id", "../../escaped"),
    ],
)
def test_an_id_that_would_leave_the_output_folder_is_refused(
    field: str, value: str, in_tmp: Path
) -> None:
    (in_tmp / "sources").mkdir()
    text = (
        VALID.replace("id: hostile", f"id: {json.dumps(value)}")
        if field == "id"
        else (VALID.replace("id: one", f"id: {json.dumps(value)}"))
    )
    (in_tmp / "sources" / "deck.yaml").write_text(text, "utf-8")
    before = tree(in_tmp)
    result = invoke("build", "sources", "-o", "out")
    assert result.exit_code == 1, result.output
    found = problem_lines(result.stdout)
    line = 2 if field == "id" else 4
    assert (line, "schema.pattern") in {(f.line, f.code) for f in found}
    assert tree(in_tmp) == before


def test_a_failed_build_into_a_new_nested_output_folder_leaves_no_folder_behind(
    in_tmp: Path,
) -> None:
    (in_tmp / "sources").mkdir()
    (in_tmp / "sources" / "deck.yaml").write_text(VALID.replace("back: b", "bakc: b"), "utf-8")
    before = tree(in_tmp)
    result = invoke("build", "sources", "-o", "dist/decks")
    assert result.exit_code == 1, result.output
    assert tree(in_tmp) == before


def test_a_deck_name_with_path_characters_only_names_the_deck(in_tmp: Path) -> None:
    (in_tmp / "sources").mkdir()
    text = VALID.replace("deck: Hostile", 'deck: "../../../etc/x\\\\y"')
    (in_tmp / "sources" / "deck.yaml").write_text(text, "utf-8")
    result = invoke("build", "sources", "-o", "out")
    assert result.exit_code == 0, result.output
    written = {p.relative_to(in_tmp).as_posix() for p in in_tmp.rglob("*") if p.is_file()}
    assert written - {"sources/deck.yaml", "deckkit.lock"} == {
        "out/hostile.apkg",
        "out/hostile.csv",
        "out/hostile.quizlet.txt",
        "out/.deckkit-cache.json",
        "out/.deckkit-busy",
    }


# --- paths: the output folder ----------------------------------------------------------------


@pytest.fixture
def sources(in_tmp: Path) -> Path:
    (in_tmp / "sources").mkdir()
    (in_tmp / "sources" / "deck.yaml").write_text(VALID, "utf-8")
    return in_tmp / "sources"


def assert_usage_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    message = result.stderr.splitlines()[-1]
    assert message.startswith("Error: "), result.stderr
    for word in words:
        assert word in message, message


def test_an_output_folder_that_is_a_file_is_a_usage_error_and_the_file_is_kept(
    sources: Path, in_tmp: Path
) -> None:
    (in_tmp / "out").write_bytes(b"my notes")
    before = tree(in_tmp)
    assert_usage_error(invoke("build", "sources", "-o", "out"), "out", "is a file")
    assert tree(in_tmp) == before


def test_an_output_folder_below_a_file_is_a_usage_error(sources: Path, in_tmp: Path) -> None:
    (in_tmp / "out").write_bytes(b"my notes")
    before = tree(in_tmp)
    assert_usage_error(invoke("build", "sources", "-o", "out/decks"), "out/decks")
    assert tree(in_tmp) == before


@pytest.mark.parametrize("output", ["sources", "sources/build", "sources/./nested/../build"])
def test_an_output_folder_inside_the_sources_is_a_usage_error(
    output: str, sources: Path, in_tmp: Path
) -> None:
    before = tree(in_tmp)
    assert_usage_error(invoke("build", "sources", "-o", output), "inside the sources folder")
    assert tree(in_tmp) == before


def test_an_output_folder_inside_the_default_sources_folder_is_a_usage_error(
    sources: Path, in_tmp: Path
) -> None:
    before = tree(in_tmp)
    assert_usage_error(invoke("build", "-o", "sources/out"), "inside the sources folder")
    assert tree(in_tmp) == before


def test_an_output_folder_reached_through_a_symlink_into_the_sources_is_a_usage_error(
    sources: Path, in_tmp: Path
) -> None:
    (in_tmp / "alias").symlink_to(sources, target_is_directory=True)
    before = tree(in_tmp)
    assert_usage_error(invoke("build", "sources", "-o", "alias/out"), "inside the sources folder")
    assert tree(in_tmp) == before


def _without_permission_override() -> None:
    """In the child before exec: drop the capabilities that let root write through permission
    bits (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so that root is refused like anyone else."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_an_output_folder_that_is_not_writable_is_a_usage_error(
    sources: Path, in_tmp: Path
) -> None:
    out = in_tmp / "out"
    out.mkdir()
    out.chmod(0o500)
    if os.geteuid() == 0:
        # root writes through permission bits, so the folder is usable for root...
        result = invoke("build", "sources", "-o", "out", "--lockfile", "out/deckkit.lock")
        assert result.exit_code == 0, result.output
        assert (out / "hostile.apkg").is_file()
        for path in out.iterdir():
            path.unlink()
        # ...but once root gives up that privilege, the bits hold and deckkit refuses with exit 2.
        before = tree(in_tmp)
        run = subprocess.run(
            [sys.executable, "-m", "deckkit", "build", "sources", "-o", "out"],
            cwd=in_tmp,
            env={**os.environ, "PYTHONPATH": str(REPO / "src"), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            preexec_fn=_without_permission_override,
            timeout=60,
            check=False,
        )
        assert run.returncode == 2, run.stdout + run.stderr
        assert "Traceback" not in run.stderr
        last_line = run.stderr.splitlines()[-1]
        assert last_line == "Error: output folder out is not writable; choose another with -o"
        assert run.stdout == ""
    else:
        before = tree(in_tmp)
        assert_usage_error(invoke("build", "sources", "-o", "out"), "out", "not writable")
    assert tree(in_tmp) == before


def test_a_usage_error_writes_no_lockfile(sources: Path, in_tmp: Path) -> None:
    (in_tmp / "out").write_bytes(b"x")
    invoke("build", "sources", "-o", "out")
    assert not (in_tmp / "deckkit.lock").exists()


# --- sources that are not regular files -----------------------------------------------------


def test_a_fifo_among_the_sources_does_not_hang_validate(in_tmp: Path) -> None:
    (in_tmp / "sources").mkdir()
    (in_tmp / "sources" / "deck.yaml").write_text(VALID, "utf-8")
    os.mkfifo(in_tmp / "sources" / "pipe.yaml")
    run = run_bounded("validate", "sources", cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 0, run.stdout + run.stderr


def test_a_device_named_as_a_source_is_a_usage_error(in_tmp: Path) -> None:
    run = run_bounded("validate", "/dev/zero", cwd=in_tmp)
    assert_bounded(run)
    assert run.exit_code == 2, run.stdout + run.stderr
