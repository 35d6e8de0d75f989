"""Reading verification CSVs: columns as ``csv.DictReader`` reads them, rows numbered as a spreadsheet shows
them, each value converted as written, the files Excel writes, loose header names, and files that cannot be
read or lack a column (VER004) while the year is still scored."""

from __future__ import annotations

from pathlib import Path

import pytest
from factory import innovation, submission, write_home

YEAR = 2024
CSV_CASES = [
    "",
    "region_code,innovation_id,indicator,decision,verified_level,note\n",
    "region_code,innovation_id,indicator,decision,verified_level,note\n11,A-1,10b,adjust,0,ok\n",
    # blank lines, a short row, a long row, a quoted comma and a quoted line break
    "region_code,innovation_id,indicator,decision,verified_level,note\n\n11,A-1,10b,adjust\n\n"
    '35.78,B-2,24,Reject,2,"a, b",extra,more\n11,,1,ACCEPT,3,"two\nlines"\n',
    # columns in another order, one missing, one repeated (the last one counts), spaces in values
    "note,verified_level,decision,indicator,region_code,note\nx, 2 ,Adjust , 10 B ,11,y\n,,,,,\n",
    # the same with every column: names in another case, with spaces and hyphens, one repeated by its case
    "Note,Verified Level, decision ,INDICATOR,region-code,innovation_id,NOTE\nx, 2 ,Adjust , 10 B ,11,A-1,y\n",
    "Region Code;Innovation ID;Indicator;Decision;Verified_Level\n11;A-1;10b;adjust;1\n",
    # a blank first line is the header, as csv.DictReader reads it
    "\n11,A-1,10b,adjust,0,ok\n",
    "region_code;indicator\n11;10b\n",
    # lines ended by a bare carriage return (an old Mac export), one inside a quoted note too
    "region_code,innovation_id,indicator,decision,verified_level,note\r11,A-1,10b,adjust,1,\"two\rlines\"\r12,,3,reject,,\r",
    # a note longer than the csv module's default field limit (131,072 characters)
    "region_code,innovation_id,indicator,decision,verified_level,note\n11,A-1,10b,adjust,1," + "n" * 200_000 + "\n",
]


@pytest.mark.parametrize("text", CSV_CASES)
def test_verification_csv_columns_are_what_dictreader_reads(text: str) -> None:
    import csv
    import io

    from flows.verification_csv import (
        REQUIRED_COLUMNS,
        VERIFICATION_COLUMNS,
        column_key,
        csv_delimiter,
        verification_columns,
    )

    count, columns, missing, numbers = verification_columns(text)
    # as from a file opened with newline="", with the delimiter of its header line (Excel's ';' or ','),
    # the header's names taken as column names; rows whose every field is blank are no rows
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text))
    expected = []
    for row in reader:
        fields = [x for v in row.values() for x in (v if isinstance(v, list) else [v])]  # fields past the header too
        if any(x and x.strip() for x in fields):
            expected.append({column_key(k): v for k, v in row.items() if k is not None})
    assert count == len(expected) == len(numbers)
    for name in VERIFICATION_COLUMNS:
        assert columns[name] == [row.get(name) for row in expected], name
    names = {column_key(k) for k in reader.fieldnames or []}
    assert missing == [name for name in REQUIRED_COLUMNS if name not in names]


def test_verification_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    """A row's locator is its row in a spreadsheet: blank rows (empty, or every field blank as Excel
    leaves them) are no rows but are counted, and a line break inside a quoted note is not a row."""
    from flows.verification_csv import read_verification

    raw = tmp_path / "raw"
    (raw / "verification").mkdir(parents=True)
    (raw / "verification" / "v.csv").write_text(
        "region_code,innovation_id,indicator,decision,verified_level,note\n"
        "35.01,A,16,accept,,\n\n , ,,,,\n35.01,A,17,adjust,1,\"two\nlines\"\n35.01,A,18,reject,,\n,,,,,\n",
        encoding="utf-8")
    table, _ = read_verification(raw, 0)
    assert table.column("locator").to_pylist() == ["line 2", "line 5", "line 6"]
    assert table.column("indicator").to_pylist() == ["16", "17", "18"]


@pytest.mark.parametrize("text", CSV_CASES)
def test_verification_rows_convert_each_value_as_written(text: str, tmp_path: Path) -> None:
    """The converted columns (each distinct value converted once) equal a conversion value by value."""
    from flows.values import code_text, enum_text, whole_number
    from flows.values import text as as_text
    from flows.verification_csv import read_verification, verification_columns

    raw = tmp_path / "raw"
    (raw / "verification").mkdir(parents=True)
    (raw / "verification" / "v.csv").write_text(text + text, encoding="utf-8")  # every value twice
    table, _ = read_verification(raw, 7)
    count, columns, missing, _numbers = verification_columns(text + text)
    got = table.to_pydict()
    if missing and count:  # the file is one row that VER004 rejects: none of its rows is read
        assert (got["locator"], got["file_error"]) == (["(file)"], [f"header lacks {', '.join(missing)}"])
        return
    levels = [as_text(v) for v in columns["verified_level"]]
    assert got["region_code"] == [as_text(v) for v in columns["region_code"]]
    assert got["innovation_id"] == [as_text(v) for v in columns["innovation_id"]]
    assert got["indicator"] == [code_text(v) for v in columns["indicator"]]
    assert got["decision"] == [enum_text(v) for v in columns["decision"]]
    assert got["verified_level_raw"] == levels
    assert got["verified_level"] == [whole_number(v) for v in levels]
    assert got["note"] == [as_text(v) for v in columns["note"]]
    assert set(got["file_id"]) <= {7}


def test_a_verification_file_that_cannot_be_read_is_rejected_and_the_year_is_scored(tmp_path: Path) -> None:
    """A folder or a pipe named ``*.csv`` in verification/ stopped the year's ingest (IsADirectoryError)
    or hung it (a pipe is never opened now). Each is one quarantine row, VER004 at ``(file)``, none of its
    decisions apply, the other CSVs' do, and every region is scored; the next run keeps them as they are."""
    import os

    from factory import score

    doc = submission("33.01", spd_total=30, innovations=[innovation("33.01-A", 60)])
    home = write_home(tmp_path, YEAR, {"a.json": doc, "b.json": submission("33.02", spd_total=40)},
                      [{"region_code": "33.01", "innovation_id": "33.01-A", "indicator": "", "decision": "reject",
                        "verified_level": "", "note": "bukti tidak sah"}])
    folder = home.raw_year(YEAR) / "verification"
    (folder / "a-folder.csv").mkdir()
    os.mkfifo(folder / "b-pipe.csv")
    for _ in range(2):
        con = score(home, YEAR)
        try:
            found = con.execute("select source_file, locator, rule from quarantine where record_type = 'verification' "
                                "order by source_file").fetchall()
            assert found == [("verification/a-folder.csv", "(file)", "VER004"),
                             ("verification/b-pipe.csv", "(file)", "VER004")]
            values = [v for (v,) in con.execute("select value from quarantine where rule = 'VER004' "
                                                "order by source_file").fetchall()]
            assert "a folder" in values[0] and "a pipe" in values[1]
            rejected = con.execute("select innovation_rejected from stg_verification "
                                   "where innovation_id = '33.01-A'").fetchall()
            assert rejected == [(True,)]  # the readable CSV's decision applies
            scored = con.execute("select region_code, submitted from region_scores "
                                 "where region_code in ('33.01', '33.02') order by 1").fetchall()
            assert scored == [("33.01", True), ("33.02", True)]
        finally:
            con.close()


def test_verification_csvs_as_excel_writes_them_are_read(tmp_path: Path) -> None:
    """Excel's "CSV" in Indonesian settings separates fields with ';', on Windows it is Windows-1252, and
    "Unicode text" is UTF-16 with a BOM; a name may end in .CSV. Each is read as the UTF-8 comma file
    (all four were read as rows of empty fields or with U+FFFD before, or not at all)."""
    from flows.verification_csv import read_verification

    rows = [["region_code", "innovation_id", "indicator", "decision", "verified_level", "note"],
            ["33.01", "33.01-A", "16", "adjust", "1", "bukti kurang lengkap, tanpa tanda tangan — dicek ulang"],
            ["33.02", "", "", "reject", "", "café"]]

    def written(delimiter: str) -> str:
        import csv
        import io

        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        return out.getvalue()

    variants = {"utf8.csv": written(",").encode("utf-8"),
                "semicolon.csv": written(";").encode("utf-8-sig"),
                "windows.csv": written(";").replace("—", "-").encode("cp1252"),
                "unicode.csv": written(",").encode("utf-16"),
                "UPPER.CSV": written(",").encode("utf-8")}
    for name, data in variants.items():
        raw = tmp_path / name / "raw"
        (raw / "verification").mkdir(parents=True)
        (raw / "verification" / name).write_bytes(data)
        table, files = read_verification(raw, 0)
        got = table.select(["region_code", "innovation_id", "indicator", "decision", "verified_level", "note"])
        note = rows[1][5] if name != "windows.csv" else rows[1][5].replace("—", "-")
        assert got.to_pylist() == [
            {"region_code": "33.01", "innovation_id": "33.01-A", "indicator": "16", "decision": "adjust",
             "verified_level": 1, "note": note},
            {"region_code": "33.02", "innovation_id": None, "indicator": None, "decision": "reject",
             "verified_level": None, "note": "café"}], name
        assert [f for f, _, _ in files] == [f"verification/{name}"]


def test_verification_headers_match_loosely_and_a_missing_column_rejects_the_file(tmp_path: Path) -> None:
    """Header names match ignoring case, spaces and hyphens. A CSV whose header lacks ``indicator`` read
    every row as a decision on a whole innovation: a reject of one answer rejected the innovation. Such a
    file is now one VER004 row naming what it lacks, and none of its decisions apply; the others' do."""
    from factory import score

    doc = submission("33.01", spd_total=30, innovations=[innovation("33.01-A", 60), innovation("33.01-B", 60)])
    answer_b = next(a for a in doc["innovations"][1]["sid"] if a["level"] >= 2)
    home = write_home(tmp_path, YEAR, {"a.json": doc})
    folder = home.raw_year(YEAR) / "verification"
    folder.mkdir()
    (folder / "loose.csv").write_text("Region Code;Innovation-ID; INDICATOR ;Decision;Verified Level;Note\r\n"
                                      f"33.01;33.01-B;{answer_b['indicator']};Adjust;1;cek\r\n", encoding="utf-8")
    (folder / "typo.csv").write_text("region_code,innovation_id,indikator,decision,verified_level,note\n"
                                     f"33.01,33.01-A,{doc['innovations'][0]['sid'][0]['indicator']},reject,,\n",
                                     encoding="utf-8")
    con = score(home, YEAR)
    try:
        assert con.execute("select source_file, locator, rule, value from quarantine "
                           "where record_type = 'verification'").fetchall() == [
            ("verification/typo.csv", "(file)", "VER004", "header lacks indicator")]
        assert con.execute("select count(*) from stg_verification where innovation_rejected").fetchall() == [(0,)]
        credited = con.execute("select innovation_id, indicator, credited_level from indicator_scores "
                               "where credited_level <> claimed_level").fetchall()
        assert credited == [("33.01-B", answer_b["indicator"], 1)]  # the loose header's adjust applies
    finally:
        con.close()
