"""The verification suite's frame is kept region by region (``expectations.stage.refresh_verification_frame``):
after every kind of change, only the regions whose inputs changed are built again, and the kept frame equals one
built whole from the same landing tables."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import innovation, submission, write_home
from rebuild import copy_drop_zones

from expectations import stage
from expectations.validate import SQL
from flows import pipeline
from flows.methodology import for_year
from flows.settings import Home
from transforms.runner import bind, load_reference

YEAR = 2024


def _row(region: str | None, innovation_id: str = "", indicator: str = "", decision: str = "reject",
         level: Any = "") -> dict[str, Any]:
    return {"region_code": region, "innovation_id": innovation_id, "indicator": indicator, "decision": decision,
            "verified_level": level, "note": ""}


ROWS = [
    _row("33.02", "A", "16", "adjust", 1), _row("33.02", "A"), _row("33.02", "B", "17", "accept"),
    _row("33.02", "", "1", "adjust", 1), _row("33.02", "Z"),  # Z: no such innovation (VER002)
    _row("33.03", "C", "16", "adjust", 3), _row("33.03", "C", "16", "adjust", 1),  # decided apart (VER006)
    _row("33.03", "", "2a", "adjust", 2),
    _row("35.78", "D", "18", "adjust", 2), _row("35.78", "D", "", "adjust", 2),  # an adjust of a whole one
    _row("11", "X"),  # a region that submitted nothing
    _row("", "A"),  # no region at all
]


def _write_verification(home: Home, rows: list[dict[str, Any]]) -> None:
    with (home.raw_year(YEAR) / "verification" / "verification.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, ["region_code", "innovation_id", "indicator", "decision", "verified_level",
                                      "note"])
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture()
def home(tmp_path: Path) -> Home:
    return write_home(tmp_path, YEAR, {
        "33.02.json": submission("33.02", spd_total=30, innovations=[innovation("A", 60), innovation("B", 40)]),
        "33.03.json": submission("33.03", spd_total=25, innovations=[innovation("C", 50)]),
        "35.78.json": submission("35.78", spd_total=20, innovations=[innovation("D", 30)]),
        "35.01.json": submission("35.01", spd_total=20, innovations=[innovation("E", 30)])}, ROWS)


@pytest.fixture()
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many frame rows each validation built."""
    counts: list[int] = []
    refresh = stage.refresh_verification_frame

    def counted(con: duckdb.DuckDBPyConnection, sql_params: dict[str, Any], key: str) -> int:
        counts.append(refresh(con, sql_params, key))
        return counts[-1]

    monkeypatch.setattr(stage, "refresh_verification_frame", counted)
    return counts


def _validate(home: Home, force: bool = False) -> None:
    pipeline.ingest(home, YEAR, force=force)
    pipeline.validate(home, YEAR, force=force)


def _rows_of_in(con: duckdb.DuckDBPyConnection, region: str) -> int:
    """How many verification rows name ``region``."""
    return int(con.execute("select count(*) from landing_verification where region_code = ?", [region]
                           ).fetchall()[0][0])


def _rows_of(home: Home, region: str) -> int:
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        return _rows_of_in(con, region)
    finally:
        con.close()


def assert_kept_frame_is_whole(home: Home) -> list[tuple[Any, ...]]:
    """The kept frame equals the frame built from every verification row of the landing tables the last
    validation left (its rejected records and submission statuses among them); returns it."""
    con = duckdb.connect(str(home.work_db(YEAR)))
    try:
        method = for_year(YEAR).method
        load_reference(con, YEAR, method)
        sql = (SQL / "verification_frame.sql").read_text(encoding="utf-8")
        con.execute("create temp table verification_in_scope as select * from landing_verification")
        whole = con.execute(sql, bind(sql, {"year": YEAR, "deadline": method.deadline_for(YEAR)})).fetchall()
        kept = con.execute("select * from verification_frame").fetchall()
        regions = con.execute("select region_code, count(*) from verification_frame_regions group by all").fetchall()
        landing = con.execute("select count(distinct coalesce(region_code, '(none)')) from landing_verification"
                              ).fetchall()[0][0]
    finally:
        con.close()
    assert sorted(kept, key=repr) == sorted(whole, key=repr)
    assert len(regions) == landing and all(n == 1 for _, n in regions)  # each region listed once
    return kept


def _quarantined_verification(home: Home) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        return con.execute("select locator, rule, value from quarantine where record_type = 'verification' "
                           "union all select locator, rule, value from data_quality where record_table = "
                           "'verification' order by all").fetchall()
    finally:
        con.close()


def test_a_first_validation_builds_every_region_and_a_resubmission_only_its_own(
        home: Home, built: list[int], tmp_path: Path) -> None:
    _validate(home)
    assert built == [len(ROWS)]
    first = assert_kept_frame_is_whole(home)
    assert {rule for _, rule, _ in _quarantined_verification(home)} >= {"VER002", "VER005", "VER006"}
    # 33.02 resubmits: B is gone, so its row now points at nothing
    later = submission("33.02", spd_total=30, innovations=[innovation("A", 60)],
                       submitted_at="2024-07-20T10:00:00+07:00")
    (home.raw_year(YEAR) / "33.02-correction.json").write_text(json.dumps(later), encoding="utf-8")
    _validate(home)
    assert built[1:] == [_rows_of(home, "33.02")]
    again = assert_kept_frame_is_whole(home)
    assert again != first
    # the same drop zone validated from scratch elsewhere finds the same
    fresh = copy_drop_zones(home, [YEAR], tmp_path / "fresh")
    _validate(fresh)
    assert _quarantined_verification(fresh) == _quarantined_verification(home)


def test_a_region_is_built_again_when_its_rows_its_file_or_its_rejections_change(home: Home, built: list[int]) -> None:
    _validate(home)
    # one row of 35.78 edited
    rows = [dict(r) for r in ROWS]
    rows[8]["verified_level"] = 1
    _write_verification(home, rows)
    _validate(home)
    assert built[1:] == [_rows_of(home, "35.78")]
    assert_kept_frame_is_whole(home)
    # 33.03's file replaced in place: its innovation C rejected, so its rows point at nothing now
    bad = submission("33.03", spd_total=25, innovations=[innovation("C", 50, stage="hampir")])
    (home.raw_year(YEAR) / "33.03.json").write_text(json.dumps(bad), encoding="utf-8")
    _validate(home)
    assert built[2:] == [_rows_of(home, "33.03")]
    kept = assert_kept_frame_is_whole(home)
    assert any(row[-1] == "33.03" and row[8] is False for row in kept)  # target_found false
    # 33.02's file removed: its rows point at no counting submission
    (home.raw_year(YEAR) / "33.02.json").unlink()
    _validate(home)
    assert built[3:] == [_rows_of(home, "33.02")]
    assert_kept_frame_is_whole(home)
    # a file of a region without verification rows builds nothing
    (home.raw_year(YEAR) / "35.01.json").unlink()
    _validate(home)
    assert built[4:] == [0]
    assert_kept_frame_is_whole(home)


def test_a_forced_or_rekeyed_validation_builds_every_region(home: Home, built: list[int],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _validate(home)
    _validate(home, force=True)
    assert built == [len(ROWS), len(ROWS)]
    monkeypatch.setattr(pipeline, "validation_key", lambda year: "another code or method")
    pipeline.validate(home, YEAR)
    assert built[2:] == [len(ROWS)]
    assert_kept_frame_is_whole(home)


def test_a_region_listed_without_its_rows_or_rows_without_their_region_are_built_again(
        home: Home, built: list[int]) -> None:
    """A run cut short leaves either; the next validation builds those regions again, and none twice."""
    _validate(home)
    con = duckdb.connect(str(home.work_db(YEAR)))
    try:
        con.execute("delete from verification_frame_regions where region_code = '33.03'")  # rows kept, not listed
        con.execute("delete from verification_frame where frame_region = '35.78'")  # listed, rows gone: the
        con.execute("delete from verification_frame_regions where region_code = '35.78'")  # listing goes first
    finally:
        con.close()
    (home.raw_year(YEAR) / "35.01.json").unlink()
    _validate(home)
    assert built[1:] == [_rows_of(home, "33.03") + _rows_of(home, "35.78")]
    assert_kept_frame_is_whole(home)


def test_the_fingerprint_covers_every_input_of_a_region_s_rows(home: Home) -> None:
    """Each input changed alone in the work database: a rejected record of the counting submission (validation
    of the same file under the same key rejects the same records, so this is defence), the counting file's
    bytes, one verification row."""
    _validate(home)
    method = for_year(YEAR).method
    params = {"year": YEAR, "deadline": method.deadline_for(YEAR)}
    key = pipeline.validation_key(YEAR)
    con = duckdb.connect(str(home.work_db(YEAR)))
    try:
        load_reference(con, YEAR, method)
        assert stage.refresh_verification_frame(con, params, key) == 0  # nothing changed
        con.execute("insert into rejected_records (record_type, record_id, file_id) "
                    "select 'innovation', record_id, file_id from landing_innovations where innovation_id = 'C'")
        assert stage.refresh_verification_frame(con, params, key) == _rows_of_in(con, "33.03")
        con.execute("update landing_files set sha256 = 'another' where source_file = '35.78.json'")
        assert stage.refresh_verification_frame(con, params, key) == _rows_of_in(con, "35.78")
        con.execute("update landing_verification set note = 'seen again' where region_code = '33.02'")
        assert stage.refresh_verification_frame(con, params, key) == _rows_of_in(con, "33.02")
        assert stage.refresh_verification_frame(con, params, "another key") == len(ROWS)
    finally:
        con.close()
    kept = assert_kept_frame_is_whole(home)
    assert any(row[-1] == "33.03" and row[8] is False for row in kept)  # C rejected: its rows point at nothing

