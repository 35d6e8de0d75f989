"""The ``iid`` command line: arguments, read-only queries, listings and one-line errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import typer
from factory import score, submission, write_home
from typer.testing import CliRunner

from flows import pipeline
from flows.cli import app, parse_years

runner = CliRunner()


def test_parse_years_lists_and_ranges() -> None:
    assert parse_years(["2022", "2024-2025"]) == [2022, 2024, 2025]
    assert parse_years(["2022-2024,2026"]) == [2022, 2023, 2024, 2026]
    with pytest.raises(typer.BadParameter):
        parse_years(["2025-2022"])
    with pytest.raises(typer.BadParameter):
        parse_years(["twenty"])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    home = write_home(root, 2024, {"a.json": submission("35.78", spd_total=30)})
    score(home, 2024).close()
    pipeline.publish(home, 2024, {"run_id": "cli-test"})
    return root


def test_query_reads_the_catalog(published: Path) -> None:
    result = runner.invoke(app, ["query", "select region_code, predicate from region_scores where submitted",
                                 "--home", str(published)])
    assert result.exit_code == 0, result.output
    assert "35.78" in result.output and "Kurang Inovatif" in result.output


def test_query_is_read_only(published: Path) -> None:
    result = runner.invoke(app, ["query", "create table x as select 1", "--home", str(published)])
    assert result.exit_code == 1
    assert "read-only" in result.output.lower() or "read only" in result.output.lower()


def _fingerprint(home: Path) -> dict[str, str]:
    """Every file of the home but the catalog's temporary spill folder, with its sha256."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


@pytest.mark.parametrize("sql", [
    "copy (select 1 as x) to '{home}/published/year=2024/release=1/region_scores.parquet' (format parquet)",
    "copy (select 1 as x) to '{home}/published/year=2024/release=9.parquet' (format parquet)",
    "attach '{home}/warehouse/work/2024.duckdb' as w (READ_WRITE)",
    "export database '{tmp}/exported'",
    "explain analyze copy (select 1 as x) to '{home}/published/x.csv'",
    "explain (analyze) copy (select 1 as x) to '{home}/published/x.csv'",
    "set enable_external_access = true",
    "pragma import_database('{tmp}')",
    "checkpoint",
    "install httpfs",
])
def test_query_runs_only_statements_that_read(published: Path, tmp_path: Path, sql: str) -> None:
    before = _fingerprint(published)
    result = runner.invoke(app, ["query", sql.format(home=published, tmp=tmp_path), "--home", str(published)])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and "read-only" in result.output and "is not allowed" in result.output
    assert _fingerprint(published) == before and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sql", [
    "select * from read_parquet('{home}/warehouse/private/2024/operators.parquet')",
    "select * from read_parquet('{home}/published/../warehouse/private/2024/operators.parquet')",
    "select * from read_parquet('{home}/published/year=2024/../../warehouse/private/*/*.parquet')",
    "select * from read_csv('/etc/passwd')",
    "select * from read_text('{home}/warehouse/work/2024.duckdb')",
    "select * from glob('{home}/warehouse/**')",
    "select * from read_parquet('/tmp/[/x].parquet')",  # brackets in the message are not markup
])
def test_query_reads_only_the_releases(published: Path, sql: str) -> None:
    result = runner.invoke(app, ["query", sql.format(home=published), "--home", str(published)])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1, "one line, however long"
    assert "Permission Error" in result.output and "reads only the releases" in result.output
    assert "Rahasia" not in result.output and "081299990000" not in result.output and "root:" not in result.output


@pytest.mark.parametrize("sql", [
    "with t as (select * from region_scores) select count(*) as n from t",
    "from releases select year, release",
    "describe region_scores",
    "show tables",
    "summarize select iid from region_scores",
    "explain select * from region_scores",
    "explain analyze select count(*) from indicator_scores",
    "pragma table_info('region_scores')",
    "/* a comment first */\nselect count(*) from runs;",
    "select count(*) from read_parquet('{home}/published/year=2024/release=1/region_scores.parquet')",
])
def test_query_allows_reading_statements(published: Path, sql: str) -> None:
    result = runner.invoke(app, ["query", sql.format(home=published), "--home", str(published)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("sql", ["", "  ;  ", "/* only a comment */"])
def test_query_without_sql_is_one_line(published: Path, sql: str) -> None:
    result = runner.invoke(app, ["query", sql, "--home", str(published)])
    assert result.exit_code == 1 and "no SQL given" in result.output and "Traceback" not in result.output


def test_query_runs_one_statement(published: Path) -> None:
    result = runner.invoke(app, ["query", "select 1; select 2", "--home", str(published)])
    assert result.exit_code == 1 and "2 statements" in result.output


def test_snapshots_lists_releases(published: Path) -> None:
    result = runner.invoke(app, ["snapshots", "--home", str(published)])
    assert result.exit_code == 0 and "2024" in result.output and "iid-2023" in result.output


def test_summary_prints_predicates_and_paths(published: Path) -> None:
    result = runner.invoke(app, ["summary", "--year", "2024", "--home", str(published)])
    assert result.exit_code == 0, result.output
    assert "Tidak Dapat Dinilai" in result.output and "release=1" in result.output


def test_query_without_catalog_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "select 1", "--home", str(tmp_path)])
    assert result.exit_code == 1 and "no catalog yet" in result.output and "Traceback" not in result.output
