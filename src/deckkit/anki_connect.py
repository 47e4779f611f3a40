"""A client of AnkiConnect, the Anki add-on (code 2055492159) most Anki tools talk to.

Protocol version 6, as the add-on implements it (``plugin/__init__.py`` ``AnkiConnect.handler``
and ``plugin/web.py`` of https://git.foosoft.net/alex/anki-connect, mirrored on GitHub as
FooSoft/anki-connect):

- A request is one HTTP POST of a JSON object ``{"action", "version", "params", "key"}``; the
  add-on reads ``version`` (4 when missing) and answers ``{"result", "error"}`` for version 5 and
  later, with HTTP status 200 even when ``error`` is set.
- The add-on compares ``key`` with its ``apiKey`` setting (null by default) before it looks at the
  action, so a request without a key succeeds only while no key is set, and one with a key only
  when it is the same: the key is sent only when one is given.
- It allows a request that carries no ``Origin`` header (a browser always sends one; deckkit
  never does), and answers 403 to an origin outside its ``webCorsOriginList``.

deckkit talks to the one address it is given and nothing else: :mod:`http.client` rather than
:mod:`urllib`, which would follow redirects and the ``*_proxy`` environment variables.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from deckkit.errors import DeckkitError, UsageError

DEFAULT_URL = "http://127.0.0.1:8765"  # the add-on's webBindAddress and webBindPort
API_VERSION = 6
ADDON_CODE = "2055492159"  # Tools > Add-ons > Get Add-ons... in Anki
# The add-on's error for a missing or wrong key (AnkiConnect.handler), and for an Anki that shows
# its profile chooser (AnkiConnect.collection).
KEY_REJECTED = "valid api key must be provided"
NO_COLLECTION = "collection is not available"
CONNECT_SECONDS = 10.0
# An import of a large deck takes Anki minutes; the add-on answers only when it is done.
ANSWER_SECONDS = 3600.0


class AnkiConnectError(DeckkitError):
    """AnkiConnect could not be reached, or refused or failed a request."""


class AnkiNotRunning(AnkiConnectError):
    """Nothing answers at the address: Anki, or its AnkiConnect add-on, is not running there."""


class KeyRejected(AnkiConnectError):
    """The add-on wants an API key, or another one."""


class InvalidAddress(UsageError):
    """The address given for AnkiConnect is not an http:// or https:// address."""


@dataclass(frozen=True)
class Endpoint:
    """Where AnkiConnect listens: the parts of its address that a connection needs."""

    url: str
    https: bool
    host: str
    port: int
    path: str


def endpoint(url: str) -> Endpoint:
    """The address ``url`` taken apart; anything but an http(s) address with a host is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidAddress(f"AnkiConnect address {url!r}: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidAddress(
            f"AnkiConnect address {url!r} is not an http:// address with a host "
            f"(the add-on's own is {DEFAULT_URL})"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidAddress(
            f"AnkiConnect address {url!r}: give only scheme, host, port and path "
            "(the API key goes in --api-key)"
        )
    https = parts.scheme == "https"
    return Endpoint(
        url=url,
        https=https,
        host=parts.hostname,
        port=port or (443 if https else 80),
        path=parts.path or "/",
    )


def not_running(url: str) -> str:
    """What to do when nothing answers at ``url``, in one line."""
    return (
        f"Anki is not running at {url} (nothing answers there): start Anki with the AnkiConnect "
        f"add-on (Tools > Add-ons > Get Add-ons..., code {ADDON_CODE}), or give AnkiConnect's "
        "address with --anki-connect-url"
    )


@dataclass(frozen=True)
class AnkiConnect:
    """AnkiConnect at one address, with the API key to send (None: send none)."""

    url: str = DEFAULT_URL
    key: str | None = None

    def invoke(self, action: str, **params: Any) -> Any:
        """Run one action; returns its ``result`` or raises :class:`AnkiConnectError`."""
        request: dict[str, Any] = {"action": action, "version": API_VERSION, "params": params}
        if self.key is not None:
            request["key"] = self.key
        reply = self._post(json.dumps(request).encode("utf-8"))
        if not isinstance(reply, dict) or set(reply) != {"result", "error"}:
            raise AnkiConnectError(
                f"{self.url} does not answer as AnkiConnect (protocol version {API_VERSION}) "
                "does; check --anki-connect-url"
            )
        if reply["error"] is not None:
            raise self._refusal(action, str(reply["error"]))
        return reply["result"]

    def check_version(self) -> int:
        """The add-on's protocol version; one older than 6 is refused with what to do."""
        version = self.invoke("version")
        if not isinstance(version, int) or version < API_VERSION:
            raise AnkiConnectError(
                f"AnkiConnect at {self.url} speaks protocol version {version}, deckkit needs "
                f"{API_VERSION}: update the add-on (Tools > Add-ons > Check for Updates)"
            )
        return version

    def _refusal(self, action: str, error: str) -> AnkiConnectError:
        if error == KEY_REJECTED:
            said = "refused the API key given" if self.key is not None else "wants an API key"
            return KeyRejected(
                f"AnkiConnect at {self.url} {said} ({error}): pass the apiKey of the add-on's "
                "config (Tools > Add-ons > AnkiConnect > Config) with --api-key or "
                "DECKKIT_ANKI_CONNECT_KEY"
            )
        if error == NO_COLLECTION:
            return AnkiConnectError(
                f"AnkiConnect at {self.url} failed {action}: {error}: open your profile in Anki"
            )
        return AnkiConnectError(f"AnkiConnect at {self.url} failed {action}: {error}")

    def _post(self, body: bytes) -> Any:
        """POST ``body`` to the address, and to nowhere else; the answer's JSON."""
        where = endpoint(self.url)
        kind = http.client.HTTPSConnection if where.https else http.client.HTTPConnection
        connection = kind(where.host, where.port, timeout=CONNECT_SECONDS)
        try:
            try:
                connection.connect()
            except OSError:  # refused, unknown host, unreachable, timed out
                raise AnkiNotRunning(not_running(self.url)) from None
            assert connection.sock is not None
            connection.sock.settimeout(ANSWER_SECONDS)
            connection.request(
                "POST", where.path, body=body, headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            if isinstance(error, socket.timeout):
                message = f"no answer within {ANSWER_SECONDS:.0f} s"
            else:
                message = str(error) or type(error).__name__
            raise AnkiConnectError(
                f"AnkiConnect at {self.url} broke off ({message}): is Anki still running?"
            ) from None
        finally:
            connection.close()
        return self._answer(response.status, response.getheader("Location"), data)

    def _answer(self, status: int, location: str | None, data: bytes) -> Any:
        if 300 <= status < 400:
            raise AnkiConnectError(
                f"{self.url} answered with a redirect to {location!r}; deckkit talks to the "
                "address given and nowhere else: give AnkiConnect's own address"
            )
        if status == 403:
            raise AnkiConnectError(
                f"AnkiConnect at {self.url} refused the request (403 Forbidden): its "
                "webCorsOriginList does not allow it"
            )
        if status != 200:
            raise AnkiConnectError(f"{self.url} answered HTTP {status}, not AnkiConnect's 200")
        try:
            return json.loads(data)
        except ValueError:
            return None


__all__ = [
    "ADDON_CODE",
    "API_VERSION",
    "DEFAULT_URL",
    "NO_COLLECTION",
    "AnkiConnect",
    "AnkiConnectError",
    "AnkiNotRunning",
    "Endpoint",
    "InvalidAddress",
    "KeyRejected",
    "endpoint",
    "not_running",
]
