"""Incremental ingest: unchanged verification CSVs are not read again, only renumbered after the files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from factory import innovation, submission, write_home

from flows import pipeline
from flows.settings import Home

YEAR = 2024


def _verification(home: Home) -> tuple[list[tuple], int]:
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        rows = con.execute("select file_id, locator, region_code, innovation_id, decision, verified_level "
                           "from landing_verification order by record_id").fetchall()
        last_file = con.execute("select max(file_id) from landing_files").fetchall()[0][0]
    finally:
        con.close()
    return rows, int(last_file)


REJECT = {"region_code": "35.78", "innovation_id": "35.78-1", "indicator": "", "decision": "reject",
          "verified_level": "", "note": "tidak ada"}


def _home(tmp_path: Path) -> Home:
    """One submission with one innovation, and a verification CSV rejecting that innovation."""
    return write_home(tmp_path, YEAR, {"35.78.json": submission("35.78", spd_total=30,
                                                                 innovations=[innovation("35.78-1", 50)])}, [REJECT])


def test_verification_is_kept_renumbered_and_read_again_when_it_changes(tmp_path: Path) -> None:
    home = _home(tmp_path)
    pipeline.ingest(home, YEAR)
    first, last = _verification(home)
    assert [r[0] for r in first] == [last + 1] and first[0][4] == "reject"
    (home.raw_year(YEAR) / "11.json").write_text(json.dumps(submission("11", spd_total=20)), encoding="utf-8")
    summary = pipeline.ingest(home, YEAR)
    second, last_now = _verification(home)
    assert summary["verification_rows"] == 1 and last_now == last + 1
    assert second == [(last_now + 1, *first[0][1:])]  # same row, numbered after the new file
    write_home(tmp_path, YEAR, {}, [{**REJECT, "decision": "adjust", "verified_level": "2"}])
    pipeline.ingest(home, YEAR)
    third, _ = _verification(home)
    assert third == [(last_now + 1, first[0][1], "35.78", "35.78-1", "adjust", 2)]


def test_a_full_reingest_reads_unchanged_verification_again(tmp_path: Path) -> None:
    """--force (or a new code version) rebuilds the landing tables: the verification CSVs must be read
    again even though they did not change (they were once silently lost here)."""
    home = _home(tmp_path)
    pipeline.ingest(home, YEAR)
    before, _ = _verification(home)
    assert pipeline.ingest(home, YEAR, force=True)["verification_rows"] == 1
    assert _verification(home)[0] == before
    pipeline.validate(home, YEAR)
    pipeline.transform(home, YEAR)
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        assert con.execute("select n_innovations_rejected from region_scores where region_code = '35.78'"
                           ).fetchall() == [(1,)]
    finally:
        con.close()
