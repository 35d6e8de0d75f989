"""What ingest lands, and from which files: the same rows whatever the chunks, the schema's columns and types,
a file name that is not UTF-8, and names starting with ``_`` or ``.`` ignored at any depth."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from factory import submission
from ingesthome import YEAR, home_rejecting_one_innovation

from flows import pipeline
from flows.settings import Home


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


def test_landing_tables_have_the_columns_and_types_of_the_schema(tmp_path: Path) -> None:
    """Every landing table keeps its schema's columns and types (the innovations' narratives as their
    lengths, filled); DuckDB, set to one thread while ingest inserts, has all of them again after it."""
    import pyarrow as pa  # noqa: F401 - the schema's empty table is read by DuckDB's replacement scan

    from flows.ingest import ingest_year
    from flows.landing import SCHEMAS

    home = home_rejecting_one_innovation(tmp_path)
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

    home = home_rejecting_one_innovation(tmp_path)
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


def test_names_starting_with_an_underscore_or_a_dot_are_ignored_at_any_depth(tmp_path: Path) -> None:
    """README: files and folders starting with ``_`` or ``.`` are ignored. Only top-level ``_`` entries were:
    an editor's ``.35.78-backup.json`` (a later submission) became the region's counting submission and
    ``.DS_Store`` an FIL007 row; ``._verification.csv`` (macOS's twin of a copied file) was read as a
    verification CSV. Now none of them, nor anything in a hidden or ``_`` folder, is read, at any depth."""
    from flows.dropzone import drop_zone_files, verification_files

    home = home_rejecting_one_innovation(tmp_path)
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


def test_a_transaction_raises_its_blocks_error_when_duckdb_has_ended_it(tmp_path: Path) -> None:
    """Ingest commits as it goes (a commit, then a new transaction): a Ctrl-C between the two, or one DuckDB
    turns into its own error mid-query, left no transaction to roll back, and the failed rollback ('cannot
    rollback - no transaction is active') replaced the real error in the run's one line. Now the block's own
    error comes out, told as an interruption, and the committed rows stay."""
    import pytest
    from processes import interrupted_query

    from flows.errors import interrupted
    from flows.ingest import transaction

    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    con.execute("create table t (i integer)")
    with pytest.raises(RuntimeError) as stopped, transaction(con):
        con.execute("insert into t values (1)")
        con.execute("commit")  # as ingest does every 64 MB, then 'begin transaction'
        interrupted_query(con)
    assert interrupted(stopped.value), stopped.value
    with pytest.raises(ValueError, match="the block's own"), transaction(con):
        con.execute("insert into t values (2)")
        con.execute("commit")
        raise ValueError("the block's own error")
    assert con.execute("select list(i order by i) from t").fetchall() == [([1, 2],)]
    with pytest.raises(ValueError), transaction(con):  # an open transaction is still rolled back
        con.execute("insert into t values (3)")
        raise ValueError("rolled back")
    assert con.execute("select count(*) from t").fetchall() == [(2,)]
    assert not interrupted(ValueError("Query interrupted")) and interrupted(KeyboardInterrupt())
