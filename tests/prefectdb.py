"""Prefect databases for the tests, migrated once per test session and copied.

A Prefect home's first server runs every migration of Prefect's SQLite database: ~8 s of CPU and, on this
machine's disk, ~4 s more of waiting for its writes, measured with `prefect server database upgrade`. Each
test process's own home and each test that gives a command a Prefect home of its own paid it. Under pytest-xdist
(make test) the session migrates one database in the background from its start (`start_template`, in the
controller before it starts its workers, which find it through ``IID_TEST_PREFECT_TEMPLATE``); `prefect_home`
waits for it and copies it. Without a template (pytest without workers) or if its migration failed, a home is
left empty and its server migrates it, as before. One test keeps a home never migrated, as a fresh machine has
it (`tests/flows/test_tempserver.py`).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = "IID_TEST_PREFECT_TEMPLATE"
DATABASE = "prefect.db"  # Prefect's default database: sqlite under $PREFECT_HOME
_BUILD = ("import subprocess, sys\n"
          "done = subprocess.run([sys.executable, '-m', 'prefect', 'server', 'database', 'upgrade', '-y'],\n"
          "                      capture_output=True, text=True)\n"
          "mark = 'migrated' if done.returncode == 0 else 'failed'\n"
          "open(sys.argv[1] + '/' + mark, 'w').write(done.stdout + done.stderr)\n")


def start_template() -> None:
    """Start migrating the session's template database in the background, unless a parent process did."""
    if os.environ.get(TEMPLATE):
        return
    home = Path(tempfile.mkdtemp(prefix="iid-prefect-template-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    # a group of its own: a session that ends first stops it and the migration below it together
    builder = subprocess.Popen([sys.executable, "-c", _BUILD, str(home)], env={**env, "PREFECT_HOME": str(home)},
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    (home / "builder.pid").write_text(str(builder.pid), encoding="utf-8")
    os.environ[TEMPLATE] = str(home)

    def remove() -> None:
        if builder.poll() is None:  # a session that ended before it was needed
            os.killpg(builder.pid, signal.SIGTERM)
            builder.wait()
        shutil.rmtree(home, ignore_errors=True)

    atexit.register(remove)


def _builder_gone(folder: Path) -> bool:
    """Whether the process migrating the template has ended (it is the controller's child: a zombie counts)."""
    try:
        state = Path(f"/proc/{int((folder / 'builder.pid').read_text())}/stat").read_text()
    except (OSError, ValueError):
        return True
    return state.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _template(timeout: float = 300) -> Path | None:
    """The migrated template database, once ready; None if its migration failed (or its process died without
    saying) or there is none."""
    if not os.environ.get(TEMPLATE):
        return None
    folder = Path(os.environ[TEMPLATE])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (folder / "migrated").exists():
            return folder / DATABASE
        if (folder / "failed").exists() or (_builder_gone(folder) and not (folder / "migrated").exists()):
            return None
        time.sleep(0.05)
    return None


def prefect_home(path: Path) -> Path:
    """A Prefect home at ``path`` holding a migrated, empty database (or none, if the template failed)."""
    path.mkdir(parents=True, exist_ok=True)
    database = path / DATABASE
    template = _template()
    if template is not None and not database.exists():
        shutil.copyfile(template, database)
    return path


def server_of_this_process() -> str:
    """The API of this test process's temporary Prefect server (the one its flows run in process report to),
    started if it is not yet: for a command a test starts in a child process whose subject is not Prefect's
    server, so that the child reports to it rather than starting a server of its own (~5 s of CPU each, on
    two cores shared by the whole suite). The tests of the temporary server itself (test_tempserver) give
    their commands none."""
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # Prefect's own: the one an ephemeral client of this process starts
    server.start(timeout=180)
    return str(server.api_url)
