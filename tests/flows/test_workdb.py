"""A damaged work database: named in one line without --force; set aside (kept) and rebuilt with it."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from factory import submission, write_home
from typer.testing import CliRunner

from flows import workdb
from flows.cli import app
from flows.privacy import register_redaction
from flows.settings import Home
from transforms.runner import allow_compaction


@pytest.fixture(autouse=True)
def _no_early_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs here use Prefect's own temporary server: an early one (flows.tempserver) would leave
    PREFECT_API_URL set in this test process for the tests after these."""
    monkeypatch.setenv("IID_EARLY_SERVER", "0")


def _damage(path: Path) -> None:
    path.write_bytes(os.urandom(100_000))  # as the auditor did: head -c 100000 /dev/urandom


def test_a_damaged_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    home.work_db(2024).parent.mkdir(parents=True)
    _damage(home.work_db(2024))
    with pytest.raises(workdb.DamagedWorkDatabase) as caught, workdb.work_database(home, 2024):
        pass
    message = str(caught.value)
    assert message.startswith(f"{home.work_db(2024)} is damaged (not a DuckDB database file)")
    assert "derived from raw/2024" in message and "'iid run --year 2024 --force'" in message
    assert "\n" not in message


def test_a_damaged_block_found_by_a_query_is_named_too(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    with workdb.work_database(home, 2024) as con:
        con.execute("create table t as select range as i, repeat('x', 100) as s from range(200000)")
    data = bytearray(home.work_db(2024).read_bytes())
    data[20_000:60_000] = os.urandom(40_000)  # inside the first data block: opening still works
    home.work_db(2024).write_bytes(bytes(data))
    with pytest.raises(workdb.DamagedWorkDatabase, match="checksum"), workdb.work_database(home, 2024) as con:
        con.execute("select sum(length(s)) from t").fetchall()


def test_other_errors_are_not_damage(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    with pytest.raises(duckdb.CatalogException), workdb.work_database(home, 2024) as con:
        con.execute("select * from validation_summary")
    assert workdb.set_aside_if_damaged(home, 2024) is None and home.work_db(2024).is_file()


def test_set_aside_keeps_the_file_and_its_log(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    home.work_db(2024).parent.mkdir(parents=True)
    _damage(home.work_db(2024))
    damaged = home.work_db(2024).read_bytes()
    wal = home.work_db(2024).with_name("2024.duckdb.wal")
    wal.write_bytes(b"log")
    kept = workdb.set_aside_if_damaged(home, 2024)
    assert kept is not None and kept.parent == home.work_db(2024).parent
    assert kept.name.startswith("2024.duckdb.damaged-") and kept.read_bytes() == damaged
    assert kept.with_name(f"{kept.name}.wal").read_bytes() == b"log"
    assert not home.work_db(2024).exists() and not wal.exists()


def test_run_names_the_damage_and_force_rebuilds(tmp_path: Path) -> None:
    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    cli = CliRunner()
    home.work_db(2024).parent.mkdir(parents=True)
    _damage(home.work_db(2024))
    refused = cli.invoke(app, ["run", "--year", "2024", "--home", str(tmp_path)])
    # the command's own end (Prefect's log, bound to an earlier invoke's stream in a test process, may
    # print a logging error of its own)
    assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit)
    errors = [line for line in refused.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: 2024: {home.work_db(2024)} is damaged")
    assert errors[0].endswith("'iid run --year 2024 --force' moves it aside (kept) and rebuilds it")
    assert not home.published_year(2024).exists()

    rebuilt = cli.invoke(app, ["run", "--year", "2024", "--home", str(tmp_path), "--force"])
    assert rebuilt.exit_code == 0, rebuilt.output
    kept = sorted(home.work_db(2024).parent.glob("2024.duckdb.damaged-*"))
    assert len(kept) == 1 and f"it is kept as {kept[0]}" in " ".join(rebuilt.output.split())
    assert (home.published_year(2024) / "release=1" / "manifest.json").is_file()
    with duckdb.connect(str(home.work_db(2024)), read_only=True) as con:
        assert con.execute("select count(*) from region_scores").fetchall()[0][0] > 500


def test_force_rebuilds_when_the_damage_shows_only_inside_a_stage(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Damage DuckDB finds on reading a block, after opening the file went well: the run sets the file
    aside and starts again from ingest."""
    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    home.work_db(2024).parent.mkdir(parents=True)
    _damage(home.work_db(2024))
    monkeypatch.setattr(workdb, "set_aside_if_damaged", lambda home, year: None)  # the opening looked fine
    result = CliRunner().invoke(app, ["run", "--year", "2024", "--home", str(tmp_path), "--force",
                                      "--from-stage", "transform"])
    assert result.exit_code == 0, result.output
    assert len(list(home.work_db(2024).parent.glob("2024.duckdb.damaged-*"))) == 1
    assert (home.published_year(2024) / "release=1" / "manifest.json").is_file()


def test_force_from_a_later_stage_rebuilds_from_ingest(tmp_path: Path) -> None:
    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    home.work_db(2024).parent.mkdir(parents=True)
    _damage(home.work_db(2024))
    result = CliRunner().invoke(app, ["run", "--year", "2024", "--home", str(tmp_path), "--force",
                                      "--from-stage", "publish"])
    assert result.exit_code == 0, result.output
    assert "the work database was damaged" in result.output
    assert (home.published_year(2024) / "release=1" / "manifest.json").is_file()


def _closed(home: Home) -> bool:
    """Whether no instance of this process holds the year's work database (DuckDB refuses a read-only
    connection to a file this process has open for writing)."""
    try:
        duckdb.connect(str(home.work_db(2024)), read_only=True).close()
    except duckdb.ConnectionException:
        return False
    return True


def test_a_held_database_serves_each_stage_a_cursor_and_is_checkpointed_when_it_ends(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    wal = home.work_db(2024).with_name("2024.duckdb.wal")
    with workdb.held_open(home, 2024):
        with workdb.work_database(home, 2024, "ingest") as con:
            con.execute("create table t as select range as i from range(1000)")
            con.execute("create temp table scratch as select 1 as one")
            ingest_limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
        assert not _closed(home) and wal.stat().st_size > 0  # still open, not checkpointed between stages
        with workdb.work_database(home, 2024, "validate") as con:
            assert con.execute("select count(*) from t").fetchall() == [(1000,)]
            assert con.execute("select count(*) from duckdb_tables() where table_name = 'scratch'").fetchall() == [(0,)]
            assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] != ingest_limit
            allow_compaction(con)  # a stage that builds from scratch checkpoints as it ends, as closing did
            con.execute("delete from t where i < 10")
        assert not wal.exists() or wal.stat().st_size == 0
        with workdb.work_database(home, 2024) as con:
            assert con.execute("select current_setting('max_vacuum_tasks')").fetchall() == [(0,)]
            con.execute("insert into t values (5)")
        assert wal.stat().st_size > 0
    assert _closed(home) and (not wal.exists() or wal.stat().st_size == 0)
    with workdb.work_database(home, 2024) as con:
        assert con.execute("select count(*) from t").fetchall() == [(991,)]


def test_a_stages_python_function_goes_with_its_cursor(tmp_path: Path) -> None:
    """DuckDB 2.0.1 keeps a function registered on one cursor for the others, and crashed the process when
    one called it after that cursor closed: a held database's cursor takes the stages' functions with it."""
    home = Home.resolve(tmp_path)
    with workdb.held_open(home, 2024):
        with workdb.work_database(home, 2024, "validate") as con:
            register_redaction(con, known="(select null as quoted_text, null as operator_name, null as "
                                          "operator_email, null as operator_phone, null as quoted)")
            assert con.execute("select iid_redact('budi@mail.id', null, null, null)").fetchall() == [("[e-mail]",)]
        with workdb.work_database(home, 2024, "publish") as con, pytest.raises(duckdb.CatalogException):
            con.execute("select iid_redact('budi@mail.id', null, null, null)").fetchall()


def test_a_held_database_is_closed_by_an_error_and_not_before_the_outer_block(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    with pytest.raises(ZeroDivisionError), workdb.held_open(home, 2024):
        with workdb.held_open(home, 2024), workdb.work_database(home, 2024) as con:
            con.execute("create table t (i integer)")
        assert not _closed(home)  # the inner block leaves it to the outer one
        (held,) = workdb._HELD.values()
        with workdb.work_database(home, 2024) as con:
            con.execute("insert into t values (1)")
            raise ZeroDivisionError
    assert _closed(home) and not workdb._HELD
    with pytest.raises(duckdb.ConnectionException, match="closed"):
        assert held.con is not None
        held.con.execute("select 1")


def test_a_run_opens_its_work_database_once_for_its_stages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    opened: list[str] = []
    connect = workdb._connect

    def counted(path: Path, year: int, stage: str) -> duckdb.DuckDBPyConnection:
        opened.append(stage)
        return connect(path, year, stage)
    monkeypatch.setattr(workdb, "_connect", counted)
    result = CliRunner().invoke(app, ["run", "--year", "2024", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (home.published_year(2024) / "release=1" / "manifest.json").is_file()
    assert opened and not {"validate", "transform", "publish"} & set(opened), opened
    assert _closed(home)
