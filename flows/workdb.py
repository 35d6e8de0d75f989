"""The year's private work database (``warehouse/work/<year>.duckdb``): how a stage opens it, and what
is done when it is damaged.

It holds only what is derived from ``raw/<year>/``: the landing rows, the validation results, the
scores and the stages' state (the operator contacts in it are exported to the private area again at
every ingest). So a damaged one is never repaired: ``iid run --force`` moves it aside, kept for a
look, and builds the year again from the drop zone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows.privacy import REDACT_FUNCTION
from flows.settings import Home

# DuckDB's memory per stage: ingest and validation run beside parse workers and pandas frames, so they
# get less; scoring and publishing are DuckDB alone. 768MB scores and publishes a year at ten times the
# national size as fast as 1GB did (scoring 9.5 s and 10.0 s, publishing 8.7 s and 8.4 s), with the run
# process's peak ~230 MB lower (1.06-1.11 GB against 1.29-1.33 GB); 512MB took scoring to 14.4 s.
# Ingest gets 256MB. Until its one checkpoint at the end, DuckDB holds the rows of tables that get too few
# rows per commit to be written to the file at once (the innovations), and fills the rest of its limit
# with buffers of what it wrote. At ten times a national year, ingest alone: with the narratives still
# landing as text (1.1 GB), 512MB sat at the limit and spilled ~600 MB; the run process peaked at 0.90 GB
# with 512MB and 0.63-0.65 GB with 256MB, as fast (53.5-58.9 s and 54.5-54.6 s). Without them (lengths
# only), 0.79 GB and 0.61 GB (52.8 s and 56.0 s, one run each, within this machine's noise).
# publish-beside-report: while the report is built beside the last tables' writes (flows.publish), so that the two
# together take about what publish took one after the other
STAGE_MEMORY = {"ingest": "256MB", "validate": "512MB", "transform": "768MB", "publish": "768MB",
                "publish-beside-report": "512MB"}

# What DuckDB (2.0) says of a database file it cannot read, and what that means in plain words. The first
# two name the file, so they are damage only when they name this one (a truncated Parquet file read in a
# stage says the second too); the third is said only of database blocks.
DAMAGE = {"not a valid DuckDB database file": "not a DuckDB database file",
          "Could not read enough bytes from file": "shorter than DuckDB expects: truncated",
          "Corrupt database file": "a block's checksum does not match its content"}


class DamagedWorkDatabase(RuntimeError):
    """The year's work database cannot be read; ``iid run --force`` sets it aside and rebuilds it."""

    def __init__(self, path: Path, year: int, reason: str) -> None:
        super().__init__(f"{path} is damaged ({reason}); it holds only what is derived from raw/{year}: "
                         f"'iid run --year {year} --force' moves it aside (kept) and rebuilds it")
        self.path = path


def duckdb_memory_limit(stage: str = "transform") -> str:
    """DuckDB's memory for a stage (``$IID_DUCKDB_MEMORY`` sets it for all): beyond it, DuckDB spills
    to disk instead of growing."""
    return os.environ.get("IID_DUCKDB_MEMORY") or STAGE_MEMORY.get(stage, "1GB")


def _damage(exc: duckdb.Error, path: Path) -> str | None:
    """Why ``exc`` says the database at ``path`` is damaged, or None when it says something else (a lock
    held by another process, a permission, a bad query)."""
    message = str(exc)
    for sign, reason in DAMAGE.items():
        if sign in message and (sign == "Corrupt database file" or f'"{path}"' in message):
            return reason
    return None


def _raise_if_damage(exc: duckdb.Error, path: Path, year: int) -> None:
    """:class:`DamagedWorkDatabase` in place of a DuckDB error that tells of damage to ``path``."""
    reason = _damage(exc, path)
    if reason is not None:
        raise DamagedWorkDatabase(path, year, reason) from None


# Python functions the stages register on their connection (flows.privacy): removed from a cursor of a held
# database before it closes (:func:`work_database`), since DuckDB (2.0.1) keeps a function registered on one
# cursor for the others and crashes the process (a segmentation fault) when one calls it once that cursor closed
STAGE_FUNCTIONS = (REDACT_FUNCTION,)


@dataclass
class _Held:
    """A work database kept open by :func:`held_open`: opened by the first stage that asks for it."""

    con: duckdb.DuckDBPyConnection | None = None


_HELD: dict[str, _Held] = {}  # the work database's path -> its instance, held for a run's stages
_HELD_GUARD = threading.Lock()


@contextmanager
def held_open(home: Home, year: int) -> Iterator[None]:
    """Keep the year's work database open for the block, one DuckDB instance: each :func:`work_database` in
    it (a run's stages, one after the other) is a cursor of that instance rather than a database opened and
    closed again, with its checkpoint. A one-region re-run at the national size opened and closed it four
    times, ~0.2 s in all; the blocks DuckDB read in a stage stay in its memory for the next (each stage still
    sets its own memory limit, :data:`STAGE_MEMORY`). It is closed (checkpointed) when the block ends, also
    by an error; a stage that allowed compaction (``transforms.runner.allow_compaction``, a build from
    scratch) checkpoints at its end as before. Within a held block, nothing else may open the file (the
    run's year lock keeps other runs out)."""
    key = os.path.abspath(home.work_db(year))
    with _HELD_GUARD:
        nested = key in _HELD
        held = _HELD.setdefault(key, _Held())
    if nested:
        yield
        return
    ended = False
    try:
        yield
        ended = True
    finally:
        with _HELD_GUARD:
            del _HELD[key]
        if held.con is not None:
            if ended:
                _close(held.con, home.work_db(year), year)
            else:
                with suppress(duckdb.Error):  # never in place of the error on its way
                    held.con.close()


def _close(con: duckdb.DuckDBPyConnection, path: Path, year: int) -> None:
    try:
        con.close()
    except duckdb.Error as exc:
        _raise_if_damage(exc, path, year)
        raise


def _connect(path: Path, year: int, stage: str) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), config={"memory_limit": duckdb_memory_limit(stage)})
    except duckdb.Error as exc:
        _raise_if_damage(exc, path, year)
        raise


@contextmanager
def work_database(home: Home, year: int, stage: str = "transform") -> Iterator[duckdb.DuckDBPyConnection]:
    """The year's work database, open for one stage (a cursor of it while :func:`held_open` holds it); a
    damaged one raises :class:`DamagedWorkDatabase` whether DuckDB finds it out on opening or on reading a
    block."""
    path = home.work_db(year)
    with _HELD_GUARD:
        held = _HELD.get(os.path.abspath(path))
    if held is None:
        con = _connect(path, year, stage)
    else:
        if held.con is None:  # the first stage of the block opens it
            held.con = _connect(path, year, stage)
        con = held.con.cursor()
    try:
        if held is not None:
            con.execute("set memory_limit = ?", [duckdb_memory_limit(stage)])
        # No compaction of row groups with deleted rows at checkpoints ("vacuum"), until a stage builds
        # from scratch and allows it (transforms.runner.allow_compaction): the few rows an incremental run
        # replaces in large tables had DuckDB rewrite their row groups at the next checkpoint, 0.2-0.6 s,
        # in whichever stage came next.
        con.execute("set max_vacuum_tasks = 0")
        yield con
        if held is not None and con.execute("select current_setting('max_vacuum_tasks')").fetchall()[0][0]:
            con.execute("checkpoint")  # what closing the database did: the compaction it allowed
            con.execute("set max_vacuum_tasks = 0")
    except duckdb.Error as exc:
        _raise_if_damage(exc, path, year)
        raise
    finally:
        if held is not None:
            for name in STAGE_FUNCTIONS:
                with suppress(duckdb.Error):  # not registered on this cursor
                    con.remove_function(name)
        con.close()


def set_aside(home: Home, year: int) -> Path | None:
    """Rename the year's work database (and its write-ahead log) to ``<year>.duckdb.damaged-<UTC time>``,
    so that the next stage builds a new one; returns the new name (None when there was no database)."""
    path = home.work_db(year)
    if not path.exists():
        return None
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    for n in range(2, 100):
        if not kept.exists():
            break
        kept = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    wal = path.with_name(f"{path.name}.wal")
    if wal.exists():  # a log left beside a new database would be replayed into it
        os.replace(wal, kept.with_name(f"{kept.name}.wal"))
    os.replace(path, kept)
    return kept


def set_aside_if_damaged(home: Home, year: int) -> Path | None:
    """Open the year's work database; if DuckDB cannot, set it aside (see :func:`set_aside`)."""
    if not home.work_db(year).exists():
        return None
    try:
        with work_database(home, year, "ingest") as con:
            con.execute("select count(*) from duckdb_tables()").fetchall()
    except DamagedWorkDatabase:
        return set_aside(home, year)
    return None
