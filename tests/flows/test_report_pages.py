"""Region pages carried over from the release before (flows/report/pages.py): only the pages whose
inputs changed are rendered again, the rest are the same files (hard links), and every page is byte for
byte what a full rendering gives."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factory import innovation, score, submission, write_home

import flows.report
from flows import pipeline
from flows.report import ReportSummary, build_release_report
from flows.report.pages import PageRecord
from flows.settings import PROJECT_ROOT, Home

YEAR = 2024


def files() -> dict[str, Any]:
    return {
        "sda.json": submission("35.15", spd_total=30, innovations=[innovation(f"SDA-{i}", 40) for i in range(3)]),
        "sby.json": submission("35.78", spd_total=60, innovations=[innovation(f"SBY-{i}", 90) for i in range(12)]),
        "mlg.json": submission("35.07", spd_total=45, innovations=[innovation(f"MLG-{i}", 60) for i in range(8)]),
    }


def pages(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "report" / "region").glob("*.html"))}


def release(home: Home, number: int) -> Path:
    return home.published_year(YEAR) / f"release={number}"


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, list[ReportSummary]]:
    """Release 1, then release 2 after Sidoarjo renamed one of its innovations (no score moves)."""
    root = tmp_path_factory.mktemp("pages")
    content = files()
    home = write_home(root, YEAR, content)
    summaries: list[ReportSummary] = []
    original = flows.report.build_release_report

    def spy(*args: Any, **kwargs: Any) -> ReportSummary:
        summaries.append(original(*args, **kwargs))
        return summaries[-1]

    flows.report.build_release_report = spy  # type: ignore[assignment]
    try:
        for renamed in (False, True):
            if renamed:
                content["sda.json"]["innovations"][1]["name"] = "Sidoarjo <Sehat> & \"Cerdas\""
                write_home(root, YEAR, {"sda.json": content["sda.json"]})
            score(home, YEAR).close()
            assert pipeline.publish(home, YEAR, {})["published"]
    finally:
        flows.report.build_release_report = original  # type: ignore[assignment]
    return home, summaries


def test_only_changed_pages_are_rendered_and_every_page_equals_a_full_rendering(
        two_releases: tuple[Home, list[ReportSummary]], tmp_path: Path) -> None:
    home, (first, second) = two_releases
    assert first.pages_carried == 0  # nothing recorded before the first release
    assert second.pages_carried == second.pages - 2  # all but the index and Sidoarjo's page
    full = build_release_report(release(home, 2), home, YEAR, 2, out_dir=tmp_path / "full", carry_over=False)
    assert full.pages_carried == 0
    carried, rendered = pages(release(home, 2)), pages(tmp_path / "full")
    assert len(carried) == 546 and carried == rendered
    before = pages(release(home, 1))
    assert b"Sidoarjo &lt;Sehat&gt; &amp; &#34;Cerdas&#34;" in carried["35.15.html"]
    assert before["35.15.html"] != carried["35.15.html"]
    # a region page does not name the release (the yearly report does): an unchanged page is the same file
    assert all(b"rilis (release)" not in data for data in carried.values())
    assert b"rilis (release) 2 " in (release(home, 2) / "report" / "index.html").read_bytes()
    region_dir = {number: release(home, number) / "report" / "region" for number in (1, 2)}
    for name in carried:
        linked = (region_dir[1] / name).stat().st_ino == (region_dir[2] / name).stat().st_ino
        assert linked == (name != "35.15.html"), name
        assert linked == (before[name] == carried[name]), name
        assert (region_dir[2] / name).stat().st_mode & 0o777 == 0o444
    assert (tmp_path / "full" / "report" / "region" / "35.78.html").stat().st_nlink == 1
    manifest = json.loads((release(home, 2) / "manifest.json").read_text(encoding="utf-8"))
    for name, data in carried.items():
        assert manifest["files"][f"report/region/{name}"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_the_sums_a_publisher_gives_its_report_are_those_of_the_file_it_writes(
        two_releases: tuple[Home, list[ReportSummary]], tmp_path: Path) -> None:
    """At publish the report takes indicator_scores' sums from the rows being written into that file (on a
    thread, flows.publish.WRITTEN_BESIDE_THE_REPORT): they are the sums the file gives, and with them the
    report reads neither that file nor reconciliation's."""
    from flows.methodology import for_year
    from flows.publish import TABLES, WRITTEN_BESIDE_THE_REPORT
    from flows.report.data import indicator_sums, load_release
    from flows.workdb import work_database

    home, _ = two_releases
    folder = release(home, 2)  # the latest: the work database holds its rows
    with work_database(home, YEAR, "publish") as con:
        given = indicator_sums(con, TABLES["indicator_scores"])
        from_file = con.sql("select region_code, part, indicator, sum(credited_level)::double as level_sum "
                            "from read_parquet(?) group by all",
                            params=[str(folder / "indicator_scores.parquet")]).to_arrow_table()
    assert given is not None and from_file is not None
    assert given.num_rows > 0 and given.sort_by([("region_code", "ascending"), ("part", "ascending"),
                                                 ("indicator", "ascending")]).equals(
        from_file.sort_by([("region_code", "ascending"), ("part", "ascending"), ("indicator", "ascending")]))
    method = for_year(YEAR).method
    without = tmp_path / "without"  # the release as its report sees it while those files are being written
    shutil.copytree(folder, without, ignore=shutil.ignore_patterns(
        *(f"{name}.parquet" for name in WRITTEN_BESIDE_THE_REPORT)))
    read = load_release(without, YEAR, 2, method, given)
    assert dataclasses.replace(read, innovations_path=folder / "innovation_scores.parquet",
                               findings_dir=folder) == load_release(folder, YEAR, 2, method)
    assert read.level_sums["35.78"] and read.medians


@pytest.mark.parametrize("change", [b"Malang!", b"Malanq"])  # a byte more; the same size and time
def test_a_page_that_does_not_check_out_is_rendered_again(two_releases: tuple[Home, list[ReportSummary]],
                                                         tmp_path: Path, change: bytes) -> None:
    home, _ = two_releases
    record = PageRecord.read(home.report_pages(YEAR), YEAR)
    assert record is not None and record.release == 2 and len(record.pages) == 546
    reference = pages(release(home, 2))
    page = release(home, 2) / "report" / "region" / "35.07.html"
    stat = page.stat()
    os.chmod(page, 0o644)
    try:
        page.write_bytes(reference["35.07.html"].replace(b"Malang", change, 1))  # changed after publish
        if len(change) == len(b"Malang"):  # only its bytes tell: a copy (a folder of one's own) checks them
            os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        again = build_release_report(release(home, 2), home, YEAR, 2, out_dir=tmp_path / "again")
    finally:
        page.write_bytes(reference["35.07.html"])
        os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.chmod(page, 0o444)
    assert again.pages_carried == 545 and pages(tmp_path / "again") == reference
    assert all(p.stat().st_nlink == 1 for p in (tmp_path / "again" / "report" / "region").iterdir())  # copies
    assert PageRecord.read(home.report_pages(YEAR), YEAR) == record  # a build outside a release records nothing


def test_a_page_is_copied_and_checked_where_it_cannot_be_linked(two_releases: tuple[Home, list[ReportSummary]],
                                                                tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Another file system (or one without hard links): the page is read, checked and written instead."""
    import errno

    import flows.report.pages

    home, _ = two_releases
    record_path = home.report_pages(YEAR)
    kept = record_path.read_bytes()
    folder = tmp_path / "release=3"  # as a release's staging folder: its tables, then the report into it
    folder.mkdir()
    for table in release(home, 2).glob("*.parquet"):
        (folder / table.name).write_bytes(table.read_bytes())

    def no_link(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(flows.report.pages.os, "link", no_link)
    try:
        built = build_release_report(folder, home, YEAR, 3)
        record = PageRecord.read(record_path, YEAR)
    finally:
        record_path.write_bytes(kept)
    assert built.pages_carried == 546 and pages(folder) == pages(release(home, 2))
    assert all(p.stat().st_nlink == 1 for p in (folder / "report" / "region").iterdir())
    assert record is not None and record.release == 3
    assert {code: entry[1].sha256 for code, entry in record.pages.items()} == \
        {p.name.removesuffix(".html"): hashlib.sha256(p.read_bytes()).hexdigest()
         for p in (folder / "report" / "region").iterdir()}


def test_removing_a_failed_release_leaves_the_pages_it_linked_read_only(tmp_path: Path) -> None:
    from flows.publish import _make_writable

    published = tmp_path / "release=1" / "page.html"
    published.parent.mkdir()
    published.write_text("page", encoding="utf-8")
    published.chmod(0o444)
    staging = tmp_path / ".staging-x" / "report"
    staging.mkdir(parents=True)
    os.link(published, staging / "page.html")
    staging.chmod(0o555)
    _make_writable(staging.parent)
    shutil.rmtree(staging.parent)
    assert not staging.parent.exists() and published.stat().st_mode & 0o777 == 0o444


@pytest.mark.parametrize("content", [
    "not json", "[]",
    '{"schema": "iid.report-pages/v2", "year": 2023, "release": 1, "pages": {}}',
    '{"schema": "iid.report-pages/v2", "year": 2024, "release": 2, "pages": {"35.15": ["x", "y"]}}',
    '{"schema": "iid.report-pages/v1", "year": 2024, "release": 2, "pages": {"35.15": ["x", "y"]}}',
])
def test_a_lost_or_foreign_record_only_costs_time(two_releases: tuple[Home, list[ReportSummary]], tmp_path: Path,
                                                 content: str) -> None:
    home, _ = two_releases
    path = home.report_pages(YEAR)
    kept = path.read_bytes()
    path.write_text(content, encoding="utf-8")
    try:
        built = build_release_report(release(home, 2), home, YEAR, 2, out_dir=tmp_path / "out")
    finally:
        path.write_bytes(kept)
    assert built.pages_carried == 0 and pages(tmp_path / "out") == pages(release(home, 2))


KEYS = """
import json, sys
from flows.methodology import for_year
from flows.report.data import load_history, load_release
from flows.report.pages import key_prefix, page_key
from flows.report.profile import YearContext, region_inputs
from flows.settings import Home
home, folder = Home.resolve(sys.argv[1]), sys.argv[2]
loaded = for_year(2024)
data = load_release(__import__("pathlib").Path(folder), 2024, 2, loaded.method)
years = YearContext.build(data, load_history(home, 2024))
prefix = key_prefix(2024, loaded.sha256)
print(json.dumps({r.code: page_key(prefix, region_inputs(r, data, years, loaded.method)) for r in data.regions}))
"""


def test_page_digests_are_the_same_in_every_process(two_releases: tuple[Home, list[ReportSummary]]) -> None:
    home, _ = two_releases
    found = []
    for seed in ("1", "2"):  # string hashing (set and dict order) differs between the two
        done = subprocess.run([sys.executable, "-c", KEYS, str(home.root), str(release(home, 2))], cwd=PROJECT_ROOT,
                              env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True)
        found.append(json.loads(done.stdout))
    record = PageRecord.read(home.report_pages(YEAR), YEAR)
    assert record is not None
    assert found[0] == found[1] == {code: key for code, (key, _) in record.pages.items()}
    assert None not in found[0].values()


INNOVATION_TABLE = (  # the innovation_scores columns the report reads, two regions
    "select * from (values "
    "('35.15', 'SDA-1', 'Sehat', 'Dinkes', 'digital', 'pelayanan publik', 'kesehatan', 'penerapan', true, false, "
    "  12.5::decimal(18,4)), "
    "('35.15', 'SDA-2', 'Cerdas', 'Disdik', 'non digital', 'tata kelola pemerintahan', 'pendidikan', 'uji coba', "
    "  false, true, 30::decimal(18,4)), "
    "('35.78', 'SBY-1', 'Suroboyo', 'Bappeda', 'digital', 'pelayanan publik', 'sosial', 'inisiatif', true, false, "
    "  null)) t(region_code, innovation_id, name, unit, kind, form, affair, stage, counts_in_n, "
    "verification_rejected, maturity_score)")
INNOVATION_CHANGES = {  # one change to each field a page shows, on SDA-1
    "innovation_id": "'SDA-1b'", "name": "'Sehat!'", "unit": "'Dinkes Kab'", "form": "'inovasi daerah lainnya'",
    "kind": "'non digital'", "affair": "'sosial'", "stage": "'inisiatif'", "counts_in_n": "false",
    "verification_rejected": "true", "maturity_score": "12.25::decimal(18,4)",
}


def _innovations_file(folder: Path, change: tuple[str, str] | None = None) -> Path:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "innovation_scores.parquet"
    select = INNOVATION_TABLE
    if change is not None:
        column, value = change
        select = (f"select * replace (case when innovation_id = 'SDA-1' then {value} else {column} end "
                  f"as {column}) from ({INNOVATION_TABLE})")
    duckdb.connect().execute(f"copy ({select}) to $path (format parquet)", {"path": str(path)})
    return path


def test_every_field_of_an_innovation_reaches_its_regions_digest(tmp_path: Path) -> None:
    import duckdb

    from flows.report.data import Innovation, innovation_digests, load_innovations

    base = _innovations_file(tmp_path / "base")
    con = duckdb.connect()
    digests = innovation_digests(con, base)
    listed = load_innovations(base, ["35.15", "35.78", "11"])  # 11 has no innovation
    assert set(digests) == set(listed) == {"35.15", "35.78"}
    # a profile's order: the highest maturity first; a missing score is 0, a missing text empty
    assert [i.innovation_id for i in listed["35.15"]] == ["SDA-2", "SDA-1"]
    assert listed["35.78"] == [Innovation("SBY-1", "Suroboyo", "Bappeda", "pelayanan publik", "digital", "sosial",
                                          "inisiatif", True, False, 0.0)]
    assert load_innovations(base, ["35.78"]) == {"35.78": listed["35.78"]}
    assert load_innovations(base, []) == {}
    for column, value in INNOVATION_CHANGES.items():
        changed = _innovations_file(tmp_path / column, (column, value))
        after = innovation_digests(con, changed)
        assert after["35.15"] != digests["35.15"], column  # the region whose innovation changed
        assert after["35.78"] == digests["35.78"], column  # and no other
        assert load_innovations(changed, ["35.15"])["35.15"] != listed["35.15"], column
    assert innovation_digests(con, _innovations_file(tmp_path / "again")) == digests  # same rows, same digest


def test_a_digest_tells_swapped_and_repeated_innovations_apart(tmp_path: Path) -> None:
    """The digest is of the rows as a set with repeats (count and sum of row hashes): names swapped
    between two innovations, or an innovation listed twice, are other lists and other digests."""
    import duckdb

    from flows.report.data import innovation_digests

    base = _innovations_file(tmp_path / "base")
    con = duckdb.connect()
    digests = innovation_digests(con, base)

    def variant(folder: str, select: str) -> dict[str, str]:
        path = tmp_path / folder / "innovation_scores.parquet"
        path.parent.mkdir()
        con.execute(f"copy ({select}) to $path (format parquet)", {"path": str(path)})
        return innovation_digests(con, path)

    swapped = variant("swapped", "select * replace (case name when 'Sehat' then 'Cerdas' when 'Cerdas' then 'Sehat' "
                                 f"else name end as name) from ({INNOVATION_TABLE})")
    twice = variant("twice", f"select * from ({INNOVATION_TABLE}) union all "
                             f"select * from ({INNOVATION_TABLE}) where innovation_id = 'SDA-2'")
    reordered = variant("reordered", f"select * from ({INNOVATION_TABLE}) order by innovation_id desc")
    for changed in (swapped, twice):
        assert changed["35.15"] != digests["35.15"] and changed["35.78"] == digests["35.78"]
    assert reordered == digests  # the rows' order in the file does not change the list a profile shows


# A release's findings of two regions: a rejected record and two warnings of 35.15 (one in a superseded file,
# counted apart), a warning of 35.78, and rows no profile shows (no region; a cascaded rejection; a rejected
# verification row)
FINDING_FILES = {
    "quarantine": "select * from (values "
                  "('35.15', 'sda.json', '$.innovations[0]', 'INO005', 'stage not in the list', 'hampir', false, "
                  "  'innovation'), "
                  "('35.15', 'sda.json', '$.innovations[0].sid[2]', 'INO005', 'its innovation was rejected', null, "
                  "  true, 'sid_answer'), "
                  "('35.78', 'verification/v.csv', 'line 2', 'VER002', 'points at nothing', 'X / reject', false, "
                  "  'verification'), "
                  "(null, 'stray.json', '(file)', 'FIL001', 'not JSON', null, false, 'file')) "
                  "t(region_code, source_file, locator, rule, reason, value, cascaded, record_type)",
    "data_quality": "select * from (values "
                    "('35.15', 'sda.json', '$.spd[3]', 'ANS007', 'no evidence', '2'), "
                    "('35.15', 'sda-old.json', '$.spd[1]', 'ANS007', 'no evidence', '1'), "
                    "('35.78', 'sby.json', '$.spd[0]', 'ANS008', 'value out of range', '-4')) "
                    "t(region_code, source_file, locator, rule, reason, value)",
    "submissions": "select * from (values ('sda.json', 'counting'), ('sda-old.json', 'superseded'), "
                   "('sby.json', 'counting')) t(source_file, status)",
}
FINDING_CHANGES = {  # one change to each field a profile shows of a finding, or that decides whether it shows
    "value": ("data_quality", "value", "'3'"), "locator": ("data_quality", "locator", "'$.spd[4]'"),
    "rule": ("data_quality", "rule", "'ANS008'"), "reason": ("data_quality", "reason", "'no evidence given'"),
    "source_file": ("data_quality", "source_file", "'sda-2.json'"),
    "aside": ("submissions", "status", "'superseded'"),  # sda.json no longer counts: its findings go aside
}


def _findings_folder(folder: Path, change: tuple[str, str, str] | None = None, order: str = "") -> Path:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for name, select in FINDING_FILES.items():
        if change is not None and change[0] == name:
            _, column, value = change
            first = "source_file = 'sda.json'" if name == "submissions" else "locator = '$.spd[3]'"
            select = f"select * replace (case when {first} then {value} else {column} end as {column}) from ({select})"
        con.execute(f"copy ({select} {order}) to $path (format parquet)", {"path": str(folder / f"{name}.parquet")})
    con.close()
    return folder


def test_every_field_of_a_finding_reaches_its_regions_digest(tmp_path: Path) -> None:
    """A page is carried over by the digest of its region's findings: any change to what its profile shows of
    them changes that region's digest and no other; the same rows in another order give the same digests."""
    import duckdb

    from flows.feedback import Finding
    from flows.report.data import RegionFindings, findings_digests, load_findings

    base = _findings_folder(tmp_path / "base")
    con = duckdb.connect()
    digests = findings_digests(con, base)
    listed = load_findings(base, ["35.15", "35.78", "11"])  # 11 has no finding
    assert set(digests) == set(listed) == {"35.15", "35.78"}
    assert listed["35.15"] == RegionFindings(
        [("rejected", "INO005", "stage not in the list", 1), ("warning", "ANS007", "no evidence", 1)],
        [Finding("sda.json", "$.innovations[0]", "INO005", "rejected", "stage not in the list", "hampir"),
         Finding("sda.json", "$.spd[3]", "ANS007", "warning", "no evidence", "2")], 2, 1, 1, 1)
    assert load_findings(base, ["35.78"]) == {"35.78": listed["35.78"]}
    assert load_findings(base, []) == {}
    for what, change in FINDING_CHANGES.items():
        changed = _findings_folder(tmp_path / what, change)
        after = findings_digests(con, changed)
        assert after["35.15"] != digests["35.15"], what
        assert after["35.78"] == digests["35.78"], what
        assert load_findings(changed, ["35.15"])["35.15"] != listed["35.15"], what
    severity = _findings_folder(tmp_path / "severity")  # the same row a rejection instead of a warning
    (severity / "data_quality.parquet").unlink()
    con.execute(f"copy (select * from ({FINDING_FILES['data_quality']}) where locator <> '$.spd[3]') "
                "to $path (format parquet)", {"path": str(severity / "data_quality.parquet")})
    con.execute(f"copy (select * from ({FINDING_FILES['quarantine']}) union all select '35.15', 'sda.json', "
                "'$.spd[3]', 'ANS007', 'no evidence', '2', false, 'spd_answer') to $path (format parquet)",
                {"path": str(severity / "quarantine.parquet")})
    assert findings_digests(con, severity)["35.15"] != digests["35.15"]
    reordered = findings_digests(con, _findings_folder(tmp_path / "reordered", order="order by all desc"))
    assert reordered == digests
