"""Suite frames are read from DuckDB through Arrow (``query_frame``): the same frames, dtypes included,
as DuckDB's ``df()``, which GX validated before, except that datetimes are in nanoseconds where they fit;
GX's results on them are the same as on ``df()``'s microseconds."""

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


def _nanoseconds_where_they_fit(frame: pd.DataFrame) -> pd.DataFrame:
    """df()'s frame with each datetime column without a time zone in nanoseconds, if all its values fit."""
    for name in frame.columns:
        if str(frame[name].dtype) == "datetime64[us]":
            low, high = frame[name].min(), frame[name].max()
            if pd.isna(low) or (pd.Timestamp.min <= low and high <= pd.Timestamp.max):
                frame[name] = frame[name].astype("datetime64[ns]")
    return frame


def _same(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> pd.DataFrame:
    ours, theirs = query_frame(con, sql, params), _nanoseconds_where_they_fit(con.execute(sql, params).df())
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=True, check_exact=True)
    return ours


def test_every_type_and_null_as_df_gives_it() -> None:
    con = duckdb.connect()
    frame = _same(con, TYPES, {})
    assert str(frame["i32"].dtype) == "Int32" and str(frame["never_null"].dtype) == "str"
    # 9999-12-31 has no nanosecond timestamp: that column stays as df() gives it; a time zone stays too
    assert [str(frame[c].dtype) for c in ("day", "moment", "moment_tz")] == [
        "datetime64[us]", "datetime64[ns]", str(con.execute(TYPES).df()["moment_tz"].dtype)]
    assert str(query_frame(con, TYPES + " where never_null = 'x'", {})["day"].dtype) == "datetime64[ns]"
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


def test_gx_finds_the_same_on_dates_in_nanoseconds_as_in_microseconds(validated: Home) -> None:
    """Every record suite on the frames of a defective year, once as validated (datetimes in nanoseconds)
    and once in df()'s microseconds: the same failures and GX results. The innovations' frame is also
    validated with a trial date GX can only compare in microseconds (9999-12-31) beside an implementation
    date in nanoseconds."""
    import json
    import re

    from expectations import stage
    from expectations.validate import failures_of, suite_parameters, suite_runner

    con = duckdb.connect(str(validated.work_db(YEAR)), read_only=True)
    regions = [(c, bool(a)) for c, a in con.execute("select code, autonomous from regions").fetchall()]
    params = suite_parameters(for_year(YEAR).method, YEAR, regions)
    files = [f for (f,) in con.execute("select file_id from landing_files").fetchall()]
    runner = suite_runner()

    def outcome(name: str, frame: pd.DataFrame) -> tuple[list[dict[str, object]], str]:
        frame = frame.copy()
        frame.index = pd.Index(frame["record_id"].to_numpy())
        result = runner.validate(name, frame, params)
        text = json.dumps(result.to_json_dict(), sort_keys=True, default=str)
        return failures_of(name, result, frame).to_pylist(), re.sub(r'"id": "[0-9a-f-]+"|"ge_load_time": "[0-9TZ.]+"',
                                                                    "", text)

    def in_microseconds(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.astype({c: "datetime64[us]" for c in frame.columns if str(frame[c].dtype) == "datetime64[ns]"})

    converted, deadline_failures = 0, 0
    for name in stage.RECORD_SUITES:
        for _, frame in stage.frame_chunks(con, name, None, files=files):
            converted += sum(str(dtype) == "datetime64[ns]" for dtype in frame.dtypes)
            found = outcome(name, frame)
            assert found == outcome(name, in_microseconds(frame)), name
            deadline_failures += sum(f["rule"] == "INO009" for f in found[0])
            if name == "innovations":
                far = frame.copy()
                far["trial_date"] = far["trial_date"].astype("datetime64[us]")
                far.loc[far.index[0], "trial_date"] = pd.Timestamp("9999-12-31")
                assert str(far["implementation_date"].dtype) == "datetime64[ns]"
                failures = outcome(name, far)[0]
                assert failures == outcome(name, in_microseconds(far))[0]
                assert any(f["rule"] == "INO009" and f["record_id"] == far["record_id"].iloc[0] for f in failures)
    con.close()
    assert converted >= 2 and deadline_failures > 0
