"""`deckkit push`: build, then send every deck into the running Anki through AnkiConnect.

The same command as `deckkit build --push`, with the same options: a push always sends what a
build of the sources makes, through the checks a build makes.
"""

from __future__ import annotations

from typing import Any

import click

from deckkit.cli.build import build_command


def _push(**options: Any) -> None:
    assert build_command.callback is not None
    build_command.callback(push=True, **options)


push_command = click.Command(
    "push",
    callback=_push,
    params=[param for param in build_command.params if param.name != "push"],
    short_help="Build, then send the decks into the running Anki (AnkiConnect).",
    help="""Build the decks, then send them into the running Anki through AnkiConnect.

    Anki imports each .apkg with its own importer (AnkiConnect's importPackage action), as File >
    Import does: learners' reviews and edits stay, a note is updated when the deck's copy is
    newer. Then deckkit says, for each deck, how many notes are new, updated and unchanged.

    Needs Anki running on this computer with the AnkiConnect add-on (code 2055492159).

    \b
    Examples:
      deckkit push
      deckkit push sources/vocab.yaml
      deckkit push --anki-connect-url http://127.0.0.1:8766
      DECKKIT_ANKI_CONNECT_KEY=secret deckkit push   # the add-on's apiKey, when it has one
    """,
)
