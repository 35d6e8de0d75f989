"""The process's scratch DuckDB: each use a cursor of its own, on any thread, nothing kept between uses."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from flows import scratch as scratch_module
from flows.runs import write_runs
from flows.scratch import scratch


def test_cursors_share_one_database_but_not_their_temporary_tables() -> None:
    first, second = scratch(), scratch()
    try:
        first.execute("create temp table runs as select 1 as a")
        second.execute("create temp table runs as select 2 as a")  # no clash: each cursor's own
        assert first.execute("select a from runs").fetchall() == [(1,)]
        assert second.execute("select a from runs").fetchall() == [(2,)]
    finally:
        first.close()
        second.close()
    third = scratch()
    try:
        assert third.execute("select count(*) from duckdb_tables() where table_name = 'runs'").fetchall() == [(0,)]
    finally:
        third.close()


def test_run_rows_written_at_once_on_threads_each_hold_their_own(tmp_path: Path) -> None:
    def write(n: int) -> int:
        write_runs(tmp_path / f"{n}.parquet", [{"run_id": f"run-{n}", "year": 2024, "status": "running"}])
        con = scratch()
        try:
            return len(con.execute("select * from read_parquet(?) where run_id = ?",
                                   [str(tmp_path / f"{n}.parquet"), f"run-{n}"]).fetchall())
        finally:
            con.close()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(write, range(16))) == [1] * 16


def test_a_forked_process_gets_a_database_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    scratch().close()
    made = scratch_module._DATABASE
    assert made is not None and made[0] == os.getpid()
    monkeypatch.setattr(scratch_module, "_DATABASE", (made[0] + 1, made[1]))  # as a fork's child sees it
    scratch().close()
    assert scratch_module._DATABASE is not None and scratch_module._DATABASE[0] == os.getpid()
    assert scratch_module._DATABASE[1] is not made[1]
