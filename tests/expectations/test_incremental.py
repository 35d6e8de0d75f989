"""Incremental validation: only new or changed files are validated; the outcome equals a full validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import innovation, submission, write_home
from homecopy import copy_home
from rebuild import copy_drop_zones

from flows import pipeline
from flows.settings import Home

YEAR = 2024
OUTCOME_TABLES = ("quarantine", "data_quality", "submission_status", "validation_failures")
ID_COLUMNS = ("record_id", "file_id", "submission_record_id", "batch_id", "chunk")  # ids differ between the two homes


def _files() -> dict[str, Any]:
    bad = submission("35.01", spd_total=20, innovations=[innovation("35.01-1", 40)])
    bad["spd"][0]["level"] = "tiga"  # ANS002 on one answer
    bad["innovations"][0]["stage"] = "hampir"  # INO rule on the innovation
    return {"35.78.json": submission("35.78", spd_total=30, innovations=[innovation("35.78-1", 50)]),
            "35.01.json": bad,
            "11.json": submission("11", spd_total=40, innovations=[innovation("11-1", 60)]),
            "broken.json": "{not json"}


def _outcome(home: Home) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        out = {}
        for name in OUTCOME_TABLES:
            columns = [c for (c,) in con.execute("select column_name from information_schema.columns "
                                                 "where table_name = ? order by ordinal_position", [name]).fetchall()
                       if c not in ID_COLUMNS]
            out[name] = sorted(con.execute(f"select {', '.join(columns)} from {name}").fetchall(), key=repr)
        summary = json.loads(con.execute("select summary from validation_summary").fetchall()[0][0])
    finally:
        con.close()
    out["suites"] = [(s["suite"], s["rows"], s["successful_expectations"], sorted(s["failing_rows_by_rule"].items()))
                     for s in summary["suites"]]
    return out


def _quarantine_rules(home: Home) -> set[str]:
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        return {rule for (rule,) in con.execute("select rule from quarantine").fetchall()}
    finally:
        con.close()


def _stages(home: Home, now: datetime | None = None, force: bool = False) -> dict[str, Any]:
    pipeline.ingest(home, YEAR, force=force)
    return pipeline.validate(home, YEAR, now=now, force=force)


@pytest.fixture()
def home(tmp_path: Path) -> Home:
    return write_home(tmp_path / "home", YEAR, _files())


@pytest.fixture(scope="module")
def first_validation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict[str, Any]]:
    """``_files()`` ingested and validated once, from scratch, with what validate returned: never changed;
    the tests that start there take a copy (``validated``)."""
    home = write_home(tmp_path_factory.mktemp("first") / "home", YEAR, _files())
    return home, _stages(home)


@pytest.fixture()
def validated(first_validation: tuple[Home, dict[str, Any]], tmp_path: Path) -> Home:
    """A copy of the home of ``first_validation``, as if ``_files()`` had been written and validated there."""
    return copy_home(first_validation[0].root, tmp_path / "validated")


def _full_validation_of(home: Home, tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The same drop zone validated from scratch in another home."""
    fresh = copy_drop_zones(home, [YEAR], tmp_path / "fresh")
    _stages(fresh)
    return _outcome(fresh)


def test_a_new_file_is_validated_alone_and_the_outcome_equals_a_full_validation(
        first_validation: tuple[Home, dict[str, Any]], validated: Home, tmp_path: Path) -> None:
    home = validated
    assert first_validation[1]["files_validated"] == 4
    changed = submission("35.78", spd_total=10, innovations=[innovation("35.78-1", 20)],
                         submitted_at="2024-07-20T10:00:00+07:00")
    changed["innovations"][0]["sid"][0]["level"] = 9  # a new failure in the new file
    (home.raw_year(YEAR) / "35.78-correction.json").write_text(json.dumps(changed), encoding="utf-8")
    second = _stages(home)
    assert second["files_validated"] == 1
    assert _outcome(home) == _full_validation_of(home, tmp_path)


def test_a_changed_or_removed_file_takes_its_old_failures_with_it(validated: Home, tmp_path: Path) -> None:
    home = validated
    (home.raw_year(YEAR) / "broken.json").unlink()
    fixed = submission("35.01", spd_total=20, innovations=[innovation("35.01-1", 40)])
    (home.raw_year(YEAR) / "35.01.json").write_text(json.dumps(fixed), encoding="utf-8")
    again = _stages(home)
    assert again["files_validated"] == 3  # the first batch no longer holds: its remaining files go again
    outcome = _outcome(home)
    assert outcome["quarantine"] == [] and outcome["validation_failures"] == []
    assert outcome == _full_validation_of(home, tmp_path)


def test_a_file_replaced_in_place_costs_only_the_chunks_it_sat_in(home: Home, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from expectations import stage

    monkeypatch.setattr(stage, "CHUNK_ROWS", 1)  # one file per chunk in every record suite
    first = _stages(home)
    assert first["files_validated"] == 4
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        chunks = con.execute("select suite, count(*) from validation_results group by all").fetchall()
    finally:
        con.close()
    assert dict(chunks)["files"] == 4
    fixed = submission("35.01", spd_total=25, innovations=[innovation("35.01-1", 40)])
    fixed["innovations"][0]["sid"][0]["level"] = 7  # a new failure where the old one was
    (home.raw_year(YEAR) / "35.01.json").write_text(json.dumps(fixed), encoding="utf-8")
    again = _stages(home)
    assert again["files_validated"] == 1  # the other files' chunks are kept, suite by suite
    assert 0 < again["rows_validated"] < first["rows_validated"]
    outcome = _outcome(home)
    assert "ANS002" not in {row[2] for row in outcome["validation_failures"]}
    assert outcome == _full_validation_of(home, tmp_path / "replaced")
    (home.raw_year(YEAR) / "11.json").unlink()
    assert _stages(home)["files_validated"] == 0  # a removed file takes its chunks; nothing is validated
    assert _outcome(home) == _full_validation_of(home, tmp_path / "removed")


def test_kept_results_of_an_earlier_layout_are_dropped_and_every_file_validated(validated: Home) -> None:
    home = validated
    con = duckdb.connect(str(home.work_db(YEAR)))
    try:  # the layout before chunk coverage: no files per chunk, no chunk per failure
        con.execute("alter table validation_results drop column files")
        con.execute("alter table validation_failures drop column chunk")
    finally:
        con.close()
    (home.raw_year(YEAR) / "11-correction.json").write_text(
        json.dumps(submission("11", spd_total=41, submitted_at="2024-07-20T10:00:00+07:00")), encoding="utf-8")
    assert _stages(home)["files_validated"] == 5


def test_removing_a_file_added_later_validates_nothing_again(
        first_validation: tuple[Home, dict[str, Any]], validated: Home) -> None:
    home = validated
    extra = home.raw_year(YEAR) / "11-correction.json"
    extra.write_text(json.dumps(submission("11", spd_total=45, submitted_at="2024-07-20T10:00:00+07:00")),
                     encoding="utf-8")
    assert _stages(home)["files_validated"] == 1
    extra.unlink()
    assert _stages(home)["files_validated"] == 0
    # the drop zone is _files() again: first_validation is its full validation
    assert _outcome(home) == _outcome(first_validation[0])


def test_a_submission_from_the_future_is_validated_again_when_the_clock_moves(home: Home) -> None:
    (home.raw_year(YEAR) / "35.78.json").write_text(json.dumps(submission(
        "35.78", spd_total=30, submitted_at="2030-01-01T10:00:00+07:00")), encoding="utf-8")
    _stages(home, now=datetime(2024, 8, 1, tzinfo=UTC))
    assert "SUB006" in _quarantine_rules(home)
    later = _stages(home, now=datetime(2030, 6, 1, tzinfo=UTC))
    assert later["files_validated"] >= 1
    assert "SUB006" not in _quarantine_rules(home)


def test_force_and_a_changed_method_or_code_validate_every_file(validated: Home,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    home = validated
    assert _stages(home, force=True)["files_validated"] == 4
    monkeypatch.setattr(pipeline, "validation_key", lambda year: "another method or code")
    monkeypatch.setattr(pipeline, "inputs_key", lambda con, year: "another method or code")
    assert _stages(home)["files_validated"] == 4


def test_the_gx_import_is_started_early_only_when_validation_is_expected(home: Home, validated: Home) -> None:
    assert pipeline.validation_expected(home, YEAR)  # the same files, not yet ingested or validated
    home = validated  # ... and once they are
    assert not pipeline.validation_expected(home, YEAR)
    (home.raw_year(YEAR) / "11.json").write_text(json.dumps(submission("11", spd_total=41)), encoding="utf-8")
    assert pipeline.validation_expected(home, YEAR)


def test_gx_is_imported_early_only_beside_a_temporary_server(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from expectations import prefetch
    from flows.annual import _prefetch_validation

    calls: list[dict[str, Any]] = []

    def start(**options: Any) -> bool:
        calls.append(options)
        return True

    monkeypatch.setattr(prefetch, "start", start)
    parameters = {"year": YEAR, "home": str(home.root)}
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        _prefetch_validation(parameters)  # a running server: no idle core to import on
    assert calls == []
    _prefetch_validation({**parameters, "from_stage": "publish"})  # nothing to validate
    assert calls == []
    _prefetch_validation(parameters)
    assert calls == [{"hide_optional": False}]  # Prefect's own temporary server imports SQLAlchemy meanwhile


def test_rows_of_a_batch_cut_short_by_a_crash_are_dropped(validated: Home, tmp_path: Path) -> None:
    home = validated
    con = duckdb.connect(str(home.work_db(YEAR)))
    try:  # what a run killed in the middle of validating a new batch leaves behind
        con.execute("insert into validation_results select batch_id + 1, suite, chunk, rows, result, files "
                    "from validation_results")
        con.execute("insert into validation_failures select suite, record_id, rule, severity, reason, value, "
                    "batch_id + 1, chunk from validation_failures where batch_id is not null")
    finally:
        con.close()
    (home.raw_year(YEAR) / "11-correction.json").write_text(
        json.dumps(submission("11", spd_total=41, submitted_at="2024-07-20T10:00:00+07:00")), encoding="utf-8")
    assert _stages(home)["files_validated"] == 1
    assert _outcome(home) == _full_validation_of(home, tmp_path)


def test_frames_are_not_fingerprinted_by_gx(validated: Home) -> None:
    """GX's per-frame fingerprint (a hash of every cell, a fifth of validation) is switched off."""
    home = validated
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        results = [json.loads(r) for (r,) in con.execute("select result from validation_results").fetchall()]
    finally:
        con.close()
    assert len(results) >= 6
    for result in results:
        markers = result["meta"]["batch_markers"]
        assert "ge_load_time" in markers
        assert "pandas_data_fingerprint" not in markers
