"""Suite frames are read from DuckDB through Arrow (``query_frame``): the same frames, dtypes included,
as DuckDB's ``df()``, which GX validated before."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from expectations.stage import query_frame
from expectations.validate import SUITE_ORDER, frame_sql
from flows import pipeline
from flows.generator import generate_year
from flows.methodology import for_year
from flows.settings import Home
from transforms.runner import bind

YEAR = 2024
TYPES = """
select * from (values
    (1::tinyint, 1::smallint, 1::integer, 1::bigint, 1::utinyint, 1::uinteger, true, 1.5::double, 'a',
     date '2024-01-31', timestamp '2024-01-31 10:00:00', timestamptz '2024-01-31 10:00:00+07', 'x'),
    (null, null, null, null, null, null, null, null, null, null, null, null, 'y'),
    (-3, 300, -70000, 2::bigint ** 40, 255, 4000000000, false, 'nan'::double, '', date '9999-12-31',
     timestamp '1900-01-01 00:00:00', timestamptz '2262-04-12 00:00:00+00', 'z')
) t(i8, i16, i32, i64, u8, u32, flag, number, label, day, moment, moment_tz, never_null)
"""


def _same(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> pd.DataFrame:
    ours, theirs = query_frame(con, sql, params), con.execute(sql, params).df()
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=True, check_exact=True)
    return ours


def test_every_type_and_null_as_df_gives_it() -> None:
    con = duckdb.connect()
    frame = _same(con, TYPES, {})
    assert str(frame["i32"].dtype) == "Int32" and str(frame["never_null"].dtype) == "str"
    _same(con, TYPES + " where never_null <> 'y'", {})  # no nulls: plain numpy dtypes
    _same(con, TYPES + " where false", {})  # no rows
    # types the Arrow path does not convert as df() does: the frame is read with df() itself
    for other in ("1.25::decimal(12, 4)", "null::decimal(12, 4)", "1::hugeint", "[1, 2]", "time '10:00:00'"):
        _same(con, f"select {other} as x, 'a' as label union all select null, null", {})


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("frames"))
    generate_year(home, YEAR, seed=5, scale=0.02, defect_rate=0.3)
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    return home


def test_every_suite_frame_of_a_defective_year_as_df_gives_it(validated: Home) -> None:
    con = duckdb.connect(str(validated.work_db(YEAR)), read_only=True)
    con.execute("create temp table chunk_files as select file_id from landing_files")
    values = {"year": YEAR, "deadline": for_year(YEAR).method.deadline_for(YEAR), "chunk_first": 0,
              "chunk_last": 10**9}
    nullable = 0
    for name in SUITE_ORDER:
        sql = frame_sql(name)
        frame = _same(con, f"{sql} order by record_id", bind(sql, values))
        assert len(frame) > 0, name
        nullable += sum(1 for dtype in frame.dtypes if str(dtype)[0].isupper() or str(dtype) == "boolean")
    assert nullable > 0  # the defects leave nulls in integer columns
