"""A new project: the project file, a sources folder with an example deck, and the files that
wire deckkit into git, VS Code and pre-commit (what ``deckkit init`` writes).

Every file is written only if it is not there yet: an existing one is the user's and is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deckkit import __version__
from deckkit.errors import UsageError
from deckkit.project import DEFAULT_OUTPUT, PROJECT_FILE, project_file_text
from deckkit.sources.schema import schema_text
from deckkit.sources.starter import EXAMPLE_NAME, SCHEMA_NAME, example_text

YAML_EXTENSION = "redhat.vscode-yaml"


@dataclass(frozen=True)
class StartedProject:
    """The files ``deckkit init`` wrote, and those it found and kept as they were."""

    created: tuple[Path, ...]
    kept: tuple[Path, ...]


def starter_files(sources: str, output: str = str(DEFAULT_OUTPUT)) -> dict[str, str]:
    """Every file of a new project whose sources and output folders are ``sources`` and
    ``output`` (relative POSIX paths): its path relative to the project's root → its text."""
    folder = PurePosixPath(sources)
    return {
        PROJECT_FILE: project_file_text(sources),
        str(folder / EXAMPLE_NAME): example_text(),
        str(folder / SCHEMA_NAME): schema_text(),
        ".gitignore": f"# deckkit's outputs: rebuilt from the sources\n/{output}/\n",
        ".vscode/settings.json": _vscode_settings(folder),
        ".vscode/extensions.json": _json({"recommendations": [YAML_EXTENSION]}),
        ".pre-commit-config.yaml": _precommit_config(),
    }


def start_project(root: Path, sources: str, output: str = str(DEFAULT_OUTPUT)) -> StartedProject:
    """Write a new project into ``root`` with its sources in ``root/sources`` and its outputs in
    ``root/output``; never overwrites a file."""
    created: list[Path] = []
    kept: list[Path] = []
    for name, text in starter_files(sources, output).items():
        path = root / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # "x": never over a file, even one that appeared a moment ago.
            with path.open("x", encoding="utf-8", newline="\n") as file:
                file.write(text)
        except FileExistsError:
            kept.append(path)
            continue
        except OSError as error:
            raise UsageError(f"cannot write {path}: {error.strerror or error}") from error
        created.append(path)
    return StartedProject(tuple(created), tuple(kept))


def _json(value: object) -> str:
    return json.dumps(value, indent=2) + "\n"


def _vscode_settings(sources: PurePosixPath) -> str:
    # The YAML extension resolves a relative schema path from the workspace folder, the project.
    return _json(
        {
            "yaml.schemas": {
                f"./{sources / SCHEMA_NAME}": [f"{sources}/**/*.yaml", f"{sources}/**/*.yml"]
            }
        }
    )


def _precommit_config() -> str:
    # No folder in it: the hook reads the project file for the sources' folders.
    return (
        "# Checks every commit before it is made (pip install pre-commit; pre-commit install).\n"
        "# The hook, deckkit-validate, checks what the commit contains (git's index), the whole\n"
        "# project with its media and deckkit.lock, as a fresh clone would build it. It runs the\n"
        "# deckkit installed beside pre-commit (`language: system`), the one that builds these\n"
        "# decks, and needs no network. To have pre-commit install deckkit itself, use deckkit's\n"
        "# repository instead, at a release tag:\n"
        "#   - repo: <URL of the deckkit repository>\n"
        f"#     rev: v{__version__}\n"
        "#     hooks:\n"
        "#       - id: deckkit-validate\n"
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: deckkit-validate\n"
        "        name: deckkit validate --staged\n"
        "        entry: deckkit validate --staged\n"
        "        language: system\n"
        "        pass_filenames: false\n"
        "        always_run: true\n"
        "        require_serial: true\n"
    )


__all__ = ["StartedProject", "start_project", "starter_files"]
