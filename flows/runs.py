"""Run metadata as data: one row per annual run (parameters, status, stage timings, counts, versions).

Each run is written as its own small Parquet file under ``warehouse/runs/`` (the catalog's ``runs``
view reads them all); the run that publishes a release is also in that release's ``runs.parquet``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb

from flows.privacy import redact
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
    con = duckdb.connect()
    try:
        con.execute(f"create table runs ({', '.join(f'{name} {kind}' for name, kind in RUN_COLUMNS)})")
        marks = ", ".join("?" for _ in RUN_COLUMNS)
        for row in rows:
            con.execute(f"insert into runs values ({marks})", [row.get(name) for name, _ in RUN_COLUMNS])  # noqa: S608
        con.execute("copy runs to ? (format parquet)", [str(tmp)])
    finally:
        con.close()
    os.replace(tmp, path)
    return path


def record_run(home: Home, row: dict[str, Any]) -> Path:
    """The run log kept beside the catalog (not part of any release)."""
    return write_runs(home.warehouse / "runs" / f"{row['year']}-{row['run_id']}.parquet", [row])
