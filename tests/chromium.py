"""Headless Chromium for the preview's tests (Debian's ``chromium``), driven over the DevTools
protocol on a pipe (``--remote-debugging-pipe``): no server, no extra package.

``Browser`` is the process, ``Page`` one tab; ``page`` is a pytest fixture of a fresh browser.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,2000",
)
SCREENSHOT_SIZE = (1280, 2000)


class Browser:
    """Headless Chromium, spoken to over the DevTools protocol on fds 3 and 4
    (--remote-debugging-pipe)."""

    def __init__(self, profile: Path) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        # Above fd 10, so that bash's 3<&N 4>&M cannot clobber one with the other (dash has no
        # fds above 9, hence bash).
        theirs = [
            fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_read, from_browser_write)
        ]
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.log = (profile.parent / f"{profile.name}.stderr").open("wb")
        self.process = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                f'exec "$@" 3<&{theirs[0]} 4>&{theirs[1]}',
                "bash",
                CHROMIUM,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
            ],
            pass_fds=theirs,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        for fd in theirs:
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []  # every event, for the error checks
        self._pending: list[dict[str, Any]] = []  # events not yet waited for

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        while True:
            for event in self._pending:
                if event.get("method") == method:
                    self._pending.remove(event)
                    return event
            self._read(timeout)

    def pump(self, seconds: float) -> None:
        """Let the browser work for ``seconds``, recording its events meanwhile."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                self._read(left)

    def _read(self, timeout: float = 30) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], timeout)
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError(f"Chromium exited ({self.process.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            self.events.append(message)
            self._pending.append(message)
        return message

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self.log.close()


class Page:
    """One tab: navigate, run JavaScript, type, take screenshots, and list what went wrong."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send(
            "Target.attachToTarget", {"targetId": self.target, "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        width, height = SCREENSHOT_SIZE
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self.browser.send(method, params, self.session)

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})

    def events(self) -> list[dict[str, Any]]:
        """This tab's events so far."""
        return [event for event in self.browser.events if event.get("sessionId") == self.session]

    def goto(self, url: str) -> None:
        self.browser._pending.clear()
        self.send("Page.navigate", {"url": url})
        self.browser.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        return reply["result"].get("value")

    def visible(self) -> int:
        return int(self.js("document.querySelectorAll('.dk-card:not([hidden])').length"))

    def choose(self, control: str, value: str) -> None:
        self.js(
            f"(() => {{ const c = document.getElementById({json.dumps(control)});"
            f" c.value = {json.dumps(value)};"
            " c.dispatchEvent(new Event('change', {bubbles: true})); })()"
        )

    def type_into(self, selector: str, text: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", {"text": text})

    def errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and failed loads seen so far."""
        found = []
        for event in self.events():
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "warning",
                "assert",
            ):
                found.append(json.dumps(params["args"])[:500])
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(params["entry"]["text"])
        in_page = self.js("document.getElementById('dk-errors').textContent")
        return found + ([in_page] if in_page else [])

    def requests_sent(self) -> list[str]:
        """The URL of every request that left the page so far: those the Network domain saw
        start, less those the browser blocked before sending (by the page's CSP, for one)."""
        events = self.events()
        blocked = {
            event["params"]["requestId"]
            for event in events
            if event.get("method") == "Network.loadingFailed"
            and event["params"].get("blockedReason")
        }
        return [
            event["params"]["request"]["url"]
            for event in events
            if event.get("method") == "Network.requestWillBeSent"
            and event["params"]["requestId"] not in blocked
        ]

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))


needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="headless tests need Debian's chromium (apt-get install chromium)",
)


@contextlib.contextmanager
def open_page(profile: Path) -> Iterator[Page]:
    """A tab of a fresh headless Chromium whose profile is ``profile``, closed afterwards."""
    browser = Browser(profile)
    try:
        yield Page(browser)
    finally:
        browser.close()
