"""Start Prefect's temporary API server first thing, so that it boots while this process imports.

With no ``PREFECT_API_URL`` a flow starts a temporary server itself, but only when its client is
first needed: after importing Prefect (~2 s), the flow engine and the server's own code (~3 s), and
whatever the run imports on the way (Great Expectations, ~6 s of CPU). The server then takes another
~8–10 s to boot. :func:`spawn` starts the same server process (the command Prefect's
``SubprocessASGIServer`` runs) before Prefect is imported, and :func:`adopt` hands it to Prefect once
it answers, as if Prefect had started it: same singleton, same "Stopping temporary server" at exit.

Nothing changes when a server is configured (``PREFECT_API_URL`` in the environment, a profile or a
``prefect.toml``): :func:`adopt` then stops the spare process and the flow uses the configured server.
``IID_EARLY_SERVER=0`` turns this off. Only the standard library is imported before :func:`adopt`.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PORT_IN_USE_EXIT = 3  # uvicorn's exit status when its port is taken


@dataclass
class EarlyServer:
    port: int
    process: subprocess.Popen[bytes]
    adopted: bool = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def stop(self) -> None:
        """Stop the process unless Prefect owns it now (Prefect stops it at exit)."""
        if self.adopted or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_EARLY: EarlyServer | None = None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn() -> EarlyServer | None:
    """Start a temporary Prefect server process now, if this run will likely need one.

    Call it after :func:`flows.settings.configure_prefect_defaults` (the process inherits the
    environment) and before Prefect is imported; once Prefect is imported it is too late to gain
    anything, and Prefect starts its server as usual.
    """
    global _EARLY
    if (_EARLY is not None or os.environ.get("PREFECT_API_URL") or os.environ.get("IID_EARLY_SERVER") == "0"
            or "prefect" in sys.modules):
        return None
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    app_dir = Path(next(iter(spec.submodule_search_locations))).parent
    port = _free_port()
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"], env=env)
    _EARLY = EarlyServer(port, process)
    atexit.register(_EARLY.stop)
    return _EARLY


def _healthy(early: EarlyServer, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if early.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{early.api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def adopt() -> bool:
    """Hand a spawned server to Prefect once it answers; False (and the process stopped) when there is
    none, a server is configured, Prefect already runs its own, or ours did not come up (Prefect then
    starts one the usual way and reports any failure itself)."""
    global _EARLY
    early = _EARLY
    if early is None or early.adopted:
        return early is not None and early.adopted
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url:
        early.stop()
        _EARLY = None
        return False
    from prefect.server.api.server import SubprocessASGIServer, subprocess_server_logger

    server = SubprocessASGIServer()  # the instance a flow's client uses when no API URL is set
    if server.running or not _healthy(early, float(settings.server.ephemeral.startup_timeout_seconds)):
        early.stop()
        _EARLY = None
        return False
    subprocess_server_logger.info(f"Using the temporary server started early on http://127.0.0.1:{early.port}")
    server.port, server.server_process, server.running = early.port, early.process, True
    early.adopted = True
    atexit.register(server.stop)
    return True
