"""Projects: a deckkit.toml (or [tool.deckkit] in pyproject.toml) found upward from the working
folder decides where the sources, outputs and lockfile are, for every command run anywhere inside
the project; `deckkit init` makes one. Each test copies a real project from
tests/fixtures/projects/ and runs the command line as a subprocess from a folder inside it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import run_deckkit as deckkit
from deckkit import __version__ as deckkit_version
from deckkit.project import load_project

PROJECTS = Path(__file__).parent / "fixtures" / "projects"
REPO = Path(__file__).parent.parent
NO_PROJECT_NOTE = "note: no deckkit.toml in this folder or above; using the defaults"


def copied(name: str, tmp_path: Path) -> Path:
    """A copy of the example project ``name``, to build in."""
    return Path(shutil.copytree(PROJECTS / name, tmp_path / name))


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def outputs(folder: Path) -> list[str]:
    """The outputs in ``folder``, not deckkit's hidden cache and lock."""
    return [name for name in files_under(folder) if not name.startswith(".")]


# --- the project file is found upward, and its folders are the project's -------------------


@pytest.mark.parametrize("inside", [".", "decks", "decks/biology", "notes"])
def test_build_from_any_folder_writes_the_projects_outputs_and_lockfile(
    tmp_path: Path, inside: str
) -> None:
    project = copied("custom-folders", tmp_path)
    result = deckkit(project / inside, "build")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs(project / "dist") == ["cells.csv", "cells.quizlet.txt"]  # its formats
    assert (project / "locks" / "deckkit.lock").is_file()
    # Nothing lands in the working folder, and nothing is said about defaults.
    assert not (project / inside / "build").exists()
    assert not (project / inside / "deckkit.lock").exists()
    assert "note: no deckkit.toml" not in result.stderr


def test_a_build_from_another_folder_reuses_the_projects_lockfile(tmp_path: Path) -> None:
    project = copied("custom-folders", tmp_path)
    assert deckkit(project, "build").returncode == 0
    lock = (project / "locks" / "deckkit.lock").read_bytes()
    csv = (project / "dist" / "cells.csv").read_bytes()
    result = deckkit(project / "decks" / "biology", "build")
    assert result.returncode == 0, result.stderr
    # The same lockfile: no note re-stamped, the outputs unchanged.
    assert (project / "locks" / "deckkit.lock").read_bytes() == lock
    assert (project / "dist" / "cells.csv").read_bytes() == csv


def test_validate_from_inside_the_sources_reads_every_project_source(tmp_path: Path) -> None:
    project = copied("custom-folders", tmp_path)
    result = deckkit(project / "notes", "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 source file(s) valid" in result.stderr


def test_messages_name_the_projects_files_from_the_working_folder(tmp_path: Path) -> None:
    project = copied("custom-folders", tmp_path)
    result = deckkit(project / "notes", "build")
    assert result.stdout.splitlines()[0].startswith("wrote ../dist/cells.csv, ")


def test_command_line_options_win_over_the_project_file(tmp_path: Path) -> None:
    project = copied("custom-folders", tmp_path)
    result = deckkit(
        project / "notes", "build", "-o", "here", "--lockfile", "my.lock", "--format", "apkg"
    )
    assert result.returncode == 0, result.stderr
    assert outputs(project / "notes" / "here") == ["cells.apkg"]
    assert (project / "notes" / "my.lock").is_file()
    assert not (project / "dist").exists()


@pytest.mark.parametrize("command", ["build", "watch", "push"])
def test_the_commands_that_build_say_the_project_file_chooses_the_formats(
    tmp_path: Path, command: str
) -> None:
    shown = deckkit(tmp_path, command, "--help").stdout
    assert "(default: the project file's formats, else all three)" in " ".join(shown.split())


def test_preview_goes_into_the_projects_output_folder(tmp_path: Path) -> None:
    project = copied("custom-folders", tmp_path)
    result = deckkit(project / "decks", "preview")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "dist" / "preview" / "index.html").is_file()


def test_import_writes_into_the_projects_sources_and_lockfile(tmp_path: Path) -> None:
    project = copied("custom-folders", tmp_path)
    quizlet = tmp_path / "words.txt"
    quizlet.write_text("uno\tone\ndos\ttwo\n", encoding="utf-8")
    result = deckkit(project / "notes", "import", str(quizlet), "--from", "quizlet")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "decks" / "words.yaml").is_file()
    assert not (project / "notes" / "sources").exists()


def test_pyproject_tool_deckkit_is_a_project_file(tmp_path: Path) -> None:
    project = copied("pyproject", tmp_path)
    result = deckkit(project / "cards", "build")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs(project / "out") == [
        "spanish-verbs.apkg",
        "spanish-verbs.csv",
        "spanish-verbs.quizlet.txt",
    ]
    assert (project / "deckkit.lock").is_file()


def test_a_pyproject_without_tool_deckkit_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert load_project(tmp_path).file is None


def test_strict_in_the_project_file_fails_on_warnings(tmp_path: Path) -> None:
    project = copied("strict", tmp_path)
    result = deckkit(project / "sources", "build")
    assert result.returncode == 1
    assert "unclosed.yaml:5:12: error: <b> is never closed" in result.stdout
    assert not (project / "build").exists()


# --- a bad project file: where, and what to do ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "bad-toml",
            "deckkit.toml:2:10: not valid TOML: Invalid value; fix it (a value in quotes: "
            'output = "build"',
        ),
        (
            "unknown-key",
            "deckkit.toml:3:1: unknown key 'frmats' (did you mean 'formats'?); a project file may "
            "hold sources, output, lockfile, formats, strict",
        ),
        (
            "unknown-format",
            "deckkit.toml:2:1: unknown output format 'qizlet' (did you mean 'quizlet'?); use apkg, "
            "csv, quizlet",
        ),
    ],
)
def test_a_bad_project_file_is_a_usage_error_naming_its_line(
    tmp_path: Path, name: str, message: str
) -> None:
    project = copied(name, tmp_path)
    result = deckkit(project / "sources", "build")
    assert result.returncode == 2
    assert f"../deckkit.toml:{message.split(':', 1)[1]}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "build").exists()


def test_a_project_without_its_sources_folder_says_how_to_make_it(tmp_path: Path) -> None:
    project = copied("custom-folders", tmp_path)
    shutil.rmtree(project / "decks")
    result = deckkit(project / "notes", "validate")
    assert result.returncode == 2
    assert (
        "../deckkit.toml:3:1: the sources folder ../decks does not exist; create it (deckkit init "
        "makes one with an example deck) or change 'sources'" in result.stderr
    )


# --- without a project file -----------------------------------------------------------------


def test_without_a_project_file_the_defaults_are_said_once(tmp_path: Path) -> None:
    shutil.copytree(PROJECTS / "custom-folders" / "decks", tmp_path / "sources")
    result = deckkit(tmp_path, "build")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "deckkit.toml" in line]
    assert notes == [
        f"{NO_PROJECT_NOTE} in the working folder: sources/, build/, deckkit.lock "
        "('deckkit init' writes a project file)"
    ]
    assert (tmp_path / "build" / "cells.apkg").is_file()
    assert (tmp_path / "deckkit.lock").is_file()


def test_without_a_project_file_explicit_paths_need_no_note(tmp_path: Path) -> None:
    shutil.copytree(PROJECTS / "custom-folders" / "decks", tmp_path / "decks")
    result = deckkit(tmp_path, "validate", "decks")
    assert result.returncode == 0
    assert "deckkit.toml" not in result.stderr


@pytest.mark.parametrize("command", ["validate", "build", "preview"])
def test_in_an_empty_folder_commands_suggest_deckkit_init(tmp_path: Path, command: str) -> None:
    result = deckkit(tmp_path, command)
    assert result.returncode == 2
    assert "run 'deckkit init' to start a project" in result.stderr
    assert "no such file or folder" not in result.stderr


# --- deckkit init makes a project -----------------------------------------------------------


INIT_FILES = [
    ".gitignore",
    ".pre-commit-config.yaml",
    ".vscode/extensions.json",
    ".vscode/settings.json",
    "deckkit.toml",
    "sources/deck.schema.json",
    "sources/example.yaml",
]


def test_init_makes_a_project_that_builds_from_inside_its_sources(tmp_path: Path) -> None:
    result = deckkit(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    assert files_under(tmp_path) == INIT_FILES
    built = deckkit(tmp_path / "sources", "build")
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "build" / "my-first-deck.apkg").is_file()
    assert "deckkit.toml" not in built.stderr


def test_init_ignores_the_outputs_in_git(tmp_path: Path) -> None:
    assert deckkit(tmp_path, "init").returncode == 0
    assert deckkit(tmp_path, "build").returncode == 0
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "build/" not in status
    assert "deckkit.lock" in status  # the lockfile is the project's, to commit


def test_init_wires_the_schema_to_every_source_in_vs_code(tmp_path: Path) -> None:
    assert deckkit(tmp_path, "init", "decks").returncode == 0
    settings = json.loads((tmp_path / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    assert settings["yaml.schemas"] == {
        "./decks/deck.schema.json": ["decks/**/*.yaml", "decks/**/*.yml"]
    }
    assert (tmp_path / "decks" / "deck.schema.json").is_file()
    extensions = json.loads((tmp_path / ".vscode" / "extensions.json").read_text("utf-8"))
    assert extensions == {"recommendations": ["redhat.vscode-yaml"]}
    project = load_project(tmp_path)
    assert project.sources == (tmp_path / "decks",)


def test_init_hooks_deckkit_validate_into_pre_commit_as_the_repository_offers_it(
    tmp_path: Path,
) -> None:
    assert deckkit(tmp_path, "init", "decks").returncode == 0
    config = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (hook,) = config["repos"][0]["hooks"]
    ours = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == ours[0]["id"] == "deckkit-validate"
    same = ("entry", "pass_filenames", "always_run")
    assert {key: hook[key] for key in same} == {key: ours[0][key] for key in same}
    assert "files" not in hook  # the project file names the folders: decks/ here
    # The other way, in a comment: this repository's hook at the release tag of this deckkit.
    text = (tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert f"#     rev: v{deckkit_version}\n" in text


def test_init_never_overwrites_and_names_what_it_kept(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("mine\n", encoding="utf-8")
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "example.yaml").write_text("mine\n", encoding="utf-8")
    result = deckkit(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    assert "kept as they were (already there): sources/example.yaml, .gitignore" in result.stdout
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == "mine\n"
    assert (tmp_path / "sources" / "example.yaml").read_text(encoding="utf-8") == "mine\n"
    assert (tmp_path / "deckkit.toml").is_file()


def test_init_inside_a_project_completes_that_project(tmp_path: Path) -> None:
    project = copied("custom-folders", tmp_path)
    result = deckkit(project / "decks" / "biology", "init")
    assert result.returncode == 0, result.stderr
    assert (project / "decks" / "example.yaml").is_file()  # the project's sources folder
    assert (project / ".gitignore").is_file()
    assert "kept as they were (already there): ../../deckkit.toml" in result.stdout
    assert not (project / "decks" / "biology" / "deckkit.toml").exists()


def test_this_repositorys_project_file_names_the_defaults_its_readme_builds_with() -> None:
    # README's first command, `deckkit build` at the root, must build as it did without one.
    project = load_project(REPO)
    assert project.file == REPO / "deckkit.toml"
    assert [path.resolve() for path in project.sources] == [REPO.resolve() / "sources"]
    assert project.output.resolve() == REPO.resolve() / "build"
    assert project.lockfile.resolve() == REPO.resolve() / "deckkit.lock"
    assert (project.formats, project.strict) == (("apkg", "csv", "quizlet"), False)


def test_the_pre_commit_config_init_writes_runs_under_real_pre_commit(tmp_path: Path) -> None:
    assert deckkit(tmp_path, "init", "decks").returncode == 0
    shutil.copy(Path(__file__).parent / "fixtures" / "hook" / "bad.yaml", tmp_path / "decks")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "."], cwd=tmp_path, check=True)
    # `language: system` runs the deckkit on PATH: this interpreter's, which runs these tests.
    bin_folder = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_folder + os.pathsep + os.environ.get("PATH", ""),
        "PRE_COMMIT_HOME": str(tmp_path.parent / f"{tmp_path.name}-pre-commit-home"),
    }
    result = subprocess.run(
        [str(Path(bin_folder) / "pre-commit"), "run", "--all-files"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "decks/bad.yaml:4:5: error: 'back' is required in card 'one'" in output
    assert "decks/example.yaml:" not in output
