"""A real DuckDB query ended by Ctrl-C, as a run's stage meets it (flows.errors.interrupted)."""

from __future__ import annotations

import os
import signal
import threading

import duckdb
import pytest


def interrupted_query(con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Run a query of minutes on ``con`` (default: a new database) and send this process SIGINT 0.3 s in, with
    Python's Ctrl-C handler in place: DuckDB ends the query and raises its own error, which this lets out."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        (con or duckdb.connect()).execute("select sum(i * i) from range(10000000000) t(i)").fetchall()
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
