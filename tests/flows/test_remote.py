"""Copies of the releases at another location (a folder, or any fsspec URL): whole, immutable, queryable.

The location gets every file of each release with the same bytes, the manifest last (a copy killed
before it is no release there, and the next copy completes it), never a rewrite of a release it
already has, and a catalog of its own whose views read the location's files.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import fsspec
import pytest
from factory import innovation, submission, write_home

from flows import pipeline
from flows.releases import scan_releases
from flows.remote import CopyError, copy_releases, open_location
from flows.settings import Home

YEAR = 2024
ROOT = Path(__file__).resolve().parents[2]
CODES = ("35.78", "35.15", "11", "33.01")


def _publish(home: Home) -> dict:
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    pipeline.transform(home, YEAR)
    return pipeline.publish(home, YEAR, {"run_id": "test"})


def _home(root: Path, bonus: int = 0) -> Home:
    files = {f"{code}.json": submission(code, spd_total=10 + i * 5 + bonus, innovations=[innovation(f"{code}-1", 40)])
             for i, code in enumerate(CODES)}
    return write_home(root, YEAR, files)


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A home with releases 1 and 2 of 2024 (the second after a resubmission)."""
    home = _home(tmp_path_factory.mktemp("home"))
    assert _publish(home)["release"] == 1
    later = submission("35.78", spd_total=40, submitted_at="2024-07-20T10:00:00+07:00",
                       innovations=[innovation("35.78-1", 60)])
    (home.raw_year(YEAR) / "35.78-again.json").write_text(json.dumps(later), encoding="utf-8")
    assert _publish(home)["release"] == 2
    return home


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _assert_same_release(home: Home, fs: fsspec.AbstractFileSystem, root: str, number: int) -> None:
    """Every file the manifest lists is at the location with the bytes of home's release."""
    local = home.published_year(YEAR) / f"release={number}"
    folder = f"{root}/year={YEAR}/release={number}"
    manifest = json.loads((local / "manifest.json").read_text(encoding="utf-8"))
    assert fs.cat_file(f"{folder}/manifest.json") == (local / "manifest.json").read_bytes()
    assert len(manifest["files"]) > 10  # tables, runs, report pages, validation docs
    for name, entry in manifest["files"].items():
        assert _sha256(fs.cat_file(f"{folder}/{name}")) == entry["sha256"], name


def _query(catalog: Path, sql: str, fs: fsspec.AbstractFileSystem | None = None) -> list[tuple]:
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        if fs is not None:
            con.register_filesystem(fs)
        return con.execute(sql).fetchall()
    finally:
        con.close()


SCORES = "select region_code, iid, predicate, release from region_scores order by region_code"


def test_a_folder_gets_every_release_and_a_catalog_over_its_own_files(two_releases: Home, tmp_path: Path) -> None:
    location = tmp_path / "elsewhere"
    result = copy_releases(two_releases, str(location))
    assert result.copied == [(YEAR, 1), (YEAR, 2)] and result.present == 0
    fs, root = open_location(str(location))
    for number in (1, 2):
        _assert_same_release(two_releases, fs, root, number)
    catalog = location / "iid.duckdb"
    assert result.catalog == str(catalog)
    assert _query(catalog, SCORES) == _query(two_releases.catalog, SCORES)
    assert {r[3] for r in _query(catalog, SCORES)} == {2}
    paths = _query(catalog, "select release, is_latest, path from releases order by release")
    assert paths == [(1, False, str(location / f"year={YEAR}" / "release=1")),
                     (2, True, str(location / f"year={YEAR}" / "release=2"))]
    history = "select release, count(*) from region_scores_history group by all order by 1"
    assert _query(catalog, history) == [(1, 546), (2, 546)]
    # every view reads the location's files, none the home's
    views = [v for (v,) in _query(catalog, "select sql from duckdb_views() where not internal")]
    assert views and not any(str(two_releases.root) in v for v in views)
    assert sum(str(location) in v for v in views) >= 15
    assert _query(catalog, "select published from catalog_info") == [(str(location),)]

    again = copy_releases(two_releases, str(location))
    assert again.copied == [] and again.present == 2


def test_an_fsspec_url_gets_the_same_copy(two_releases: Home) -> None:
    url = "memory://iid-test-bucket/indeks"
    try:
        result = copy_releases(two_releases, url, years=[YEAR])
        assert result.copied == [(YEAR, 1), (YEAR, 2)]
        fs, root = open_location(url)
        for number in (1, 2):
            _assert_same_release(two_releases, fs, root, number)
        assert [r.number for r, _ in scan_releases(fs, root)] == [1, 2]
        assert result.catalog == "memory:///iid-test-bucket/indeks/iid.duckdb"
        # an analyst downloads the catalog; its views read the files at the URL
        local = two_releases.root / "downloaded.duckdb"
        fs.get_file(f"{root}/iid.duckdb", str(local))
        assert _query(local, SCORES, fs) == _query(two_releases.catalog, SCORES)
        assert _query(local, "select count(*) from runs", fs) == [(2,)]
        assert _query(local, "select min(path) from releases", fs)[0][0].startswith("memory:///iid-test-bucket/")
    finally:
        fsspec.filesystem("memory").rm("/iid-test-bucket", recursive=True)


def test_a_release_already_there_is_never_rewritten(two_releases: Home, tmp_path: Path) -> None:
    location = tmp_path / "shared"
    copy_releases(two_releases, str(location))
    before = {p: p.read_bytes() for p in location.rglob("*") if p.is_file() and p.suffix != ".duckdb"}
    other = _home(tmp_path / "other", bonus=20)  # another home: its release 1 has other scores
    _publish(other)
    with pytest.raises(CopyError, match="release 1 of 2024 is there with another manifest"):
        copy_releases(other, str(location))
    assert {p: p.read_bytes() for p in location.rglob("*") if p.is_file() and p.suffix != ".duckdb"} == before


def test_a_copy_killed_before_the_manifest_is_no_release_and_the_next_copy_completes_it(
        two_releases: Home, tmp_path: Path) -> None:
    location = tmp_path / "flaky"
    marker = tmp_path / "paused.pid"
    env = {**os.environ, "IID_PAUSE_AT": "copy:before-manifest", "IID_PAUSE_FILE": str(marker)}
    child = subprocess.Popen([str(Path(sys.executable).parent / "iid"), "copy", "--home", str(two_releases.root),
                              "--to", str(location)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, "the copy ended before its first manifest"
        assert time.monotonic() < deadline, "copy:before-manifest not reached"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    first = location / f"year={YEAR}" / "release=1"
    assert (first / "region_scores.parquet").is_file() and not (first / "manifest.json").exists()
    fs, root = open_location(str(location))
    assert scan_releases(fs, root) == []  # a folder without its manifest is not a release
    (first / "manifest.json.0123abcd.tmp").write_text('{"cut": ', encoding="utf-8")  # as if cut off writing it
    assert scan_releases(fs, root) == []

    done = subprocess.run([str(Path(sys.executable).parent / "iid"), "copy", "--home", str(two_releases.root),
                           "--to", str(location), "--year", str(YEAR)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2024 release 1, 2024 release 2" in " ".join(done.stdout.split())
    for number in (1, 2):
        _assert_same_release(two_releases, fs, root, number)
    assert not list(first.glob("*.tmp"))
    assert _query(location / "iid.duckdb", SCORES) == _query(two_releases.catalog, SCORES)


def test_unusable_locations_say_what_to_do(two_releases: Home, tmp_path: Path) -> None:
    with pytest.raises(CopyError, match="Protocol not known: nosuch"):
        copy_releases(two_releases, "nosuch://bucket/iid")
    try:
        import s3fs  # noqa: F401
    except ImportError:
        with pytest.raises(CopyError, match="s3fs"):
            copy_releases(two_releases, "s3://bucket/iid")
    for inside in (two_releases.published, two_releases.root, two_releases.root.parent):
        with pytest.raises(CopyError, match="that is the home"):
            copy_releases(two_releases, str(inside))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(CopyError, match=r"cannot copy to .*run 'iid copy --to"):
        copy_releases(two_releases, str(blocker / "inside"))


def test_iid_copy_takes_several_years_after_one_option(tmp_path: Path) -> None:
    """``iid copy --year 2022 2024`` as ``iid backfill --years 2022 2024``: before, the years after the first were
    'unexpected extra argument(s)' (exit 2). A year without a release is named; the others are left alone."""
    from typer.testing import CliRunner

    from flows.cli import app

    for year in (2023, 2024):
        home = write_home(tmp_path / "home", year, {"a.json": submission("35.78", year=year, spd_total=30)})
        pipeline.ingest(home, year)
        pipeline.validate(home, year)
        pipeline.transform(home, year)
        assert pipeline.publish(home, year, {"run_id": "test"})["release"] == 1
    location = tmp_path / "elsewhere"
    runner = CliRunner(env={"COLUMNS": "400"})
    result = runner.invoke(app, ["copy", "--to", str(location), "--year", "2022", "2024", "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    assert f"note: no release of 2022 in {home.published}: nothing of 2022 to copy" in result.output
    assert sorted(p.name for p in location.iterdir()) == ["iid.duckdb", "year=2024"]
    result = runner.invoke(app, ["copy", "--to", str(location), "--years", "2023", "2024", "--home", str(home.root)])
    assert result.exit_code == 0 and "2023 release 1 (1 already there)" in result.output, result.output
    assert _query(location / "iid.duckdb", "select distinct year from region_scores order by 1") == [(2023,), (2024,)]
    for wrong, says in [(["2024"], "unexpected extra argument(s) 2024"),
                        (["--year", "2024", "twenty"], "'twenty' is not a year")]:
        result = runner.invoke(app, ["copy", "--to", str(location), *wrong, "--home", str(home.root)])
        assert result.exit_code == 2 and says in result.output, result.output


def test_a_moved_or_duplicated_location_reads_its_own_files_after_iid_copy_there(two_releases: Home,
                                                                                 tmp_path: Path) -> None:
    """A location's catalog names its files by absolute path (so it opens from any folder and client): moved,
    it reads nothing, and duplicated (cp -a), it reads the original's files. ``iid copy --to`` the new folder
    copies nothing and rewrites its catalog, which then reads there, from a fresh process in any folder."""
    import shutil

    from typer.testing import CliRunner

    from flows.cli import app

    runner = CliRunner(env={"COLUMNS": "400"})
    first = tmp_path / "first"
    assert runner.invoke(app, ["copy", "--to", str(first), "--home", str(two_releases.root)]).exit_code == 0
    duplicate = tmp_path / "duplicate"
    shutil.copytree(first, duplicate)
    (elsewhere := tmp_path / "somewhere-else").mkdir()
    code = ("import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print(c.execute('select count(*), max(release) from region_scores').fetchall(), "
            "c.execute('select published from catalog_info').fetchall()[0][0], "
            "sum(sys.argv[2] in s for (s,) in c.execute('select sql from duckdb_views() where not internal')"
            ".fetchall()))")

    def read_directly(location: Path, old: Path) -> str:
        done = subprocess.run([sys.executable, "-c", code, str(location / "iid.duckdb"), str(old)], cwd=elsewhere,
                              capture_output=True, text=True, check=False)
        return done.stdout.strip() or done.stderr

    original = read_directly(duplicate, first)  # the original's files, as long as they are there
    assert original.startswith(f"[(546, 2)] {first} ") and not original.endswith(" 0"), original
    moved = first.rename(tmp_path / "moved")
    failed = read_directly(moved, first)
    assert "No files found" in failed and str(first) in failed, failed
    for location in (moved, duplicate):
        result = runner.invoke(app, ["copy", "--to", str(location), "--home", str(two_releases.root)])
        assert result.exit_code == 0 and "nothing new (2 already there)" in result.output, result.output
        assert read_directly(location, first) == f"[(546, 2)] {location} 0"
        assert _query(location / "iid.duckdb", SCORES) == _query(two_releases.catalog, SCORES)
