"""The small model runner: one SELECT per ``.sql`` file, materialised as a table of the same name.

Models run in a fixed order by layer (staging → scoring → marts). Values reach SQL only as bound
``$name`` parameters; the runner passes each model exactly the parameters it names.

A model's first line may configure how an *incremental* run (:func:`run_models` with ``scope``: the
ids of the files whose records changed) treats it, as dbt's ``materialized`` does:

- ``-- incremental: file_id``: every row comes from one file, named by its ``file_id`` column; the
  rows of the files in scope are deleted and computed again, the others are kept. Such a table has
  no row order in the work database (not even after a full build): its final ``order by`` is the
  order of its published file (:func:`model_order`);
- ``-- year-wide``: built from year-wide inputs (the verification decisions), when they changed,
  before a run works out which files to score again (``flows.pipeline``); kept as it is by an
  incremental run;
- ``-- ephemeral``: not materialised, as dbt's ephemeral models: a temporary view in the run's
  connection, which the models after it read (and inline). It filters its rows with ``in_scope``, so
  an incremental model reading it sees the files in scope only. For a large intermediate step that one
  model reads: the answers and evidence counts ``indicator_scores`` joins (writing their 12.5 million
  rows at ten times a national year cost 4 s of the 16 s of the transform stage);
- no configuration: rebuilt in every run (small tables: submissions, SPD answers, region scores).

An incremental run deletes the rows of the files it scores again and appends their new rows. At the
next checkpoint (closing the database, in this stage or a later one) DuckDB would then merge the row
groups those deletes left partly empty ("vacuum"), rewriting the row groups after the first it merges:
0.2-0.6 s in about half of the one-region resubmissions at scale 1. Incremental runs leave the deleted
rows in place (``max_vacuum_tasks = 0``, which the pipeline sets for every stage) and count them per
table (``incremental_deleted``); once they reach :data:`REBUILD_SHARE` of a table's rows, and at least a
row group's worth (:data:`REBUILD_MIN_ROWS`), :func:`rebuild_due` says so and the next run builds every
table from scratch, which leaves none. A full build resets the count and allows the compaction again
(:func:`allow_compaction`), for every table of the database, at its close.

``in_scope(file_id)`` is true for every file in a full run and for the files in scope in an
incremental one; a model uses it where the filter on its output would not reach its inputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from flows.methodology import Methodology
from flows.progress import show
from flows.reference import load_regions

TRANSFORMS = Path(__file__).resolve().parent
LAYERS = ("staging", "scoring", "marts")
MODELS: tuple[str, ...] = (
    "staging/stg_submissions",
    "staging/stg_spd_answers",
    "staging/stg_innovations",
    "staging/stg_sid_answers",
    "staging/stg_evidence",
    "staging/stg_verification",
    "scoring/indicator_scores",
    "scoring/innovation_scores",
    "marts/region_scores",
    "marts/reconciliation_files",
    "marts/reconciliation",
)
# the share of an incremental table's rows deleted since it was built whole at which it is built again
REBUILD_SHARE = 0.25
REBUILD_MIN_ROWS = 122_880  # one DuckDB row group: fewer deleted rows than that waste next to nothing
DELETED_DDL = "create table if not exists incremental_deleted (name varchar primary key, deleted bigint)"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_INCREMENTAL = re.compile(r"-- incremental: ([a-z_]+)\s*$")
_YEAR_WIDE = re.compile(r"-- year-wide\s*$")
_EPHEMERAL = re.compile(r"-- ephemeral\s*$")
_COMMENT = re.compile(r"--[^\n]*")


def parameters_of(sql: str) -> list[str]:
    """The ``$name`` parameters a SQL text uses (comments ignored)."""
    return sorted(set(_PARAM.findall(_COMMENT.sub("", sql))))


def bind(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    missing = [p for p in parameters_of(sql) if p not in params]
    if missing:
        raise KeyError(f"parameters {missing} not provided")
    return {p: params[p] for p in parameters_of(sql)}


_FINAL_ORDER = re.compile(r"\norder by ([^;()]+)$", re.I)


def model_config(sql: str) -> tuple[str, str | None]:
    """How an incremental run treats a model: ``("incremental", key column)``, ``("year-wide", None)``,
    ``("ephemeral", None)`` (a view of the run's) or ``("table", None)`` (always rebuilt)."""
    first = sql.split("\n", 1)[0]
    incremental = _INCREMENTAL.match(first)
    if incremental:
        return "incremental", incremental.group(1)
    if _EPHEMERAL.match(first):
        return "ephemeral", None
    return ("year-wide", None) if _YEAR_WIDE.match(first) else ("table", None)


def _split(sql: str) -> tuple[str, str | None]:
    """A model's SELECT without comments, and its final top-level ``order by`` list (None if none)."""
    body = _COMMENT.sub("", sql).strip().rstrip(";")
    order = _FINAL_ORDER.search(body)
    return (body, None) if order is None else (body[:order.start()], order.group(1).strip())


def model_order(model: str) -> str | None:
    """The final top-level ``order by`` of a model (``scoring/indicator_scores``), without the keywords."""
    return _split((TRANSFORMS / f"{model}.sql").read_text(encoding="utf-8"))[1]


def materialise(con: duckdb.DuckDBPyConnection, path: Path, params: Mapping[str, Any], sort: bool = True,
                sort_apart: bool = True) -> int:
    """Run the SELECT of a ``.sql`` file into a table named after the file; returns its row count.

    A final top-level ``order by`` is applied in a second statement over the materialised rows: DuckDB
    then never holds the joins' hash tables and the sort at once, so a national year at ten times its
    size fits in a small memory limit (the rows are the same, in the same order). ``sort=False``
    leaves it out (incremental models: their order is applied when they are published);
    ``sort_apart=False`` sorts in the same statement, for a table far smaller than the tables it joins, whose
    second statement costs more time than the memory it spares is worth (validation's ``quarantine`` and
    ``data_quality``: ~46,000 warnings of a national year; 0.03-0.04 s of a one-region re-run's validation).
    """
    sql = path.read_text(encoding="utf-8")
    name = path.stem
    body, order = _split(sql)
    if order is not None and sort and not sort_apart:
        con.execute(f"create or replace table {name} as {body} order by {order}", bind(sql, params))
    elif order is None or not sort:
        con.execute(f"create or replace table {name} as {body}", bind(sql, params))
    else:
        con.execute(f"create or replace temp table {name}__unsorted as {body}", bind(sql, params))
        con.execute(f"create or replace table {name} as select * from {name}__unsorted "  # noqa: S608
                    f"order by {order}")
        con.execute(f"drop table {name}__unsorted")
    return int(con.execute(f"select count(*) from {name}").fetchall()[0][0])  # noqa: S608


def update_incremental(con: duckdb.DuckDBPyConnection, path: Path, params: Mapping[str, Any], key: str) -> int:
    """Replace the rows of the files in ``transform_scope`` by the model's rows for them; returns the
    table's row count. Row order is not kept (see :func:`model_order`)."""
    sql = path.read_text(encoding="utf-8")
    name = path.stem
    body = _split(sql)[0]
    deleted = con.execute(f"delete from {name} where {key} in (select file_id from transform_scope)")  # noqa: S608
    con.execute("insert into incremental_deleted values (?, ?) on conflict do update "
                "set deleted = incremental_deleted.deleted + excluded.deleted", [name, deleted.fetchall()[0][0]])
    con.execute(f"insert into {name} select * from ({body}) where {key} in "  # noqa: S608
                "(select file_id from transform_scope)", bind(sql, params))
    return int(con.execute(f"select count(*) from {name}").fetchall()[0][0])  # noqa: S608


def define_ephemeral(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """An ephemeral model as a temporary view of this connection (a table of that name, from a layout
    that materialised it, is dropped). A view holds no bound values: such a model takes no parameters."""
    sql = path.read_text(encoding="utf-8")
    if parameters_of(sql):
        raise ValueError(f"{path.name}: an ephemeral model takes no parameters, found {parameters_of(sql)}")
    kept = con.execute("select database_name from duckdb_tables() where table_name = ? and schema_name = 'main' "
                       "and database_name = current_database()", [path.stem]).fetchall()
    for (database,) in kept:
        con.execute(f'drop table "{database}".main.{path.stem}')
    con.execute(f"create or replace temp view {path.stem} as {_split(sql)[0]}")


def run_model(con: duckdb.DuckDBPyConnection, model: str, params: Mapping[str, Any]) -> int:
    """Materialise one model of ``transforms/`` as a table named after its file."""
    return materialise(con, TRANSFORMS / f"{model}.sql", params)


def run_models(con: duckdb.DuckDBPyConnection, params: Mapping[str, Any],
               models: tuple[str, ...] = MODELS, scope: list[int] | None = None,
               built: tuple[str, ...] = ()) -> dict[str, int]:
    """Build every model (``scope=None``), or only what the files ``scope`` changed (see the module
    docstring): the caller vouches that the files outside ``scope`` would be scored as they were, and
    that the ``built`` year-wide models are current."""
    from flows.faults import pause_point

    con.execute("create or replace temp table transform_scope (file_id bigint)")
    con.execute(DELETED_DDL)
    if scope is None:
        con.execute("delete from incremental_deleted")  # every table is built whole
        allow_compaction(con)
        con.execute("create or replace temp macro in_scope(f) as true")
    else:
        con.execute("insert into transform_scope select unnest(?::bigint[])", [scope])
        con.execute("create or replace temp macro in_scope(f) as f in (select file_id from transform_scope)")
    counts = {}
    for done, model in enumerate(models):
        path = TRANSFORMS / f"{model}.sql"
        show(f"score: {path.stem}", done, len(models))
        kind, key = model_config(path.read_text(encoding="utf-8"))
        if kind == "ephemeral":  # no rows of its own to count
            define_ephemeral(con, path)
        elif (scope is None and model not in built) or kind == "table":
            counts[path.stem] = materialise(con, path, params, sort=kind != "incremental")
        elif kind == "incremental" and key is not None:
            counts[path.stem] = update_incremental(con, path, params, key)
        else:  # year-wide, kept or built before the scope was worked out
            counts[path.stem] = int(con.execute(f"select count(*) from {path.stem}").fetchall()[0][0])  # noqa: S608
        pause_point(f"transform:after-{path.stem}")
    return counts


def allow_compaction(con: duckdb.DuckDBPyConnection) -> None:
    """Let DuckDB compact row groups with deleted rows at its next checkpoint (its default): a stage that
    builds from scratch pays it once, for what incremental runs left."""
    con.execute("reset max_vacuum_tasks")


def rebuild_due(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The incremental tables of which incremental runs deleted at least :data:`REBUILD_SHARE` of the
    rows (and :data:`REBUILD_MIN_ROWS`) since they were built whole: the next run should build everything
    from scratch."""
    con.execute(DELETED_DDL)
    tables = {t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'main' "
                                        "and not temporary").fetchall()}
    due = []
    for name, deleted in con.execute("select name, deleted from incremental_deleted where deleted >= ? "
                                     "order by name", [REBUILD_MIN_ROWS]).fetchall():
        if name not in tables:
            continue
        rows = int(con.execute(f"select count(*) from {name}").fetchall()[0][0])  # noqa: S608
        if deleted >= REBUILD_SHARE * (rows + deleted):
            due.append(str(name))
    return due


def _table(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    data = pa.Table.from_pylist(rows, schema=schema)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute(f"create or replace table {name} as select * from data")  # noqa: S608


# The level a numeric value earns from its row's cut-points (IID.md §3), shared by validation and scoring.
VALUE_LEVEL_MACRO = """
create or replace macro value_level(v, kind, direction, c1, c2, c3) as
    case when v is not null and kind = 'numeric' then
         case when direction = 'higher' then (v >= c1)::int + (v >= c2)::int + (v >= c3)::int
              else (v < c1)::int + (v < c2)::int + (v < c3)::int end
    end
"""

# A value written as text that reads two ways (ANS010): one separator before exactly three digits (`1.500`,
# `-12,250`) is read as a decimal, 1.5, where an Indonesian writer may mean 1500. The text where it is so, else
# null; only on a numeric row, where the value is scored. A number written as a number is exact; `0.125` and
# `1.500.000` (not a number, ANS005) are not read two ways.
AMBIGUOUS_VALUE_MACRO = """
create or replace macro ambiguous_value(is_text, raw, kind) as
    case when kind = 'numeric' and is_text and regexp_full_match(raw, '[-+]?[1-9][0-9]{0,2}[.,][0-9]{3}') then raw end
"""


# The locators landing does not keep (flows/landing.py), from a row's place (`format`: its file's,
# landing_files.format): a SID answer's is its row of the sheet `sid` in a workbook, its place in its innovation's
# `sid` list in JSON; an evidence item's is its answer's with its place in the answer's evidence after it
LOCATOR_MACROS = """
create or replace macro sid_locator(format, position, innovation_locator) as
    case when format = 'xlsx' then 'sid!' || position else innovation_locator || '.sid[' || position || ']' end;
create or replace macro evidence_locator(format, answer_locator, position) as
    answer_locator || case when format = 'xlsx' then '#evidence[' else '.evidence[' end || position || ']'
"""


def load_reference(con: duckdb.DuckDBPyConnection, year: int, method: Methodology) -> None:
    """The year's region master and the method (rows, bands, affairs) as tables for the models, and the
    ``value_level``, ``ambiguous_value``, ``sid_locator`` and ``evidence_locator`` macros."""
    con.execute(VALUE_LEVEL_MACRO)
    con.execute(AMBIGUOUS_VALUE_MACRO)
    con.execute(LOCATOR_MACROS)
    _table(con, "regions", [r.__dict__ for r in load_regions(year)], pa.schema([
        ("code", pa.string()), ("name", pa.string()), ("level", pa.string()), ("province_code", pa.string()),
        ("autonomous", pa.bool_()), ("tertinggal", pa.bool_()), ("perbatasan", pa.bool_()),
        ("active_from", pa.int64())]))
    rows = []
    for r in method.rows:
        c = r.cutpoints or (None, None, None)
        lo, hi = r.value_range or (None, None)
        rows.append({"code": r.code, "part": r.part, "indicator": r.indicator, "name": r.name, "name_en": r.name_en,
                     "weight": Decimal(str(r.weight)), "kind": r.kind, "direction": r.direction, "c1": c[0], "c2": c[1], "c3": c[2],  # noqa: E501
                     "value_min": lo, "value_max": hi})
    _table(con, "method_rows", rows, pa.schema([
        ("code", pa.string()), ("part", pa.string()), ("indicator", pa.int64()), ("name", pa.string()),
        ("name_en", pa.string()), ("weight", pa.decimal128(9, 4)), ("kind", pa.string()), ("direction", pa.string()),
        ("c1", pa.float64()), ("c2", pa.float64()), ("c3", pa.float64()),
        ("value_min", pa.float64()), ("value_max", pa.float64())]))
    _table(con, "method_bands", [{"predicate": b.predicate, "min_iid": Decimal(f"{b.min:.2f}"),
                                  "max_iid": Decimal(f"{b.max:.2f}"), "position": i}
                                 for i, b in enumerate(method.bands)], pa.schema([
        ("predicate", pa.string()), ("min_iid", pa.decimal128(5, 2)), ("max_iid", pa.decimal128(5, 2)),
        ("position", pa.int64())]))
    _table(con, "method_affairs", [a.model_dump() for a in method.affairs], pa.schema([
        ("name", pa.string()), ("group", pa.string()), ("basic_service", pa.bool_())]))
