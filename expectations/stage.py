"""The validate stage: suites on landing tables → quarantine, data quality, submission status.

Each suite's frame is built by DuckDB and validated in chunks of rows (the expectations are row by
row, so chunks add up to the whole): in this process by default, or as mapped tasks on a Dask
cluster (``validate`` of :mod:`flows.annual`). Failures come back as Arrow tables and are inserted
here; the verification suite and the SQL after it always run here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from expectations.validate import (
    CHUNK_ROWS,
    FAILURE_SCHEMA,
    SQL,
    ChunkOutcome,
    SuiteOutcome,
    build_docs,
    frame_sql,
    load_suite_json,
    merge_outcomes,
    suite_parameters,
    validate_chunk,
)
from flows.methodology import Methodology
from transforms.runner import bind, load_reference, materialise

if TYPE_CHECKING:
    import pandas as pd

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
    files_validated: int = 0  # files whose records were validated in this run (the others' results were kept)


def _nullable(kind: pa.DataType) -> Any:
    """The pandas dtype DuckDB's ``df()`` gives a column of this type that holds nulls (None: the default)."""
    import pandas as pd

    if pa.types.is_boolean(kind):
        return pd.BooleanDtype()
    if pa.types.is_integer(kind):
        return pd.api.types.pandas_dtype(str(kind).replace("int", "Int").replace("uInt", "UInt"))
    return None


def _same_as_df(kind: pa.DataType) -> bool:
    """Types whose Arrow-to-pandas conversion below gives what ``df()`` gives."""
    return bool(pa.types.is_string(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind)
                or pa.types.is_floating(kind) or pa.types.is_date(kind) or pa.types.is_timestamp(kind))


def query_frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    """A query's rows as the pandas frame DuckDB's ``df()`` gives, read through Arrow: ``df()`` makes a
    Python string per text value, which pandas then turns back into Arrow strings (about 3 times slower
    on the frames of a national year). As with ``df()``, integer and boolean columns that hold nulls
    get pandas' nullable dtypes, dates are datetime64[us] and a text column with no value is of objects;
    a frame with any other type (DECIMAL, HUGEINT, TIME, lists …) is read with ``df()`` itself.
    ``tests/expectations/test_frames.py`` compares the two."""
    import pandas as pd

    relation = con.sql(sql, params=params)
    table = relation.to_arrow_table()
    if not all(_same_as_df(field.type) for field in table.schema):  # e.g. DECIMAL: df() makes it float64
        return relation.df()
    for index, column in enumerate(table.columns):
        if pa.types.is_date(column.type):  # df() gives dates as datetime64[us]
            table = table.set_column(index, table.field(index).name, column.cast(pa.timestamp("us")))
    frame = table.to_pandas(timestamp_as_object=False)
    for index, column in enumerate(table.columns):
        if pa.types.is_string(column.type) and column.null_count == len(column):
            frame.isetitem(index, pd.Series([None] * len(column), index=frame.index, dtype=object))  # as df()
            continue
        dtype = _nullable(column.type) if column.null_count else None
        if dtype is not None:
            frame.isetitem(index, column.to_pandas(types_mapper={column.type: dtype}.get))
    return frame


def frame_chunks(con: duckdb.DuckDBPyConnection, name: str, sql_params: dict[str, Any] | None = None,
                 rows: int | None = None) -> Iterator[tuple[str, Any]]:
    """A suite's frame (pandas, from DuckDB) in chunks of whole files of about ``rows`` rows; at least one.

    Record suites see only the files of the batch being validated (``batch_files``); each chunk is one
    query over a run of those files (``chunk_files``), so no frame of the whole batch is ever built and
    the per-file windows (occurrence) stay whole. Other suites (verification) come in one chunk.
    """
    rows = rows or max(1, CHUNK_ROWS // WIDE_FRAMES.get(name, 1))
    sql = frame_sql(name)
    params = bind(sql, {**(sql_params or {}), "chunk_first": 0, "chunk_last": -1})
    if name not in _SUITE_TABLES:
        yield name, query_frame(con, f"{sql} order by record_id", params)
        return
    sizes = con.execute(f"select file_id, count(*) from {_SUITE_TABLES[name]} "  # noqa: S608
                        "where file_id in (select file_id from batch_files) group by all order by file_id").fetchall()
    groups: list[list[int]] = [[]]
    size = 0
    for file_id, count in sizes:
        if groups[-1] and size + count > rows:
            groups.append([])
            size = 0
        groups[-1].append(int(file_id))
        size += int(count)
    for group in groups:  # the range lets DuckDB skip the row groups of other files
        con.execute("create or replace temp table chunk_files as select unnest(?::bigint[]) as file_id", [group])
        bounds = {"chunk_first": min(group, default=0), "chunk_last": max(group, default=-1)}
        yield name, query_frame(con, f"{sql} order by record_id", {**params, **bounds})


# Landing table of each record suite: its rows per file size the chunks of the suite's frame.
_SUITE_TABLES = {"files": "landing_files", "submissions": "landing_submissions", "spd_answers": "landing_spd_answers",
                 "innovations": "landing_innovations", "sid_answers": "landing_sid_answers",
                 "evidence": "landing_evidence"}
CACHE_DDL = (
    "create table if not exists validation_failures (suite varchar, record_id bigint, rule varchar, "
    "severity varchar, reason varchar, value varchar, batch_id bigint)",
    # which files each validation batch covered, under which key (code, method, region master) and clock
    "create table if not exists validation_batches (batch_id bigint, file_id bigint, sha256 varchar, "
    "key varchar, validated_at timestamptz)",
    # GX's result of each chunk of each suite of a batch, without row lists (merged for the docs)
    "create table if not exists validation_results (batch_id bigint, suite varchar, chunk integer, "
    "rows bigint, result varchar)",
)


def _insert_failures(con: duckdb.DuckDBPyConnection, outcome: ChunkOutcome, batch_id: int | None) -> None:
    failures = outcome.failures  # noqa: F841 - read by DuckDB's replacement scan
    con.execute("insert into validation_failures select *, ? from failures", [batch_id])


def _run_suites(con: duckdb.DuckDBPyConnection, names: tuple[str, ...], params: dict[str, Any],
                validate: ChunkValidator, sql_params: dict[str, Any] | None = None,
                batch_id: int | None = None) -> dict[str, list[ChunkOutcome]]:
    """Validate the suites' frames chunk by chunk; failures go to ``validation_failures`` as they come
    and, for a batch, each chunk's GX result to ``validation_results``."""
    frames = (chunk for name in names for chunk in frame_chunks(con, name, sql_params))
    by_suite: dict[str, list[ChunkOutcome]] = {name: [] for name in names}
    for outcome in validate(frames, params):
        _insert_failures(con, outcome, batch_id)
        if batch_id is not None:
            con.execute("insert into validation_results values (?, ?, ?, ?, ?)",
                        [batch_id, outcome.suite, len(by_suite[outcome.suite]), outcome.rows,
                         json.dumps(outcome.result)])
        by_suite[outcome.suite].append(outcome)
    return by_suite


def time_dependent_rules() -> list[str]:
    """Rules whose outcome depends on the clock (their expectation takes ``$PARAMETER: now``)."""
    rules = []
    for name in RECORD_SUITES:
        for expectation in load_suite_json(name).get("expectations", []):
            if {"$PARAMETER": "now"} in expectation.get("kwargs", {}).values():
                rules.append(str(expectation["meta"]["rule"]))
    return sorted(rules)


def clock_dependent_failures(con: duckdb.DuckDBPyConnection) -> int:
    """How many kept failures may no longer hold because time has passed."""
    con.execute(CACHE_DDL[0])
    return int(con.execute("select count(*) from validation_failures where rule in (select unnest(?))",
                           [time_dependent_rules()]).fetchall()[0][0])


def _prune_batches(con: duckdb.DuckDBPyConnection, key: str, now: datetime) -> None:
    """Forget batches that no longer hold: another key, a file gone or changed, a clock-dependent failure
    (e.g. a submission dated in the future may be valid now), or a clock later than this run's; and
    the rows of a batch whose validation was cut short (a killed run: its batch row comes last)."""
    con.execute("delete from validation_results where batch_id not in (select batch_id from validation_batches)")
    con.execute("delete from validation_failures where batch_id is not null "
                "and batch_id not in (select batch_id from validation_batches)")
    stale = [int(r[0]) for r in con.execute(
        "select distinct b.batch_id from validation_batches b "
        "where b.key <> $key or b.validated_at > $now "
        "or (b.file_id is not null and not exists (select 1 from landing_files f "
        "                                         where f.file_id = b.file_id and f.sha256 = b.sha256)) "
        "or b.batch_id in (select batch_id from validation_failures where rule in (select unnest($rules)))",
        {"key": key, "now": now, "rules": time_dependent_rules()}).fetchall()]
    if stale:
        for table in ("validation_batches", "validation_results", "validation_failures"):
            con.execute(f"delete from {table} where batch_id in (select unnest(?))", [stale])  # noqa: S608


def _validate_new_files(con: duckdb.DuckDBPyConnection, key: str, now: datetime, params: dict[str, Any],
                        validate: ChunkValidator) -> int:
    """Validate, as one new batch, the files no kept batch covers; returns how many files that was."""
    new = [int(r[0]) for r in con.execute(
        "select file_id from landing_files where file_id not in "
        "(select file_id from validation_batches where file_id is not null) order by file_id").fetchall()]
    if not new and con.execute("select count(*) from validation_results").fetchall()[0][0]:
        return 0
    batch_id = int(con.execute("select coalesce(max(batch_id) + 1, 0) from validation_batches").fetchall()[0][0])
    con.execute("create or replace temp table batch_files as select unnest(?::bigint[]) as file_id", [new])
    _run_suites(con, RECORD_SUITES, params, validate, batch_id=batch_id)
    con.execute("insert into validation_batches select ?, b.file_id, f.sha256, ?, ? from batch_files b "
                "left join landing_files f using (file_id) union all "
                "select ?, null, null, ?, ? where not exists (from batch_files)",
                [batch_id, key, now, batch_id, key, now])
    return len(new)


def _merged_results(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]
                    ) -> tuple[list[SuiteOutcome], dict[str, dict[str, Any]]]:
    """Every kept batch's chunk results, merged per suite (row expectations add up)."""
    stored: dict[str, list[ChunkOutcome]] = {name: [] for name in names}
    for suite, rows, result in con.execute("select suite, rows, result from validation_results "
                                           "order by batch_id, suite, chunk").fetchall():
        stored[suite].append(ChunkOutcome(suite, int(rows), FAILURE_SCHEMA.empty_table(), json.loads(result)))
    merged = [merge_outcomes(name, stored[name]) for name in names]
    return [m[0] for m in merged], {name: m[1] for name, m in zip(names, merged, strict=True)}


def validate_year(con: duckdb.DuckDBPyConnection, year: int, method: Methodology,
                  now: datetime | None = None, docs_dir: Path | None = None,
                  validate: ChunkValidator | None = None, key: str = "") -> ValidationSummary:
    """Validate the landing tables of a year in the work database; writes the outcome tables.

    Validation is incremental by file: the record suites look at each file on its own, so the failures
    and GX results of files validated before (same ``key``: code, method and region master) are kept
    and only new or changed files are validated. ``validate`` maps the record suites' chunks (e.g. onto
    a Dask cluster; default: in this process). The verification suite and the SQL after it always run
    on the whole year.
    """
    validate = validate or validate_here
    now = now or datetime.now(UTC)
    load_reference(con, year, method)
    for ddl in CACHE_DDL:
        con.execute(ddl)
    regions = [(c, bool(a)) for c, a in con.execute("select code, autonomous from regions").fetchall()]
    params = suite_parameters(method, year, regions, now)
    _prune_batches(con, key, now)
    validated = _validate_new_files(con, key, now, params, validate)
    outcomes, results = _merged_results(con, RECORD_SUITES)
    sql_params = {"year": year, "deadline": method.deadline_for(year)}
    materialise(con, SQL / "rejected_records.sql", sql_params)
    materialise(con, SQL / "submission_status.sql", sql_params)
    con.execute("delete from validation_failures where suite = 'verification'")
    chunks = _run_suites(con, ("verification",), params, validate_here, sql_params)
    more, verification = merge_outcomes("verification", chunks["verification"])
    outcomes.append(more)
    results["verification"] = verification
    quarantined = materialise(con, SQL / "quarantine.sql", sql_params)
    warnings = materialise(con, SQL / "data_quality.sql", sql_params)
    if docs_dir is not None:
        build_docs(docs_dir, f"annual-{year}", results)
    status = dict(con.execute("select status, count(*) from submission_status group by all").fetchall())
    return ValidationSummary(year, [o.as_dict() for o in outcomes], quarantined, warnings,
                             {str(k): int(v) for k, v in status.items()}, validated)
