"""SUB009: two accepted on-time submissions of a region at the same instant are settled by the file name
alone (the one sorting last counts), so the counting one is flagged, naming the other file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
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


def _ties(con: duckdb.DuckDBPyConnection, files: Iterable[str]) -> list[tuple[Any, ...]]:
    """The SUB009 rows on ``files`` (each row is on the counting file and names the others)."""
    return con.execute("select source_file, locator, region_code, value from data_quality where rule = 'SUB009' "
                       "and source_file in (select unnest(?)) order by source_file", [list(files)]).fetchall()


def _status(con: duckdb.DuckDBPyConnection, files: Iterable[str]) -> dict[str, str]:
    return dict(con.execute("select source_file, status from submission_status where source_file in "
                            "(select unnest(?))", [list(files)]).fetchall())


# Every case below has regions and file names of its own (a file belongs to one case, and its name starts
# with the case's prefix, so the files of a region sort as they did alone) in one drop zone scored once
# (``year_db``): a case's statuses and SUB009 rows are those of its files, and together the cases cover
# every row of both tables (test_each_file_and_region_belongs_to_one_case).
TOP_TIE = {("json", "json"): "35.78", ("xlsx", "json"): "35.15", ("json", "xlsx"): "35.01"}
ZONES, EXCEL_DATE, SECOND_APART = "35.71", "35.72", "35.73"
SUPERSEDED, LATE, REJECTED = "35.74", "35.75", "35.76"  # test_only_a_tie_at_the_top_is_flagged
COPY, COPY_BESIDE_OTHER = "35.77", "36.01"  # test_a_byte_identical_copy_is_no_tie_that_matters


def _top_tie_files(first: str, last: str) -> dict[str, Any]:
    code = TOP_TIE[(first, last)]
    return {f"{first}-{last}-a.{first}": _content(_sub(code, 30), first),
            f"{first}-{last}-b.{last}": _content(_sub(code, 50), last)}


def _excel_date_workbook() -> bytes:
    import io
    from datetime import datetime

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(_sub(EXCEL_DATE, 50))))
    cell = next(row[1] for row in book["profil"].iter_rows() if row[0].value == "submitted_at")
    cell.value = datetime(2024, 8, 1, 10, 0)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


@cache
def _case_files() -> dict[str, dict[str, Any]]:
    """Each case's files by name (made once: read, never changed)."""
    late = "2024-08-03T10:00:00+07:00"  # after the 2024 deadline, 2 August
    wrong_year = _sub(REJECTED, 10)
    wrong_year["year"] = 2023  # SUB003: the header is rejected
    same, other = json.dumps(_sub(COPY, 30)), json.dumps(_sub(COPY_BESIDE_OTHER, 50))
    return {
        **{f"top {first}-{last}": _top_tie_files(first, last) for first, last in TOP_TIE},
        "zones": {"zones-a.json": _sub(ZONES, 30), "zones-b.json": _sub(ZONES, 40, "2024-08-01T03:00:00Z"),
                  "zones-c.json": _sub(ZONES, 50, "2024-08-01T11:00:00+08:00")},
        "excel date": {"date-a.json": _sub(EXCEL_DATE, 30, "2024-08-01T03:00:00Z"),
                       "date-b.xlsx": _excel_date_workbook()},
        "second apart": {"second-a.json": _sub(SECOND_APART, 30, "2024-08-01T10:00:01+07:00"),
                         "second-b.json": _sub(SECOND_APART, 50)},
        "below the top": {
            "below-35.74-a.json": _sub(SUPERSEDED, 30), "below-35.74-b.json": _sub(SUPERSEDED, 40),
            "below-35.74-c.json": _sub(SUPERSEDED, 50, "2024-08-01T12:00:00+07:00"),
            "below-35.75-a.json": _sub(LATE, 30), "below-35.75-b.json": _sub(LATE, 40, late),
            "below-35.75-c.json": _sub(LATE, 50, late),
            "below-35.76-a.json": _sub(REJECTED, 30), "below-35.76-b.json": wrong_year},
        "copy": {"copy-a.json": same, "copy-b.json": same, "copy-36.01-a.json": _sub(COPY_BESIDE_OTHER, 30),
                 "copy-36.01-b.json": other, "copy-36.01-c.json": other},
    }


@pytest.fixture(scope="module")
def year_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """Every case's files in one drop zone, ingested, validated and scored once."""
    files = {name: content for case in _case_files().values() for name, content in case.items()}
    con = score(write_home(tmp_path_factory.mktemp("ties"), YEAR, files), YEAR)
    yield con
    con.close()


def test_each_file_and_region_belongs_to_one_case(year_db: duckdb.DuckDBPyConnection) -> None:
    """No two cases share a region or a file; the tests below, each on its own files, see every row."""
    cases = _case_files()
    names = [name for case in cases.values() for name in case]
    assert len(set(names)) == len(names)
    assert set(_status(year_db, names)) == set(names)
    assert year_db.execute("select count(*) from submission_status").fetchone() == (len(names),)
    assert year_db.execute("select count(*) from data_quality where rule = 'SUB009' and source_file not in "
                           "(select unnest(?))", [names]).fetchone() == (0,)
    regions = [{row[0] for row in year_db.execute("select distinct region_code from landing_submissions "
                                                  "where source_file in (select unnest(?))", [list(case)]).fetchall()}
               for case in cases.values()]
    assert sum(len(r) for r in regions) == len(set().union(*regions))


@pytest.mark.parametrize("first, last", list(TOP_TIE))
def test_a_tie_at_the_top_flags_the_counting_submission_and_names_the_other(
        year_db: duckdb.DuckDBPyConnection, first: str, last: str) -> None:
    """Same instant, different content: the file whose name sorts last counts (its SPD 50, not 30), and
    its row in data_quality names the other file, says why it counts and what to do; JSON or XLSX alike."""
    con, code, files = year_db, TOP_TIE[(first, last)], list(_top_tie_files(first, last))
    a, b = files
    assert _status(con, files) == {a: "superseded", b: "counting"}
    assert region(con, code)["spd_score"] == 50
    locator = "profil" if last == "xlsx" else "$"
    assert _ties(con, files) == [(b, locator, code, a)]
    (reason,) = con.execute("select distinct reason from data_quality where rule = 'SUB009' and source_file = ?",
                            [b]).fetchone() or ("",)
    assert "same submitted_at" in reason and "file name sorts last" in reason
    assert "later submitted_at" in reason
    assert con.execute("select count(*) from quarantine where rule = 'SUB009'").fetchone() == (0,)


def test_the_same_instant_written_in_other_time_zones_ties(year_db: duckdb.DuckDBPyConnection) -> None:
    """10:00 WIB, 03:00 UTC and 11:00 WITA are one instant: the one sorting last names both others."""
    files = _case_files()["zones"]
    assert _status(year_db, files) == {"zones-a.json": "superseded", "zones-b.json": "superseded",
                                       "zones-c.json": "counting"}
    assert _ties(year_db, files) == [("zones-c.json", "$", ZONES, "zones-a.json, zones-b.json")]


def test_an_excel_date_cell_ties_with_the_same_instant_in_json(year_db: duckdb.DuckDBPyConnection) -> None:
    """A workbook's submitted_at typed as an Excel date (no zone: WIB, SUB008) ties with 03:00 UTC."""
    files = _case_files()["excel date"]
    assert _status(year_db, files) == {"date-a.json": "superseded", "date-b.xlsx": "counting"}
    assert _ties(year_db, files) == [("date-b.xlsx", "profil", EXCEL_DATE, "date-a.json")]


def test_one_second_apart_is_no_tie(year_db: duckdb.DuckDBPyConnection) -> None:
    """The later one counts even when its name sorts first, and nothing is flagged."""
    files = _case_files()["second apart"]
    assert _status(year_db, files) == {"second-a.json": "counting", "second-b.json": "superseded"}
    assert region(year_db, SECOND_APART)["spd_score"] == 30
    assert _ties(year_db, files) == []


def test_only_a_tie_at_the_top_is_flagged(year_db: duckdb.DuckDBPyConnection) -> None:
    """Ties among superseded submissions (35.74), among late ones (35.75), or with a rejected one (35.76)
    decide nothing, and are not flagged."""
    files = _case_files()["below the top"]
    assert _status(year_db, files) == {
        "below-35.74-a.json": "superseded", "below-35.74-b.json": "superseded", "below-35.74-c.json": "counting",
        "below-35.75-a.json": "counting", "below-35.75-b.json": "late", "below-35.75-c.json": "late",
        "below-35.76-a.json": "counting", "below-35.76-b.json": "rejected"}
    assert _ties(year_db, files) == []


def test_a_byte_identical_copy_is_no_tie_that_matters(year_db: duckdb.DuckDBPyConnection) -> None:
    """One upload saved under two names scores the same whichever counts: not flagged (35.77). Beside a
    third file of other content, only that one is named (36.01)."""
    files = _case_files()["copy"]
    status = _status(year_db, files)
    assert status["copy-b.json"] == "counting" and status["copy-36.01-c.json"] == "counting"
    assert _ties(year_db, files) == [("copy-36.01-c.json", "$", COPY_BESIDE_OTHER, "copy-36.01-a.json")]


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


def test_a_tied_file_named_after_a_person_is_named_as_it_is_published(tmp_path: Path) -> None:
    """SUB009's value names the other tied files: a name that holds a contact was quoted with only what every value
    has masked (e-mail addresses, mobile numbers, the counting file's operator: here 'Budi_Santoso [phone] a.json',
    the other file's operator named), and not as the file is published. It is named as in ``submissions``
    (flows.privacy.shown_file)."""
    other, first = "Budi_Santoso 0812-3456-7890 a.json", _sub("35.78", 30)
    first["operator"]["name"] = "Budi Santoso"  # its own operator; the counting file's is another
    home = write_home(tmp_path, YEAR, {other: first, "b.json": _sub("35.78", 50)})
    con = score(home, YEAR)
    try:
        sha = con.execute("select sha256 from landing_files where source_file = ?", [other]).fetchall()[0][0]
        assert _ties(con, ["b.json"]) == [("b.json", "$", "35.78", f"[name] [phone] a.json (sha256 {sha[:12]})")]
    finally:
        con.close()
