"""Test settings: Prefect in a temporary home with a patient temporary server, no network."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# One Prefect home per test process: under pytest-xdist (make test) each worker has its own SQLite
# database and its own temporary server, so the workers never share a Prefect backend.
_PREFECT_HOME = tempfile.mkdtemp(prefix=f"iid-prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
# removed when the test process exits: registered before Prefect is imported, so it runs after Prefect's
# own exit handlers have stopped its temporary server (exit handlers run last registered, first run)
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED"] = "false"
os.environ["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED"] = "false"
os.environ.pop("IID_HOME", None)
os.environ.pop("IID_COPY_TO", None)

sys.path.insert(0, str(Path(__file__).resolve().parent))

import prefectdb  # noqa: E402 - found through the path just set

# Modules of websockets that draw from the global random state: the payload of each keepalive ping
# (``random.getrandbits``) and the reconnect backoff. Prefect's events client keeps a websocket open to the
# tests' server, pinging on Prefect's event-loop thread: a ping during a Hypothesis draw changed the global
# state there, which Hypothesis reports as a strategy using ``random`` (HypothesisDeprecationWarning, seen in
# test_landing and test_hostile). Each gets a generator of its own.
WEBSOCKETS_RANDOM = ("websockets.asyncio.connection", "websockets.sync.connection", "websockets.client")


def _own_random_for_websockets() -> None:
    import importlib
    import random

    for name in WEBSOCKETS_RANDOM:
        module = importlib.import_module(name)
        if getattr(module, "random", None) is random:
            module.random = random.Random()  # type: ignore[attr-defined]


_own_random_for_websockets()


def pytest_configure(config: pytest.Config) -> None:
    """With pytest-xdist (make test), its controller starts migrating the session's Prefect database before it starts
    its workers, which copy it (tests/prefectdb.py); a run without workers migrates each home as it is used."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        prefectdb.start_template()


@pytest.fixture(scope="session", autouse=True)
def _migrated_prefect_home() -> None:
    """This test process's Prefect home gets the session's migrated database before any test starts a server."""
    prefectdb.prefect_home(Path(_PREFECT_HOME))

# the release tests' fixtures (test_releases, test_release_concurrency); the generator tests' small_reference
pytest_plugins = ["releasefixtures", "generatedfiles"]
