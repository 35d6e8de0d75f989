"""A scratch DuckDB for short work on files (writing a run row, reading the run log or a release's scores), one
per process.

``duckdb.connect()`` makes a new database each time, ~14 ms here; a run that publishes opened about ten
of them (its run rows, the run log, the report's reads of the release and of earlier years').
:func:`scratch` gives a cursor of one in-memory database instead, which costs nothing: a connection of
its own (its temporary tables, its transactions), safe to use on any thread, closed by its user. What
is made in it must be temporary (``create temp table``): anything else would be seen by the other
cursors. Nothing may change a setting in it, and anything that needs a database of its own (the
catalog's views, a setting) connects itself. So does a read that sorts or gathers much of a large table
(the report's reads of a release): memory a query used stays with the database, and this one lasts as
long as the process.
"""

from __future__ import annotations

import os
import threading

import duckdb

_LOCK = threading.Lock()
_DATABASE: tuple[int, duckdb.DuckDBPyConnection] | None = None


def scratch() -> duckdb.DuckDBPyConnection:
    """A new cursor of this process's scratch database (made on first use; a process forked from one that
    had it makes its own)."""
    global _DATABASE
    with _LOCK:
        if _DATABASE is None or _DATABASE[0] != os.getpid():
            _DATABASE = (os.getpid(), duckdb.connect())
        return _DATABASE[1].cursor()
