"""The ``iid`` command line: arguments, read-only queries, listings and one-line errors."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import typer
from cliutil import fingerprint, one_line_error
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


def test_query_prints_values_as_they_are(published: Path) -> None:
    """Values and column names are printed as text, not as Rich markup: a masked quote '[phone]', or a file
    published as '[e-mail] (sha256 …)', printed as nothing."""
    result = runner.invoke(app, ["query", "select '[phone]' as \"[value]\", '[e-mail] (sha256 0123456789ab)' as f, "
                                 "'[bold]x[/]' as m", "--home", str(published)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for shown in ("[value]", "[phone]", "[e-mail] (sha256 0123456789ab)", "[bold]x[/]"):
        assert shown in result.output, result.output


def test_query_is_read_only(published: Path) -> None:
    result = runner.invoke(app, ["query", "create table x as select 1", "--home", str(published)])
    assert result.exit_code == 1
    assert "read-only" in result.output.lower() or "read only" in result.output.lower()


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
    before = fingerprint(published)
    result = runner.invoke(app, ["query", sql.format(home=published, tmp=tmp_path), "--home", str(published)])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and "read-only" in result.output and "is not allowed" in result.output
    assert fingerprint(published) == before and list(tmp_path.iterdir()) == []


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


def _cells(output: str) -> list[str]:
    """The cells of the printed table's body rows."""
    return [c.strip() for line in output.splitlines() if line.startswith("│") for c in line.strip("│").split("│")]


def _copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def _mark_copy(home: Path) -> None:
    """Rewrite the copy's region_scores (and its manifest's record of it) so that reading it, not the original's,
    shows."""
    import json

    scores = home / "published" / "year=2024" / "release=1" / "region_scores.parquet"
    scores.parent.chmod(0o755)
    scores.chmod(0o644)
    tmp = scores.with_name("marked.parquet")
    duckdb.execute("copy (select * replace ('copy of ' || region_name as region_name) from read_parquet(?)) "
                   "to ? (format parquet)", [str(scores), str(tmp)])
    os.replace(tmp, scores)
    manifest_path = scores.with_name("manifest.json")
    manifest_path.chmod(0o644)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"][scores.name].update(sha256=hashlib.sha256(scores.read_bytes()).hexdigest(),
                                          bytes=scores.stat().st_size)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def test_a_copied_home_reads_its_own_releases(published: Path, tmp_path: Path) -> None:
    copy = _copy_home(published, tmp_path / "copy")
    _mark_copy(copy)
    marked = "select count(*) filter (where region_name like 'copy of %') as marked, count(*) as n from region_scores"
    result = runner.invoke(app, ["query", marked, "--home", str(copy)])
    assert result.exit_code == 0, result.output
    assert "rebuilt it from" in result.output and _cells(result.output) == ["546", "546"], result.output
    # the copy's catalog now reads the copy, also for an analyst who opens it from another folder
    code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.execute(\"select count(*) from region_scores where region_name like 'copy of %'\").fetchall()"
            "[0][0], con.execute('select published from catalog_info').fetchall()[0][0])")
    out = subprocess.run([sys.executable, "-c", code, str(copy / "warehouse" / "iid.duckdb")], cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["546", str(copy / "published")]
    # and the original home still reads its own
    original = runner.invoke(app, ["query", marked, "--home", str(published)])
    assert _cells(original.output) == ["0", "546"], original.output


def test_a_moved_home_reads_its_releases(published: Path, tmp_path: Path) -> None:
    moved = _copy_home(published, tmp_path / "before").rename(tmp_path / "after")
    result = runner.invoke(app, ["summary", "--year", "2024", "--home", str(moved)])
    assert result.exit_code == 0, result.output
    assert "rebuilt it from" in result.output and str(moved / "published" / "year=2024" / "release=1") in \
        result.output.replace("\n", "")
    query = runner.invoke(app, ["query", "select count(*) from region_scores", "--home", str(moved)])
    assert query.exit_code == 0 and "546" in query.output and "rebuilt" not in query.output  # rebuilt once


def test_a_missing_catalog_is_rebuilt(published: Path, tmp_path: Path) -> None:
    copy = _copy_home(published, tmp_path / "copy")
    (copy / "warehouse" / "iid.duckdb").unlink()
    result = runner.invoke(app, ["query", "select count(*) from region_scores", "--home", str(copy)])
    assert result.exit_code == 0 and "it was missing; rebuilt it" in result.output and "546" in result.output


def test_a_catalog_that_cannot_be_rebuilt_is_read_in_memory(published: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import catalog

    def refuse(home: object) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(catalog, "rebuild_catalog", refuse)
    copy = _copy_home(published, tmp_path / "copy")
    _mark_copy(copy)
    before = (copy / "warehouse" / "iid.duckdb").read_bytes()
    result = runner.invoke(app, ["query", "select count(*) from region_scores where region_name like 'copy of %'",
                                 "--home", str(copy)])
    assert result.exit_code == 0, result.output
    assert "cannot be rebuilt (Permission denied)" in result.output and "546" in result.output
    assert (copy / "warehouse" / "iid.duckdb").read_bytes() == before
    private = runner.invoke(app, ["query", f"select * from read_parquet('{copy}/warehouse/private/2024/*.parquet')",
                                  "--home", str(copy)])
    assert private.exit_code == 1 and "Permission Error" in private.output  # fenced in memory too


@pytest.mark.parametrize("command", [["summary", "--year", "2024"], ["query", "select count(*) from region_scores"]])
def test_a_damaged_catalog_is_rebuilt(published: Path, tmp_path: Path, command: list[str]) -> None:
    copy = _copy_home(published, tmp_path / "copy")
    (copy / "warehouse" / "iid.duckdb").write_bytes(b"garbage\n")
    result = runner.invoke(app, [*command, "--home", str(copy)])
    assert result.exit_code == 0, result.output
    assert "not a valid DuckDB database file" in result.output and "rebuilt it from" in result.output
    assert "546" in result.output or "Tidak Dapat Dinilai" in result.output
    con = duckdb.connect(str(copy / "warehouse" / "iid.duckdb"), read_only=True)
    assert con.execute("select count(*) from region_scores").fetchall() == [(546,)]
    con.close()


def test_a_wal_left_beside_the_catalog_is_not_replayed_into_the_rebuilt_one(published: Path, tmp_path: Path) -> None:
    """Someone opened the catalog read-write and their session died: its WAL belongs to that file, and
    DuckDB refuses to open a new catalog with it ("WAL does not match database file")."""
    copy = _copy_home(published, tmp_path / "before")
    catalog = copy / "warehouse" / "iid.duckdb"
    crash = ("import duckdb, os, sys; con = duckdb.connect(sys.argv[1]); "
             "con.execute('create table mine as select 42 as x'); os._exit(9)")
    subprocess.run([sys.executable, "-c", crash, str(catalog)], check=False)
    assert catalog.with_name("iid.duckdb.wal").exists()
    moved = copy.rename(tmp_path / "after")  # the catalog must be rebuilt
    result = runner.invoke(app, ["query", "select count(*) from region_scores", "--home", str(moved)])
    assert result.exit_code == 0, result.output
    assert "rebuilt it from" in result.output and "546" in result.output and "cannot" not in result.output
    assert not (moved / "warehouse" / "iid.duckdb.wal").exists()
    con = duckdb.connect(str(moved / "warehouse" / "iid.duckdb"), read_only=True)
    assert con.execute("select published from catalog_info").fetchall() == [(str(moved / "published"),)]
    con.close()


def test_a_damaged_release_file_is_one_line(published: Path, tmp_path: Path) -> None:
    copy = _copy_home(published, tmp_path / "copy")
    runner.invoke(app, ["query", "select 1", "--home", str(copy)])  # the copy's own catalog
    scores = copy / "published" / "year=2024" / "release=1" / "region_scores.parquet"
    scores.parent.chmod(0o755)
    scores.chmod(0o644)
    scores.write_bytes(b"junk\n")
    result = runner.invoke(app, ["summary", "--year", "2024", "--home", str(copy)])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "region_scores.parquet has 5 bytes" in result.output and "Traceback" not in result.output
    # the catalog leaves the release out (its table is not the size its manifest records), and says so
    result = runner.invoke(app, ["query", "select count(*) from region_scores", "--home", str(copy)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "region_scores.parquet has 5 bytes" in result.output and "does not show it" in result.output
    # a manifest of before they recorded tables' sizes: DuckDB finds the junk when the catalog is rebuilt
    import json

    manifest_path = scores.with_name("manifest.json")
    manifest_path.chmod(0o644)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["files"][scores.name]["bytes"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    (copy / "warehouse" / "iid.duckdb").write_bytes(b"garbage\n")  # now the catalog cannot be rebuilt either
    result = runner.invoke(app, ["query", "select 1", "--home", str(copy)])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "not a valid DuckDB database file" in result.output and "rebuilding it from" in result.output
    assert "region_scores.parquet" in result.output

def test_a_release_without_its_manifest_is_named_where_the_catalog_hides_it(published: Path, tmp_path: Path) -> None:
    """Release 2's manifest lost: 'iid query', 'iid summary' and 'iid snapshots' showed release 1 as the latest
    with no word. Now each warns in one line naming the folder and the release shown instead."""
    copy = _copy_home(published, tmp_path / "copy")
    year_dir = copy / "published" / "year=2024"
    second = year_dir / "release=2"
    shutil.copytree(year_dir / "release=1", second, ignore=shutil.ignore_patterns("manifest.json"))
    expected = (f"warning: {second}: its manifest.json is missing or cannot be read, so the catalog does not show "
                "it (release 1 is shown as the latest of 2024); restore that folder from a copy of the release")
    for command in (["summary", "--year", "2024"], ["query", "select max(release) from region_scores"],
                    ["snapshots"]):
        result = runner.invoke(app, [*command, "--home", str(copy)], terminal_width=400)
        assert result.exit_code == 0, result.output
        warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
        assert len(warnings) == 1 and warnings[0].startswith(expected), result.output
    healthy = runner.invoke(app, ["summary", "--year", "2024", "--home", str(published)])
    assert healthy.exit_code == 0 and "warning:" not in healthy.output


@pytest.mark.parametrize("command", [["summary"], ["feedback", "--region", "35.78"], ["report", "--out", "OUT"]])
def test_a_year_without_a_release_is_named_with_the_folder_looked_in(command: list[str], published: Path,
                                                                     tmp_path: Path) -> None:
    """The home has a release of 2024 only. Before, feedback said 'no release of 2023' without the folder, where
    summary and report name the home's published/ folder."""
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    result = runner.invoke(app, [args[0], "--year", "2023", *args[1:], "--home", str(published)])
    assert result.exit_code == 1
    assert one_line_error(result) == (f"error: no release of 2023 in {published / 'published'}; "
                                      "run 'iid run --year 2023' first")


@pytest.mark.parametrize("command", [["summary"], ["feedback", "--region", "35.78"], ["report", "--out", "OUT"]])
def test_a_year_no_methodology_covers_is_named_as_such(command: list[str], published: Path, tmp_path: Path) -> None:
    """'iid summary --year 1999' said to run 'iid run --year 1999' first, which only fails: no methodology covers
    1999. Now the line says so, as 'iid run' and 'iid generate' do."""
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    result = runner.invoke(app, [args[0], "--year", "1999", *args[1:], "--home", str(published)])
    assert result.exit_code == 1
    line = one_line_error(result)
    assert line.startswith(f"error: no release of 1999 in {published / 'published'}: ") and "iid run" not in line
    assert "no methodology covers the year 1999; give a year that a methodology there covers" in line


def test_summary_refuses_a_negative_top_before_it_prints(published: Path) -> None:
    """'iid summary --top -1' printed the predicate table, then failed on DuckDB's 'LIMIT/OFFSET cannot be
    negative', exit 1. Now a usage error in one line, exit 2, before anything is printed."""
    result = runner.invoke(app, ["summary", "--year", "2024", "--top", "-1", "--home", str(published)])
    assert result.exit_code == 2
    line = one_line_error(result)
    assert "Invalid value for '--top'" in line and "greater than or equal to 0" in line, line


def test_progress_leaves_no_blank_line_where_output_is_not_a_terminal(published: Path, tmp_path: Path) -> None:
    """'iid copy' and 'iid generate' wrote an empty line first in a log (their progress bar, ended)."""
    copied = runner.invoke(app, ["copy", "--to", str(tmp_path / "out"), "--home", str(published)])
    generated = runner.invoke(app, ["generate", "--year", "2024", "--scale", "0.002", "--home", str(tmp_path / "g")])
    for result in (copied, generated):
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0].strip(), result.output
    assert copied.output.startswith("copied to ") and generated.output.startswith("generated 2024: ")


def test_a_long_line_stays_one_line_where_output_is_not_a_terminal(tmp_path: Path) -> None:
    """Rich broke a line at 80 columns where output was not a terminal: 'generated …' and the run's summary
    came out in two lines in a log. A table still keeps its layout."""
    generated = runner.invoke(app, ["generate", "--year", "2024", "--scale", "0.002", "--home", str(tmp_path)])
    assert generated.exit_code == 0, generated.output
    first = generated.output.splitlines()[0]
    assert first.startswith("generated 2024: ") and len(first) > 80 and first.endswith(str(tmp_path / "raw" / "2024"))


@pytest.mark.parametrize("columns", [None, "80"])
def test_a_table_is_not_cut_to_80_columns_where_output_is_not_a_terminal(published: Path, columns: str | None,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """'iid snapshots' in a log cut its columns to fit 80: 'published' showed '2026-12-0…' and the content
    hash was cut too. $COLUMNS, if set, still sets the width (pytest-xdist's workers set COLUMNS=80)."""
    from flows import cli_base, cli_results

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(cli_results, "console", cli_base.make_console())  # made as the command starts
    listed = runner.invoke(app, ["snapshots", "--home", str(published)])
    if columns is not None:
        assert all(len(line) <= 80 for line in listed.output.splitlines()) and "…" in listed.output
        return
    assert listed.exit_code == 0, listed.output
    manifest = json.loads((published / "published" / "year=2024" / "release=1" / "manifest.json").read_text())
    row = next(line for line in listed.output.splitlines() if "2024" in line and "│" in line)
    assert "…" not in row and manifest["published_at"] in row and len(row) > 80, listed.output


def test_the_run_summary_names_each_submission_status_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """The validation line showed a Python dict ({'counting': 525, 'superseded': 20, 'late': 5}) and broke it
    at 80 columns in a log."""
    from flows.cli import _print_run

    _print_run({"year": 2024, "ingest": {"files": 1550, "rejected_files": 2, "files_parsed": 1550},
                "validate": {"skipped": False, "quarantined": 12345, "warnings": 45599,
                             "submissions": {"late": 5, "superseded": 1020, "counting": 525}},
                "transform": {"skipped": True, "predicates": {"Inovatif": 382}},
                "publish": {"message": "published release 1 of 2024", "path": "/x/" + "y" * 90}})
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == ("validation: 12,345 records quarantined, 45,599 warnings; submissions: 525 counting, "
                        "1,020 superseded, 5 late")
    assert lines[2] == "predicates: Sangat Inovatif 0, Inovatif 382, Kurang Inovatif 0, Tidak Dapat Dinilai 0"
    assert lines[3] == "published release 1 of 2024 → /x/" + "y" * 90 and len(lines) == 4
