"""Helpers of the tests that stop processes: Ctrl-C as a terminal has it, a DuckDB query it ends, what a process
started, and whether a process still runs (/proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest


def interruptible() -> None:
    """In a child, before it starts (``preexec_fn``): Ctrl-C as in a terminal. A suite run as a background job of a
    shell without job control (``make test &`` in a script) has SIGINT ignored, and a child inherits that: Python
    then installs no KeyboardInterrupt, and a child sent SIGINT goes on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def sigint_handled_by(handler: Any) -> Iterator[None]:
    """SIGINT handled by ``handler`` in this process for the block (Python's own, ``signal.default_int_handler``,
    raises KeyboardInterrupt), then as before. A suite run as a background job of a shell without job control has
    SIGINT ignored (:func:`interruptible`): a test of what Ctrl-C does sets the handler a terminal's process has."""
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def interrupted_query(con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Run a query on ``con`` (default: a new database) and send this process SIGINT 0.1 s in, with Python's Ctrl-C
    handler in place: DuckDB ends the query and raises its own error, which this lets out (what a run's stage
    meets, :func:`flows.errors.interrupted`).

    DuckDB looks at the signal when the task it waits on ends; under pytest that took 0.3 to 35 s with a query of
    minutes (a task of one such query ran for seconds), so the query here is ~0.5 s of small tasks, run again in
    the unlikely case it ended before the signal came."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
    con = con or duckdb.connect()
    with sigint_handled_by(signal.default_int_handler):
        try:
            timer.start()
            for _ in range(20):
                con.execute("select count(*) from range(3000000) t(i) where md5(i::varchar) like 'zzzz%'").fetchall()
            raise AssertionError("DuckDB ran 20 queries of ~0.5 s and never raised its error for the SIGINT sent")
        finally:
            timer.cancel()


def descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (its children, theirs, …)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, todo = set(), [pid]
    while todo:
        above = todo.pop()
        below = [child for child, parent in parents.items() if parent == above]
        found.update(below)
        todo.extend(below)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs: a zombie has stopped (only its parent, or init, may reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


ROOT = Path(__file__).resolve().parents[1]


def paused_iid_run(args: list[str], point: str, marker: Path, log: Path, env: dict[str, str] | None = None,
                   new_session: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    """``iid run`` with ``args`` in a child process (Ctrl-C as in a terminal), its output to ``log``, waited for
    until it pauses at the fault point ``point`` (flows.faults): the child and the pid that paused. Its own
    early Prefect server, stopped with it. ``new_session``: the child leads a process group of its own."""
    environment = {k: v for k, v in os.environ.items() if k != "IID_EARLY_SERVER"}
    environment.update(env or {})
    environment.update(IID_PAUSE_AT=point, IID_PAUSE_FILE=str(marker), PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", "from flows.cli import main; main()", "run", *args],
                             env=environment, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                             preexec_fn=interruptible, start_new_session=new_session)
    deadline = time.monotonic() + 240
    while not marker.exists():
        if child.poll() is not None:
            raise AssertionError(f"the run ended before {point}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError(f"{point} not reached:\n{log.read_text()}")
        time.sleep(0.05)
    time.sleep(0.05)  # the marker's pid is written whole
    return child, int(marker.read_text())
