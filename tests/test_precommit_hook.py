"""The pre-commit hook, run from .pre-commit-hooks.yaml itself and once under real pre-commit."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).parent.parent
HOOK_SOURCES = Path(__file__).parent / "fixtures" / "hook"
HOOKS: list[dict[str, Any]] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())


def hook(hook_id: str) -> dict[str, Any]:
    (found,) = [h for h in HOOKS if h["id"] == hook_id]
    return found


def run_entry(entry: str, *files: Path) -> subprocess.CompletedProcess[str]:
    # The entry names the installed console script; run it from this interpreter's environment.
    command = shlex.split(entry)
    executable = Path(sys.executable).parent / command[0]
    return subprocess.run(
        [str(executable), *command[1:], *map(str, files)], capture_output=True, text=True
    )


def hook_selects(hook_config: dict[str, Any], path: str) -> bool:
    """pre-commit's file selection: `files` must match and `exclude` must not (re.search)."""
    files = hook_config.get("files", "")
    exclude = hook_config.get("exclude", "^$")
    return bool(re.search(files, path)) and not re.search(exclude, path)


def test_validate_hook_passes_a_good_source() -> None:
    result = run_entry(hook("deckkit-validate")["entry"], HOOK_SOURCES / "good.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_hook_fails_a_bad_source_with_its_position() -> None:
    result = run_entry(
        hook("deckkit-validate")["entry"], HOOK_SOURCES / "good.yaml", HOOK_SOURCES / "bad.yaml"
    )
    assert result.returncode == 1
    assert (
        "bad.yaml:4:5: error: 'back' is required in card 'one' [schema.required]" in result.stdout
    )
    assert "good.yaml" not in result.stdout


def test_validate_hook_never_builds() -> None:
    assert "build" not in hook("deckkit-validate")["entry"].split()


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        ("sources/biology.yaml", True),
        ("sources/sub/deck.yml", True),
        ("courses/sources/deck.yaml", True),
        ("build/biology.yaml", False),
        ("sources/biology.apkg", False),
        ("build/biology.csv", False),
        ("tests/fixtures/bad/sources/broken.yaml", False),
        ("test/sources/broken.yaml", False),
        (".pre-commit-config.yaml", False),
        ("pyproject.toml", False),
    ],
)
def test_validate_hook_selects_card_sources_only(path: str, selected: bool) -> None:
    assert hook_selects(hook("deckkit-validate"), path) is selected


def test_hook_runs_under_real_pre_commit(tmp_path: Path) -> None:
    """`pre-commit try-repo` installs deckkit from this repository and runs the hook."""
    user_repo = tmp_path / "user-repo"
    (user_repo / "sources").mkdir(parents=True)
    shutil.copy(HOOK_SOURCES / "good.yaml", user_repo / "sources" / "good.yaml")
    shutil.copy(HOOK_SOURCES / "bad.yaml", user_repo / "sources" / "bad.yaml")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=user_repo, check=True)
    subprocess.run([*git, "add", "."], cwd=user_repo, check=True)
    pre_commit = Path(sys.executable).parent / "pre-commit"

    result = subprocess.run(
        [str(pre_commit), "try-repo", str(REPO), "deckkit-validate", "--all-files"],
        cwd=user_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "sources/bad.yaml:4:5: error: 'back' is required in card 'one'" in output
    assert "sources/good.yaml:" not in output
