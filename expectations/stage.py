"""The validate stage: suites on landing tables → quarantine, data quality, submission status.

Each suite's frame is built by DuckDB and validated in chunks of rows (the expectations are row by
row, so chunks add up to the whole): in this process by default, or as mapped tasks on a Dask
cluster (``validate`` of :mod:`flows.annual`). Failures come back as Arrow tables and are inserted
here; the year-wide suites (the counting submissions, verification) and the SQL after them always run here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import duckdb
import pyarrow as pa

from expectations.outcomes import ChunkOutcome, SuiteOutcome, merge_outcomes
from expectations.validate import (
    CHUNK_ROWS,
    FAILURE_SCHEMA,
    SQL,
    build_docs,
    frame_sql,
    load_suite_json,
    suite_parameters,
    validate_chunk,
)
from flows.methodology import Methodology
from flows.privacy import register_shown_files, remembered_quotes
from flows.progress import show
from transforms.runner import allow_compaction, bind, load_reference, materialise

if TYPE_CHECKING:
    import pandas as pd

RECORD_SUITES = ("files", "submissions", "spd_answers", "innovations", "sid_answers", "evidence")
# Suites whose rules look across files (a region's submissions, the verification decisions against the counting
# submission): validated on the whole year at every validation, after submission_status, never kept per file
YEAR_WIDE_SUITES = ("counting_submissions", "verification")
# The order :func:`warm_suites` validates them in: the suites that cost most to start first, ``submissions`` (whose
# metric graphs hold the run's clock, which the stage's own validation has moved on from) last
WARM_ORDER = ("innovations", "sid_answers", "spd_answers", "verification", "files", "evidence",
              "counting_submissions", "submissions")

T = TypeVar("T")

# (suite, frame chunk) pairs and the suite parameters → one outcome per chunk, in order
ChunkValidator = Callable[[Iterable[tuple[str, Any]], dict[str, Any]], Iterable[ChunkOutcome]]


def validate_here(frames: Iterable[tuple[str, Any]], params: dict[str, Any]) -> Iterator[ChunkOutcome]:
    """Every chunk validated in this process, one after the other."""
    for name, frame in frames:
        yield validate_chunk(name, frame, params)


_END = object()


def read_ahead(items: Iterator[T]) -> Generator[T, None, None]:
    """The items of ``items`` in order, each next one produced on a thread while the caller works on the
    one before: a suite's next frame is read from DuckDB and turned into pandas (which let go of the GIL
    for most of it) while GX validates the current one. At most one item waits, so memory holds one
    frame more; an error of the producer is raised here, at the item it failed on."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as pool:
        pending = pool.submit(next, items, _END)
        while True:
            item = pending.result()
            if item is _END:
                return
            pending = pool.submit(next, items, _END)
            yield cast(T, item)


@dataclass(frozen=True)
class ValidationSummary:
    year: int
    suites: list[dict[str, Any]]
    quarantined: int
    warnings: int
    submissions: dict[str, int]
    files_validated: int = 0  # files whose records were validated in this run, in any suite (the others' kept)
    rows_validated: int = 0  # rows of the record suites validated in this run


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
    ``tests/expectations/test_frames.py`` compares the two. Either way, the datetimes are then given in
    nanoseconds where they fit (:func:`in_nanoseconds`)."""
    import pandas as pd

    relation = con.sql(sql, params=params)
    table = relation.to_arrow_table()
    if not all(_same_as_df(field.type) for field in table.schema):  # e.g. DECIMAL: df() makes it float64
        return in_nanoseconds(relation.df())
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
    return in_nanoseconds(frame)


def in_nanoseconds(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each datetime column without a time zone in nanoseconds, when all its values have a
    nanosecond timestamp (1677-09-21 to 2262-04-11), instead of the microseconds ``df()`` gives.

    GX compares datetimes with a bound (``expect_column_values_to_be_between``) as one array only when
    they are in nanoseconds, and one value at a time in Python otherwise: on the innovations' two dates
    that was ~0.6 s of validation at ten times a national year. A column with a date outside that range
    (a submission may give 9999-12-31) stays in microseconds and is compared value by value, as before:
    the values, and so the failures, are the same either way (tested).
    """
    import numpy as np
    import pandas as pd

    for index, dtype in enumerate(frame.dtypes):
        if isinstance(dtype, np.dtype) and dtype.kind == "M" and dtype != np.dtype("datetime64[ns]"):  # no zone
            try:
                frame.isetitem(index, frame.iloc[:, index].astype("datetime64[ns]"))
            except pd.errors.OutOfBoundsDatetime:  # keep microseconds
                continue
    return frame


def frame_chunks(con: duckdb.DuckDBPyConnection, name: str, sql_params: dict[str, Any] | None = None,
                 rows: int | None = None, files: Sequence[int] = (),
                 coverage: list[list[int]] | None = None) -> Iterator[tuple[str, Any]]:
    """A suite's frame (pandas, from DuckDB) in chunks of whole files of about ``rows`` rows; at least one.

    Record suites see only ``files``; each chunk is one query over a run of those
    files (``chunk_files``), so no frame of the whole set is ever built and the per-file windows
    (occurrence) stay whole. The files each chunk stands for are appended to ``coverage`` as it is
    yielded: its own, and in the last chunk the files that have no row in this suite (a rejected file
    has no answers), so that every file of ``files`` is covered by one chunk. The year-wide suites
    (counting submissions, verification) come in one chunk.
    """
    rows = rows or CHUNK_ROWS
    sql = frame_sql(name)
    params = bind(sql, {**(sql_params or {}), "chunk_first": 0, "chunk_last": -1})
    if name not in _SUITE_TABLES:
        if coverage is not None:
            coverage.append([])
        yield name, query_frame(con, f"{sql} order by record_id", params)
        return
    sizes = con.execute(f"select file_id, count(*) from {_SUITE_TABLES[name]} "  # noqa: S608
                        "where file_id in (select unnest(?::bigint[])) group by all order by file_id",
                        [list(files)]).fetchall()
    groups: list[list[int]] = [[]]
    size = 0
    for file_id, count in sizes:
        if groups[-1] and size + count > rows:
            groups.append([])
            size = 0
        groups[-1].append(int(file_id))
        size += int(count)
    without_rows = sorted(set(files) - {int(file_id) for file_id, _ in sizes})
    for index, group in enumerate(groups):  # the range lets DuckDB skip the row groups of other files
        if coverage is not None:
            coverage.append(group + without_rows if index == len(groups) - 1 else list(group))
        con.execute("create or replace temp table chunk_files as select unnest(?::bigint[]) as file_id", [group])
        bounds = {"chunk_first": min(group, default=0), "chunk_last": max(group, default=-1)}
        yield name, query_frame(con, f"{sql} order by record_id", {**params, **bounds})


# Landing table of each record suite: its rows per file size the chunks of the suite's frame.
_SUITE_TABLES = {"files": "landing_files", "submissions": "landing_submissions", "spd_answers": "landing_spd_answers",
                 "innovations": "landing_innovations", "sid_answers": "landing_sid_answers",
                 "evidence": "landing_evidence"}
CACHE_DDL = (
    # every failing row; a record suite's rows carry the batch and chunk that found them
    "create table if not exists validation_failures (suite varchar, record_id bigint, rule varchar, "
    "severity varchar, reason varchar, value varchar, batch_id bigint, chunk integer)",
    # which files each validation batch covered (sha256 as validated), under which key (code, method,
    # region master) and clock
    "create table if not exists validation_batches (batch_id bigint, file_id bigint, sha256 varchar, "
    "key varchar, validated_at timestamptz)",
    # GX's result of each chunk of each suite of a batch, without row lists (merged for the docs), and the
    # files the chunk stands for: a chunk is kept as long as all of them are unchanged
    "create table if not exists validation_results (batch_id bigint, suite varchar, chunk integer, "
    "rows bigint, result varchar, files bigint[])",
)
# columns of the kept tables that an earlier layout lacks: such tables are dropped and every file validated
_CACHE_COLUMNS = {"validation_failures": "chunk", "validation_results": "files"}


def _prepare_cache(con: duckdb.DuckDBPyConnection) -> None:
    """Create the kept validation tables; tables of an earlier layout are dropped first (all files again)."""
    for table, column in _CACHE_COLUMNS.items():
        present = {c for (c,) in con.execute("select column_name from information_schema.columns "
                                            "where table_name = ?", [table]).fetchall()}
        if present and column not in present:
            for name in ("validation_batches", "validation_results", "validation_failures"):
                con.execute(f"drop table if exists {name}")
            break
    for ddl in CACHE_DDL:
        con.execute(ddl)


def _insert_failures(con: duckdb.DuckDBPyConnection, outcome: ChunkOutcome, batch_id: int | None,
                     chunk: int) -> None:
    failures = outcome.failures  # noqa: F841 - read by DuckDB's replacement scan
    con.execute("insert into validation_failures select *, ?, ? from failures", [batch_id, chunk])


def _run_suites(con: duckdb.DuckDBPyConnection, names: tuple[str, ...], params: dict[str, Any],
                validate: ChunkValidator, sql_params: dict[str, Any] | None = None,
                batch_id: int | None = None, files: dict[str, list[int]] | None = None,
                ) -> dict[str, list[ChunkOutcome]]:
    """Validate the suites' frames chunk by chunk (a record suite on the files ``files[suite]``);
    failures go to ``validation_failures`` as they come and, for a batch, each chunk's GX result
    and files to ``validation_results``. The next chunk's frame is read while one is validated."""
    coverage: dict[str, list[list[int]]] = {name: [] for name in names}
    reader = con.cursor()  # the frames are read on a thread (read_ahead), through a connection of their own
    frames = (chunk for name in names
              for chunk in frame_chunks(reader, name, sql_params, files=(files or {}).get(name, ()),
                                        coverage=coverage[name]))
    by_suite: dict[str, list[ChunkOutcome]] = {name: [] for name in names}
    ahead = read_ahead(frames)
    checked = dict.fromkeys(names, 0)
    try:
        for outcome in validate(ahead, params):
            checked[outcome.suite] += outcome.rows
            show(f"validate: {outcome.suite}, rows checked", checked[outcome.suite])
            chunk = len(by_suite[outcome.suite])
            _insert_failures(con, outcome, batch_id, chunk)
            if batch_id is not None:
                con.execute("insert into validation_results values (?, ?, ?, ?, ?, ?)",
                            [batch_id, outcome.suite, chunk, outcome.rows, json.dumps(outcome.result),
                             coverage[outcome.suite][chunk]])
            by_suite[outcome.suite].append(outcome)
    finally:
        ahead.close()  # waits for a frame being read
        reader.close()
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
    _prepare_cache(con)
    return int(con.execute("select count(*) from validation_failures where rule in (select unnest(?))",
                           [time_dependent_rules()]).fetchall()[0][0])


def _prune_chunks(con: duckdb.DuckDBPyConnection, key: str, now: datetime) -> None:
    """Forget the kept chunk results that no longer hold, with their failures.

    A chunk of a suite no longer holds when a file it stands for is gone or changed, when it found a
    clock-dependent failure (e.g. a submission dated in the future may be valid now), or when its batch
    was validated under another key or at a clock later than this run's. Only those chunks' files are
    validated again, for that suite: a file replaced in place costs the chunks it sat in, not the year.
    Rows of a batch whose validation was cut short (a killed run: its batch rows come last) go too.
    """
    con.execute("delete from validation_results where batch_id not in (select batch_id from validation_batches)")
    con.execute("delete from validation_failures where batch_id is not null "
                "and batch_id not in (select batch_id from validation_batches)")
    con.execute(
        "create or replace temp table stale_chunks as "
        "with chunk_files as (select batch_id, suite, chunk, unnest(files) as file_id from validation_results) "
        "select c.batch_id, c.suite, c.chunk from chunk_files c "
        "left join validation_batches b on b.batch_id = c.batch_id and b.file_id = c.file_id "
        "left join landing_files f on f.file_id = c.file_id and f.sha256 = b.sha256 "
        "where f.file_id is null "
        "union select r.batch_id, r.suite, r.chunk from validation_results r "
        "where r.batch_id in (select batch_id from validation_batches where key <> $key or validated_at > $now) "
        "union select batch_id, suite, chunk from validation_failures "
        "where batch_id is not null and rule in (select unnest($rules))",
        {"key": key, "now": now, "rules": time_dependent_rules()})
    for table in ("validation_results", "validation_failures"):
        con.execute(f"delete from {table} t using stale_chunks s "  # noqa: S608
                    "where t.batch_id = s.batch_id and t.suite = s.suite and t.chunk = s.chunk")
    # a batch's file rows last as long as a kept chunk of the batch stands for the file
    con.execute("delete from validation_batches b where not exists (select 1 from validation_results r "
                "where r.batch_id = b.batch_id and (b.file_id is null or list_contains(r.files, b.file_id)))")


def _validate_stale(con: duckdb.DuckDBPyConnection, key: str, now: datetime, params: dict[str, Any],
                    validate: ChunkValidator) -> tuple[int, int]:
    """Validate, as one new batch, each record suite on the files no kept chunk of that suite stands for;
    returns how many files that was (in any suite) and how many rows."""
    todo = {name: [int(r[0]) for r in con.execute(
        "select file_id from landing_files except select unnest(files) from validation_results where suite = ? "
        "order by file_id", [name]).fetchall()] for name in RECORD_SUITES}
    kept = con.execute("select count(*) from validation_results").fetchall()[0][0]
    names = tuple(name for name in RECORD_SUITES if todo[name] or not kept)
    if not names:
        return 0, 0
    batch_id = int(con.execute("select coalesce(max(batch_id) + 1, 0) from validation_batches").fetchall()[0][0])
    outcomes = _run_suites(con, names, params, validate, batch_id=batch_id, files=todo)
    validated = sorted({file_id for name in names for file_id in todo[name]})
    con.execute("insert into validation_batches select ?, f.file_id, f.sha256, ?, ? from landing_files f "
                "where f.file_id in (select unnest(?::bigint[])) union all "
                "select ?, null, null, ?, ? where len(?::bigint[]) = 0",
                [batch_id, key, now, validated, batch_id, key, now, validated])
    return len(validated), sum(outcome.rows for chunks in outcomes.values() for outcome in chunks)


def _merged_results(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]
                    ) -> tuple[list[SuiteOutcome], dict[str, dict[str, Any]]]:
    """Every kept batch's chunk results, merged per suite (row expectations add up)."""
    stored: dict[str, list[ChunkOutcome]] = {name: [] for name in names}
    for suite, rows, result in con.execute("select suite, rows, result from validation_results "
                                           "order by batch_id, suite, chunk").fetchall():
        stored[suite].append(ChunkOutcome(suite, int(rows), FAILURE_SCHEMA.empty_table(), json.loads(result)))
    merged = [merge_outcomes(name, stored[name]) for name in names]
    return [m[0] for m in merged], {name: m[1] for name, m in zip(names, merged, strict=True)}


@contextmanager
def _docs_beside(docs_dir: Path | None, run_name: str, results: dict[str, dict[str, Any]]) -> Iterator[None]:
    """Build the Data Docs of ``results`` into ``docs_dir`` (none when None) on a thread while the block
    runs; the block's end waits for them, and their error is raised there (an error of the block goes
    first). The block is DuckDB's (the quarantine and data_quality models, whose quotes are mostly looked
    up in SQL), which lets go of the interpreter the docs' rendering needs: a re-run after one region's
    correction spent ~0.2 s on each, one after the other."""
    if docs_dir is None:
        yield
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="data-docs") as pool:  # its end waits for the docs, always
        built = pool.submit(build_docs, docs_dir, run_name, results)
        yield  # an error of the block is raised as it is, once the docs are done
        built.result()  # the docs' own error, if any


def _prepare_year(con: duckdb.DuckDBPyConnection, year: int, method: Methodology,
                  now: datetime | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The year's reference tables and the kept validation tables made; returns the suites' parameters (at the
    clock ``now``) and the parameters of the frames' and models' SQL."""
    load_reference(con, year, method)
    _prepare_cache(con)
    regions = [(c, bool(a)) for c, a in con.execute("select code, autonomous from regions").fetchall()]
    return suite_parameters(method, year, regions, now), {"year": year, "deadline": method.deadline_for(year)}


def _prepare_year_wide(con: duckdb.DuckDBPyConnection, sql_params: dict[str, Any], key: str) -> None:
    """What the year-wide suites' frames are read from: the records rejected and each submission's status,
    ``iid_shown`` (SUB009 names the other files as they are published) and the kept verification frame
    (:func:`refresh_verification_frame`)."""
    materialise(con, SQL / "rejected_records.sql", sql_params)
    materialise(con, SQL / "submission_status.sql", sql_params)
    register_shown_files(con)
    refresh_verification_frame(con, sql_params, key)


# the regions whose rows verification_frame (the verification suite's frame, sql/verification_frame.sql, with the
# region each row was built for) holds: under which key (code, method, region master) and with what inputs
# (VERIFICATION_FINGERPRINTS); a region is listed only once its rows are all in
VERIFICATION_REGIONS_DDL = ("create table if not exists verification_frame_regions "
                            "(key varchar, region_code varchar, fingerprint ubigint)")
# Everything a region's rows of the verification frame are built from, besides the key: its verification rows
# (landing_verification, all but ``file_id``, which moves as submissions come and the frame does not read),
# its counting submission (file id and sha256: its landing rows) and which records of it were rejected. One
# row per region named by a verification row (null included: such rows point at nothing).
VERIFICATION_FINGERPRINTS = """
create or replace temp table verification_fingerprints as
with rows as (
    select region_code, count(*) as n, sum(hash(v)) as h
    from (select * exclude (file_id) from landing_verification) v
    group by region_code
),
rejected as (
    select file_id, count(*) as n, sum(hash(record_id, record_type)) as h from rejected_records group by file_id
),
counting as (
    select s.region_code, hash(s.file_id, f.sha256, coalesce(j.n, 0), coalesce(j.h, 0)) as h
    from submission_status s
    left join landing_files f on f.file_id = s.file_id
    left join rejected j on j.file_id = s.file_id
    where s.status = 'counting'
)
select r.region_code, hash(r.n, r.h, count(c.h), coalesce(sum(c.h), 0)) as fingerprint
from rows r
left join counting c on c.region_code = r.region_code
group by r.region_code, r.n, r.h
"""


def refresh_verification_frame(con: duckdb.DuckDBPyConnection, sql_params: dict[str, Any], key: str) -> int:
    """Bring ``verification_frame`` in line with the landing tables, region by region; returns how many of its
    rows were built again.

    A verification row's frame row joins only rows of its own region (``sql/verification_frame.sql``), so a
    region's rows stand as long as its inputs (:data:`VERIFICATION_FINGERPRINTS`) and the key are those they were
    built with, and only the regions whose inputs or key changed are built again: after one region's
    resubmission, that region's rows (the whole frame took 0.14-0.22 s of a national year's one-region re-run,
    ~5 % of it). A region's listing and rows go before it is built again, and it is listed again once its rows
    are in, so a run cut short anywhere leaves no region listed without its rows.
    ``tests/expectations/test_verification_frame.py`` compares the kept frame with one built whole after each
    kind of change.
    """
    model = (SQL / "verification_frame.sql").read_text(encoding="utf-8")
    params = bind(model, sql_params)
    con.execute(VERIFICATION_REGIONS_DDL)
    con.execute(VERIFICATION_FINGERPRINTS)
    kept = con.execute("select count(*) from duckdb_tables() where table_name = 'verification_frame' "
                       "and schema_name = 'main' and database_name = current_database() and not temporary"
                       ).fetchall()[0][0]
    # the regions whose kept rows still stand
    con.execute("create or replace temp table verification_standing as "
                "select k.region_code from verification_frame_regions k join verification_fingerprints n "
                "on k.region_code is not distinct from n.region_code and k.fingerprint = n.fingerprint "
                "where k.key = ? and ?", [key, bool(kept)])
    con.execute("delete from verification_frame_regions k where not exists (select 1 from verification_standing s "
                "where s.region_code is not distinct from k.region_code)")
    con.execute("create or replace temp table verification_in_scope as select * from landing_verification v "
                "where not exists (select 1 from verification_standing s "
                "where s.region_code is not distinct from v.region_code)")
    if con.execute("select count(*) from verification_standing").fetchall()[0][0]:
        con.execute("delete from verification_frame f where not exists (select 1 from verification_standing s "
                    "where s.region_code is not distinct from f.frame_region)")
        built = int(con.execute(f"insert into verification_frame {model}", params).fetchall()[0][0])
    else:  # built whole (and so in the layout of this code)
        built = materialise(con, SQL / "verification_frame.sql", sql_params)
    con.execute("insert into verification_frame_regions select ?, n.region_code, n.fingerprint "
                "from verification_fingerprints n where not exists (select 1 from verification_standing s "
                "where s.region_code is not distinct from n.region_code)", [key])
    return built


def warm_suites(year: int, stop: threading.Event | None = None) -> list[str]:
    """Validate every suite once on an empty year of its own (an in-memory database), in this process; returns
    the suites validated, in order, until ``stop`` is set (checked before each)."""
    from flows.ingest import create_landing_tables
    from flows.methodology import for_year

    method = for_year(year).method
    con = duckdb.connect()
    done: list[str] = []
    try:
        create_landing_tables(con)
        params, sql_params = _prepare_year(con, year, method)
        year_wide_ready = False
        for name in WARM_ORDER:
            if stop is not None and stop.is_set():
                break
            if name in YEAR_WIDE_SUITES and not year_wide_ready:
                _prepare_year_wide(con, sql_params, "")
                year_wide_ready = True
            for suite, frame in frame_chunks(con, name, sql_params):
                validate_chunk(suite, frame, params)
            done.append(name)
    finally:
        con.close()
    return done


def validate_year(con: duckdb.DuckDBPyConnection, year: int, method: Methodology,
                  now: datetime | None = None, docs_dir: Path | None = None,
                  validate: ChunkValidator | None = None, key: str = "") -> ValidationSummary:
    """Validate the landing tables of a year in the work database; writes the outcome tables.

    Validation is incremental by file: the record suites look at each file on its own, so the failures
    and GX results of files validated before (same ``key``: code, method and region master) are kept
    per suite and chunk, and only new files and the chunks a changed or removed file sat in are
    validated (:func:`_prune_chunks`). ``validate`` maps the record suites' chunks (e.g. onto
    a Dask cluster; default: in this process). The year-wide suites (:data:`YEAR_WIDE_SUITES`: rules across
    files, such as a tie between two submissions of a region, SUB009) and the SQL after them always run on
    the whole year: a verdict that another file decides is never kept with a file.
    """
    validate = validate or validate_here
    now = now or datetime.now(UTC)
    params, sql_params = _prepare_year(con, year, method, now)
    if con.execute("select count(*) from validation_batches where key <> ?", [key]).fetchall()[0][0]:
        allow_compaction(con)  # validated from scratch: the kept results all go (transforms.runner)
    _prune_chunks(con, key, now)
    validated, rows = _validate_stale(con, key, now, params, validate)
    outcomes, results = _merged_results(con, RECORD_SUITES)
    _prepare_year_wide(con, sql_params, key)
    con.execute("delete from validation_failures where suite in (select unnest(?))", [list(YEAR_WIDE_SUITES)])
    chunks = _run_suites(con, YEAR_WIDE_SUITES, params, validate_here, sql_params)
    for name in YEAR_WIDE_SUITES:
        outcome, results[name] = merge_outcomes(name, chunks[name])
        outcomes.append(outcome)
    show("validate: quarantine, data quality and Data Docs")
    with _docs_beside(docs_dir, f"annual-{year}", results), remembered_quotes(con, key):
        # iid_quote: what the two quote of the input is published, its contacts masked
        quarantined = materialise(con, SQL / "quarantine.sql", sql_params, sort_apart=False)
        warnings = materialise(con, SQL / "data_quality.sql", sql_params, sort_apart=False)
    status = dict(con.execute("select status, count(*) from submission_status group by all").fetchall())
    return ValidationSummary(year, [o.as_dict() for o in outcomes], quarantined, warnings,
                             {str(k): int(v) for k, v in status.items()}, validated, rows)
