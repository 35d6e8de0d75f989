"""Run metadata as data: one row per annual run (parameters, status, stage timings, counts, versions).

Each run is written as its own small Parquet file under ``warehouse/runs/`` (the catalog's ``runs``
view reads them all); the run that publishes a release is also in that release's ``runs.parquet``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from flows.errors import first_line, interrupted, stop_reason
from flows.privacy import redact
from flows.scratch import scratch
from flows.settings import Home

RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "varchar"), ("flow_run_id", "varchar"), ("year", "integer"), ("parameters", "varchar"),
    ("status", "varchar"), ("message", "varchar"), ("started_at", "varchar"), ("finished_at", "varchar"),
    ("stage_seconds", "varchar"), ("stages_skipped", "varchar"), ("counts", "varchar"),
    ("methodology", "varchar"), ("methodology_sha256", "varchar"), ("code_version", "varchar"),
    ("release", "integer"),
)


def run_row(run: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A row of the runs table from the flow's run dict; structures are stored as JSON text, and the
    message quotes no e-mail address or phone number (a failed run's is an error's text)."""
    row = {**run, **fields}
    if isinstance(row.get("message"), str):
        row["message"] = redact(row["message"])
    out: dict[str, Any] = {}
    for name, _ in RUN_COLUMNS:
        value = row.get(name)
        out[name] = json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list)) else value
    return out


def write_runs(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows atomically (temporary file, then rename). Written by DuckDB: building Arrow arrays
    from Python values would import pandas (~1 s), which a run that changes nothing does not need."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    con = scratch()
    try:
        con.execute(f"create temp table runs ({', '.join(f'{name} {kind}' for name, kind in RUN_COLUMNS)})")
        marks = ", ".join("?" for _ in RUN_COLUMNS)
        for row in rows:
            con.execute(f"insert into runs values ({marks})", [row.get(name) for name, _ in RUN_COLUMNS])  # noqa: S608
        con.execute("copy runs to ? (format parquet)", [str(tmp)])
    finally:
        con.close()
    os.replace(tmp, path)
    return path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def failed_row(run: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """The row of a run that raised ``exc``: ``interrupted`` when Ctrl-C or SIGTERM stopped it, also in a
    DuckDB query (:func:`flows.errors.interrupted`), with how; ``failed`` otherwise, with why."""
    if interrupted(exc):
        return run_row(run, status="interrupted", message=stop_reason(exc), finished_at=_now())
    return run_row(run, status="failed", message=first_line(exc), finished_at=_now())


def final_row(run: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    """The row of a run that ended with ``results`` (the flow's: its publish, copy and set-aside)."""
    published = results["publish"]
    copy_failed = (results.get("copy") or {}).get("failed")
    message = published["message"] + (f"; copy failed: {copy_failed}" if copy_failed else "")
    if results.get("set_aside"):
        message += f"; the damaged work database was set aside as {results['set_aside']} and rebuilt"
    # the method of the tables published (a run --from-stage publish keeps the one they were scored under)
    run = {**run, **published.get("scored_under", {})}
    return run_row(run, status="published" if published["published"] else "unchanged", message=message,
                   release=published["release"], counts=(results.get("transform") or {}).get("predicates"),
                   finished_at=_now())


def _run_file(home: Home, year: int, run_id: str) -> Path:
    return home.warehouse / "runs" / f"{year}-{run_id}.parquet"


def record_run(home: Home, row: dict[str, Any]) -> Path:
    """The run log kept beside the catalog (not part of any release)."""
    return write_runs(_run_file(home, row["year"], row["run_id"]), [row])


def logged_release(home: Home, year: int) -> int | None:
    """The highest release number of a year that the run log (``warehouse/runs/``) records, or None. A file
    of the log that cannot be read is passed over (the log is a record, not what publishing rests on)."""
    files = sorted(str(p) for p in (home.warehouse / "runs").glob(f"{year}-*.parquet"))
    if not files:
        return None
    con = scratch()

    def highest(listing: list[str]) -> int | None:
        row = con.execute("select max(release) from read_parquet($f, union_by_name = true) where year = $y",
                          {"f": listing, "y": year}).fetchall()[0][0]
        return None if row is None else int(row)

    try:
        try:
            return highest(files)
        except duckdb.Error:  # one file damaged: read the others one by one
            found = []
            for file in files:
                try:
                    found.append(highest([file]))
                except duckdb.Error:
                    continue
            return max((n for n in found if n is not None), default=None)
    finally:
        con.close()


def _in_progress(home: Home, year: int) -> Path:
    """Names the run of the year in progress while it runs (under the year's lock)."""
    return home.work_db(year).with_name(f"{year}.run")


def begin_run(home: Home, row: dict[str, Any]) -> list[str]:
    """Record a run as running; call it holding the year's lock. A run of the year that began and never
    ended (its process was killed, the machine stopped) is still 'running' in the log: it is recorded as
    interrupted, naming this run. Returns the ids of the runs so closed."""
    year, marker = row["year"], _in_progress(home, row["year"])
    try:
        earlier = marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        earlier = ""
    closed = []
    if earlier and earlier != row["run_id"] and _run_file(home, year, earlier).is_file():
        con = scratch()
        try:
            cursor = con.execute("select * from read_parquet(?) where status = 'running'",
                                 [str(_run_file(home, year, earlier))])
            names = [d[0] for d in cursor.description or []]
            stuck = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        finally:
            con.close()
        if stuck:
            write_runs(_run_file(home, year, earlier), [
                {**r, "status": "interrupted", "message": f"did not finish: its process ended (killed, crashed or "
                                                          f"the machine stopped); found by run {row['run_id']}"}
                for r in stuck])
            closed.append(earlier)
    marker.parent.mkdir(parents=True, exist_ok=True)
    tmp = marker.with_name(f".{marker.name}.tmp")
    tmp.write_text(row["run_id"], encoding="utf-8")
    os.replace(tmp, marker)
    record_run(home, row)
    return closed


def end_run(home: Home, row: dict[str, Any]) -> Path:
    """Record how a run begun with :func:`begin_run` ended."""
    path = record_run(home, row)
    _in_progress(home, row["year"]).unlink(missing_ok=True)
    return path
