"""The ``iid`` command line: arguments, read-only queries, listings and one-line errors."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import duckdb
import pytest
import typer
from factory import score, submission, write_home
from typer.testing import CliRunner, Result

from flows import bench, cli, pipeline
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
@pytest.fixture()
def years_run(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Backfill's runs recorded instead of run."""
    ran: list[int] = []

    def run_one(year: int, home: object, **_: object) -> dict[str, object]:
        ran.append(year)
        return {"year": year}

    monkeypatch.setattr(cli, "_run_one", run_one)
    monkeypatch.setattr(cli, "_print_run", lambda result: None)
    return ran


@pytest.mark.parametrize("years", [["2022", "2023", "2024"], ["2022", "--years", "2023", "--years", "2024"],
                                   ["2022,2023,2024"], ["2022-2024"], ["2022", "2023-2024"]])
def test_backfill_takes_years_as_documented(years: list[str], years_run: list[int], tmp_path: Path) -> None:
    result = runner.invoke(app, ["backfill", "--years", *years, "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert years_run == [2022, 2023, 2024]
    assert "3 succeeded [2022, 2023, 2024]" in result.output


def test_backfill_refuses_an_extra_argument_that_is_no_year(years_run: list[int], tmp_path: Path) -> None:
    result = runner.invoke(app, ["backfill", "--years", "2022", "twenty", "--home", str(tmp_path)])
    assert result.exit_code == 2 and years_run == []
    assert "'twenty' is not a year" in result.output and "Traceback" not in result.output


def one_line_error(result: Result) -> str:
    """The command ended with one ``error:`` line, not a traceback; that line."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize(("args", "says"), [
    (["summary", "--year", "2O24"], "Invalid value for '--year'"),
    (["run", "--year", "2024", "--forse"], "No such option: --forse"),
    (["backfill", "--years", "2022-20x"], "'2022-20x' is not a year or a range like 2022-2025"),
    (["backfill"], "Missing option '--years'"),
    (["copy", "--to", "OUT", "--year", "2O24"], "'2O24' is not a year"),
    (["snapshot"], "No such command 'snapshot'"),
])
def test_a_usage_error_is_one_line(args: list[str], says: str, tmp_path: Path, years_run: list[int]) -> None:
    """A mistyped value or option ('--year 2O24') was Rich's boxed panel under two lines of usage, the message
    wrapped inside the box; now one error line like every other, with where to find the options."""
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    result = runner.invoke(app, [*args, "--home", str(tmp_path)], terminal_width=80)
    assert result.exit_code == 2
    line = one_line_error(result)
    assert says in line and line.endswith("--help'"), line
    assert years_run == [] and list(tmp_path.iterdir()) == []


def test_no_command_still_shows_the_help() -> None:
    result = runner.invoke(app, [])
    assert "Commands" in result.output and "generate" in result.output and "error:" not in result.output


def bad_homes(tmp_path: Path) -> list[Path]:
    """A regular file, a folder under a file, and (on Linux) a place where no folder can be created."""
    afile = tmp_path / "afile"
    afile.write_text("not a home")
    return [afile, afile / "sub", *([Path("/proc/iid-no-such-home")] if Path("/proc/self").is_dir() else [])]


@pytest.mark.parametrize("command", [["run", "--year", "2024"], ["generate", "--year", "2024"],
                                     ["backfill", "--years", "2023", "2024"]])
def test_a_home_that_cannot_be_written_is_one_line(command: list[str], tmp_path: Path, years_run: list[int]) -> None:
    for home in bad_homes(tmp_path):
        result = runner.invoke(app, [*command, "--home", str(home)])
        line = one_line_error(result)
        assert result.exit_code == 1
        assert "give --home" in line and "a folder you can write to" in line
        assert ("afile is a file, not a folder" in line) == ("afile" in str(home)), line
    assert years_run == []


@pytest.mark.parametrize("command", [["snapshots"], ["summary", "--year", "2024"], ["query", "select 1"],
                                     ["diff", "--year", "2024"], ["feedback", "--year", "2024", "--region", "35.78"],
                                     ["report", "--year", "2024", "--out", "OUT"], ["copy", "--to", "OUT"]])
def test_a_home_that_is_not_a_folder_is_one_line_for_the_commands_that_read(command: list[str],
                                                                           tmp_path: Path) -> None:
    """Before, iid snapshots --home MISSING said 'no releases published yet' and exited 0, and iid copy
    created the missing home and wrote an empty catalog at --to, exit 0."""
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    for home, why in [(tmp_path / "missing", "no such folder"), *[(h, "afile is a file, not a folder")
                                                                  for h in bad_homes(tmp_path)[:2]]]:
        result = runner.invoke(app, [*args, "--home", str(home)])
        line = one_line_error(result)
        assert result.exit_code == 1
        assert line.startswith(f"error: no home at {home} (") and why in line, line
        assert "give --home (or $IID_HOME) the folder 'iid run' published into" in line
    assert not (tmp_path / "missing").exists() and not (tmp_path / "out").exists()


def test_serve_checks_its_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    (tmp_path / "afile").write_text("")
    line = one_line_error(runner.invoke(app, ["serve", "--home", str(tmp_path / "afile")]))
    assert "is a file, not a folder" in line


def test_serve_without_a_server_that_answers_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README starts the server in the background ('prefect server start … &') and serves at once: with no
    server answering yet at PREFECT_API_URL, 'iid serve' ended in a 120-line httpx.ConnectError traceback."""
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens on the discard port
    result = runner.invoke(app, ["serve", "--home", str(tmp_path)])
    line = one_line_error(result)
    assert result.exit_code == 1
    assert line.startswith("error: no Prefect server answers at http://127.0.0.1:9/api ("), line
    assert "Connection refused" in line
    assert "prefect server start" in line and "PREFECT_API_URL" in line


def test_serve_finds_the_server_of_the_active_prefect_profile(tmp_path: Path) -> None:
    """A server set with 'prefect config set PREFECT_API_URL=…' (the active profile) is Prefect's usual way;
    'iid serve' read only the environment and asked to set PREFECT_API_URL."""
    prefect_home = tmp_path / "prefect"
    prefect_home.mkdir()
    (prefect_home / "profiles.toml").write_text('active = "remote"\n\n[profiles.remote]\n'
                                                'PREFECT_API_URL = "http://127.0.0.1:9/api"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_PROFILE")}
    done = subprocess.run([sys.executable, "-c", "from flows.cli import main; main()", "serve", "--home",
                           str(tmp_path / "home")], env={**env, "PREFECT_HOME": str(prefect_home)},
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith("error: no Prefect server answers at http://127.0.0.1:9/api ("), done.stderr


def test_bench_checks_where_it_writes_before_it_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def run_bench(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the bench started before its folders were checked")

    monkeypatch.setattr(bench, "run_bench", run_bench)
    (tmp_path / "afile").write_text("")
    line = one_line_error(runner.invoke(app, ["bench", "--workdir", str(tmp_path / "afile")]))
    assert "give --workdir a folder" in line
    line = one_line_error(runner.invoke(app, ["bench", "--out", str(tmp_path / "afile" / "results.json")]))
    assert "give --out a file in a folder" in line


@pytest.mark.parametrize(("option", "says"), [(["--scale", "-1"], "--scale -1: use a finite number above 0"),
                                              (["--scale", "0"], "--scale 0: use a finite number above 0"),
                                              (["--scale", "nan"], "--scale nan: use a finite number above 0"),
                                              (["--scale", "inf"], "--scale inf: use a finite number above 0"),
                                              (["--year", "1999"], "no methodology covers the year 1999")])
def test_bench_refuses_bad_options_in_one_line_before_it_starts(option: list[str], says: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, --scale -1 and 0 were the generator's ValueError and --year 1999 a MethodologyError, each a
    traceback with exit 1, after the bench had made its temporary home."""
    def run_bench(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the bench started before its options were checked")

    monkeypatch.setattr(bench, "run_bench", run_bench)
    result = runner.invoke(app, ["bench", *option, "--out", str(tmp_path / "out" / "results.json"),
                                 "--workdir", str(tmp_path / "work")])
    assert result.exit_code == 2 and says in one_line_error(result)
    assert not (tmp_path / "out").exists() and not (tmp_path / "work").exists()


@pytest.mark.parametrize(("option", "says"), [(["--year", "1999"], "no methodology covers the year 1999"),
                                              (["--scale", "-1"], "--scale -1: use a finite number above 0"),
                                              (["--scale", "0"], "--scale 0: use a finite number above 0"),
                                              (["--scale", "inf"], "--scale inf: use a finite number above 0"),
                                              (["--defect-rate", "5"], "--defect-rate 5: use a share between 0 and 1")])
def test_generate_refuses_bad_options_in_one_line(option: list[str], says: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--year", "2024", *option, "--home", str(tmp_path)])
    assert result.exit_code == 2 and says in one_line_error(result)
    assert not (tmp_path / "raw").exists()


def _no_divisor_for_2030(result: Result) -> None:
    line = one_line_error(result)
    assert "iid-2026.json: methodology iid-2026 has no divisor for 2030" in line, line
    assert "add the 2030 divisor to a new methodology version" in line
    assert result.exit_code != 0


def test_run_and_generate_refuse_a_year_the_methodology_has_no_divisor_for(tmp_path: Path) -> None:
    """iid-2026 lists its divisors up to 2029. Before, 'iid run --year 2030' scored the year with
    divisor.minimum (12), which the methodology gives for no year after 2026, and published a release
    (exit 0); 'iid generate --year 2030' wrote the year's drop zone. Now each ends in one line, before
    the home is made."""
    home = tmp_path / "home"
    _no_divisor_for_2030(runner.invoke(app, ["generate", "--year", "2030", "--scale", "0.02", "--home", str(home)]))
    _no_divisor_for_2030(runner.invoke(app, ["run", "--year", "2030", "--home", str(home)]))
    assert not home.exists()


def test_report_refuses_a_release_of_a_year_its_methodology_has_no_divisor_for(tmp_path: Path) -> None:
    """A 2030 release published under iid-2026 (as 'iid run' did before, with divisor 12): 'iid report' rebuilt
    its pages with that divisor; now it names the file and the year, and writes nothing."""
    import json

    from flows.settings import reference_dir

    method = reference_dir() / "methodology" / "iid-2026.json"
    release = tmp_path / "home" / "published" / "year=2030" / "release=1"
    release.mkdir(parents=True)
    (release / "manifest.json").write_text(json.dumps({"year": 2030, "release": 1, "methodology": {
        "id": "iid-2026", "file": method.name, "sha256": hashlib.sha256(method.read_bytes()).hexdigest()}}))
    before = _fingerprint(tmp_path / "home")
    _no_divisor_for_2030(runner.invoke(app, ["report", "--year", "2030", "--home", str(tmp_path / "home"),
                                             "--out", str(tmp_path / "out")]))
    assert _fingerprint(tmp_path / "home") == before and not (tmp_path / "out").exists()


def test_backfill_fails_a_year_the_methodology_has_no_divisor_for_and_runs_the_others(
        tmp_path: Path, years_run: list[int]) -> None:
    result = runner.invoke(app, ["backfill", "--years", "2029", "2030", "--home", str(tmp_path)])
    assert result.exit_code == 1 and years_run == [2029]
    assert "2030 failed: " in result.output and "no divisor for 2030" in result.output
    assert "1 succeeded [2029], 1 failed [2030]" in result.output
    assert not (tmp_path / "warehouse" / "work" / "2030.lock").exists()
    years_run.clear()
    result = runner.invoke(app, ["backfill", "--years", "2030", "--home", str(tmp_path / "none")])
    assert result.exit_code == 1 and years_run == [] and not (tmp_path / "none").exists()


def test_run_refuses_a_year_without_methodology_before_it_starts(tmp_path: Path, years_run: list[int]) -> None:
    result = runner.invoke(app, ["run", "--year", "1999", "--home", str(tmp_path)])
    assert result.exit_code == 2 and "no methodology covers the year 1999" in one_line_error(result)


@pytest.mark.parametrize(("stage", "missing"), [("validate", "ingested"), ("transform", "validated"),
                                                ("publish", "scored")])
def test_a_later_stage_needs_the_earlier_ones(stage: str, missing: str, tmp_path: Path) -> None:
    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    with pytest.raises(pipeline.StageNotReady, match=f"^2024 has not been {missing} yet in {tmp_path}: run "
                                                     "'iid run --year 2024' \\(from ingest\\) first"):
        pipeline.check_ready(home, 2024, stage)
    pipeline.ingest(home, 2024)
    pipeline.validate(home, 2024)
    pipeline.transform(home, 2024)
    pipeline.check_ready(home, 2024, stage)


def test_run_from_a_later_stage_on_a_new_home_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused before Prefect's server starts (the flow, which checks again, is not run: ~14 s before)."""
    from flows import cli

    def no_flow(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the flow was started")

    monkeypatch.setattr(cli, "_run_one", no_flow)
    write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    result = runner.invoke(app, ["run", "--year", "2024", "--from-stage", "publish", "--home", str(tmp_path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == [f"error: 2024 has not been scored yet in {tmp_path}: run 'iid run --year 2024' (from ingest) "
                      "first: --from-stage publish starts from what transform left"], result.output


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
