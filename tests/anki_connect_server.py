"""An AnkiConnect-protocol server for the tests, over a collection of the `anki` package.

Written for deckkit's tests after the add-on's documented behaviour and its source (AnkiConnect,
add-on 2055492159; ``plugin/web.py`` and ``plugin/__init__.py``, read at
https://github.com/FooSoft/anki-connect and its later versions); none of its code is copied here.
What it does as the add-on does:

- HTTP: POST a JSON object; ``OPTIONS`` answers the CORS headers; a request with an ``Origin``
  outside ``webCorsOriginList`` (``http://localhost``, which also lets in ``http://127.0.0.1``
  and browser extensions) gets 403 unless it asks ``requestPermission``; no ``Origin``: allowed.
  An empty body answers ``AnkiConnect v.6``; a body that is not a request object, an error reply.
- The envelope ``{"action", "version", "params", "key"}``: ``version`` 4 when missing, and then
  the bare result instead of ``{"result", "error"}``; the key is compared with ``apiKey`` (None
  by default) before anything else, except for ``requestPermission``; every error is HTTP 200
  with ``{"result": null, "error": "<message>"}``.
- Actions: ``version`` (6), ``requestPermission`` (granted to an allowed origin; the add-on asks
  in a dialog otherwise, this server denies), ``findNotes``, ``notesInfo`` (as the newer add-on,
  with ``mod``), ``getMediaDirPath`` and ``importPackage``, which hands the path, as it is, to
  ``anki.importing.AnkiPackageImporter`` as the add-on does (``importer="add-on"``), or, with
  ``importer="desktop"``, to the backend's importer with Anki desktop's default import options.

Every request is recorded (:attr:`AnkiConnectServer.requests`) so that tests can say what reached
it. Start it with ``with AnkiConnectServer(collection) as server: server.url``; it listens on a
free port of 127.0.0.1 and stops when the block ends.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar, TypeVar

from anki.collection import Collection, ImportAnkiPackageRequest
from anki.errors import NotFoundError

# The class the add-on imports as anki.importing.AnkiPackageImporter (test_push.py checks it is);
# read under that name it prints a deprecation notice on stdout, amid deckkit's output here.
from anki.importing import _LegacyAnkiPackageImporter as AnkiPackageImporter

from conftest import default_import_options

API_VERSION = 6
CORS_ORIGINS = ["http://localhost"]
EXTENSION_ORIGINS = ("chrome-extension://", "moz-extension://", "safari-web-extension://")


@dataclass(frozen=True)
class Received:
    """One HTTP request as it reached the server."""

    method: str
    path: str
    host: str | None
    origin: str | None
    body: Any  # the JSON request, or None


_Server = TypeVar("_Server", bound="LocalServer")


class LocalServer:
    """An HTTP server on 127.0.0.1, on a free port, answering in a thread while in a ``with``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._http = HTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self: _Server) -> _Server:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()


class AnkiConnectServer(LocalServer):
    """AnkiConnect's protocol on 127.0.0.1, over ``collection``."""

    def __init__(
        self,
        collection: Collection,
        *,
        api_key: str | None = None,
        importer: str = "add-on",
        profile_open: bool = True,
        elsewhere: str = "",
        api_version: int = API_VERSION,
    ) -> None:
        """``profile_open=False``: Anki shows its profile chooser. ``elsewhere``: Anki runs on
        another computer, where this computer's files are not (its paths begin with that)."""
        self._collection = collection
        self.api_key = api_key
        self.importer = importer
        self.profile_open = profile_open
        self.elsewhere = elsewhere
        self.api_version = api_version  # an older add-on's, in its config's apiVersion
        self.requests: list[Received] = []
        super().__init__(_handler_for(self))

    @property
    def collection(self) -> Collection:
        """The open profile's collection (AnkiConnect.collection)."""
        if not self.profile_open:
            raise Exception("collection is not available")
        return self._collection

    # --- the envelope (AnkiConnect.handler) --------------------------------------------------

    def handle(self, request: dict[str, Any]) -> Any:
        """One request object → the reply object, as the add-on's handler makes it."""
        name = request.get("action", "")
        version = request.get("version", 4)
        params = request.get("params", {})
        try:
            if request.get("key") != self.api_key and name != "requestPermission":
                raise Exception("valid api key must be provided")
            action = self.ACTIONS.get(name)
            if action is None:
                raise Exception("unsupported action")
            result = action(self, **params)
        except Exception as error:
            return {"result": None, "error": str(error)}
        return result if version <= 4 else {"result": result, "error": None}

    # --- the actions ----------------------------------------------------------------------

    def version(self) -> int:
        return self.api_version

    def request_permission(self, origin: str, allowed: bool) -> dict[str, Any]:
        if not allowed:
            return {"permission": "denied"}  # the add-on asks in a dialog; nobody answers here
        return {
            "permission": "granted",
            "requireApikey": bool(self.api_key),
            "version": API_VERSION,
        }

    def find_notes(self, query: str | None = None) -> list[int]:
        return [] if query is None else [int(i) for i in self.collection.find_notes(query)]

    def notes_info(self, notes: list[int]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for nid in notes:
            try:
                note = self.collection.get_note(nid)  # type: ignore[arg-type]
            except NotFoundError:
                result.append({})
                continue
            model = note.note_type()
            assert model is not None
            fields = {
                f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]}
                for f in model["flds"]
            }
            cards = self.collection.db.list("select id from cards where nid = ? order by ord", nid)
            result.append(
                {
                    "noteId": note.id,
                    "profile": "User 1",
                    "tags": note.tags,
                    "fields": fields,
                    "modelName": model["name"],
                    "mod": note.mod,
                    "cards": cards,
                }
            )
        return result

    def get_media_dir_path(self) -> str:
        return os.path.abspath(self.collection.media.dir())

    def import_package(self, path: str) -> bool:
        path = self.elsewhere + path
        if self.importer == "add-on":
            # What the add-on runs; in anki 26.9 a shim over the backend's import_anki_package.
            AnkiPackageImporter(self.collection, path).run()
        else:
            options = default_import_options(self.collection)
            request = ImportAnkiPackageRequest(package_path=path, options=options)
            self.collection.import_anki_package(request)
        self.collection.models._clear_cache()
        return True

    ACTIONS: ClassVar[dict[str, Callable[..., Any]]] = {
        "version": version,
        "requestPermission": request_permission,
        "findNotes": find_notes,
        "notesInfo": notes_info,
        "getMediaDirPath": get_media_dir_path,
        "importPackage": import_package,
    }


def allowed_origin(origin: str | None) -> tuple[bool, str]:
    """Whether the add-on lets a request with this ``Origin`` in, and the CORS origin it names
    (``WebServer.allowOrigin``)."""
    if origin is None:
        return True, "http://localhost"
    if origin in CORS_ORIGINS:
        return True, origin
    local = origin in ("http://127.0.0.1", "https://127.0.0.1") or origin.startswith(
        ("http://127.0.0.1:", *EXTENSION_ORIGINS)
    )
    if "http://localhost" in CORS_ORIGINS and local:
        return True, origin
    return False, "http://localhost"


def valid_request(body: Any) -> bool:
    """The add-on's request schema: an object with a non-empty string action."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("action"), str)
        and len(body["action"]) >= 1
        and isinstance(body.get("version", 0), int)
        and isinstance(body.get("params", {}), dict)
    )


def _handler_for(server: AnkiConnectServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests read server.requests

        def do_OPTIONS(self) -> None:
            _allowed, cors = allowed_origin(self.headers.get("Origin"))
            self._record(None)
            self._send(200, cors, b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            origin = self.headers.get("Origin")
            allowed, cors = allowed_origin(origin)
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError as error:
                body, problem = None, str(error)
            else:
                problem = "" if valid_request(body) else "invalid request"
            self._record(body)
            if problem:
                if not allowed:
                    return self._send(403, cors, b"")
                reply = (
                    f"AnkiConnect v.{API_VERSION}"
                    if not raw
                    else json.dumps({"result": None, "error": problem})
                )
                return self._send(200, cors, reply.encode())
            if body.get("action") == "requestPermission":
                granted = {"allowed": allowed, "origin": origin or ""}
                body["params"] = {**body.get("params", {}), **granted}
                cors = cors if allowed else origin or ""
            elif not allowed:
                return self._send(403, cors, b"")
            self._send(200, cors, json.dumps(server.handle(body)).encode())

        def _record(self, body: Any) -> None:
            server.requests.append(
                Received(
                    method=self.command,
                    path=self.path,
                    host=self.headers.get("Host"),
                    origin=self.headers.get("Origin"),
                    body=body,
                )
            )

        def _send(self, status: int, cors: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Access-Control-Allow-Origin", cors)
            self.send_header("Access-Control-Allow-Headers", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
