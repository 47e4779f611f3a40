"""Serving a preview folder on this machine while `deckkit watch` writes it again, with reloads.

The server serves the folder's files as they are, on 127.0.0.1 only, and adds one thing to each
HTML page it serves: deckkit's live-reload script (``data/preview/live-reload.js``) and the
page's version, in a ``<meta name="deckkit-watch-version">`` tag. The script listens to
``/__deckkit/events``, a stream of server-sent events
(https://html.spec.whatwg.org/multipage/server-sent-events.html) whose every message is the
current version, and reloads the page when it differs from the one it was served. The files on
disk stay exactly what ``deckkit preview`` writes: the script knows nothing of the page but these
two names, so any page the preview writes reloads alike.

The page's Content-Security-Policy allows only deckkit's own scripts by their hashes and no
connection at all; for the served copy the server adds the reload script's hash to
``script-src`` and ``connect-src 'self'`` (the event stream), and nothing else.

Standard library only (``http.server`` in a thread; one more thread per open page for its event
stream): the server has one user, on this machine. It answers only requests addressed to
127.0.0.1 or localhost (a web page elsewhere cannot reach it through a DNS name rebound to
127.0.0.1), lists no folder, and tells the browser to cache nothing, so a reload shows the
page as last written.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
EVENTS_PATH = "/__deckkit/events"
SCRIPT = "live-reload.js"
KEEP_ALIVE = 15.0  # seconds between comments on an idle event stream (proxies close silent ones)

_CSP = re.compile(
    r'(<meta\s+http-equiv="Content-Security-Policy"\s+content=")([^"]*)(")', re.IGNORECASE
)
_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)


# What the address shows before the first good build: it reloads itself once there is a preview.
WAITING_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>deckkit watch: no preview yet</title>
</head>
<body>
<p>No preview yet: the sources have errors (deckkit watch prints them). This page shows the
preview as soon as a save fixes them.</p>
</body>
</html>
"""


def reload_script() -> str:
    """The live-reload script, as the page runs it."""
    return resources.files("deckkit").joinpath("data", "preview", SCRIPT).read_text("utf-8")


def with_reload(page: bytes, version: str) -> bytes:
    """``page`` as the server serves it: with the reload script and ``version`` at the end of its
    head, and a policy that lets that script run and connect to its own server. Only the head is
    read (a big deck's page is megabytes of cards)."""
    script = reload_script()
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    end = _HEAD_END.search(page)
    head, rest = (page[: end.start()], page[end.start() :]) if end else (b"", page)
    text = _CSP.sub(
        lambda m: m[1] + _allow_reload(m[2], digest) + m[3],
        head.decode("utf-8", errors="replace"),
        count=1,
    )
    addition = (
        f'<meta name="deckkit-watch-version" content="{version}">\n<script>{script}</script>\n'
    )
    return (text + addition).encode("utf-8") + rest


def _allow_reload(policy: str, digest: str) -> str:
    """A Content-Security-Policy (its meta tag's HTML-escaped text) that also lets the reload
    script run (by its hash) and open its event stream (``connect-src 'self'``)."""
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    names = [d.split()[0].lower() for d in directives]
    additions = {"script-src": f"'sha256-{digest}'", "connect-src": "'self'"}
    for name, source in additions.items():
        if name in names:
            index = names.index(name)
            kept = [s for s in directives[index].split()[1:] if s != "'none'"]
            directives[index] = " ".join([name, *kept, source])
        else:
            directives.append(f"{name} {source}")
    return "; ".join(directives)


class Versions:
    """The preview's version: a new one whenever the page changed; waited for by event streams."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(4)  # a new server's versions never match an old one's
        self._count = 0
        self._changed = threading.Condition()
        self.stopping = False

    @property
    def current(self) -> str:
        return f"{self._prefix}-{self._count}"

    def bump(self) -> None:
        """Say that the preview changed: every open page reloads."""
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def stop(self) -> None:
        """End every event stream."""
        with self._changed:
            self.stopping = True
            self._changed.notify_all()

    def wait(self, seen: str, timeout: float) -> str:
        """The current version once it differs from ``seen``, or after ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.stopping or self.current != seen, timeout)
            return self.current


class _Handler(SimpleHTTPRequestHandler):
    """Files of the folder; HTML pages with the reload script; the event stream."""

    versions: Versions
    server_version = "deckkit"

    def __init__(self, *args: Any, versions: Versions, **kwargs: Any) -> None:
        self.versions = versions
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if not self._addressed_here():
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "Only for 127.0.0.1 and localhost")
            return
        if self.path.split("?", 1)[0] == EVENTS_PATH:
            self._stream_events()
            return
        target = Path(self.translate_path(self.path))
        if target.is_dir() or self.path.split("?", 1)[0].endswith("/"):
            target = target / "index.html"
        if target.suffix.lower() in (".html", ".htm") and target.is_file():
            self._send_page(target.read_bytes)
            return
        if target == Path(self.directory) / "index.html":  # none yet
            self._send_page(WAITING_PAGE.encode)
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        if not self._addressed_here():
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "Only for 127.0.0.1 and localhost")
            return
        super().do_HEAD()

    def _addressed_here(self) -> bool:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
        return host in ("127.0.0.1", "localhost")

    def _send_page(self, page: Callable[[], bytes]) -> None:
        try:
            body = with_reload(page(), self.versions.current)
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_events(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        seen = ""
        try:
            while not self.versions.stopping:
                version = self.versions.wait(seen, KEEP_ALIVE)
                if self.versions.stopping:
                    break
                message = f"data: {version}\n\n" if version != seen else ": still here\n\n"
                self.wfile.write(message.encode())
                self.wfile.flush()
                seen = version
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page was closed or reloaded
        self.close_connection = True

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the library prints nothing; watch says what matters itself


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # an open event stream never holds up the exit

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A page closed or reloaded while it was being sent is no error; anything else is a bug
        # and reported as socketserver does.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class PreviewServer:
    """The preview folder served on ``http://127.0.0.1:<port>/`` from a thread of its own."""

    def __init__(self, folder: Path, *, port: int = 0) -> None:
        """Listen on ``port`` (0: any free port); raises OSError when it cannot."""
        self.versions = Versions()
        handler = partial(_Handler, directory=str(folder.resolve()), versions=self.versions)
        self._server = _Server((HOST, port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )

    @property
    def url(self) -> str:
        """The address of the preview page."""
        return f"http://{HOST}:{self._server.server_address[1]}/"

    def start(self) -> None:
        """Serve from now on."""
        self._thread.start()

    def changed(self) -> None:
        """The preview was written again and differs: every open page reloads."""
        self.versions.bump()

    def close(self) -> None:
        """End every event stream, stop serving and free the port."""
        self.versions.stop()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> PreviewServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "EVENTS_PATH",
    "HOST",
    "WAITING_PAGE",
    "PreviewServer",
    "Versions",
    "reload_script",
    "with_reload",
]
