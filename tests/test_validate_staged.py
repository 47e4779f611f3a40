"""`deckkit validate --staged` by itself, without pre-commit (which sets unstaged changes aside
before its hooks run): what the commit holds is checked, and what it would leave out is named
with the command that puts it in. The hook's cases under real pre-commit are in
test_precommit_hook.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "hook"
GIT = ["git", "-c", "user.name=Author", "-c", "user.email=author@example.com"]


def run(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def git(cwd: Path, *arguments: str) -> None:
    done = run(cwd, *GIT, *arguments)
    assert done.returncode == 0, done.stderr


def staged(cwd: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return run(cwd, sys.executable, "-m", "deckkit", "validate", "--staged", *options)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """The fixture course, built and committed."""
    root = Path(shutil.copytree(FIXTURES / "project", tmp_path / "course"))
    git(root, "init", "-q", "-b", "main")
    built = run(root, sys.executable, "-m", "deckkit", "build", "-q")
    assert built.returncode == 0, built.stderr
    git(root, "add", "deckkit.toml", "deckkit.lock", "sources")
    git(root, "commit", "-q", "-m", "The course")
    return root


def test_a_committed_course_is_valid_as_staged_and_nothing_is_written(course: Path) -> None:
    before = run(course, "git", "status", "--porcelain", "--ignored").stdout
    done = staged(course)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 staged source file(s) valid" in done.stderr
    assert run(course, "git", "status", "--porcelain", "--ignored").stdout == before
    # The build runs without output formats: its folder in .git holds only its cache.
    assert not [p for p in (course / ".git" / "deckkit").rglob("*") if p.suffix == ".apkg"]


def test_an_image_whose_change_is_not_staged_is_refused(course: Path) -> None:
    shutil.copy(FIXTURES / "changed-cell.png", course / "sources" / "media" / "cell.png")

    done = staged(course)

    assert done.returncode == 1
    assert done.stdout == (
        "sources/cells.yaml:6:11: error: sources/media/cell.png has changes that are not staged: "
        "the commit holds its staged version, not the one you see; run 'git add "
        "sources/media/cell.png' (or 'git restore sources/media/cell.png' to drop the changes) "
        "[hook.unstaged-change]\n"
    )


def test_an_unstaged_edit_of_a_deck_does_not_change_the_verdict(course: Path) -> None:
    cells = course / "sources" / "cells.yaml"
    cells.write_text(cells.read_text().replace("id: cells", "id: [cells"))
    assert staged(course).returncode == 0
    git(course, "add", "sources/cells.yaml")
    assert staged(course).returncode == 1


def test_an_ignored_image_is_named_with_git_add_f(course: Path) -> None:
    (course / ".gitignore").write_text("*.png\n")
    shutil.copy(FIXTURES / "names-new-image.yaml", course / "sources" / "tissues.yaml")
    shutil.copy(FIXTURES / "changed-cell.png", course / "sources" / "media" / "tissue.png")
    git(course, "add", "sources/tissues.yaml")

    done = staged(course)

    assert done.returncode == 1
    assert (
        "sources/tissues.yaml:7:11: error: sources/media/tissue.png is not in the commit (git "
        "ignores it): a fresh clone would not have it; run 'git add -f sources/media/tissue.png' "
        "[hook.untracked-file]"
    ) in done.stdout
    assert "check.media-missing" not in done.stdout  # said once, as not in the commit


def test_a_lockfile_never_added_is_refused(tmp_path: Path) -> None:
    root = Path(shutil.copytree(FIXTURES / "project", tmp_path / "course"))
    git(root, "init", "-q", "-b", "main")
    assert run(root, sys.executable, "-m", "deckkit", "build", "-q").returncode == 0
    git(root, "add", "deckkit.toml", "sources")

    done = staged(root)

    assert done.returncode == 1
    assert done.stdout.startswith(
        "deckkit.lock:1:1: error: the lockfile is not in the commit (git does not track it): a "
        "fresh clone would not have it; run 'git add deckkit.lock' [hook.untracked-file]"
    )


def test_a_project_file_never_added_is_refused(tmp_path: Path) -> None:
    root = Path(shutil.copytree(FIXTURES / "decks-project", tmp_path / "course"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "decks")

    done = staged(root)

    assert done.returncode == 1
    assert (
        "deckkit.toml:1:1: error: the project file deckkit.toml is not in the commit"
    ) in done.stdout


def test_problems_are_named_from_the_working_folder(course: Path) -> None:
    shutil.copy(FIXTURES / "reuses-cells-id.yaml", course / "sources" / "division.yaml")
    git(course, "add", "sources/division.yaml")

    done = staged(course / "sources")

    assert done.returncode == 1
    assert "../sources/division.yaml:3:5: error: deck id 'cells' is already used by" in done.stdout
    assert ".git" not in done.stdout


def test_staged_names_no_paths_and_needs_a_repository(tmp_path: Path) -> None:
    with_paths = staged(tmp_path, "sources")
    assert with_paths.returncode == 2
    assert "--staged checks the whole project as staged: name no PATHS" in with_paths.stderr
    outside = staged(tmp_path)
    assert outside.returncode == 2
    assert "not in a git repository: --staged checks what the next commit contains" in (
        outside.stderr
    )


def test_from_the_top_every_project_below_is_checked(tmp_path: Path) -> None:
    """pre-commit runs hooks from the top of the repository: a course kept in a folder of it
    (course/deckkit.toml) is found there, and its folders followed."""
    root = tmp_path / "repository"
    shutil.copytree(FIXTURES / "decks-project", root / "course")
    shutil.copytree(FIXTURES / "project", root / "other-course")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "course", "other-course/deckkit.toml", "other-course/sources")

    done = staged(root)

    assert done.returncode == 1
    assert done.stdout == (
        "course/decks/biology/cells.yaml:4:5: error: 'back' is required in card 'powerhouse' "
        "[schema.required]\n"
    )
    assert "1 error in 1 file" in done.stderr


def test_a_template_file_never_added_is_named_where_the_note_type_file_names_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "course"
    shutil.copytree(FIXTURES.parent / "note_types" / "shared", root / "sources")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "sources", ":!sources/course/back.html")

    done = staged(root)

    assert done.returncode == 1
    assert done.stdout == (
        "sources/course.notetypes.yaml:9:20: error: sources/course/back.html is not in the "
        "commit (git does not track it): a fresh clone would not have it; run 'git add "
        "sources/course/back.html' [hook.untracked-file]\n"
    )


def markdown_course(tmp_path: Path) -> Path:
    """The Markdown course, its image never added to git."""
    root = Path(shutil.copytree(FIXTURES / "markdown-project", tmp_path / "course"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "deckkit.toml", "sources/git.yaml")
    return root


def test_an_image_of_a_markdown_field_never_added_is_refused(tmp_path: Path) -> None:
    root = markdown_course(tmp_path)

    done = staged(root)

    assert done.returncode == 1
    assert done.stdout == (
        "sources/git.yaml:7:11: error: sources/media/diagram.png is not in the commit (git does "
        "not track it): a fresh clone would not have it; run 'git add sources/media/diagram.png' "
        "[hook.untracked-file]\n"
    )


def test_the_staged_build_reads_fields_as_markdown_as_the_project_file_says(
    tmp_path: Path,
) -> None:
    root = markdown_course(tmp_path)
    (root / "sources" / "media" / "diagram.png").unlink()  # neither in git nor on disk

    done = staged(root)

    assert done.returncode == 1
    assert "sources/git.yaml:7:11: error: media file 'media/diagram.png' does not exist" in (
        done.stdout
    )


def test_a_project_file_naming_an_unknown_format_is_refused_as_build_refuses_it(
    tmp_path: Path,
) -> None:
    root = Path(shutil.copytree(FIXTURES.parent / "projects" / "unknown-format", tmp_path / "c"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "deckkit.toml", "sources")

    done = staged(root)
    built = run(root, sys.executable, "-m", "deckkit", "build")

    assert done.returncode == built.returncode == 2
    message = "deckkit.toml:2:1: unknown output format 'qizlet' (did you mean 'quizlet'?)"
    assert message in done.stderr
    assert message in built.stderr
