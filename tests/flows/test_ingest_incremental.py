"""Incremental ingest: a file ingested before and unchanged since is known by its stamp and not read again,
unchanged verification CSVs are not read again, only renumbered after the files, and a run with nothing
changed imports neither pandas nor GX."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from factory import submission, write_home
from ingesthome import REJECT, YEAR, home_rejecting_one_innovation

from flows import pipeline
from flows.settings import Home


def _verification(home: Home) -> tuple[list[tuple], int]:
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        rows = con.execute("select file_id, locator, region_code, innovation_id, decision, verified_level "
                           "from landing_verification order by record_id").fetchall()
        last_file = con.execute("select max(file_id) from landing_files").fetchall()[0][0]
    finally:
        con.close()
    return rows, int(last_file)


def test_verification_is_kept_renumbered_and_read_again_when_it_changes(tmp_path: Path) -> None:
    home = home_rejecting_one_innovation(tmp_path)
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
    home = home_rejecting_one_innovation(tmp_path)
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

    home = home_rejecting_one_innovation(tmp_path)
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
    home = home_rejecting_one_innovation(tmp_path)
    pipeline.ingest(home, YEAR)  # the file was written a moment ago: too recent to be stamped
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    assert con.execute("select count(*) from landing_file_stamps").fetchall() == [(0,)]
    con.close()
    hashed = _hashed_files(monkeypatch)
    assert pipeline.ingest(home, YEAR)["files_parsed"] == 0
    assert hashed == ["35.78.json"]


def test_a_run_with_nothing_changed_imports_neither_pandas_nor_great_expectations(tmp_path: Path) -> None:
    """A no-change re-run reads stamps and states only: pandas (~0.3 s to import, once pulled in by
    pyarrow building the stamps table from Python values) and GX (~2 s) stay out of its process. The
    modules a run imports while it waits for its server (``pipeline.STAGE_MODULES``) are those its stages
    import."""
    import subprocess
    import sys

    home = home_rejecting_one_innovation(tmp_path)
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
            "unused = [m for m in pipeline.STAGE_MODULES if m not in sys.modules]\n"
            "print(json.dumps([done, heavy, unused]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    done, heavy, unused = json.loads(out.stdout.strip().splitlines()[-1])
    assert done == [True, True, True, False]  # nothing was redone, nothing published
    assert heavy == [] and unused == []
