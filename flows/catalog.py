"""The analyst catalog ``warehouse/iid.duckdb``: views only, over the published Parquet files.

Rebuilt as a new file and renamed into place, so a reader holding the old file open keeps a
consistent catalog while a run publishes. Views show the latest release of every year; the
``*_history`` views show every release.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from flows.faults import pause_point
from flows.locks import file_lock
from flows.releases import Release, all_releases, latest_release, published_years
from flows.settings import Home

VIEW_TABLES = ("region_scores", "innovation_scores", "indicator_scores", "quarantine", "data_quality",
               "submissions", "reconciliation")


def _literal(path: Path) -> str:
    # Paths are the pipeline's own release folders, never user input; quoted for DDL all the same.
    return "'" + str(path).replace("'", "''") + "'"


def _view(con: duckdb.DuckDBPyConnection, name: str, files: list[Path]) -> None:
    if files:
        listing = ", ".join(_literal(f) for f in files)
        con.execute(f"create view {name} as select * from read_parquet([{listing}], union_by_name = true)")  # noqa: S608


def _text(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _releases_view(con: duckdb.DuckDBPyConnection, releases: list[Release], latest: set[tuple[int, int]]) -> None:
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
                    f"{_text(m.get('run_id', ''))}, {_text(r.path)})")
    if not rows:
        rows.append("(null::integer, null::integer, null::boolean, null::timestamptz, null, null, null, null, null)")
        where = " where false"
    else:
        where = ""
    con.execute(f"create view releases as select * from (values {', '.join(rows)}) "  # noqa: S608
                f"as t({', '.join(columns)}){where}")


def rebuild_catalog(home: Home) -> Path:
    """Write a fresh catalog next to the old one and rename it over (atomic for readers).

    Rebuilds are serialised (years publishing in parallel must not drop each other's releases).
    """
    home.warehouse.mkdir(parents=True, exist_ok=True)
    with file_lock(home.warehouse / ".catalog.lock", "a catalog rebuild", wait=True):
        return _rebuild(home)


def _rebuild(home: Home) -> Path:
    target = home.catalog
    for stale in target.parent.glob(f".{target.name}.*.tmp"):  # left by a crashed rebuild; we hold the lock
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    releases = all_releases(home)
    latest = [r for r in (latest_release(home, y) for y in published_years(home)) if r is not None]
    con = duckdb.connect(str(tmp))
    try:
        for table in VIEW_TABLES:
            _view(con, table, [r.path / f"{table}.parquet" for r in latest if (r.path / f"{table}.parquet").exists()])
            _view(con, f"{table}_history",
                  [r.path / f"{table}.parquet" for r in releases if (r.path / f"{table}.parquet").exists()])
        _releases_view(con, releases, {(r.year, r.number) for r in latest})
        runs_dir = home.warehouse / "runs"
        if any(runs_dir.glob("*.parquet")):
            # a glob, read at query time: runs recorded after this rebuild show up too
            con.execute(f"create view runs as select * from read_parquet({_literal(runs_dir / '*.parquet')}, "  # noqa: S608
                        "union_by_name = true)")
        else:
            con.execute("create view runs as select * from (select null::varchar as run_id) where false")
        con.execute("checkpoint")
    finally:
        con.close()
    pause_point("catalog:before-replace")
    os.replace(tmp, target)
    return target
