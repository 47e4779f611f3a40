"""The pre-commit hook, under the real `pre-commit` tool, in fresh git repositories.

Each case commits with `git commit` through the hook `pre-commit install` puts in the
repository, configured as `deckkit init` writes it (`repo: local`, the deckkit beside
pre-commit); one case installs deckkit from a clone of this repository at a release tag, as
users of `repo:` and `rev:` do. pre-commit's own cache (PRE_COMMIT_HOME) is shared by the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deckkit import __version__
from deckkit.project_starter import starter_files

REPO = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "hook"
HOOKS: list[dict[str, Any]] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
BIN = Path(sys.executable).parent
GIT = ["git", "-c", "user.name=Author", "-c", "user.email=author@example.com"]
TIMEOUT = 900  # installing deckkit from a clone takes a while on a slow network


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a commit: this deckkit first on PATH, pre-commit's cache shared."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO / "src"),
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        "NO_COLOR": "1",
    }


class Repo:
    """A user's repository with deckkit's hook installed."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def run(self, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=cwd or self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )

    def git(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        done = self.run(*GIT, *arguments)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def deckkit(self, *arguments: str, cwd: Path | None = None) -> None:
        done = self.run(str(BIN / "deckkit"), *arguments, cwd=cwd)
        assert done.returncode == 0, done.stdout + done.stderr

    def commit(self, message: str) -> subprocess.CompletedProcess[str]:
        """`git commit` through the hook; ``stdout`` is all it printed (git gives the hook's
        output on stderr)."""
        done = self.run(*GIT, "commit", "-m", message)
        return subprocess.CompletedProcess(done.args, done.returncode, done.stdout + done.stderr)

    def commits(self) -> int:
        return int(self.git("rev-list", "--count", "--all").stdout or 0)

    def add(self, *paths: str) -> None:
        self.git("add", *paths)


def start(tmp_path: Path, env: dict[str, str], project: str = "project") -> Repo:
    """A repository holding a fixture project and `deckkit init`'s pre-commit configuration,
    with the hook installed; nothing committed yet."""
    root = tmp_path / "course"
    shutil.copytree(FIXTURES / project, root)
    (root / ".pre-commit-config.yaml").write_text(
        starter_files("sources")[".pre-commit-config.yaml"]
    )
    repo = Repo(root, env)
    repo.git("init", "-q", "-b", "main")
    done = repo.run(str(BIN / "pre-commit"), "install")
    assert done.returncode == 0, done.stdout + done.stderr
    return repo


@pytest.fixture
def course(tmp_path: Path, environment: dict[str, str]) -> Repo:
    """The fixture course, built and committed through the hook."""
    repo = start(tmp_path, environment)
    repo.deckkit("build", "-q")
    repo.add(".pre-commit-config.yaml", "deckkit.toml", "deckkit.lock", "sources")
    first = repo.commit("The course")
    assert first.returncode == 0, first.stdout + first.stderr
    return repo


def test_the_hook_file_checks_the_staged_project_on_every_commit() -> None:
    (hook,) = HOOKS
    assert hook["id"] == "deckkit-validate"
    assert hook["entry"] == "deckkit validate --staged"
    assert hook["pass_filenames"] is False
    assert hook["always_run"] is True


def test_a_good_commit_passes_and_builds_in_a_fresh_clone(course: Repo, tmp_path: Path) -> None:
    assert course.commits() == 1
    clone = tmp_path / "clone"
    course.git("clone", "-q", str(course.root), str(clone))
    course.deckkit("build", "-q", cwd=clone)
    assert sorted(p.name for p in (clone / "build").glob("*.apkg")) == ["cells.apkg", "genes.apkg"]


def test_a_new_deck_reusing_another_files_deck_id_is_refused(course: Repo) -> None:
    shutil.copy(FIXTURES / "reuses-cells-id.yaml", course.root / "sources" / "division.yaml")
    course.add("sources/division.yaml")

    refused = course.commit("Cell division")

    assert refused.returncode == 1
    assert (
        "sources/division.yaml:3:5: error: deck id 'cells' is already used by "
        "sources/cells.yaml:2; deck ids must be unique [check.duplicate-deck-id]"
    ) in refused.stdout
    assert course.commits() == 1


def test_an_image_never_added_to_git_is_refused(course: Repo) -> None:
    shutil.copy(FIXTURES / "names-new-image.yaml", course.root / "sources" / "tissues.yaml")
    shutil.copy(
        FIXTURES / "project" / "sources" / "media" / "cell.png",
        course.root / "sources" / "media" / "tissue.png",
    )
    course.deckkit("build", "-q")
    course.add("sources/tissues.yaml", "deckkit.lock")

    refused = course.commit("Tissues")

    assert refused.returncode == 1
    assert (
        "sources/tissues.yaml:7:11: error: sources/media/tissue.png is not in the commit (git "
        "does not track it): a fresh clone would not have it; run 'git add "
        "sources/media/tissue.png' [hook.untracked-file]"
    ) in refused.stdout
    course.add("sources/media/tissue.png")
    assert course.commit("Tissues, with the image").returncode == 0


def test_unstaged_changes_do_not_leak_into_the_verdict(course: Repo, tmp_path: Path) -> None:
    genes = course.root / "sources" / "genes.yaml"
    genes.write_text(genes.read_text().replace("Three", "Three bases"))
    course.deckkit("build", "-q")
    course.add("sources/genes.yaml", "deckkit.lock")
    # Not staged: a changed image, and a deck broken in the working tree.
    shutil.copy(FIXTURES / "changed-cell.png", course.root / "sources" / "media" / "cell.png")
    cells = course.root / "sources" / "cells.yaml"
    cells.write_text(cells.read_text().replace("id: cells", "id: [cells"))

    done = course.commit("Genes: a longer answer")

    assert done.returncode == 0, done.stdout
    assert "Unstaged files detected" in done.stdout  # pre-commit set them aside
    assert "id: [cells" in cells.read_text()  # and put them back
    clone = tmp_path / "clone"
    course.git("clone", "-q", str(course.root), str(clone))
    course.deckkit("build", "-q", cwd=clone)


def test_a_stale_lockfile_is_refused(course: Repo) -> None:
    genes = course.root / "sources" / "genes.yaml"
    genes.write_text(genes.read_text().replace("Three", "Three bases"))
    course.add("sources/genes.yaml")

    refused = course.commit("Genes: a longer answer")

    assert refused.returncode == 1
    assert (
        "deckkit.lock:1:1: error: deckkit.lock is out of date for the sources in this commit (a "
        "build would change genes/codon); run 'deckkit build', then 'git add deckkit.lock' "
        "[hook.stale-lockfile]"
    ) in refused.stdout
    course.deckkit("build", "-q")
    course.add("deckkit.lock")
    assert course.commit("Genes: a longer answer").returncode == 0


def test_a_deck_in_the_project_files_folder_is_checked(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    repo = start(tmp_path, environment, "decks-project")
    repo.add(".")

    refused = repo.commit("Cells")

    assert refused.returncode == 1
    assert "decks/biology/cells.yaml:4:5: error: 'back' is required" in refused.stdout
    assert repo.commits() == 0


def test_a_repo_at_a_release_tag_runs_the_hook(tmp_path: Path, environment: dict[str, str]) -> None:
    """`repo:` a clone of this repository, `rev:` its release tag: pre-commit installs deckkit."""
    deckkit_clone = tmp_path / "deckkit"
    subprocess.run([*GIT, "clone", "-q", str(REPO), str(deckkit_clone)], check=True)
    # -f: the clone may already hold the tag (once it is made on main), here it names HEAD.
    subprocess.run([*GIT, "tag", "-f", f"v{__version__}"], cwd=deckkit_clone, check=True)
    repo = start(tmp_path, environment)
    config = {
        "repos": [
            {
                "repo": str(deckkit_clone),
                "rev": f"v{__version__}",
                "hooks": [{"id": "deckkit-validate"}],
            }
        ]
    }
    (repo.root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    shutil.copy(FIXTURES / "reuses-cells-id.yaml", repo.root / "sources" / "division.yaml")
    repo.add(".")
    # pre-commit's own environment, without this test's deckkit on PATH: it installs its own.
    env = {key: value for key, value in environment.items() if key != "PYTHONPATH"}
    env["PATH"] = os.environ["PATH"].replace(f"{BIN}{os.pathsep}", "")
    refused = Repo(repo.root, env).run(str(BIN / "pre-commit"), "run")

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "deck id 'cells' is already used by" in refused.stdout


def test_commit_all_is_checked_as_it_will_be_committed(course: Repo) -> None:
    """`git commit -a` stages into a temporary index (GIT_INDEX_FILE): that index is checked."""
    genes = course.root / "sources" / "genes.yaml"
    genes.write_text(genes.read_text().replace("    back: Three\n", ""))

    refused = course.run(*GIT, "commit", "-a", "-m", "Genes without an answer")

    assert refused.returncode == 1
    assert "sources/genes.yaml:4:5: error: 'back' is required in card 'codon'" in refused.stderr
    assert course.commits() == 1
