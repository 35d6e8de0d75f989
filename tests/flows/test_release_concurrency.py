"""Releases under stress: a publish killed at each step, a second run of a year while one runs (in-process and from
the command line), a reader during a publish, and records that do not balance (fixtures: releasefixtures.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from factory import submission, year_locked_elsewhere
from homecopy import copy_home
from releasehome import YEAR
from releasehome import run_release as _run

from flows import pipeline
from flows.locks import RunLocked, year_lock
from flows.releases import release_dirs
from flows.settings import Home


def _child_publish(home: Home, point: str, marker: Path) -> subprocess.Popen[bytes]:
    code = ("from flows import pipeline; from flows.settings import Home; import sys; "
            f"h = Home.resolve({str(home.root)!r}); pipeline.publish(h, {YEAR}, {{'run_id': 'crash'}})")
    env = {**os.environ, "IID_PAUSE_AT": point, "IID_PAUSE_FILE": str(marker)}
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=Path(__file__).resolve().parents[2])


def _kill_at(home: Home, point: str, tmp_path: Path) -> None:
    marker = tmp_path / f"{point.replace(':', '-')}.pid"
    child = _child_publish(home, point, marker)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, "the child ended before reaching the pause point"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()


@pytest.fixture(scope="module")
def rescored_35_78(released: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> Home:
    """Release 1, then 35.78 resubmitted (spd 50) and scored (ingest, validate, transform), not yet published."""
    home = copy_home(released[0].root, tmp_path_factory.mktemp("rescored-35.78") / "home")
    (home.raw_year(YEAR) / "35.78.json").write_text(json.dumps(submission("35.78", spd_total=50)), encoding="utf-8")
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    pipeline.transform(home, YEAR)
    return home


@pytest.mark.parametrize("point", ["publish:staging-created", "publish:before-rename", "catalog:before-replace"])
def test_crash_during_publish_leaves_previous_release_and_next_run_succeeds(rescored_35_78: Home, tmp_path: Path,
                                                                             point: str) -> None:
    home = copy_home(rescored_35_78.root, tmp_path / "home")
    _kill_at(home, point, tmp_path)
    visible = [r.number for r in release_dirs(home, YEAR)]
    con = duckdb.connect(str(home.catalog), read_only=True)
    catalog_release = con.execute("select max(release) from releases").fetchall()[0][0]
    con.close()
    if point == "catalog:before-replace":
        assert visible == [1, 2] and catalog_release == 1  # release 2 complete; the old catalog still readable
    else:
        assert visible == [1] and catalog_release == 1
    after = pipeline.publish(home, YEAR, {"run_id": "after-crash"})
    names = sorted(p.name for p in home.published_year(YEAR).iterdir())
    assert names == ["release=1", "release=2"], names
    assert after["published"] == (point != "catalog:before-replace")
    con = duckdb.connect(str(home.catalog), read_only=True)
    assert con.execute("select max(release) from releases").fetchall()[0][0] == 2
    assert con.execute("select spd_score from region_scores where region_code = '35.78'").fetchall() == [(50.0,)]
    assert not list(home.warehouse.glob(".iid.duckdb.*.tmp"))


def test_second_run_of_same_year_is_refused_other_year_is_not(tmp_path: Path) -> None:
    work = tmp_path / "work"
    refused: list[BaseException] = []

    def second_run() -> None:
        try:
            with year_lock(work, 2024):
                pass
        except RunLocked as exc:
            refused.append(exc)

    def in_another_thread() -> None:
        other = threading.Thread(target=second_run)
        other.start()
        other.join()

    with year_lock(work, 2024):
        in_another_thread()
        with year_lock(work, 2024):  # the holder's own thread takes it again (the CLI, then its flow)
            pass
        in_another_thread()  # still held: the inner one left it to the outer
        with year_lock(work, 2023):
            pass
        code = ("import sys; from pathlib import Path; from flows.locks import year_lock\n"
                "with year_lock(Path(sys.argv[1]), 2024): pass")
        process = subprocess.run([sys.executable, "-c", code, str(work)], capture_output=True, text=True, check=False,
                                 env={**os.environ, "PYTHONPATH": str(Path(pipeline.__file__).resolve().parents[1])})
    assert len(refused) == 2 and "a run of 2024 is already running" in str(refused[0])
    assert process.returncode == 1 and "RunLocked: a run of 2024 is already running" in process.stderr
    in_another_thread()  # released with the outer one
    assert len(refused) == 2


def test_cli_run_refuses_while_the_year_is_locked(home: Home) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    with year_locked_elsewhere(home, YEAR):
        result = CliRunner().invoke(app, ["run", "--year", str(YEAR), "--home", str(home.root)])
    assert result.exit_code == 3 and "already running" in result.output
    assert not home.published.exists()


def test_a_second_cli_run_started_while_the_first_starts_up_is_refused(home: Home,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI holds the year's lock from its first check to its end, Prefect's start-up included: a second
    run started then ends with exit 3. Before, the CLI only tried the lock and let it go, and the flow took it
    seconds later, so a second run started in between got past the check and one of the two ended with exit 1."""
    from typer.testing import CliRunner

    from flows import cli

    monkeypatch.setenv("IID_EARLY_SERVER", "0")  # else a second server, until the test process ends
    root = str(Path(cli.__file__).resolve().parents[1])
    command = ["run", "--year", str(YEAR), "--home", str(home.root)]
    second: list[subprocess.CompletedProcess[str]] = []
    start_up = cli._run_one

    def second_run_then_start_up(*args: object, **kwargs: object) -> dict:
        second.append(subprocess.run([sys.executable, "-c", "from flows.cli import main; main()", *command],
                                     env={**os.environ, "PYTHONPATH": root}, capture_output=True, text=True,
                                     check=False, timeout=300))
        return start_up(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "_run_one", second_run_then_start_up)
    first = CliRunner().invoke(cli.app, command)
    assert second[0].returncode == 3, second[0].stdout + second[0].stderr
    assert second[0].stderr.startswith(f"error: a run of {YEAR} is already running (pid {os.getpid()} since")
    assert first.exit_code == 0, first.output  # the flow, in the process holding the lock, takes it again
    assert [r.number for r in release_dirs(home, YEAR)] == [1]


def test_reader_keeps_working_while_a_release_is_published(rescored_35_01: Home, tmp_path: Path) -> None:
    home = copy_home(rescored_35_01.root, tmp_path / "home")  # release 1, then 35.01 changed and scored
    reader = duckdb.connect(str(home.catalog), read_only=True)
    before = reader.execute("select count(*) from region_scores").fetchall()
    assert _run(home)["publish"]["release"] == 2
    assert reader.execute("select count(*) from region_scores").fetchall() == before
    assert reader.execute("select max(release) from releases").fetchall() == [(1,)]
    # a new reader (another process: DuckDB shares one instance per file within a process) sees release 2
    code = ("import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); print(c.execute("
            "'select max(release) from releases').fetchall()[0][0], c.execute("
            "'select count(distinct release) from region_scores_history').fetchall()[0][0])")
    out = subprocess.run([sys.executable, "-c", code, str(home.catalog)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "2"]


def test_unbalanced_records_stop_the_run_before_publishing(home: Home) -> None:
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    con = duckdb.connect(str(home.work_db(YEAR)))
    con.execute("delete from method_rows where code = '7'")  # answers to row 7 can no longer be scored
    con.close()
    with pytest.raises(pipeline.ReconciliationError, match="records do not add up"):
        pipeline.transform(home, YEAR, force=True)
    assert not home.published.exists()
