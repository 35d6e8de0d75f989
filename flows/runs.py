"""Run metadata as data: one row per annual run (parameters, status, stage timings, counts, versions).

Each run is written as its own small Parquet file under ``warehouse/runs/`` (the catalog's ``runs``
view reads them all); the run that publishes a release is also in that release's ``runs.parquet``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from flows.settings import Home

RUN_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("flow_run_id", pa.string()), ("year", pa.int32()), ("parameters", pa.string()),
    ("status", pa.string()), ("message", pa.string()), ("started_at", pa.string()), ("finished_at", pa.string()),
    ("stage_seconds", pa.string()), ("stages_skipped", pa.string()), ("counts", pa.string()),
    ("methodology", pa.string()), ("methodology_sha256", pa.string()), ("code_version", pa.string()),
    ("release", pa.int32()),
])


def run_row(run: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A row of the runs table from the flow's run dict; structures are stored as JSON text."""
    row = {**run, **fields}
    out: dict[str, Any] = {}
    for field in RUN_SCHEMA:
        value = row.get(field.name)
        out[field.name] = json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list)) else value
    return out


def write_runs(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=RUN_SCHEMA), tmp)
    os.replace(tmp, path)
    return path


def record_run(home: Home, row: dict[str, Any]) -> Path:
    """The run log kept beside the catalog (not part of any release)."""
    return write_runs(home.warehouse / "runs" / f"{row['year']}-{row['run_id']}.parquet", [row])
