"""What `deckkit push` and `deckkit build --push` share: AnkiConnect's address and key, and the
push of a build's packages with one line per deck."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from deckkit.anki_connect import DEFAULT_URL, AnkiConnect, endpoint
from deckkit.cli.advice import library_errors
from deckkit.cli.common import QUIET
from deckkit.cli.terminal import echo_lines
from deckkit.pipeline import BuildResult
from deckkit.problems import display_path
from deckkit.pushing import PushedDeck, push

_Command = TypeVar("_Command", bound=Callable[..., Any])

# deckkit's own variables first; then those most AnkiConnect tools read.
URL_VARIABLES = ["DECKKIT_ANKI_CONNECT_URL", "ANKI_CONNECT_URL"]
KEY_VARIABLES = ["DECKKIT_ANKI_CONNECT_KEY", "ANKI_CONNECT_API_KEY"]


def ANKI_CONNECT(command: _Command) -> _Command:
    """--anki-connect-url and --api-key, handed to the command as ``anki_connect_url`` and
    ``api_key``."""
    url = click.option(
        "--anki-connect-url",
        envvar=URL_VARIABLES,
        default=DEFAULT_URL,
        show_default=True,
        metavar="URL",
        help="Where AnkiConnect listens (env: DECKKIT_ANKI_CONNECT_URL or ANKI_CONNECT_URL).",
    )
    key = click.option(
        "--api-key",
        envvar=KEY_VARIABLES,
        default=None,
        metavar="KEY",
        help="The apiKey set in AnkiConnect's config, if any (env: DECKKIT_ANKI_CONNECT_KEY or "
        "ANKI_CONNECT_API_KEY).",
    )
    return url(key(command))


def check_address(url: str) -> None:
    """Refuse, as a usage error and before any work, an address that is not http(s)."""
    with library_errors():
        endpoint(url)


def packages_of(result: BuildResult) -> list[Path]:
    """The build's .apkg files, written or up to date, one per deck in the build's order."""
    return [p for p in (*result.written, *result.unchanged) if p.name.endswith(".apkg")]


def push_built(result: BuildResult, *, url: str, key: str | None, verbosity: int) -> None:
    """Push the build's packages into Anki, saying for each deck what changed."""
    client = AnkiConnect(url=url, key=key or None)

    def said(deck: PushedDeck) -> None:
        if verbosity != QUIET:
            echo_lines([pushed_line(deck)])

    with library_errors():
        pushed = push(client, packages_of(result), on_deck=said)
    if verbosity != QUIET:
        echo_lines([total_line(pushed, url)])


def pushed_line(deck: PushedDeck) -> str:
    """One deck's push: ``pushed build/ml.apkg (ML): 2 new, 1 updated, 37 unchanged notes``."""
    return f"pushed {display_path(deck.package)} ({', '.join(deck.deck_names)}): {_counts([deck])}"


def total_line(pushed: tuple[PushedDeck, ...], url: str) -> str:
    """The push's total, naming where the decks went."""
    decks = f"{len(pushed)} deck" + ("" if len(pushed) == 1 else "s")
    return f"pushed {decks} to Anki at {url}: {_counts(pushed)}"


def _counts(pushed: tuple[PushedDeck, ...] | list[PushedDeck]) -> str:
    new = sum(d.new for d in pushed)
    updated = sum(d.updated for d in pushed)
    unchanged = sum(d.unchanged for d in pushed)
    notes = "note" if new + updated + unchanged == 1 else "notes"
    return f"{new} new, {updated} updated, {unchanged} unchanged {notes}"


__all__ = [
    "ANKI_CONNECT",
    "check_address",
    "packages_of",
    "push_built",
    "pushed_line",
    "total_line",
]
