"""The validate stage: suites on landing tables → quarantine, data quality, submission status.

Each suite's frame is built by DuckDB and validated in chunks of rows (the expectations are row by
row, so chunks add up to the whole): in this process by default, or as mapped tasks on a Dask
cluster (``validate`` of :mod:`flows.annual`). Failures come back as Arrow tables and are inserted
here; the verification suite and the SQL after it always run here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from expectations.validate import (
    CHUNK_ROWS,
    FAILURE_SCHEMA,
    SQL,
    ChunkOutcome,
    SuiteOutcome,
    build_docs,
    frame_sql,
    merge_outcomes,
    suite_parameters,
    validate_chunk,
)
from flows.methodology import Methodology
from transforms.runner import bind, load_reference, materialise

RECORD_SUITES = ("files", "submissions", "spd_answers", "innovations", "sid_answers", "evidence")
WIDE_FRAMES = {"innovations": 20}  # frames with long texts (narratives) go in chunks this many times smaller

# (suite, frame chunk) pairs and the suite parameters → one outcome per chunk, in order
ChunkValidator = Callable[[Iterable[tuple[str, Any]], dict[str, Any]], Iterable[ChunkOutcome]]


def validate_here(frames: Iterable[tuple[str, Any]], params: dict[str, Any]) -> Iterator[ChunkOutcome]:
    """Every chunk validated in this process, one after the other."""
    for name, frame in frames:
        yield validate_chunk(name, frame, params)


@dataclass(frozen=True)
class ValidationSummary:
    year: int
    suites: list[dict[str, Any]]
    quarantined: int
    warnings: int
    submissions: dict[str, int]


def frame_chunks(con: duckdb.DuckDBPyConnection, name: str, sql_params: dict[str, Any] | None = None,
                 rows: int | None = None) -> Iterator[tuple[str, Any]]:
    """A suite's frame (pandas, from DuckDB) in chunks of about ``rows`` rows by record id; at least one."""
    rows = rows or max(1, CHUNK_ROWS // WIDE_FRAMES.get(name, 1))
    sql = frame_sql(name)
    params = bind(sql, sql_params or {})
    con.execute(f"create or replace temp table suite_frame as {sql}", params)
    low, high = con.execute("select coalesce(min(record_id), 0), coalesce(max(record_id), 0) "
                            "from suite_frame").fetchall()[0]
    given = 0
    for start in range(int(low), int(high) + 1, rows):
        frame = con.execute("select * from suite_frame where record_id >= ? and record_id < ? "
                            "order by record_id", [start, start + rows]).df()
        if len(frame) or (not given and start + rows > high):  # gaps in the ids give no empty chunk
            given += 1
            yield name, frame
    con.execute("drop table suite_frame")


def _run_suites(con: duckdb.DuckDBPyConnection, names: tuple[str, ...], params: dict[str, Any],
                validate: ChunkValidator, sql_params: dict[str, Any] | None = None
                ) -> tuple[list[SuiteOutcome], dict[str, dict[str, Any]]]:
    """Validate the suites' frames chunk by chunk; failures go to ``validation_failures`` as they come."""
    frames = (chunk for name in names for chunk in frame_chunks(con, name, sql_params))
    by_suite: dict[str, list[ChunkOutcome]] = {name: [] for name in names}
    for outcome in validate(frames, params):
        failures = outcome.failures  # noqa: F841 - read by DuckDB's replacement scan
        con.execute("insert into validation_failures select * from failures")
        by_suite[outcome.suite].append(outcome)
    merged = [merge_outcomes(name, chunks) for name, chunks in by_suite.items()]
    return [m[0] for m in merged], {name: m[1] for name, m in zip(names, merged, strict=True)}


def validate_year(con: duckdb.DuckDBPyConnection, year: int, method: Methodology,
                  now: datetime | None = None, docs_dir: Path | None = None,
                  validate: ChunkValidator | None = None) -> ValidationSummary:
    """Validate the landing tables of a year in the work database; writes the outcome tables.

    ``validate`` maps the record suites' chunks (e.g. onto a Dask cluster; default: in this process).
    """
    validate = validate or validate_here
    load_reference(con, year, method)
    empty = FAILURE_SCHEMA.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
    con.execute("create or replace table validation_failures as select * from empty")
    regions = [(c, bool(a)) for c, a in con.execute("select code, autonomous from regions").fetchall()]
    params = suite_parameters(method, year, regions, now)
    outcomes, results = _run_suites(con, RECORD_SUITES, params, validate)
    sql_params = {"year": year, "deadline": method.deadline_for(year)}
    materialise(con, SQL / "rejected_records.sql", sql_params)
    materialise(con, SQL / "submission_status.sql", sql_params)
    more, verification = _run_suites(con, ("verification",), params, validate_here, sql_params)
    outcomes += more
    results.update(verification)
    quarantined = materialise(con, SQL / "quarantine.sql", sql_params)
    warnings = materialise(con, SQL / "data_quality.sql", sql_params)
    if docs_dir is not None:
        build_docs(docs_dir, f"annual-{year}", results)
    status = dict(con.execute("select status, count(*) from submission_status group by all").fetchall())
    return ValidationSummary(year, [o.as_dict() for o in outcomes], quarantined, warnings,
                             {str(k): int(v) for k, v in status.items()})
