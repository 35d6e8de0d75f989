"""Incremental scoring: only changed submission files are scored again, with the same result as a
build from scratch (every model table, row for row)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import innovation, submission, write_home
from homecopy import copy_home

from flows import pipeline
from flows.settings import Home
from transforms.runner import MODELS, TRANSFORMS, model_config, run_models

YEAR = 2024
VERIFY = [{"region_code": "33.01", "innovation_id": "33.01-A", "indicator": "", "decision": "reject",
           "verified_level": "", "note": "bukti tidak sah"}]


def _home(root: Path) -> Home:
    return write_home(root, YEAR, {
        "a.json": submission("33.01", spd_total=30, innovations=[innovation("33.01-A", 60), innovation("33.01-B", 40)]),
        "b.json": submission("33.02", spd_total=45, innovations=[innovation("33.02-A", 80)]),
        "c.json": submission("33.03", spd_total=20, innovations=[innovation("33.03-A", 20)]),
        "d.json": submission("33.04", spd_total=50),
    }, verification=VERIFY)


def _run(home: Home) -> dict:
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    return pipeline.transform(home, YEAR)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict]:
    """``_home`` after its first run, made once for the tests that start there: each takes a copy (``_scored``)."""
    home = _home(tmp_path_factory.mktemp("first") / "home")
    return home, _run(home)


def _scored(first_run: tuple[Home, dict], root: Path) -> Home:
    """A copy of the home of ``first_run`` at ``root``, as if it had been made and run there."""
    return copy_home(first_run[0].root, root)


def _assert_same_as_scratch(home: Home, tmp_path: Path) -> None:
    """Every model table equals what a full build of the same work database gives."""
    copy = tmp_path / "scratch.duckdb"
    shutil.copy(home.work_db(YEAR), copy)
    con = duckdb.connect(str(copy))
    try:
        run_models(con, pipeline.transform_params(YEAR))
        con.execute("attach ? as inc (read_only)", [str(home.work_db(YEAR))])
        for model in MODELS:
            name = Path(model).stem
            if model_config((TRANSFORMS / f"{model}.sql").read_text(encoding="utf-8"))[0] == "ephemeral":
                continue  # a view of the run's connection, inlined by the tables compared
            for a, b in ((name, f"inc.{name}"), (f"inc.{name}", name)):
                extra = con.execute(f"select count(*) from (select * from {a} except all select * from {b})").fetchall()
                assert extra == [(0,)], f"{name}: {extra[0][0]} rows of {a} not in {b}"
    finally:
        con.close()


def test_only_changed_files_are_scored_again_with_the_same_result(tmp_path: Path,
                                                                  first_run: tuple[Home, dict]) -> None:
    home = _scored(first_run, tmp_path / "home")
    assert first_run[1]["files_scored"] == 4
    raw = home.raw_year(YEAR)

    # a later corrected resubmission of 33.02: its new file and its superseded one are scored again
    (raw / "b2.json").write_text(json.dumps(submission("33.02", spd_total=10, innovations=[innovation("33.02-A", 30)],
                                                       submitted_at=f"{YEAR}-07-02T10:00:00+07:00")))
    second = _run(home)
    assert (second["files_scored"], second["incremental"]) == (2, True)
    _assert_same_as_scratch(home, tmp_path)

    # a file changed in place, and a file removed
    (raw / "c.json").write_text(json.dumps(submission("33.03", spd_total=35)))
    (raw / "d.json").unlink()
    result = _run(home)
    assert result["files_scored"] == 3  # c.json as it was and as it is (a new file id), d.json's rows dropped
    _assert_same_as_scratch(home, tmp_path)
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        assert con.execute("select count(*) from indicator_scores where region_code = '33.04'").fetchall() == [(0,)]
        assert con.execute("select submitted from region_scores where region_code = '33.04'").fetchall() == [(False,)]
        assert con.execute("select count(*) from reconciliation where not balanced").fetchall() == [(0,)]
    finally:
        con.close()
    # the work tables of incremental models have no order; their published files have the model's
    release = pipeline.publish(home, YEAR, {"run_id": "test"})
    con = duckdb.connect()
    try:
        target = str(Path(release["path"]) / "indicator_scores.parquet")
        rows = con.execute("select region_code, part, innovation_id, indicator from read_parquet(?)",
                           [target]).fetchall()
        assert len(rows) > 40
        assert rows == sorted(rows, key=lambda r: (r[0], r[1], r[2] or "", r[3]))
    finally:
        con.close()


def _capped(home: Home, region: str) -> int:
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        return int(con.execute("select count(*) from indicator_scores where region_code = ? "
                               "and credit_reason like 'capped by verification%'", [region]).fetchall()[0][0])
    finally:
        con.close()


def test_verification_decisions_score_their_region_again_and_year_wide_changes_everything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import transforms.runner as runner

    built: list[str] = []
    materialise = runner.materialise

    def recording(con: duckdb.DuckDBPyConnection, path: Path, *args: Any, **kwargs: Any) -> int:
        built.append(path.stem)
        return materialise(con, path, *args, **kwargs)

    monkeypatch.setattr(runner, "materialise", recording)
    home = _home(tmp_path / "home")
    _run(home)
    assert built.count("stg_verification") == 1  # built once, before the files' fingerprints
    (home.raw_year(YEAR) / "e.json").write_text(json.dumps(submission("33.05", spd_total=25)))
    built.clear()
    assert _run(home)["files_scored"] == 1 and "stg_verification" not in built  # decisions unchanged: kept
    verification = home.raw_year(YEAR) / "verification" / "verification.csv"
    # another decision acts on 33.02's answers only: its file is scored again, the others are kept
    verification.write_text(verification.read_text() + "33.02,33.02-A,,reject,,salah\n")
    assert (_run(home)["files_scored"], pipeline.transform(home, YEAR)["skipped"]) == (1, True)
    assert built.count("stg_verification") == 1
    _assert_same_as_scratch(home, tmp_path)
    c = json.loads((home.raw_year(YEAR) / "c.json").read_text())
    answer = next(a for a in c["innovations"][0]["sid"] if a["level"] >= 2)
    verification.write_text(verification.read_text()
                            + f"33.03,33.03-A,{answer['indicator']},adjust,{answer['level'] - 1},lebih rendah\n")
    assert _run(home)["files_scored"] == 1
    _assert_same_as_scratch(home, tmp_path)
    assert _capped(home, "33.03") == 1
    # 33.03 resubmits with that answer below the decision's level: the adjust would now raise it
    # (VER003), so the decision no longer applies; only 33.03's files are scored again
    answer["level"] = answer["level"] - 2
    (home.raw_year(YEAR) / "c2.json").write_text(json.dumps({**c, "submitted_at": f"{YEAR}-07-03T10:00:00+07:00"}))
    result = _run(home)
    assert (result["files_scored"], result["incremental"]) == (2, True)
    _assert_same_as_scratch(home, tmp_path)
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        assert con.execute("select count(*) from validation_failures where suite = 'verification' "
                           "and rule = 'VER003'").fetchall() == [(1,)]
    finally:
        con.close()
    assert _capped(home, "33.03") == 0
    forced = pipeline.transform(home, YEAR, force=True)
    assert (forced["files_scored"], forced["incremental"]) == (6, False)
    # a full re-ingest numbers the records again: nothing built from the old numbers is kept
    (home.raw_year(YEAR) / "f.json").write_text(json.dumps(submission("33.06", spd_total=25)))
    pipeline.ingest(home, YEAR, force=True)
    after = _run(home)
    assert (after["files_scored"], after["incremental"]) == (7, False)
    _assert_same_as_scratch(home, tmp_path)


def test_an_interrupted_scoring_is_rebuilt_from_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       first_run: tuple[Home, dict]) -> None:
    home = _scored(first_run, tmp_path / "home")
    (home.raw_year(YEAR) / "e.json").write_text(json.dumps(submission("33.05", spd_total=25)))
    import transforms.runner as runner

    real = runner.update_incremental

    def crash_after_first(con: duckdb.DuckDBPyConnection, path: Path, params: dict, key: str) -> int:
        real(con, path, params, key)
        raise RuntimeError("killed")

    monkeypatch.setattr(runner, "update_incremental", crash_after_first)
    with pytest.raises(RuntimeError, match="killed"):
        _run(home)
    monkeypatch.undo()
    assert pipeline.transform(home, YEAR)["files_scored"] == 5  # not trusted: built again
    _assert_same_as_scratch(home, tmp_path)


def _unaccounted(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Per file: (records scored, records unaccounted for) as reconciliation_files counts them now."""
    from transforms.runner import materialise

    con.execute("create or replace temp macro in_scope(f) as true")
    materialise(con, TRANSFORMS / "marts" / "reconciliation_files.sql", pipeline.transform_params(YEAR))
    return {str(f): (int(s), int(u)) for f, s, u in con.execute(
        "select source_file, records_scored, records_unaccounted from reconciliation_files").fetchall()}


@pytest.mark.parametrize("kind", ["submission", "spd_answer", "sid_answer", "innovation"])
def test_a_record_missing_from_the_scored_tables_is_unaccounted_for_with_its_evidence(
        tmp_path: Path, kind: str, first_run: tuple[Home, dict]) -> None:
    """Each kind of record is looked up among the outputs of its own kind; a piece of evidence counts as
    scored with the answer it belongs to, so an answer that went missing takes its evidence with it."""
    home = _scored(first_run, tmp_path / "home")
    con = duckdb.connect(str(home.work_db(YEAR)))
    try:
        before = _unaccounted(con)
        assert all(u == 0 for _, u in before.values())
        if kind == "submission":  # a counting submission no longer counting: only the submission record
            con.execute("update stg_submissions set status = 'gone' where source_file = 'b.json'")
            lost = 1
        elif kind == "innovation":
            con.execute("delete from innovation_scores where innovation_id = '33.02-A'")
            lost = 1
        else:
            part = kind.split("_")[0]
            answer = con.execute("select record_id from indicator_scores where part = ? and source_file = 'b.json' "
                                 "order by record_id limit 1", [part]).fetchall()[0][0]
            evidence = con.execute("select count(*) from landing_evidence where answer_table = ? "
                                   "and answer_record_id = ?", [f"{part}_answers", answer]).fetchall()[0][0]
            assert evidence > 0
            con.execute("delete from indicator_scores where part = ? and record_id = ?", [part, answer])
            lost = 1 + evidence
        after = _unaccounted(con)
    finally:
        con.close()
    scored, _ = before["b.json"]
    assert after["b.json"] == (scored - lost, lost)
    assert {f: v for f, v in after.items() if f != "b.json"} == {f: v for f, v in before.items() if f != "b.json"}


def test_replaced_rows_stay_deleted_until_a_share_of_a_table_then_everything_is_built_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_run: tuple[Home, dict]) -> None:
    """An incremental run leaves the rows it replaces deleted in place, without DuckDB's compaction when
    the database closes, and counts them per table; once they reach the share (and the minimum) of a
    table, the next run builds everything from scratch, which resets the count. The tables are those of a
    build from scratch throughout."""
    import transforms.runner as runner

    home = _scored(first_run, tmp_path / "home")

    def work() -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(home.work_db(YEAR)))

    with work() as con:
        assert con.execute("select count(*) from incremental_deleted").fetchall() == [(0,)]
        replaced = con.execute("select count(*) from indicator_scores where region_code = '33.02'").fetchall()[0][0]
    assert replaced > 0
    monkeypatch.setattr(runner, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(runner, "REBUILD_SHARE", 0.9)
    (home.raw_year(YEAR) / "b2.json").write_text(json.dumps(submission(
        "33.02", spd_total=10, innovations=[innovation("33.02-A", 30)], submitted_at=f"{YEAR}-07-02T10:00:00+07:00")))
    second = _run(home)
    assert (second["files_scored"], second["incremental"]) == (2, True)
    _assert_same_as_scratch(home, tmp_path)
    incremental = {Path(m).stem for m in MODELS
                   if runner.model_config((runner.TRANSFORMS / f"{m}.sql").read_text())[0] == "incremental"}
    with work() as con:
        deleted = dict(con.execute("select name, deleted from incremental_deleted").fetchall())
        assert set(deleted) == incremental and deleted["indicator_scores"] == replaced
        assert runner.rebuild_due(con) == []  # 0.9 of no table
        monkeypatch.setattr(runner, "REBUILD_SHARE", 0.01)
        assert "indicator_scores" in runner.rebuild_due(con)
        monkeypatch.setattr(runner, "REBUILD_MIN_ROWS", replaced + 1)
        assert "indicator_scores" not in runner.rebuild_due(con)  # too few rows to matter
        monkeypatch.setattr(runner, "REBUILD_MIN_ROWS", 1)
    (home.raw_year(YEAR) / "c.json").write_text(json.dumps(submission("33.03", spd_total=35)))
    third = _run(home)
    assert (third["files_scored"], third["incremental"]) == (5, False)  # built again: every file of the year
    assert "indicator_scores" in third["rebuilt_for_deleted_rows"] and "rebuilt_for_deleted_rows" not in second
    _assert_same_as_scratch(home, tmp_path)
    with work() as con:
        assert con.execute("select count(*) from incremental_deleted").fetchall() == [(0,)]

    def vacuum_tasks(con: duckdb.DuckDBPyConnection) -> int:
        return int(con.execute("select current_setting('max_vacuum_tasks')").fetchall()[0][0])

    # every stage opens the work database without DuckDB's compaction at checkpoints (it would rewrite
    # the row groups an incremental run left rows deleted in); a build from scratch allows it again
    with pipeline.work_database(home, YEAR) as con:
        assert vacuum_tasks(con) == 0
        run_models(con, pipeline.transform_params(YEAR), scope=[], built=("staging/stg_verification",))
        assert vacuum_tasks(con) == 0
        run_models(con, pipeline.transform_params(YEAR), built=("staging/stg_verification",))
        assert vacuum_tasks(con) > 0


def test_stages_built_from_scratch_allow_the_compaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest, validation and scoring from scratch let DuckDB compact what incremental runs left deleted;
    incremental runs do not."""
    import expectations.stage as stage
    import transforms.runner as runner

    allowed: list[str] = []
    real = runner.allow_compaction

    def recording(con: duckdb.DuckDBPyConnection) -> None:
        allowed.append("x")
        real(con)

    monkeypatch.setattr(runner, "allow_compaction", recording)
    monkeypatch.setattr(stage, "allow_compaction", recording)
    home = _home(tmp_path / "home")
    pipeline.ingest(home, YEAR)
    assert len(allowed) == 1  # the first ingest
    pipeline.validate(home, YEAR)
    pipeline.transform(home, YEAR)
    assert len(allowed) == 2  # not the first validation (nothing kept), the first scoring
    (home.raw_year(YEAR) / "e.json").write_text(json.dumps(submission("33.05", spd_total=25)))
    assert _run(home)["incremental"] and len(allowed) == 2  # nothing from scratch
    pipeline.ingest(home, YEAR, force=True)
    assert len(allowed) == 3
    pipeline.validate(home, YEAR, force=True)
    assert len(allowed) == 4
    with duckdb.connect(str(home.work_db(YEAR))) as con:  # kept results of another key: all validated again
        con.execute("update validation_batches set key = 'another'")
        con.execute("delete from stage_state where stage = 'validate'")
    pipeline.validate(home, YEAR)
    assert len(allowed) == 5


def test_ephemeral_models_are_views_of_the_run_and_replace_a_table_of_an_earlier_layout(
        tmp_path: Path, first_run: tuple[Home, dict]) -> None:
    """``stg_sid_answers`` and ``stg_evidence`` are not materialised: the work database holds no table of
    theirs after a run, a table of that name left by a layout that materialised them goes, and the
    scores are those of a build that materialises them. A model that binds values cannot be one."""
    from transforms.runner import define_ephemeral, materialise

    home = _scored(first_run, tmp_path / "home")
    ephemeral = [m for m in MODELS
                 if model_config((TRANSFORMS / f"{m}.sql").read_text(encoding="utf-8"))[0] == "ephemeral"]
    assert sorted(Path(m).stem for m in ephemeral) == ["stg_evidence", "stg_sid_answers"]
    params = pipeline.transform_params(YEAR)
    con = duckdb.connect(str(home.work_db(YEAR)))
    try:
        tables = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert tables.isdisjoint({"stg_evidence", "stg_sid_answers"}) and "indicator_scores" in tables
        views = {v for (v,) in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
        assert views.isdisjoint({"stg_evidence", "stg_sid_answers"})  # the run's own, gone with its connection
        # as an earlier layout left them: materialised tables, then a full build with them as tables
        con.execute("create or replace temp macro in_scope(f) as true")
        for model in ephemeral:
            materialise(con, TRANSFORMS / f"{model}.sql", params)
        materialise(con, TRANSFORMS / "scoring" / "indicator_scores.sql", params)
        con.execute("create temp table as_tables as select * from indicator_scores")
        run_models(con, params)
        tables = {t for (t,) in con.execute("select table_name from duckdb_tables() where not temporary").fetchall()}
        assert tables.isdisjoint({"stg_evidence", "stg_sid_answers"})
        diff = con.execute("select count(*) from (select * from as_tables except all select * from indicator_scores "
                           "union all (select * from indicator_scores except all select * from as_tables))").fetchall()
        assert diff == [(0,)]
        assert con.execute("select count(*) from indicator_scores").fetchall()[0][0] > 0

        bound = tmp_path / "bound.sql"
        bound.write_text("-- ephemeral\nselect $year as year\n", encoding="utf-8")
        with pytest.raises(ValueError, match="takes no parameters"):
            define_ephemeral(con, bound)
    finally:
        con.close()
