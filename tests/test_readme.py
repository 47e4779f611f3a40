"""The README's promises, checked: its set-up commands are what CI runs, and its library examples
run as written, in a fresh project, so that they cannot rot."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The README's text under a ``## title`` heading, up to the next one."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def indented_commands(text: str) -> list[str]:
    return re.findall(r"^    (\S.*)$", text, flags=re.MULTILINE)


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    test_command = indented_commands(README[: README.index("\n## ")])[1]
    ci_script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci_script.splitlines()
    assert "ruff check" in test_command
    assert "ruff format --check" in test_command
    assert "mypy --strict" in test_command
    assert test_command.endswith("pytest")


def test_the_readmes_first_command_builds_this_repositorys_sources() -> None:
    build_command = indented_commands(README)[0]
    assert build_command.endswith("deckkit build")
    assert (REPO / "sources").is_dir()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of this repository's sources and lockfile, as a user's project would hold them."""
    shutil.copytree(REPO / "sources", tmp_path / "sources")
    shutil.copy(REPO / "deckkit.lock", tmp_path / "deckkit.lock")
    return tmp_path


def test_the_library_examples_run_as_written(project: Path) -> None:
    blocks = python_blocks(section("As a library"))
    assert len(blocks) >= 3
    script = project / "examples.py"
    # One script, the blocks in order: later examples use what earlier ones built, as a reader
    # following the README would.
    script.write_text("\n".join(blocks), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)], cwd=project, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "cannot build: no such file or folder: no-such-folder" in run.stdout
    assert "fine-tuning-domains.apkg" in run.stdout
    assert (project / "build" / "imported-preview" / "index.html").is_file()
    assert list((project / "imported").glob("*.yaml"))


def test_every_public_name_is_documented_in_the_library_section() -> None:
    import deckkit

    documented = section("As a library")
    missing = [
        name for name in deckkit.__all__ if name != "__version__" and f"`{name}" not in documented
    ]
    assert not missing


def test_every_public_name_can_be_imported() -> None:
    import deckkit

    for name in deckkit.__all__:
        assert getattr(deckkit, name) is not None


def test_using_one_entry_point_leaves_the_others_in_place() -> None:
    # The defect of issue 11: calling deckkit.validate rebound deckkit.build to a module.
    code = (
        "import deckkit, inspect\n"
        "deckkit.validate\n"
        "assert inspect.isfunction(deckkit.build), deckkit.build\n"
        "assert issubclass(deckkit.UsageError, deckkit.DeckkitError)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_security_md_names_only_tests_that_exist() -> None:
    security = (REPO / "SECURITY.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_[a-z_]+\.py)`", security))
    assert len(named) >= 10
    assert sorted(name for name in named if not (REPO / "tests" / name).is_file()) == []


def shown_runs(text: str, command: str) -> list[list[str]]:
    """The output the README shows under each ``$ COMMAND`` line, one list of lines per run."""
    runs = re.findall(rf"^    \$ {re.escape(command)}\n((?:    \S.*\n)+)", text, flags=re.MULTILINE)
    return [[line.removeprefix("    ") for line in run.splitlines()] for run in runs]


def test_the_readmes_build_output_is_what_building_its_sources_prints(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from deckkit.cli import main

    monkeypatch.chdir(project)
    first, again = shown_runs(section("Commands"), "deckkit build")
    printed = [CliRunner().invoke(main, ["build"]).stdout.splitlines() for _ in range(2)]
    assert printed[0] == first
    assert again[0] == "..."  # the warnings, as in the first run
    assert printed[1][-len(again) + 1 :] == again[1:]
