"""Random input at the readers of untrusted files (issue 12): whatever bytes or package a stranger
sends, `deckkit import` and `deckkit preview` end with a status (0, 1 or 2) and a message, never a
traceback, a hang or a blown memory budget. Each run is a real process capped at 120 s and 2 GB,
as the red-team pass that found the attacks was."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TIME_CAP = 120  # seconds
MEMORY_CAP = 2 << 30  # bytes of address space
RUNS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def deckkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``deckkit ARGS`` in a process of its own, under the caps; its scratch files in ``cwd``."""
    env = {**os.environ, "TMPDIR": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "deckkit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_CAP,
        preexec_fn=_capped,
    )


def assert_ended_cleanly(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode in (0, 1, 2), run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert "Traceback" not in run.stdout, run.stdout


@pytest.fixture
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("untrusted")


def fresh(workspace: Path) -> Path:
    """A folder of its own for one example (hypothesis runs many in one test's workspace)."""
    return Path(tempfile.mkdtemp(dir=workspace))


@RUNS
@given(
    content=st.binary(max_size=4096),
    suffix=st.sampled_from([".apkg", ".colpkg", ".csv", ".txt", ".tsv"]),
)
def test_random_bytes_are_refused_or_imported(workspace: Path, content: bytes, suffix: str) -> None:
    work = fresh(workspace)
    source = work / f"stranger{suffix}"
    source.write_bytes(content)
    run = deckkit("import", str(source), "-o", "out", "--force", cwd=work)
    assert_ended_cleanly(run)


_ENTRY_NAMES = st.sampled_from(
    ["collection.anki2", "collection.anki21", "collection.anki21b", "media", "meta", "0", "1"]
)


@st.composite
def packages(draw: st.DrawFn) -> bytes:
    """A zip shaped like an Anki package, with random entries: random bytes, a media map that
    names random files, entries that claim to be Anki's collection."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name in draw(st.lists(_ENTRY_NAMES, min_size=1, max_size=5, unique=True)):
            if name == "media":
                mapping = draw(
                    st.dictionaries(
                        st.sampled_from(["0", "1", "2"]),
                        st.text(min_size=1, max_size=30),
                        max_size=3,
                    )
                )
                package.writestr(name, json.dumps(mapping))
            else:
                package.writestr(name, draw(st.binary(max_size=2048)))
    return buffer.getvalue()


@RUNS
@given(package=packages(), suffix=st.sampled_from([".apkg", ".colpkg"]))
def test_random_packages_are_refused_or_imported(
    workspace: Path, package: bytes, suffix: str
) -> None:
    work = fresh(workspace)
    source = work / f"stranger{suffix}"
    source.write_bytes(package)
    run = deckkit("import", str(source), "-o", "out", "--force", cwd=work)
    assert_ended_cleanly(run)
    # Whatever came in stays inside the output folder, and no scratch folder is left behind.
    assert {p.name for p in work.iterdir()} <= {"out", source.name}


_HOSTILE_HTML = st.sampled_from(
    [
        "<details open ontoggle=alert(1)>x</details>",
        "<svg onload=alert(1)>",
        "<img src=x onerror=alert(1)>",
        "</template><script>alert(1)</script>",
        "<style>@import url(http://127.0.0.1:9/x.css)</style>",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
        "{{c1::<b>open",
        "[sound:../../etc/passwd]",
        "\x1b]0;title\x07",
    ]
)


@RUNS
@given(fields=st.lists(st.tuples(_HOSTILE_HTML, st.text(max_size=40)), min_size=1, max_size=4))
def test_a_preview_of_hostile_cards_ends_cleanly(
    workspace: Path, fields: list[tuple[str, str]]
) -> None:
    work = fresh(workspace)
    cards = [
        {"id": f"card-{index}", "front": attack + text, "back": text + attack}
        for index, (attack, text) in enumerate(fields)
    ]
    sources = work / "sources"
    sources.mkdir()
    deck = {"deck": "Stranger", "id": "stranger", "cards": cards}
    (sources / "stranger.yaml").write_text(json.dumps(deck), encoding="utf-8")
    run = deckkit("preview", "sources", "-o", "preview", cwd=work)
    assert_ended_cleanly(run)
