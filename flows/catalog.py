"""The analyst catalog ``warehouse/iid.duckdb``: views only, over the published Parquet files.

Rebuilt as a new file and renamed into place, so a reader holding the old file open keeps a
consistent catalog while a run publishes. Views show the latest release of every year; the
``*_history`` views show every release; ``catalog_info`` names the folder whose releases they read.

The views read the Parquet files by absolute path, so the catalog opens from any working directory
and any client. A home moved or copied keeps a catalog that reads the old folder: the ``iid``
commands that read the catalog (:func:`open_catalog`) see that from ``catalog_info`` and rebuild it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb

from flows.errors import os_reason
from flows.faults import pause_point
from flows.locks import file_lock
from flows.releases import Release, all_releases, damage, repair_advice, unreadable_folders
from flows.sandbox import fence
from flows.settings import Home

VIEW_TABLES = ("region_scores", "innovation_scores", "indicator_scores", "quarantine", "data_quality",
               "submissions", "reconciliation")


def _literal(location: str | Path) -> str:
    # Locations are the pipeline's own release files, never user input; quoted for DDL all the same.
    return "'" + str(location).replace("'", "''") + "'"


def _view(con: duckdb.DuckDBPyConnection, name: str, files: list[str]) -> None:
    if files:
        listing = ", ".join(_literal(f) for f in files)
        con.execute(f"create view {name} as select * from read_parquet([{listing}], union_by_name = true)")  # noqa: S608


def _text(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


# where a file of a release is read from (``None``: the release has no such file)
Locate = Callable[[Release, str], "str | None"]


def _releases_view(con: duckdb.DuckDBPyConnection, releases: list[Release], latest: set[tuple[int, int]],
                   folder: Callable[[Release], str]) -> None:
    """``releases``: one row per release, from the manifests (a view over literal values)."""
    columns = ("year", "release", "is_latest", "published_at", "methodology", "methodology_sha256",
               "code_version", "run_id", "path")
    rows = []
    for r in releases:
        m = r.manifest
        method = m.get("methodology", {})
        rows.append(f"({int(r.year)}, {int(r.number)}, {str((r.year, r.number) in latest).lower()}, "
                    f"{_text(m.get('published_at', ''))}::timestamptz, {_text(method.get('id', ''))}, "
                    f"{_text(method.get('sha256', ''))}, {_text(m.get('code_version', ''))}, "
                    f"{_text(m.get('run_id', ''))}, {_text(folder(r))})")
    if not rows:
        rows.append("(null::integer, null::integer, null::boolean, null::timestamptz, null, null, null, null, null)")
        where = " where false"
    else:
        where = ""
    con.execute(f"create view releases as select * from (values {', '.join(rows)}) "  # noqa: S608
                f"as t({', '.join(columns)}){where}")


def write_catalog(con: duckdb.DuckDBPyConnection, releases: list[Release], latest: list[Release], locate: Locate,
                  folder: Callable[[Release], str], runs: str | list[str] | None, published: str) -> None:
    """The catalog's views in ``con``: each table of the latest releases, its ``*_history`` over every
    release, ``releases`` from the manifests, ``runs`` (a glob read at query time, or files) and
    ``catalog_info`` (``published``: the folder or URL whose releases the views read)."""
    con.execute(f"create view catalog_info as select {_text(published)} as published")
    for table in VIEW_TABLES:
        name = f"{table}.parquet"
        _view(con, table, [f for f in (locate(r, name) for r in latest) if f is not None])
        _view(con, f"{table}_history", [f for f in (locate(r, name) for r in releases) if f is not None])
    _releases_view(con, releases, {(r.year, r.number) for r in latest}, folder)
    if runs:
        listing = _literal(runs) if isinstance(runs, str) else "[" + ", ".join(_literal(f) for f in runs) + "]"
        con.execute(f"create view runs as select * from read_parquet({listing}, union_by_name = true)")  # noqa: S608
    else:
        con.execute("create view runs as select * from (select null::varchar as run_id) where false")


def catalog_releases(home: Home) -> tuple[list[Release], list[tuple[Release, str]]]:
    """The home's releases the catalog shows (oldest first), and those it leaves out with why: a release whose
    manifest lists no ``region_scores.parquet`` or whose tables are missing or not the size it records (sizes
    only: the sha256 of every file of every release is not read for each query; the commands that read one
    release check those)."""
    shown, left_out = [], []
    for release in all_releases(home):
        files = release.manifest.get("files")
        listed = [f"{t}.parquet" for t in (*VIEW_TABLES, "runs") if isinstance(files, dict) and f"{t}.parquet" in files]
        problem = damage(release, listed, checksums=False)
        if problem is None:
            shown.append(release)
        else:
            left_out.append((release, problem))
    return shown, left_out


def _local_file(release: Release, name: str) -> str | None:
    path = release.path / name
    return str(path) if path.exists() else None


class CatalogError(RuntimeError):
    """The catalog cannot be read or rebuilt; the message says why and what to do."""


def rebuild_catalog(home: Home) -> Path:
    """Write a fresh catalog next to the old one and rename it over (atomic for readers).

    Rebuilds are serialised (years publishing in parallel must not drop each other's releases).
    """
    home.warehouse.mkdir(parents=True, exist_ok=True)
    with file_lock(home.warehouse / ".catalog.lock", "a catalog rebuild", wait=True):
        return _rebuild(home)


def _write_home_views(con: duckdb.DuckDBPyConnection, home: Home, releases: list[Release]) -> None:
    """The views over the home's own releases (``releases``: those it shows, oldest first by year, then number)."""
    latest = list({r.year: r for r in releases}.values())  # the last of each year is its latest
    runs_dir = home.warehouse / "runs"
    # a glob, read at query time: runs recorded after this rebuild show up too
    runs = str(runs_dir / "*.parquet") if any(runs_dir.glob("*.parquet")) else None
    write_catalog(con, releases, latest, _local_file, lambda r: str(r.path), runs, str(home.published))


def _rebuild(home: Home) -> Path:
    target = home.catalog
    for stale in target.parent.glob(f".{target.name}.*.tmp"):  # left by a crashed rebuild; we hold the lock
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    con = duckdb.connect(str(tmp))
    try:
        _write_home_views(con, home, catalog_releases(home)[0])
        con.execute("checkpoint")
    except duckdb.Error as exc:  # a release's file DuckDB cannot read (the views are checked as they are made)
        con.close()
        tmp.unlink(missing_ok=True)
        raise CatalogError(f"{home.catalog}: rebuilding it from {home.published} failed: {os_reason(exc)} (restore "
                           "that file from a copy of the release, e.g. the --copy-to location)") from None
    finally:
        con.close()
    pause_point("catalog:before-replace")
    # A WAL beside the catalog (someone opened it read-write and their session died) belongs to the old
    # file: DuckDB would replay it into the new one and refuse to open it ("WAL does not match").
    target.with_name(f"{target.name}.wal").unlink(missing_ok=True)
    os.replace(tmp, target)
    return target


def hidden_releases(home: Home) -> list[str]:
    """One line for each ``release=N`` folder of the home that the catalog does not show, its manifest
    missing or unreadable or its tables damaged (:func:`catalog_releases`), saying which release is shown as
    the latest of its year instead and what to do."""
    releases, left_out = catalog_releases(home)

    def instead(year: int) -> str:
        shown = [r.number for r in releases if r.year == year]
        return f"release {shown[-1]} is shown as the latest of {year}" if shown else f"no release of {year} is shown"
    lines = []
    for year, folder in unreadable_folders(home):
        lines.append(f"{folder}: its manifest.json is missing or cannot be read, so the catalog does not show it "
                     f"({instead(year)}); restore that folder from a copy of the release (e.g. the --copy-to location)")
    for release, problem in left_out:
        lines.append(f"{release.path}: {problem}, so the catalog does not show it ({instead(release.year)}); "
                     f"{repair_advice(release.year)}")
    return lines


def _stale(con: duckdb.DuckDBPyConnection, home: Home, releases: list[Release]) -> str | None:
    """Why the catalog open in ``con`` does not show the home's releases, or None when it does."""
    try:
        recorded = con.execute("select published from catalog_info").fetchall()
        listed = set(con.execute("select year, release from releases").fetchall())
    except duckdb.CatalogException:
        return "it was written before catalogs recorded which releases they read"
    except duckdb.Error as exc:
        return f"it cannot be read ({os_reason(exc)})"
    if recorded != [(str(home.published),)]:
        return f"its views read the releases in {recorded[0][0] if recorded else '?'} (a moved or copied home)"
    if listed != {(r.year, r.number) for r in releases}:
        return "it does not list the releases published now"
    return None


def _checked(home: Home, releases: list[Release]) -> tuple[duckdb.DuckDBPyConnection | None, str]:
    """The catalog open read-only when it shows the home's releases, else None and why not."""
    if not home.catalog.exists():
        return None, "it was missing"
    try:
        con = duckdb.connect(str(home.catalog), read_only=True)
    except duckdb.Error as exc:  # not a DuckDB file, damaged, a WAL of another file beside it…
        return None, f"it cannot be opened ({os_reason(exc)})"
    problem = _stale(con, home, releases)
    if problem is None:
        return con, ""
    con.close()
    return None, problem


def _in_memory(home: Home, releases: list[Release], why: str) -> tuple[duckdb.DuckDBPyConnection, str]:
    """The home's views in an in-memory database, fenced, for a catalog that cannot be rebuilt on disk."""
    con = duckdb.connect()
    try:
        fence(con, home)
        _write_home_views(con, home, releases)
    except duckdb.Error as exc:
        con.close()
        raise CatalogError(f"{why}; reading the releases in {home.published} failed: {os_reason(exc)}") from None
    return con, f"{why}; this command read the releases in {home.published}"


def open_catalog(home: Home) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """The home's catalog, read-only and fenced (:func:`flows.sandbox.fence`), and a note when it had to
    be rebuilt first: when it cannot be opened or read (it is derived from ``published/``, so nothing is
    lost), reads another folder's releases (the home was moved or copied), misses one published since,
    or is missing. Where it cannot be rebuilt (no write access to the warehouse), this home's views are
    built in memory for the caller instead (the note says so). :class:`CatalogError` when there is
    nothing to read."""
    releases = catalog_releases(home)[0]
    if not home.catalog.exists() and not releases:
        raise CatalogError(f"{home.catalog}: no catalog yet; run 'iid run --year YEAR' first")
    con, problem = _checked(home, releases)
    if con is not None:
        fence(con, home)
        return con, None
    try:
        rebuild_catalog(home)
    except OSError as exc:  # the warehouse cannot be written here
        return _in_memory(home, releases, f"{home.catalog}: {problem}, and it cannot be rebuilt ({os_reason(exc)})")
    except CatalogError as exc:  # a release's file DuckDB cannot read
        raise CatalogError(f"{home.catalog}: {problem}, and {str(exc).removeprefix(f'{home.catalog}: ')}") from None
    try:
        con = duckdb.connect(str(home.catalog), read_only=True)
    except duckdb.Error as exc:
        return _in_memory(home, releases, f"{home.catalog}: rebuilt, it still cannot be opened ({os_reason(exc)})")
    fence(con, home)
    return con, f"{home.catalog}: {problem}; rebuilt it from {home.published}"
