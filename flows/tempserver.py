"""Start Prefect's temporary API server first thing, so that it boots while this process imports.

With no API URL configured, a flow starts a temporary server itself, but only when its client is
first needed: after importing Prefect (~2 s), the flow engine and the server's own code (~3 s), and
whatever the run imports on the way (Great Expectations, ~6 s of CPU). The server then takes another
~8–10 s to boot, while this process waits.

:func:`launch` instead starts, before Prefect is imported, a process that reads Prefect's settings
exactly as this one would (same environment, profile, ``prefect.toml``) and says whether an API URL
is configured; this process imports Prefect and the flow meanwhile. :func:`adopt` then takes the
verdict. If a server is configured, the launched process exits and nothing changes: the flow uses
that server. If not, it becomes the temporary server Prefect would have started (the same uvicorn
app, command and ephemeral settings) and this process points ``PREFECT_API_URL`` at it (Prefect reads
its settings again), so the server boots on one core while this process imports the rest of the run
and Great Expectations on the other. :func:`ready` waits until it answers; at exit it is stopped like
Prefect's own.

Only the standard library is imported here (and :mod:`flows.imports`, which imports nothing else; what
:func:`ready` imports, as it waits, it imports then, with Python's cyclic collector off).
``IID_EARLY_SERVER=0`` turns this off.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import os
import select
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flows.imports import collection_paused

SERVING = "serving"  # the launcher's verdict when it becomes the server ("configured" otherwise)

# In the launched process: once the server answers (or after ``timeout`` seconds), freeze what it holds
# and turn Python's cyclic collector back on. The server boots with it off, as this process's own imports
# do (flows.imports.collection_paused): ~3.4 s instead of ~4.4 s here, medians of eight alternating starts.
_COLLECT_ONCE_UP = """
def collect_once_up(port, timeout=120.0):
    import gc, time, urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.05)
    gc.freeze()
    gc.enable()
"""
# The API routers a run asks something of (``iid run``'s requests, its logs and events), in the launched
# process put first among Prefect's routers, the others after them in their order. FastAPI (0.137 on) builds
# an included router's routes the first time a request is matched against it, and matches the routers in
# order: a run's first request (``/admin/version``, next to last) built all thirty of them, ~0.3-0.4 s of
# every run's start-up that the run waited for. Their prefixes differ, so no route of one can match a
# path of another (checked by a test over every route), and each request finds the same route; a router
# no run uses is built if something ever asks it. Left as it is if Prefect's list is not as expected.
RUN_ROUTERS = ("/admin", "/csrf-token", "/flows", "/flow_runs", "/logs", "/events")
_ROUTERS_FIRST = """
def routers_first(prefixes):
    try:
        from prefect.server.api import server
        routers = list(server.API_ROUTERS)
        ahead = [r for prefix in prefixes for r in routers if getattr(r, "prefix", None) == prefix]
        if len(ahead) == len(prefixes):
            server.API_ROUTERS = type(server.API_ROUTERS)([*ahead, *(r for r in routers if r not in ahead)])
    except Exception:
        pass
"""
# Runs in the launched process: the verdict on one line, then Prefect's temporary server, booted without
# the cyclic collector and with the routers a run uses first (both above). A watchdog stops it when the
# process that launched it is gone without stopping it (killed, or aborted: atexit never ran), rather than
# leaving it to hold the port and the caller's output open.
_LAUNCHER = """
import gc
gc.disable()
import os, runpy, signal, sys, threading, time
port, app_dir = sys.argv[1], sys.argv[2]
launcher = os.getppid()
def watch():
    while os.getppid() == launcher:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts down as on Ctrl-C
    time.sleep(10)
    os._exit(1)
threading.Thread(target=watch, name="launcher-watch", daemon=True).start()
""" + _COLLECT_ONCE_UP + _ROUTERS_FIRST + """
from prefect.settings import get_current_settings
if get_current_settings().api.url:
    print("configured", flush=True)
    raise SystemExit(0)
print("serving", flush=True)
threading.Thread(target=collect_once_up, args=(port,), name="launcher-collect", daemon=True).start()
sys.stdout = open(os.devnull, "w")
routers_first(""" + repr(RUN_ROUTERS) + """)  # imports the server, as uvicorn's factory would after
sys.argv = ["uvicorn", "--app-dir", app_dir, "--factory", "prefect.server.api.server:create_app",
            "--host", "127.0.0.1", "--port", port, "--log-level", "error", "--lifespan", "on"]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""
# What Prefect's SubprocessASGIServer sets for its server process.
_SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


class EarlyServerError(RuntimeError):
    """The temporary server started early did not come up."""


@dataclass
class EarlyServer:
    port: int
    process: subprocess.Popen[str]
    serving: bool = False
    announced: bool = False
    prefetch: bool = False  # import Great Expectations on a thread while the server boots (see ready)
    warm_year: int | None = None  # the year whose suites that thread then validates on an empty year (see ready)
    preload: tuple[str, ...] = ()  # modules the run's stages import, imported while the server boots (see ready)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.address}/api"

    def verdict(self, timeout: float) -> str:
        """``serving`` or ``configured`` as the launched process reports it ("" if it died first)."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        return self.process.stdout.readline().strip() if ready else ""

    def healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        if self.serving:
            logging.getLogger("prefect").info("Stopping temporary server on %s", self.address)
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


def startup_timeout() -> float:
    """Prefect's ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS`` (120 s from our defaults)."""
    try:
        return float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"))
    except ValueError:
        return 120.0


def spawn() -> EarlyServer | None:
    """Launch the settings check and, when no API URL is configured, the temporary server.

    Nothing happens when ``PREFECT_API_URL`` is set, ``IID_EARLY_SERVER=0``, or Prefect is imported
    already (then it is too late to gain anything and Prefect starts its server as usual).
    """
    global _EARLY
    if (_EARLY is not None or os.environ.get("PREFECT_API_URL") or os.environ.get("IID_EARLY_SERVER") == "0"
            or "prefect" in sys.modules):
        return None
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    app_dir = os.path.dirname(next(iter(spec.submodule_search_locations)))
    port = _free_port()
    # its own session: Ctrl-C in a terminal (SIGINT to the foreground process group) stops the run, not the
    # server the run then reports its end to; the run stops the server as it exits (``stop``), the
    # watchdog when the run is gone without that
    process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(port), app_dir],
                               env={**os.environ, **_SERVER_ENV}, stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    _EARLY = EarlyServer(port, process)
    atexit.register(_EARLY.stop)
    return _EARLY


def launch(will_validate: Callable[[], bool] | None = None, preload: Sequence[str] = (),
           year: int | None = None) -> bool:
    """Call before Prefect is imported (after :func:`flows.settings.configure_prefect_defaults`); then
    import what the run needs, Prefect among it, and call :func:`adopt`.

    Launches the process that reads Prefect's settings and, with no server configured, becomes the
    temporary server (:func:`spawn`); False when none was launched. It takes ~0.9 s to read the
    settings: this process imports Prefect and the flow meanwhile, instead of waiting (they used to be
    imported after its verdict, so that ``PREFECT_API_URL`` was set before Prefect read it; :func:`adopt`
    now makes Prefect read its settings again). If ``will_validate()`` says the run will validate, Great
    Expectations starts importing on a thread (:mod:`expectations.prefetch`) when :func:`ready` is
    called, once this process has imported what the run needs: started here, beside those imports, the
    import took the interpreter from them and a core from the booting server (a one-region re-run began
    its flow 0.15 and 0.29 s later in two of three pairs, 0.06 s sooner in the third). ``preload``: modules
    the run's stages will import, imported by :func:`ready` while it waits for the server instead of by
    the stages on the way (a run with nothing to do imported ~0.2 s of them, pyarrow among them, after the
    server had answered). ``year``: the year the run validates; that thread then validates its suites on an
    empty year until the server answers (:mod:`expectations.prefetch`).
    """
    if _EARLY is not None and _EARLY.serving:  # started for an earlier run of this process (backfill's years)
        return True
    early = spawn()
    if early is None:
        return False
    early.prefetch = will_validate is not None and will_validate()  # while the launched process reads the settings
    early.warm_year = year if early.prefetch else None
    early.preload = tuple(preload)
    return True


def adopt() -> bool:
    """Wait for the verdict of the process :func:`launch` started: True when the run will use the temporary
    server it became (``PREFECT_API_URL`` then points at it, and Prefect, if imported, reads its settings
    again: ``prefect.context.refresh_global_settings_context``, as Prefect does after its plugins set
    variables); False when a server is configured (validation then imports GX when it needs it, and the
    launched process has exited) or none was launched. A server adopted by an earlier run of this process
    (``iid backfill``'s years; each run's settings end with it, ``flows.settings.environment_restored``) is
    adopted again: it runs until the process exits."""
    global _EARLY
    early = _EARLY
    if early is None:
        return False
    if not early.serving:
        if early.verdict(startup_timeout()) != SERVING:
            early.stop()
            _EARLY = None
            return False  # a configured server (or a broken install: Prefect then reports it itself)
        early.serving = True
    os.environ["PREFECT_API_URL"] = early.api_url
    context = sys.modules.get("prefect.context")
    if context is not None:
        context.refresh_global_settings_context()  # read at Prefect's import, before the variable was set
    return True


def serving() -> bool:
    """Whether this process started the temporary server the run uses (:func:`launch`, :func:`adopt`)."""
    return _EARLY is not None and _EARLY.serving


def _import_flow_call(preload: Sequence[str] = ()) -> None:
    """What Prefect imports as the run's flow is called, imported while the server boots instead: the
    flow engine and the visualisation helpers ``Flow.__call__`` imports (graphviz among them, ~0.4 s
    together), and FastAPI's ``jsonable_encoder``, with which Prefect serialises a flow run's
    parameters as the run is created (0.2-0.3 s; an empty flow, without parameters, never does). This
    process only waits for the server meanwhile. A run that validates imports Great Expectations on a
    thread at the same time; the two share the interpreter, and the validate stage, which waits for
    Great Expectations, comes after the flow's start and its ingest. Then ``preload``, the run's own modules."""
    for name in ("fastapi.encoders", "prefect.flow_engine", "prefect.utilities.visualization", *preload):
        with contextlib.suppress(Exception):  # Prefect imports it again when it needs it, and reports any error
            importlib.import_module(name)


def ready() -> None:
    """Wait until a server from :func:`launch` answers (no-op without one, or before :func:`adopt`)."""
    early = _EARLY
    if early is None or not early.serving:
        return
    with collection_paused():  # imports from here on, on this thread and GX's (flows.imports)
        if early.prefetch:  # the run's imports are done: this process only waits for the server from here
            from expectations import prefetch

            prefetch.start(year=early.warm_year)
            early.prefetch = False
        if not early.announced:
            _import_flow_call(early.preload)
        healthy = early.healthy(startup_timeout())
    warming = sys.modules.get("expectations.prefetch")
    if warming is not None:  # GX's warm-up ends with the suite in flight: the flow starts, and its ingest's
        warming.stop_warming()  # parse workers take both cores
    logger = logging.getLogger("prefect")
    if not healthy:
        code = early.process.poll()
        early.stop()
        raise EarlyServerError(
            f"Prefect's temporary server on {early.address} did not start"
            f"{f' (it exited with status {code})' if code is not None else f' within {startup_timeout():.0f} s'}; "
            "run again, raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or point PREFECT_API_URL at a "
            "running server")
    if not early.announced:
        logger.info("Temporary server on %s (started before the run's imports)", early.address)
        early.announced = True
