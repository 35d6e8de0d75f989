"""The temporary Prefect server started before Prefect is imported (flows.tempserver)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from factory import submission, write_home

from flows import tempserver

ROOT = Path(__file__).resolve().parents[2]


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_iid_run_uses_the_early_server_and_stops_it(tmp_path: Path) -> None:
    """A real `iid run` in a fresh process: the early server is adopted, the run publishes, and the
    server process is gone when the command returns."""
    home = write_home(tmp_path / "home", 2024, {"a.json": submission("35.78", spd_total=30)})
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_LOGGING_LEVEL="INFO", COLUMNS="200")
    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--year", "2024", "--home", str(home.root)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Using the temporary server started early on http://127.0.0.1:" in output
    port = output.split("started early on http://127.0.0.1:")[1].split()[0]
    assert f"Stopping temporary server on http://127.0.0.1:{port}" in output
    assert "Starting temporary server" not in output  # Prefect did not start a second one
    con = duckdb.connect(str(home.catalog), read_only=True)
    try:
        assert con.execute("select count(*) from region_scores where submitted").fetchall() == [(1,)]
    finally:
        con.close()
    left = subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the temporary server outlived the run"


def test_no_early_server_when_one_is_configured_or_prefect_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempserver, "_EARLY", None)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert tempserver.spawn() is None
    monkeypatch.delenv("PREFECT_API_URL")
    import prefect  # noqa: F401 - the test process has Prefect loaded: too late to gain anything

    assert tempserver.spawn() is None
    monkeypatch.delitem(sys.modules, "prefect")  # as in a fresh `iid run`
    monkeypatch.setenv("IID_EARLY_SERVER", "0")
    assert tempserver.spawn() is None
    monkeypatch.delenv("IID_EARLY_SERVER")
    early = tempserver.spawn()
    assert early is not None and early.process.poll() is None
    early.stop()
    assert early.process.poll() is not None
    monkeypatch.setattr(tempserver, "_EARLY", None)


def test_adopt_stops_the_spare_process_when_a_server_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    early = tempserver.EarlyServer(1, _sleeper())
    monkeypatch.setattr(tempserver, "_EARLY", early)
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:1/api"}):
        assert tempserver.adopt() is False
    assert early.process.poll() is not None and not early.adopted
    assert tempserver._EARLY is None


def test_adopt_gives_up_on_a_server_that_died(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that exits (e.g. its port was taken) is not adopted; Prefect starts its own."""
    from prefect.server.api.server import SubprocessASGIServer

    dead = subprocess.Popen([sys.executable, "-c", f"raise SystemExit({tempserver.PORT_IN_USE_EXIT})"])
    dead.wait()
    early = tempserver.EarlyServer(1, dead)
    monkeypatch.setattr(tempserver, "_EARLY", early)
    server = SubprocessASGIServer()
    monkeypatch.setattr(server, "running", False)
    assert tempserver.adopt() is False
    assert not early.adopted and server.port != 1
