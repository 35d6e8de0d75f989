"""Open a page from disk in headless Chromium over the DevTools pipe (stdlib only, no websocket library).

Records every request the page makes, console errors, uncaught exceptions and error log entries, and
takes a screenshot at a given window size. Chromium's own background traffic is not the page's and is
not recorded; a resolver rule sending every host nowhere keeps the run offline anyway.
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
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageVisit:
    url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    title: str = ""


class _Pipe:
    """DevTools protocol messages over fds 3 (to Chromium) and 4 (from Chromium), NUL-terminated JSON."""

    def __init__(self, write_fd: int, read_fd: int) -> None:
        self.write_fd, self.read_fd = write_fd, read_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read(deadline))

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.events.append(self._read(deadline))
            except TimeoutError:
                return

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        return dict(json.loads(raw))


def _high(fd: int) -> int:
    """Move a pipe end above the low numbers so that dup2 onto 3 and 4 cannot overwrite the other end."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
    os.close(fd)
    return high


def _collect(visit: PageVisit, events: list[dict[str, Any]], session: str) -> None:
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            visit.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            words = (str(a.get("value", a.get("description"))) for a in params["args"])
            visit.errors.append("console: " + " ".join(words))
        elif method == "Runtime.exceptionThrown":
            visit.errors.append("exception: " + str(params["exceptionDetails"].get("text")))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            visit.errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")


def visit(pages: list[tuple[Path, Path, tuple[int, int], bool]], timeout: float = 60) -> list[PageVisit]:
    """Open each (html file, screenshot png, (width, height), full page) in one Chromium; returns what happened."""
    binary = chromium_path()
    if binary is None:
        raise FileNotFoundError("chromium is not installed")
    to_chrome_r, to_chrome_w = (_high(fd) for fd in os.pipe())
    from_chrome_r, from_chrome_w = (_high(fd) for fd in os.pipe())

    def wire() -> None:  # in the child: DevTools reads fd 3 and writes fd 4 (dup2 leaves them inheritable)
        os.dup2(to_chrome_r, 3)
        os.dup2(from_chrome_w, 4)

    with tempfile.TemporaryDirectory(prefix="iid-chromium-") as profile:
        process = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=wire,
                                   close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        pipe = _Pipe(to_chrome_w, from_chrome_r)
        try:
            return [_open(pipe, html, png, size, full, timeout) for html, png, size, full in pages]
        finally:
            with contextlib.suppress(RuntimeError, TimeoutError, OSError):
                pipe.send("Browser.close", timeout=5)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            os.close(to_chrome_w)
            os.close(from_chrome_r)


def _open(pipe: _Pipe, html: Path, png: Path, size: tuple[int, int], full: bool, timeout: float) -> PageVisit:
    url = html.resolve().as_uri()
    target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    width, height = size
    setup: list[tuple[str, dict[str, Any]]] = [
        ("Runtime.enable", {}), ("Log.enable", {}), ("Network.enable", {}), ("Page.enable", {}),
        ("Emulation.setDeviceMetricsOverride",
         {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})]
    for method, params in setup:
        pipe.send(method, params, session)
    pipe.events.clear()
    pipe.send("Page.navigate", {"url": url}, session, timeout)
    pipe.wait_for("Page.loadEventFired", timeout)
    pipe.drain(0.5)
    result = PageVisit(url)
    _collect(result, pipe.events, session)
    shot: dict[str, Any] = {"format": "png"}
    if full:
        metrics = pipe.send("Page.getLayoutMetrics", {}, session)["cssContentSize"]
        shot.update(captureBeyondViewport=True,
                    clip={"x": 0, "y": 0, "width": width, "height": min(metrics["height"], 16000), "scale": 1})
    data = pipe.send("Page.captureScreenshot", shot, session, timeout)["data"]
    png.write_bytes(base64.b64decode(data))
    result.screenshot = png
    result.title = str(pipe.send("Runtime.evaluate", {"expression": "document.title", "returnByValue": True},
                                 session)["result"].get("value", ""))
    pipe.send("Target.closeTarget", {"targetId": target})
    return result
