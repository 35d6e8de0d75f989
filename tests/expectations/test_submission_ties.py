"""SUB009: two accepted on-time submissions of a region at the same instant are settled by the file name
alone (the one sorting last counts), so the counting one is flagged, naming the other file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import region, score, submission, write_home, xlsx_bytes
from rebuild import assert_same_as_rebuild, run_stages

from flows.feedback import findings, render
from flows.releases import latest_release

YEAR = 2024
TIE = "2024-08-01T10:00:00+07:00"


def _sub(code: str, spd_total: float, submitted_at: str = TIE, **fields: Any) -> dict[str, Any]:
    return submission(code, spd_total=spd_total, submitted_at=submitted_at, **fields)


def _content(sub: dict[str, Any], fmt: str) -> Any:
    return xlsx_bytes(sub) if fmt == "xlsx" else sub


def _ties(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("select source_file, locator, region_code, value from data_quality where rule = 'SUB009' "
                       "order by source_file").fetchall()


def _status(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select source_file, status from submission_status").fetchall())


@pytest.mark.parametrize("first, last", [("json", "json"), ("xlsx", "json"), ("json", "xlsx")])
def test_a_tie_at_the_top_flags_the_counting_submission_and_names_the_other(
        tmp_path: Path, first: str, last: str) -> None:
    """Same instant, different content: the file whose name sorts last counts (its SPD 50, not 30), and
    its row in data_quality names the other file, says why it counts and what to do; JSON or XLSX alike."""
    home = write_home(tmp_path, YEAR, {f"a.{first}": _content(_sub("35.78", 30), first),
                                       f"b.{last}": _content(_sub("35.78", 50), last)})
    con = score(home, YEAR)
    try:
        assert _status(con) == {f"a.{first}": "superseded", f"b.{last}": "counting"}
        assert region(con, "35.78")["spd_score"] == 50
        locator = "profil" if last == "xlsx" else "$"
        assert _ties(con) == [(f"b.{last}", locator, "35.78", f"a.{first}")]
        (reason,) = con.execute("select distinct reason from data_quality where rule = 'SUB009'").fetchone() or ("",)
        assert "same submitted_at" in reason and "file name sorts last" in reason
        assert "later submitted_at" in reason
        assert con.execute("select count(*) from quarantine where rule = 'SUB009'").fetchone() == (0,)
    finally:
        con.close()


def test_the_same_instant_written_in_other_time_zones_ties(tmp_path: Path) -> None:
    """10:00 WIB, 03:00 UTC and 11:00 WITA are one instant: the one sorting last names both others."""
    home = write_home(tmp_path, YEAR, {"a.json": _sub("35.78", 30),
                                       "b.json": _sub("35.78", 40, "2024-08-01T03:00:00Z"),
                                       "c.json": _sub("35.78", 50, "2024-08-01T11:00:00+08:00")})
    con = score(home, YEAR)
    try:
        assert _status(con) == {"a.json": "superseded", "b.json": "superseded", "c.json": "counting"}
        assert _ties(con) == [("c.json", "$", "35.78", "a.json, b.json")]
    finally:
        con.close()


def test_an_excel_date_cell_ties_with_the_same_instant_in_json(tmp_path: Path) -> None:
    """A workbook's submitted_at typed as an Excel date (no zone: WIB, SUB008) ties with 03:00 UTC."""
    import io
    from datetime import datetime

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(_sub("35.78", 50))))
    cell = next(row[1] for row in book["profil"].iter_rows() if row[0].value == "submitted_at")
    cell.value = datetime(2024, 8, 1, 10, 0)
    data = io.BytesIO()
    book.save(data)
    home = write_home(tmp_path, YEAR, {"a.json": _sub("35.78", 30, "2024-08-01T03:00:00Z"), "b.xlsx": data.getvalue()})
    con = score(home, YEAR)
    try:
        assert _status(con) == {"a.json": "superseded", "b.xlsx": "counting"}
        assert _ties(con) == [("b.xlsx", "profil", "35.78", "a.json")]
    finally:
        con.close()


def test_one_second_apart_is_no_tie(tmp_path: Path) -> None:
    """The later one counts even when its name sorts first, and nothing is flagged."""
    home = write_home(tmp_path, YEAR, {"a.json": _sub("35.78", 30, "2024-08-01T10:00:01+07:00"),
                                       "b.json": _sub("35.78", 50)})
    con = score(home, YEAR)
    try:
        assert _status(con) == {"a.json": "counting", "b.json": "superseded"}
        assert region(con, "35.78")["spd_score"] == 30
        assert _ties(con) == []
    finally:
        con.close()


def test_only_a_tie_at_the_top_is_flagged(tmp_path: Path) -> None:
    """Ties among superseded submissions (35.78), among late ones (11), or with a rejected one (35.01)
    decide nothing, and are not flagged."""
    late = "2024-08-03T10:00:00+07:00"  # after the 2024 deadline, 2 August
    wrong_year = _sub("35.01", 10)
    wrong_year["year"] = 2023  # SUB003: the header is rejected
    home = write_home(tmp_path, YEAR, {
        "35.78-a.json": _sub("35.78", 30), "35.78-b.json": _sub("35.78", 40),
        "35.78-c.json": _sub("35.78", 50, "2024-08-01T12:00:00+07:00"),
        "11-a.json": _sub("11", 30), "11-b.json": _sub("11", 40, late), "11-c.json": _sub("11", 50, late),
        "35.01-a.json": _sub("35.01", 30), "35.01-b.json": wrong_year})
    con = score(home, YEAR)
    try:
        assert _status(con) == {"35.78-a.json": "superseded", "35.78-b.json": "superseded",
                                "35.78-c.json": "counting", "11-a.json": "counting", "11-b.json": "late",
                                "11-c.json": "late", "35.01-a.json": "counting", "35.01-b.json": "rejected"}
        assert _ties(con) == []
    finally:
        con.close()


def test_a_byte_identical_copy_is_no_tie_that_matters(tmp_path: Path) -> None:
    """One upload saved under two names scores the same whichever counts: not flagged (35.78). Beside a
    third file of other content, only that one is named (11)."""
    same, other = json.dumps(_sub("35.78", 30)), json.dumps(_sub("11", 50))
    home = write_home(tmp_path, YEAR, {"a.json": same, "b.json": same, "11-a.json": _sub("11", 30),
                                       "11-b.json": other, "11-c.json": other})
    con = score(home, YEAR)
    try:
        assert _status(con)["b.json"] == "counting" and _status(con)["11-c.json"] == "counting"
        assert _ties(con) == [("11-c.json", "$", "11", "11-a.json")]
    finally:
        con.close()


def test_adding_removing_and_renaming_a_tied_file_gives_what_a_rebuild_gives(tmp_path: Path) -> None:
    """The verdict on one file depends on another: after each change the incremental release equals a
    rebuild's, and the warning reaches the region's feedback letter."""
    home = write_home(tmp_path / "home", YEAR, {"a.json": _sub("35.78", 30), "11.json": _sub("11", 20)})
    raw = home.raw_year(YEAR)
    run_stages(home, YEAR)

    def published_ties() -> list[tuple[Any, ...]]:
        release = latest_release(home, YEAR)
        assert release is not None
        con = duckdb.connect()
        try:
            return con.execute("select source_file, region_code, value from read_parquet(?) where rule = 'SUB009'",
                               [str(Path(release.path) / "data_quality.parquet")]).fetchall()
        finally:
            con.close()

    (raw / "b.json").write_text(json.dumps(_sub("35.78", 50)), encoding="utf-8")
    run_stages(home, YEAR)
    assert published_ties() == [("b.json", "35.78", "a.json")]
    assert_same_as_rebuild(home, YEAR, tmp_path / "added")
    release = latest_release(home, YEAR)
    assert release is not None
    letter = render(YEAR, "35.78", "Kota Surabaya", findings(release, "35.78")["35.78"])
    assert "**SUB009** in `b.json`" in letter and "value: `a.json`" in letter

    (raw / "a.json").rename(raw / "c.json")  # the same bytes, now sorting last: it counts, b is named
    run_stages(home, YEAR)
    assert published_ties() == [("c.json", "35.78", "b.json")]
    assert_same_as_rebuild(home, YEAR, tmp_path / "renamed")

    (raw / "b.json").unlink()
    run_stages(home, YEAR)
    assert published_ties() == []
    assert_same_as_rebuild(home, YEAR, tmp_path / "removed")
