"""The validate stage: suites on landing tables → quarantine, data quality, submission status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from expectations.validate import FAILURE_SCHEMA, SQL, SuiteOutcome, SuiteRunner, run_suite, suite_parameters
from flows.methodology import Methodology
from transforms.runner import load_reference, materialise

RECORD_SUITES = ("files", "submissions", "spd_answers", "innovations", "sid_answers", "evidence")


@dataclass(frozen=True)
class ValidationSummary:
    year: int
    suites: list[dict[str, Any]]
    quarantined: int
    warnings: int
    submissions: dict[str, int]


def validate_year(con: duckdb.DuckDBPyConnection, year: int, method: Methodology,
                  now: datetime | None = None, docs_dir: Path | None = None) -> ValidationSummary:
    """Validate the landing tables of a year in the work database; writes the outcome tables."""
    import pyarrow as pa

    load_reference(con, year, method)
    empty = pa.Table.from_pylist([], schema=FAILURE_SCHEMA)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute("create or replace table validation_failures as select * from empty")
    regions = [(c, bool(a)) for c, a in con.execute("select code, autonomous from regions").fetchall()]
    params = suite_parameters(method, year, regions, now)
    runner = SuiteRunner()
    outcomes: list[SuiteOutcome] = [run_suite(con, runner, name, params) for name in RECORD_SUITES]
    sql_params = {"year": year, "deadline": method.deadline_for(year)}
    materialise(con, SQL / "rejected_records.sql", sql_params)
    materialise(con, SQL / "submission_status.sql", sql_params)
    outcomes.append(run_suite(con, runner, "verification", params, sql_params))
    quarantined = materialise(con, SQL / "quarantine.sql", sql_params)
    warnings = materialise(con, SQL / "data_quality.sql", sql_params)
    if docs_dir is not None:
        runner.build_docs(docs_dir, f"annual-{year}")
    status = dict(con.execute("select status, count(*) from submission_status group by all").fetchall())
    return ValidationSummary(year, [o.as_dict() for o in outcomes], quarantined, warnings,
                             {str(k): int(v) for k, v in status.items()})
