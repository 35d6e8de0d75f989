"""Ingest: every file of ``<home>/raw/<year>/`` into typed landing tables of the year's work database.

Files are read in a fixed order (by path) and each gets a ``files`` row with its sha256; a file
that cannot be read as a submission gets its rule code there and no records. Operator contact
data is written to the private area only. Verification CSVs (``verification/*.csv``) land in
``landing_verification``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from flows.landing import RECORD_TABLES, SCHEMAS, LandingBatch, code_text, enum_text, text, whole_number
from flows.readers import FileRejected, parse_bytes
from flows.settings import Home

VERIFICATION_DIR = "verification"
VERIFICATION_COLUMNS = ("region_code", "innovation_id", "indicator", "decision", "verified_level", "note")
VERIFICATION_SCHEMA = pa.schema([
    ("record_id", pa.int64()), ("file_id", pa.int64()), ("source_file", pa.string()), ("locator", pa.string()),
    ("region_code", pa.string()), ("innovation_id", pa.string()), ("indicator", pa.string()),
    ("decision", pa.string()), ("verified_level", pa.int64()), ("verified_level_raw", pa.string()),
    ("note", pa.string()),
])
BATCH_ROWS = 200_000


@dataclass(frozen=True)
class IngestSummary:
    year: int
    files: int
    rejected_files: int
    records: dict[str, int]
    verification_rows: int


_REGION_IN_TEXT = re.compile(rb'"region_code"\s*:\s*"(\d{2}(?:\.\d{2})?)"')


def region_hint(data: bytes) -> str | None:
    """The region code written near the top of a file that could not be read, to route feedback."""
    match = _REGION_IN_TEXT.search(data[:65536])
    return match.group(1).decode("ascii") if match else None


def drop_zone_files(raw_year: Path) -> Iterator[Path]:
    """Submission files of a year folder, sorted; ``verification/`` and ``_*`` / ``.*`` entries skipped.

    Symbolic links are listed (so they can be reported) but never followed.
    """
    for dirpath, dirnames, filenames in os.walk(raw_year, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_"))
                             and not (here == raw_year and d == VERIFICATION_DIR))
        for name in sorted(filenames):
            if not name.startswith((".", "_")):
                yield here / name


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, schema in [*SCHEMAS.items(), ("verification", VERIFICATION_SCHEMA)]:
        empty = pa.Table.from_pylist([], schema=schema)  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(f"create or replace table landing_{name} as select * from empty")  # noqa: S608


def _flush(con: duckdb.DuckDBPyConnection, batch: LandingBatch) -> None:
    for name, table in batch.tables().items():
        if table.num_rows == 0:
            continue
        con.register("batch_rows", table)
        con.execute(f"insert into landing_{name} select * from batch_rows")  # noqa: S608
        con.unregister("batch_rows")


def _read_verification(raw_year: Path, first_file_id: int) -> tuple[pa.Table, list[tuple[str, str, int]]]:
    """Rows of every ``verification/*.csv``; returns the table and (file, sha256, bytes) per CSV."""
    folder = raw_year / VERIFICATION_DIR
    rows: dict[str, list[Any]] = {f.name: [] for f in VERIFICATION_SCHEMA}
    files: list[tuple[str, str, int]] = []
    if not folder.is_dir() or folder.is_symlink():
        return pa.Table.from_pydict(rows, schema=VERIFICATION_SCHEMA), files
    record_id = 0
    for file_id, path in enumerate(sorted(p for p in folder.glob("*.csv") if not p.is_symlink()), first_file_id):
        data = path.read_bytes()
        rel = path.relative_to(raw_year).as_posix()
        files.append((rel, hashlib.sha256(data).hexdigest(), len(data)))
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
        for line, row in enumerate(reader, start=2):
            level_raw = text(row.get("verified_level"))
            values = {
                "record_id": record_id, "file_id": file_id, "source_file": rel, "locator": f"line {line}",
                "region_code": text(row.get("region_code")), "innovation_id": text(row.get("innovation_id")),
                "indicator": code_text(row.get("indicator")), "decision": enum_text(row.get("decision")),
                "verified_level": whole_number(level_raw), "verified_level_raw": level_raw,
                "note": text(row.get("note")),
            }
            for key, value in values.items():
                rows[key].append(value)
            record_id += 1
    return pa.Table.from_pydict(rows, schema=VERIFICATION_SCHEMA), files


def ingest_year(home: Home, year: int, con: duckdb.DuckDBPyConnection,
                progress: Callable[[int, int], None] | None = None) -> IngestSummary:
    """Read the year's drop zone into ``landing_*`` tables (replacing what was there)."""
    raw_year = home.raw_year(year)
    if not raw_year.is_dir():
        raise FileNotFoundError(f"{raw_year}: no submissions folder for {year}; put the files there or run "
                                f"'iid generate --year {year}'")
    paths = list(drop_zone_files(raw_year))
    private = home.private_dir(year)
    private.mkdir(parents=True, exist_ok=True)
    _create_tables(con)
    next_ids = dict.fromkeys(RECORD_TABLES, 0)
    batch = LandingBatch(next_ids)
    rejected = 0
    for file_id, path in enumerate(paths):
        rel = path.relative_to(raw_year).as_posix()
        if path.is_symlink():
            batch.add_file(file_id, rel, "", 0, "symlink", "FIL010", "symbolic link, not followed", False, 0)
            rejected += 1
            continue
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        fmt = path.suffix.lower().lstrip(".") or "none"
        try:
            parsed = parse_bytes(path.name, data)
        except FileRejected as exc:
            batch.add_file(file_id, rel, sha, len(data), fmt, exc.rule, exc.detail, data.startswith(b"\xef\xbb\xbf"), 0,
                           region_hint(data))
            rejected += 1
        else:
            records = batch.add_parsed(file_id, rel, parsed)
            batch.add_file(file_id, rel, sha, len(data), fmt, None, None, parsed.has_bom, records)
        if batch.rows >= BATCH_ROWS:
            _flush(con, batch)
            batch = LandingBatch(next_ids)
        if progress:
            progress(file_id + 1, len(paths))
    _flush(con, batch)
    verification, vfiles = _read_verification(raw_year, len(paths))
    con.execute("insert into landing_verification select * from verification")
    vfile_table = pa.Table.from_pylist(  # noqa: F841 - read by DuckDB's replacement scan
        [{"source_file": f, "sha256": s, "bytes": b} for f, s, b in vfiles],
        schema=pa.schema([("source_file", pa.string()), ("sha256", pa.string()), ("bytes", pa.int64())]))
    con.execute("create or replace table landing_verification_files as select * from vfile_table")
    _export_private(con, private)
    counts = {name: next_ids[name] for name in RECORD_TABLES}
    return IngestSummary(year, len(paths), rejected, counts, verification.num_rows)


def _export_private(con: duckdb.DuckDBPyConnection, private: Path) -> None:
    """Operator contacts leave the work database for the private area, and only go there."""
    target = private / "operators.parquet"
    tmp = target.with_suffix(".parquet.tmp")
    con.execute("copy landing_operators to ? (format parquet)", [str(tmp)])
    os.replace(tmp, target)
    con.execute("drop table landing_operators")
