"""The ``iid`` command line's options and refusals: backfill's years, usage errors, homes that cannot be used,
serve, bench and generate options, years no methodology can score, and runs from a later stage."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import pytest
from cliutil import fingerprint, one_line_error
from factory import submission, write_home
from typer.testing import CliRunner, Result

from flows import bench, cli, pipeline
from flows.cli import app

runner = CliRunner()


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


def test_serve_refused_leaves_prefect_unimported(tmp_path: Path) -> None:
    """Prefect reads its settings once, as it is first imported: 'iid serve' refused (no server answering at
    PREFECT_API_URL) had imported it to read that URL, so a process that went on (a test worker) kept the dead
    address for every later flow ('Failed to reach API at http://127.0.0.1:9/api/')."""
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom flows.cli import app\n"
            "result = CliRunner().invoke(app, ['serve', '--home', sys.argv[1]])\n"
            "print(result.exit_code, 'prefect' in sys.modules)\n")
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.split() == ["1", "False"], done.stdout + done.stderr


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
    before = fingerprint(tmp_path / "home")
    _no_divisor_for_2030(runner.invoke(app, ["report", "--year", "2030", "--home", str(tmp_path / "home"),
                                             "--out", str(tmp_path / "out")]))
    assert fingerprint(tmp_path / "home") == before and not (tmp_path / "out").exists()


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


def test_a_run_stopped_in_a_duckdb_query_says_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (or SIGTERM) while DuckDB runs a query reaches the run as DuckDB's error ('Query interrupted'), not as
    KeyboardInterrupt: it was reported as the year's failure ('error: 2024: Query interrupted', exit 1). It is
    told as an interruption, with what to do, and exit code 130."""
    from processes import interrupted_query

    monkeypatch.setattr(cli, "_run_one", lambda *args, **kwargs: interrupted_query())
    result = runner.invoke(app, ["run", "--year", "2024", "--home", str(tmp_path)], env={"COLUMNS": "500"})
    assert result.exit_code == 130
    assert one_line_error(result) == ("error: 2024: interrupted (Ctrl-C or SIGTERM); run the same command again to "
                                      "finish: it goes on from what was kept")


def test_a_backfill_stopped_in_a_duckdb_query_stops(years_run: list[int], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The same interruption in a backfill counted as that year's failure, and the backfill went on with the next
    years: Ctrl-C did not stop it. It stops there, saying which years were done and which not begun."""
    from processes import interrupted_query

    def run_one(year: int, home: object, **_: object) -> dict[str, object]:
        years_run.append(year)
        if year == 2023:
            interrupted_query()
        return {"year": year}

    monkeypatch.setattr(cli, "_run_one", run_one)
    result = runner.invoke(app, ["backfill", "--years", "2022-2024", "--home", str(tmp_path)], env={"COLUMNS": "500"})
    assert result.exit_code == 130 and years_run == [2022, 2023]
    assert result.output.splitlines()[-1] == (
        "error: backfill stopped at 2023: interrupted (Ctrl-C or SIGTERM); run the same command again to finish: it "
        "goes on from what was kept; done before it: [2022], failed: [], not begun: [2024]")


def test_a_backfill_sent_sigterm_stops_as_on_ctrl_c(years_run: list[int], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM (a scheduler stopping the job, `kill`) ended the process there and then, by the signal: no line of
    ours, no word of which years were done. It now stops the backfill as Ctrl-C does, exit code 143, and the
    handler the command found is put back after."""
    import signal
    import time

    def run_one(year: int, home: object, **_: object) -> dict[str, object]:
        years_run.append(year)
        if year == 2023:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises here, in the main thread
        return {"year": year}

    def not_ours(signum: int, _frame: object) -> None:  # without the command's own handler: fail, not die
        raise AssertionError("SIGTERM reached the handler the command found")

    monkeypatch.setattr(cli, "_run_one", run_one)
    before = signal.signal(signal.SIGTERM, not_ours)
    try:
        result = runner.invoke(app, ["backfill", "--years", "2022-2024", "--home", str(tmp_path)],
                               env={"COLUMNS": "500"})
        assert signal.getsignal(signal.SIGTERM) is not_ours
    finally:
        signal.signal(signal.SIGTERM, before)
    assert result.exit_code == 143 and years_run == [2022, 2023], result.output
    assert result.output.splitlines()[-1] == (
        "error: backfill stopped at 2023: stopped by SIGTERM; run the same command again to finish: it goes on from "
        "what was kept; done before it: [2022], failed: [], not begun: [2024]")


def test_how_a_stop_is_told() -> None:
    """Each way a run is stopped, as the CLI and the runs view tell it: Ctrl-C (KeyboardInterrupt), SIGTERM as this
    process raises it (flows.process.Terminated) or as Prefect does while its flow runs (TerminationSignal, which
    the runs view named by its type), DuckDB's error for a query either ended (the signal unknown) or for one in
    which a Python function it ran raised one of these (the signal known), anywhere in the chain of causes; any
    other error is a failure."""
    import signal

    from prefect.exceptions import TerminationSignal

    from flows.errors import interrupted, stop_exit_code, stop_reason, stop_signal
    from flows.process import Terminated
    from flows.runs import failed_row

    def raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
        try:
            raise exc from cause
        except BaseException as caught:
            return caught

    cases: list[tuple[BaseException, int | None, str]] = [
        (KeyboardInterrupt(), signal.SIGINT, "interrupted (Ctrl-C)"),
        (Terminated(signal.SIGTERM), signal.SIGTERM, "stopped by SIGTERM"),
        (TerminationSignal(signal.SIGTERM), signal.SIGTERM, "stopped by SIGTERM"),
        (RuntimeError("Query interrupted"), None, "interrupted (Ctrl-C or SIGTERM)"),
        (raised(ValueError("stage failed"), Terminated(signal.SIGTERM)), signal.SIGTERM, "stopped by SIGTERM"),
    ]
    import duckdb
    from duckdb import func

    def udf_raising(exc: BaseException) -> BaseException:
        """DuckDB's error for a query whose Python function (a UDF, as flows.privacy's iid_redact) raised exc."""
        con = duckdb.connect()

        def udf(value: Any) -> Any:
            raise exc

        con.create_function("f", udf, ["VARCHAR"], "VARCHAR", type=func.PythonUDFType.ARROW)
        try:
            con.execute("select f('a')").fetchall()
        except duckdb.Error as error:
            return error
        raise AssertionError("the function did not raise")

    cases += [(udf_raising(KeyboardInterrupt()), signal.SIGINT, "interrupted (Ctrl-C)"),
              (udf_raising(Terminated(signal.SIGTERM)), signal.SIGTERM, "stopped by SIGTERM"),
              (udf_raising(TerminationSignal(signal.SIGTERM)), signal.SIGTERM, "stopped by SIGTERM")]
    from pydantic import BaseModel, field_serializer

    def pydantic_raising(exc: BaseException) -> BaseException:
        """pydantic's error for a model whose serializing function raised exc (a signal during Prefect's
        serialize_context), without its cause, which Prefect loses as it passes the error on."""

        class Model(BaseModel):
            x: int = 1

            @field_serializer("x")
            def _ser_model(self, value: int) -> int:
                raise exc

        try:
            Model().model_dump()
        except Exception as error:
            error.__cause__ = error.__context__ = None
            return error
        raise AssertionError("the serializer did not raise")

    cases += [(pydantic_raising(KeyboardInterrupt()), signal.SIGINT, "interrupted (Ctrl-C)"),
              (pydantic_raising(Terminated(signal.SIGTERM)), signal.SIGTERM, "stopped by SIGTERM")]
    for exc, signum, told in cases:
        assert interrupted(exc) and stop_signal(exc) == signum and stop_reason(exc) == told, exc
        assert stop_exit_code(exc) == (143 if signum == signal.SIGTERM else 130), exc
        row = failed_row({"run_id": "r", "year": 2024}, exc)
        assert (row["status"], row["message"]) == ("interrupted", told), row
    for exc in (ValueError("Query interrupted"), RuntimeError("Query interrupted: no"), SystemExit(1),
                udf_raising(ValueError("KeyboardInterrupt")), pydantic_raising(ValueError("KeyboardInterrupt: ")),
                ValueError("Error calling function `_ser_model`: KeyboardInterrupt: "),
                ValueError("Python exception occurred while executing the UDF: KeyboardInterrupt: ")):
        assert not interrupted(exc) and stop_signal(exc) is None, exc
    row = failed_row({"run_id": "r", "year": 2024}, RuntimeError("disk full"))
    assert (row["status"], row["message"]) == ("failed", "disk full")


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [["run", "--year", "2024"], ["backfill", "--years", "2023-2024"]])
def test_a_dask_address_is_checked_before_the_run(command: list[str], tmp_path: Path, years_run: list[int],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A malformed --dask-address is a usage error, and one nothing answers at fails in one line with what to do,
    before a year is locked or Prefect started. Before, the run started and its ingest tried to connect for 30 s,
    three times (a retry for a filesystem hiccup took the OSError for one), then said only Dask's error."""
    monkeypatch.setattr(cli, "_hold_year", lambda *a: pytest.fail("a year was locked"))
    for address, code, says in (
            ("nonsense", 2, "--dask-address 'nonsense' is not a scheduler's address (missing port number in "
                            "address 'nonsense'); give it as tcp://scheduler-host:8786"),
            ("tcp://127.0.0.1:80x", 2, "is not a scheduler's address (invalid literal"),
            (f"tcp://127.0.0.1:{_closed_port()}", 1, "(Connection refused): start it (dask scheduler --port ")):
        result = runner.invoke(app, [*command, "--home", str(tmp_path), "--task-runner", "dask",
                                     "--dask-address", address], terminal_width=80)
        assert result.exit_code == code, result.output
        line = one_line_error(result)
        assert says in line and "Traceback" not in result.output, line
        assert years_run == [] and list(tmp_path.iterdir()) == []


def test_a_dask_address_that_answers_passes_the_check() -> None:
    """The check connects and lets go: a listening scheduler port passes (as do protocols it cannot test)."""
    import socket

    from flows.daskcluster import scheduler_problem

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert scheduler_problem(f"tcp://127.0.0.1:{port}") is None
        assert scheduler_problem(f"127.0.0.1:{port}") is None  # tcp when no protocol is given
    assert scheduler_problem("ucx://10.0.0.5:13337") is None


def test_a_dask_address_whose_host_is_unknown_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host name the resolver does not know is named as such (the resolver's answer is given here: the tests
    make no DNS query)."""
    import socket

    from flows.daskcluster import scheduler_problem

    def unknown(address: tuple[str, int], timeout: float) -> socket.socket:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", unknown)
    assert scheduler_problem("tcp://dask-schedular:8786") == (
        "--dask-address tcp://dask-schedular:8786: the host 'dask-schedular' is not known (Name or service not known); "
        "check its name", 1)


def test_only_a_transient_filesystem_error_is_retried() -> None:
    """The ingest and publish tasks retry an OSError the system raised (EIO, ESTALE on a network mount), not a
    missing path or permissions, nor an OSError without an errno such as Dask's failed connection to a scheduler
    (each try waited 30 s), nor any other error."""
    import errno

    from flows.settings import configure_prefect_defaults

    configure_prefect_defaults()
    from prefect.states import Completed, Failed

    from flows.annual import _filesystem_hiccup

    def retried(exc: BaseException) -> bool:
        return _filesystem_hiccup(None, None, Failed(data=exc))

    assert retried(OSError(errno.EIO, "Input/output error")) and retried(OSError(errno.ESTALE, "Stale file handle"))
    assert retried(TimeoutError(errno.ETIMEDOUT, "Connection timed out"))
    for exc in (FileNotFoundError(errno.ENOENT, "No such file or directory"), PermissionError(errno.EACCES, "no"),
                OSError("Timed out trying to connect to tcp://10.0.0.5:8786 after 30 s"), ValueError("bad data")):
        assert not retried(exc), exc
    assert not _filesystem_hiccup(None, None, Completed(data=1))
