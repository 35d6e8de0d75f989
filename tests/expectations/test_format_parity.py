"""The same submission as JSON and as an XLSX workbook is scored the same and quarantined under the same rules.

One home per format, one region per case; the pipeline runs once per home (ingest → validate → transform).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import innovation, score, submission, write_home, xlsx_bytes

YEAR = 2024


def _duplicated_id(code: str) -> dict[str, Any]:
    """Innovations 1 and 3 share an id and answer different rows: the auditor's case scored 19.11 as JSON and
    21.39 as XLSX (the workbook gave the first innovation every sid row of the id)."""
    first, third = innovation(f"{code}-A", 60), innovation(f"{code}-A", 80)
    first["sid"] = first["sid"][:5]
    return submission(code, spd_total=30, innovations=[first, innovation(f"{code}-B", 40), third])


CASES: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "duplicated_id": ("35.15", _duplicated_id),
}
SCORE_COLUMNS = ("submitted", "n_innovations", "spd_score", "sid_maturity_score", "innovation_count_score",
                 "total_score", "iid", "predicate")


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, duckdb.DuckDBPyConnection]:
    out = {}
    for fmt in ("json", "xlsx"):
        root: Path = tmp_path_factory.mktemp(fmt)
        files = {f"{case}.{fmt}": sub if fmt == "json" else xlsx_bytes(sub)
                 for case, (code, build) in CASES.items() for sub in (build(code),)}
        out[fmt] = score(write_home(root, YEAR, files), YEAR)
    return out


def _scores(con: duckdb.DuckDBPyConnection, code: str) -> tuple[Any, ...]:
    return tuple(con.execute(f"select {', '.join(SCORE_COLUMNS)} from region_scores where region_code = ?",
                             [code]).fetchall()[0])


def _rules(con: duckdb.DuckDBPyConnection, case: str) -> list[tuple[str, str, int]]:
    return con.execute("select record_type, rule, count(*) from quarantine where source_file like ? "
                       "group by all order by all", [f"{case}.%"]).fetchall()


@pytest.mark.parametrize("case", list(CASES))
def test_both_formats_score_alike(homes: dict[str, duckdb.DuckDBPyConnection], case: str) -> None:
    code = CASES[case][0]
    assert _scores(homes["json"], code) == _scores(homes["xlsx"], code)
    assert _rules(homes["json"], case) == _rules(homes["xlsx"], case)


def test_a_duplicated_id_rejects_every_innovation_carrying_it(homes: dict[str, duckdb.DuckDBPyConnection]) -> None:
    """Both innovations with the id go, with all their answers (5 + 20 rows); the other one is scored alone."""
    for con in homes.values():
        assert _rules(con, "duplicated_id") == [("evidence", "INO007", 25), ("innovation", "INO007", 2),
                                                ("sid_answer", "INO007", 25)]
        scored = con.execute("select innovation_id from innovation_scores where region_code = '35.15'").fetchall()
        assert scored == [("35.15-B",)]
    # in the workbook each sid row of the id is rejected itself, naming the id: it belongs to no one innovation
    rows = homes["xlsx"].execute("select distinct value, cascaded from quarantine "
                                 "where source_file = 'duplicated_id.xlsx' and record_type = 'sid_answer'").fetchall()
    assert rows == [("35.15-A", False)]
