"""The ``iid`` command line: arguments, read-only queries, listings and one-line errors."""

from __future__ import annotations

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
