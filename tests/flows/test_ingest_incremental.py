"""Incremental ingest: unchanged verification CSVs are not read again, only renumbered after the files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
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


def test_landing_is_the_same_whatever_the_chunks(tmp_path: Path) -> None:
    """Record ids (and the ids answers and evidence point to) do not depend on how files are chunked
    and committed: one file per chunk, with the ids carried from chunk to chunk, or all in one.

    The drop zone is a defective generated year's verification CSV and the files of one region in eight
    and of a region for each defect kind (factory.defective_sample): every defect kind, and file chunks
    that land nothing, are still carried over, at ~130 commits instead of ~620 (~55 ms each)."""
    from factory import defective_sample

    from flows.generator import generate_year
    from flows.ingest import ingest_year

    generated = Home.resolve(tmp_path / "generated")
    generate_year(generated, 2024, seed=4, scale=0.02, defect_rate=0.3)
    source = Home.resolve(tmp_path / "source")
    defective_sample(generated, 2024, source)
    landings = []
    for chunk_files in (1, 10_000):
        con = duckdb.connect(str(tmp_path / f"{chunk_files}.duckdb"))
        ingest_year(source, 2024, con, reuse=False, chunk_files=chunk_files)
        landings.append({name: con.execute(f"select * from landing_{name} order by all").fetchall()
                         for name in ("files", "submissions", "spd_answers", "innovations", "sid_answers",
                                      "evidence", "verification")})
        con.close()
    assert landings[0] == landings[1]
    assert len(landings[0]["evidence"]) > 1000


def _hashed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The submission files whose bytes ingest hashes from now on, by name (verification CSVs, small, are
    hashed on every run): in planning which files to read, and in reading them."""
    from flows import file_plan, ingest

    hashed: list[str] = []
    real = ingest.sha256_file

    def counting(path: Path) -> str:
        if path.suffix == ".json":
            hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(ingest, "sha256_file", counting)
    monkeypatch.setattr(file_plan, "sha256_file", counting)
    return hashed


def test_unchanged_files_are_known_by_their_stamp_and_edits_are_seen(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A file ingested before and not touched since is not read again to be hashed: its stamp (size,
    times, inode) says it is the same. An edit is seen even when it keeps the size and puts the
    modification time back (the change time moves), and so is a file replaced by another."""
    import os

    from flows import file_plan

    home = _home(tmp_path)
    raw = home.raw_year(YEAR)
    (raw / "11.json").write_text(json.dumps(submission("11", spd_total=20)), encoding="utf-8")
    monkeypatch.setattr(file_plan, "RECENT_CHANGE_NS", 0)  # the files were written a moment ago
    pipeline.ingest(home, YEAR)
    hashed = _hashed_files(monkeypatch)
    assert pipeline.ingest(home, YEAR)["files_parsed"] == 0
    assert hashed == []

    target = raw / "11.json"
    before = target.stat()
    text = target.read_text(encoding="utf-8")
    edited = text.replace('"region_name": "', '"region_name": "X', 1).replace('"year": 2024, ', '"year":2024, ', 1)
    assert len(edited) == len(text) and edited != text  # same size, other content
    target.write_text(edited, encoding="utf-8")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # the modification time put back
    assert target.stat().st_mtime_ns == before.st_mtime_ns and target.stat().st_size == before.st_size
    assert pipeline.ingest(home, YEAR)["files_parsed"] == 1
    assert hashed == ["11.json"]
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    names = con.execute("select region_name from landing_submissions where region_code = '11'").fetchall()
    con.close()
    assert names[0][0].startswith("X")

    other = raw / "35.78.json"  # replaced by a copy made through another file (a new inode)
    copy = raw / "_copy.tmp"
    copy.write_bytes(other.read_bytes().replace(b'"spd"', b'"spd" '))
    os.replace(copy, other)
    hashed.clear()
    assert pipeline.ingest(home, YEAR)["files_parsed"] == 1
    assert sorted(hashed) == ["35.78.json"]


def test_files_changed_just_before_an_ingest_are_hashed_again(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """File times advance in coarse ticks: a file changed within RECENT_CHANGE_NS of the ingest that
    read it gets no stamp, and the next run reads it again to hash it."""
    home = _home(tmp_path)
    pipeline.ingest(home, YEAR)  # the file was written a moment ago: too recent to be stamped
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    assert con.execute("select count(*) from landing_file_stamps").fetchall() == [(0,)]
    con.close()
    hashed = _hashed_files(monkeypatch)
    assert pipeline.ingest(home, YEAR)["files_parsed"] == 0
    assert hashed == ["35.78.json"]


def test_a_run_with_nothing_changed_imports_neither_pandas_nor_great_expectations(tmp_path: Path) -> None:
    """A no-change re-run reads stamps and states only: pandas (~0.3 s to import, once pulled in by
    pyarrow building the stamps table from Python values) and GX (~2 s) stay out of its process."""
    import subprocess
    import sys

    home = _home(tmp_path)
    for stage in ("ingest", "validate", "transform"):
        getattr(pipeline, stage)(home, YEAR)
    pipeline.publish(home, YEAR, {"run_id": "first"})
    code = ("import json, sys\n"
            "from pathlib import Path\n"
            "from flows import pipeline\n"
            "from flows.settings import Home\n"
            f"home = Home(Path({str(home.root)!r}))\n"
            f"done = [pipeline.ingest(home, {YEAR})['skipped'], pipeline.validate(home, {YEAR})['skipped'],\n"
            f"        pipeline.transform(home, {YEAR})['skipped'],\n"
            f"        pipeline.publish(home, {YEAR}, {{'run_id': 'again'}})['published']]\n"
            "heavy = [m for m in ('pandas', 'great_expectations', 'openpyxl') if m in sys.modules]\n"
            "print(json.dumps([done, heavy]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    done, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert done == [True, True, True, False]  # nothing was redone, nothing published
    assert heavy == []


def test_landing_tables_have_the_columns_and_types_of_the_schema(tmp_path: Path) -> None:
    """Every landing table keeps its schema's columns and types (the innovations' narratives as their
    lengths, filled); DuckDB, set to one thread while ingest inserts, has all of them again after it."""
    import pyarrow as pa  # noqa: F401 - the schema's empty table is read by DuckDB's replacement scan

    from flows.ingest import ingest_year
    from flows.landing import SCHEMAS

    home = _home(tmp_path)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        ingest_year(home, YEAR, con, reuse=False)
        for name, schema in SCHEMAS.items():
            kinds = con.execute("select column_name, data_type from duckdb_columns() "
                                "where table_name = ? order by column_index", [f"landing_{name}"]).fetchall()
            empty = schema.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
            con.execute("create or replace table expected as select * from empty")
            expected = con.execute("select column_name, data_type from duckdb_columns() "
                                   "where table_name = 'expected' order by column_index").fetchall()
            assert kinds == expected, name
        assert con.execute("select count(*), count(goal_chars) from landing_innovations").fetchall()[0][1] > 0
        threads = con.execute("select current_setting('threads')").fetchall()[0][0]
    finally:
        con.close()
    default = duckdb.connect().execute("select current_setting('threads')").fetchall()[0][0]
    assert threads == default  # one thread while inserting (parse workers have the cores), all of them after


def test_a_file_name_that_is_not_utf8_is_read_under_an_escaped_name(tmp_path: Path) -> None:
    """A name saved in Latin-1 (b'Pacit\\xe1n.json') once stopped the year's ingest (Arrow cannot store the
    lone surrogate Python reads it as): the file is read like any other, under 'Pacit\\\\xe1n.json', and a
    re-run keeps it as unchanged (the verification CSV's name too)."""
    import os

    home = _home(tmp_path)
    raw = os.fsencode(home.raw_year(YEAR))
    os.rename(os.path.join(raw, b"35.78.json"), os.path.join(raw, b"Pacit\xe1n-35.78.json"))
    os.rename(os.path.join(raw, b"verification", os.listdir(os.path.join(raw, b"verification"))[0]),
              os.path.join(raw, b"verification", b"cek-\xe1.csv"))
    first = pipeline.ingest(home, YEAR)
    assert first["files_parsed"] == 1 and first["rejected_files"] == 0 and first["records"]["innovations"] == 1
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        assert con.execute("select source_file from landing_submissions").fetchall() == [("Pacit\\xe1n-35.78.json",)]
        assert con.execute("select distinct source_file from landing_verification").fetchall() == [
            ("verification/cek-\\xe1.csv",)]
    finally:
        con.close()
    again = pipeline.ingest(home, YEAR)
    assert again["skipped"] and again["files_parsed"] == 0 and again["verification_rows"] == 1


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


def test_names_starting_with_an_underscore_or_a_dot_are_ignored_at_any_depth(tmp_path: Path) -> None:
    """README: files and folders starting with ``_`` or ``.`` are ignored. Only top-level ``_`` entries were:
    an editor's ``.35.78-backup.json`` (a later submission) became the region's counting submission and
    ``.DS_Store`` an FIL007 row; ``._verification.csv`` (macOS's twin of a copied file) was read as a
    verification CSV. Now none of them, nor anything in a hidden or ``_`` folder, is read, at any depth."""
    from flows.dropzone import drop_zone_files, verification_files

    home = _home(tmp_path)
    raw = home.raw_year(YEAR)
    later = submission("35.78", spd_total=60, submitted_at="2024-07-30T10:00:00+07:00")
    for rel in (".35.78-backup.json", "arsip/.35.78-backup.json", "arsip/_35.78.json", ".git/35.78.json",
                "arsip/_lama/35.78.json", "arsip/.cache/35.78.json", "_generator/35.78.json"):
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        (raw / rel).write_text(json.dumps(later), encoding="utf-8")
    (raw / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (raw / "arsip" / "33.01.json").write_text(json.dumps(submission("33.01", spd_total=20)), encoding="utf-8")
    (raw / "verification" / "._verification.csv").write_bytes(b"\x00\x05\x16\x07Mac OS X")
    (raw / "verification" / "_draft.csv").write_text("region_code\n35.78\n", encoding="utf-8")

    assert [p.relative_to(raw).as_posix() for p in drop_zone_files(raw)] == ["35.78.json", "arsip/33.01.json"]
    assert [p.name for p in verification_files(raw)] == ["verification.csv"]
    summary = pipeline.ingest(home, YEAR)
    assert summary["rejected_files"] == 0 and summary["verification_rows"] == 1
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        assert con.execute("select source_file from landing_files order by 1").fetchall() == [
            ("35.78.json",), ("arsip/33.01.json",)]
        assert con.execute("select distinct source_file from landing_verification").fetchall() == [
            ("verification/verification.csv",)]
    finally:
        con.close()
