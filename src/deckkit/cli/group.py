"""The `deckkit` command group: every command, imported when it is first needed."""

from __future__ import annotations

import importlib

import click

from deckkit import __version__

# Every command and where it is defined ("module:attribute"). A command's module, and the part of
# the library behind it, is imported when that command runs or the help lists it: `deckkit
# validate` (the pre-commit hook) never loads the importers, and the console script has taken
# over Ctrl-C (deckkit.cli.entry) before anything heavy is imported.
COMMANDS = {
    "build": "deckkit.cli.build:build_command",
    "import": "deckkit.cli.import_:import_command",
    "init": "deckkit.cli.init:init_command",
    "preview": "deckkit.cli.preview:preview_command",
    "push": "deckkit.cli.push:push_command",
    "schema": "deckkit.cli.init:schema_command",
    "validate": "deckkit.cli.validate:validate_command",
    "watch": "deckkit.cli.watch:watch_command",
}


class _Commands(click.Group):
    """A group that imports the module of a command from COMMANDS when it is first needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, attribute = COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command), COMMANDS[cmd_name]
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckkit")
def main() -> None:
    """Validate flashcards written as YAML and build Anki and Quizlet decks from them.

    \b
    Examples:
      deckkit init                 # make a project: deckkit.toml and an example deck
      deckkit validate             # check every *.yaml under sources/
      deckkit build                # write build/<deck id>.apkg, .csv and .quizlet.txt
    """
