"""Publish: an immutable release folder per run with changed content, reference files or earlier years' releases
read by its report, then the analyst catalog.

The release is written into a staging folder beside its final place, the manifest last, and the
folder renamed into ``published/year=Y/release=N`` in one step. A folder without a readable manifest is not
a release: the catalog ignores it, and publish stops (naming it) rather than reuse its number or remove it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from flows.catalog import rebuild_catalog
from flows.errors import os_reason
from flows.faults import pause_point
from flows.progress import show
from flows.releases import RELEASE_FOLDER, Release, damage, history_read_by, release_dirs
from flows.runs import logged_release, run_row, write_runs
from flows.settings import Home
from flows.versioning import sha256_file
from flows.workdb import duckdb_memory_limit
from transforms.runner import model_order

# published table -> SELECT over the work database (personal data never reaches these)
TABLES: dict[str, str] = {
    "region_scores": "select * from region_scores",
    "innovation_scores": "select * exclude (file_id, record_id) from innovation_scores",
    "indicator_scores": "select * exclude (file_id, record_id, innovation_record_id) from indicator_scores",
    # record ids are the work database's own (they follow the order files were ingested in): the
    # published rows name a record by file and locator, so a rebuild from the same files is identical
    "quarantine": "select * exclude (record_id) from quarantine",
    "data_quality": "select * exclude (record_id) from data_quality",
    "submissions": "select $year::integer as year, * exclude (file_id, submission_record_id) from stg_submissions",
    "reconciliation": "select * from reconciliation",
}

# The column of each table that names a raw file, published under its shown name (shown_names)
FILE_COLUMNS: dict[str, str] = {name: "submission_file" if name == "region_scores" else "source_file"
                                for name in TABLES}


def shown_names(con: duckdb.DuckDBPyConnection) -> Callable[[str, str], str]:
    """How a table's select in :data:`TABLES` (by name) is written so that a raw file whose name holds a contact
    is named by its shown name (:func:`flows.privacy.shown_file`) in :data:`FILE_COLUMNS`: its star replaces
    that column, in the same select, so its order (:func:`_published`) is unchanged. In most years no file is
    named so, and the select is left as it is."""
    from flows.privacy import register_shown_files

    if not register_shown_files(con):
        return lambda _name, select: select

    def shown(name: str, select: str) -> str:
        column = FILE_COLUMNS[name]
        return _STAR.sub(lambda star: f"{star.group(0)} replace (iid_shown({column}) as {column})", select, count=1)
    return shown


_STAR = re.compile(r"\*(?: exclude \([^)]*\))?")  # a select's star, and what it leaves out


# Tables of incremental models have no row order in the work database: their files are written in
# the order their model gives (transforms/runner.py), whatever files the last runs scored again.
PUBLISHED_ORDER: dict[str, str | None] = {
    "innovation_scores": model_order("scoring/innovation_scores"),
    "indicator_scores": model_order("scoring/indicator_scores"),
}


def _published(name: str, select: str) -> str:
    """A table's select as published: the release number as its last column, in its model's order."""
    columns, source = select.split(" from ", 1)
    order = PUBLISHED_ORDER.get(name)
    return f"{columns}, $release::integer as release from {source}" + (f" order by {order}" if order else "")


# builds files into the staging folder (folder, release number) before the manifest; may return the
# sha256 of files it wrote, by path in the release, so the manifest does not read them again. It runs while
# the tables of WRITTEN_BESIDE_THE_REPORT are written: it may read the other tables' files, not theirs
BeforeManifest = Callable[[Path, int], Mapping[str, str] | None]


class PublishError(RuntimeError):
    """The release could not be written (disk full, read-only folder): nothing was published."""


@dataclass(frozen=True)
class PublishResult:
    year: int
    release: int | None
    path: Path | None
    published: bool
    message: str


def content_hashes(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, str]:
    """A digest of each output table's rows, to tell a changed result from a re-run.

    Order-independent: the md5 of the row count and the sum of DuckDB's 64-bit hash of every row (a
    hash, not a signature; the files' sha256 in the manifest are what proves integrity).
    """
    hashes = {}
    shown = shown_names(con)
    for name, select in TABLES.items():
        params = {"year": year} if "$year" in select else {}
        row = con.execute(f"select md5(count(*) || ':' || coalesce(sum(hash(t)), 0)) "  # noqa: S608
                          f"from ({shown(name, select)}) t", params).fetchall()
        hashes[name] = str(row[0][0])
    return hashes


# The reference files a release is scored under, recorded in its manifest: a release is of its tables and of these
REFERENCE_FILES = ("methodology", "region_master")


def _same_as(home: Home, previous: Release, hashes: dict[str, str], manifest_base: dict[str, Any]) -> bool:
    """Whether a new release would repeat ``previous``: the same tables, scored under the same methodology
    and region master files (a methodology file edited without moving a score is a new release that says
    so: its manifest, ``releases`` view and report name the file in force), with a report that reads the
    same earlier years' releases (``history``: a year published or re-published since, whose history and
    previous predicates the report shows, is a new release)."""
    def sha(manifest: dict[str, Any], key: str) -> object:
        entry = manifest.get(key)
        return entry.get("sha256") if isinstance(entry, dict) else None
    return previous.manifest.get("content_hashes") == hashes and all(
        sha(previous.manifest, key) == sha(manifest_base, key) for key in REFERENCE_FILES) and (
        "history" not in manifest_base or history_read_by(home, previous) == manifest_base["history"])


def _clean_staging(year_dir: Path) -> list[str]:
    """Remove staging folders left by a crashed run. A ``release=N`` folder is never removed: publish makes
    one only by renaming a complete staging folder, so one without its manifest lost it afterwards."""
    removed: list[str] = []
    if not year_dir.is_dir():
        return removed
    for path in year_dir.iterdir():
        if path.name.startswith(".staging-"):
            _make_writable(path)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def _release_folders(year_dir: Path) -> list[str]:
    """Names of the ``release=N`` folders of a year."""
    return [p.name for p in year_dir.iterdir() if RELEASE_FOLDER.fullmatch(p.name) and p.is_dir()]


def _next_number(home: Home, year: int, year_dir: Path, previous: Release | None) -> tuple[int, str]:
    """The new release's number, one past the highest a release of the year ever had: of its folders and of
    the run log (a release deleted whole keeps its number taken), and a note when that is not one past
    the latest release (empty otherwise)."""
    folders = max((int(m.group(1)) for m in map(RELEASE_FOLDER.fullmatch, _release_folders(year_dir)) if m), default=0)
    logged = logged_release(home, year) or 0
    number = max(folders, logged) + 1
    if number == (previous.number if previous else 0) + 1:
        return number, ""
    return number, (f" (not {(previous.number if previous else 0) + 1}: the run log, {home.warehouse / 'runs'}, "
                    f"records release {logged}, which is no longer in {year_dir}; a number is never reused)")


def _make_writable(path: Path) -> None:
    """Let a folder's tree be removed: its folders writable. Its files keep their mode (removing a file
    needs only its folder writable), as a region page hard-linked from a published release must."""
    for root, dirs, _files in os.walk(path):
        os.chmod(root, 0o755)
        for name in dirs:
            os.chmod(Path(root) / name, 0o755)


def _freeze(path: Path) -> None:
    """Published files are read-only: a release is never modified after publish."""
    for root, _dirs, files in os.walk(path):
        for name in files:
            os.chmod(Path(root) / name, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Tables written on a thread while ``before_manifest`` builds the report (its Python then runs while DuckDB
# writes): it must not read their files from the staging folder. The report reads indicator_scores' sums from
# the rows being written instead (``flows.report.data.indicator_sums``) and never reads reconciliation.
WRITTEN_BESIDE_THE_REPORT = ("indicator_scores", "reconciliation")


def _write_table(con: duckdb.DuckDBPyConnection, staging: Path, name: str, select: str, number: int, year: int,
                 content_hash: str) -> dict[str, Any]:
    """One table's Parquet file in the staging folder, as published; returns its manifest entry."""
    target = staging / f"{name}.parquet"
    params: dict[str, Any] = {"release": number, "year": year, "target": str(target)}
    sql = f"copy ({_published(name, select)}) to $target (format parquet)"
    con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
    rows = con.execute("select count(*) from read_parquet(?)", [str(target)]).fetchall()[0][0]
    return {"rows": int(rows), "sha256": sha256_file(target), "bytes": target.stat().st_size,
            "content_hash": content_hash}


def _show_tables(begun: list[str]) -> None:
    """The table begun last, with how many were begun before it (the display counts the release's tables)."""
    show(f"publish: {begun[-1]}.parquet", len(begun) - 1, len(TABLES))


def _write_tables(con: duckdb.DuckDBPyConnection, staging: Path, names: tuple[str, ...], number: int, year: int,
                  hashes: dict[str, str], shown: Callable[[str, str], str], progress: bool
                  ) -> dict[str, dict[str, Any]]:
    """The tables ``names``, in order, each shown as it is started with ``progress`` (a thread does not draw the
    display); their manifest entries by file name."""
    files: dict[str, dict[str, Any]] = {}
    for begun, name in enumerate(names, 1):
        if progress:
            _show_tables(list(names[:begun]))
        files[f"{name}.parquet"] = _write_table(con, staging, name, shown(name, TABLES[name]), number, year,
                                                hashes[name])
    return files


def _write_the_rest(staging: Path, year: int, number: int, extra_files: dict[str, Path] | None,
                    run: dict[str, Any] | None, before_manifest: BeforeManifest | None) -> Mapping[str, str]:
    """The release's files besides its tables: the run's row, the extra files and what ``before_manifest`` builds
    (whose sha256 it returns, by path in the release)."""
    if run is not None:
        write_runs(staging / "runs.parquet", [run_row(run, status="published", release=number,
                                                      message=f"published release {number} of {year}")])
    for rel, source in (extra_files or {}).items():
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    if before_manifest is None:
        return {}
    return before_manifest(staging, number) or {}  # pages and hand-outs built from the release's own tables


def _write_staging(con: duckdb.DuckDBPyConnection, staging: Path, year: int, number: int, hashes: dict[str, str],
                   manifest_base: dict[str, Any], previous: Release | None, extra_files: dict[str, Path] | None,
                   run: dict[str, Any] | None, before_manifest: BeforeManifest | None) -> None:
    """Every file of the release, then the manifest (written last, atomically).

    The tables of :data:`WRITTEN_BESIDE_THE_REPORT` are written on a thread, through a cursor of their own,
    from the start, while the rest of the release is (the other tables, which the report reads, then the run's
    row, the extra files and ``before_manifest``'s report): DuckDB lets go of the interpreter while it writes,
    which the report's Python needs. A one-region re-run at the national size spent ~0.35 s writing
    indicator_scores before its report started, and a year at ten times that size ~2.5 s; then ~0.1 s writing
    the other tables before the thread started. Meanwhile DuckDB has less memory
    (``flows.workdb.STAGE_MEMORY``): the report's own beside its sort took the run's peak at ten times the
    national size ~0.25 GB higher than publishing one after the other. Whatever fails on either side, the
    thread is done before this returns or raises.
    """
    from concurrent.futures import ThreadPoolExecutor

    staging.mkdir()
    pause_point("publish:staging-created")
    shown = shown_names(con)
    first = tuple(name for name in TABLES if name not in WRITTEN_BESIDE_THE_REPORT)
    writer = con.cursor()
    limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    with suppress(duckdb.Error):  # memory DuckDB cannot give back now: the stage's limit stays
        con.execute("set memory_limit = ?", [duckdb_memory_limit("publish-beside-report")])
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="publish-tables") as pool:  # its end waits for the thread
            beside = pool.submit(_write_tables, writer, staging, WRITTEN_BESIDE_THE_REPORT, number, year, hashes,
                                 shown, False)
            try:
                files: dict[str, Any] = _write_tables(con, staging, first, number, year, hashes, shown, progress=True)
                _show_tables([*first, WRITTEN_BESIDE_THE_REPORT[0]])  # until the report shows its own steps
                known = _write_the_rest(staging, year, number, extra_files, run, before_manifest)
            except BaseException:
                writer.interrupt()  # the error goes first; the thread's query stops rather than run on
                raise
            if not beside.done():  # what the release now waits for
                _show_tables([*first, WRITTEN_BESIDE_THE_REPORT[0]])
        files.update(beside.result())  # its own error, if any
    finally:
        writer.close()
        with suppress(duckdb.Error):  # never in place of the error on its way
            con.execute("set memory_limit = ?", [limit])
    files = {f"{name}.parquet": files[f"{name}.parquet"] for name in TABLES}  # the manifest lists them in order
    for path in sorted(staging.rglob("*")):
        rel = path.relative_to(staging).as_posix()
        if path.is_file() and rel not in files:
            files[rel] = {"sha256": known.get(rel) or sha256_file(path), "bytes": path.stat().st_size}
    manifest = {**manifest_base, "schema": "iid.release/v1", "year": year, "release": number,
                "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "content_hashes": hashes, "files": files,
                "previous_release": previous.number if previous else None}
    tmp = staging / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, staging / "manifest.json")


def publish_release(con: duckdb.DuckDBPyConnection, home: Home, year: int, manifest_base: dict[str, Any],
                    extra_files: dict[str, Path] | None = None, hashes: dict[str, str] | None = None,
                    run: dict[str, Any] | None = None,
                    before_manifest: BeforeManifest | None = None) -> PublishResult:
    """Write a new release when the tables, the methodology file, the region master or the earlier years'
    releases its report reads differ from the latest release's (:func:`_same_as`); rebuild the catalog."""
    year_dir = home.published_year(year)
    try:
        year_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create {year_dir}: {exc.strerror}; nothing was published") from None
    _clean_staging(year_dir)
    hashes = hashes or content_hashes(con, year)
    releases = release_dirs(home, year)  # every manifest is read once
    unreadable = sorted(set(_release_folders(year_dir)) - {r.path.name for r in releases})
    if unreadable:  # a release whose manifest is lost or damaged: its number is taken, it is never rewritten
        raise PublishError(f"{year_dir / unreadable[0]}: its manifest.json is missing or cannot be read, so it is "
                           "not a release "
                           "the catalog shows, and its number cannot be reused; restore that folder from a copy of "
                           "the release (e.g. the --copy-to location), then run again; nothing was published")
    previous = releases[-1] if releases else None
    # a latest release whose tables do not match its manifest is not repeated: a new one is published beside it
    damaged = damage(previous, [f"{name}.parquet" for name in TABLES]) if previous is not None else None
    if previous is not None and damaged is None and _same_as(home, previous, hashes, manifest_base):
        rebuild_catalog(home)
        return PublishResult(year, previous.number, previous.path, False,
                             f"nothing changed since release {previous.number}: nothing published")
    number, why = _next_number(home, year, year_dir, previous)
    staging = year_dir / f".staging-{uuid.uuid4().hex}"
    try:
        _write_staging(con, staging, year, number, hashes, manifest_base, previous, extra_files, run, before_manifest)
    except (OSError, duckdb.IOException, duckdb.PermissionException) as exc:
        _make_writable(staging)
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(f"cannot write release {number} of {year} in {year_dir}: {os_reason(exc)}; nothing was "
                           "published (free space or fix permissions, then run again)") from None
    _freeze(staging)
    pause_point("publish:before-rename")
    final = year_dir / f"release={number}"
    os.rename(staging, final)
    _fsync_dir(year_dir)
    show("publish: the catalog")
    rebuild_catalog(home)
    if damaged is not None and previous is not None:
        why += (f" (release {previous.number} is damaged: {damaged}; the catalog shows release {number} as the "
                "latest; restore or remove that folder)")
    return PublishResult(year, number, final, True, f"published release {number} of {year}{why}")
