"""With ``--task-runner dask`` (a local cluster of two worker processes) a year publishes exactly what the
default runner publishes: the parse and validation chunks run on the workers, the flow inserts the results."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import resource
import signal
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from homecopy import copy_home
from loglines import log_lines
from prefectdb import server_of_this_process
from processes import alive, descendants, paused_iid_run, sigint_handled_by
from rebuild import copy_drop_zones

from flows.generator import generate_year
from flows.settings import Home, configure_prefect_defaults

YEAR = 2024
YEARS = (2023, 2024)


def _manifest(home: Home, year: int = YEAR) -> dict[str, Any]:
    return dict(json.loads((home.published_year(year) / "release=1" / "manifest.json").read_text()))


def _same_release(ours: Home, theirs: Home, year: int) -> None:
    """The release of ``year`` in ``ours`` is the one in ``theirs``: its files' content, validation outcomes
    (merged from chunks on Dask, one whole frame on the default runner), reconciliation and predicates."""
    mine, other = _manifest(ours, year), _manifest(theirs, year)
    assert mine["content_hashes"] == other["content_hashes"]
    assert mine["validation"] == other["validation"]
    assert mine["reconciliation"] == other["reconciliation"]
    assert mine["counts"]["predicates"] == other["counts"]["predicates"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """Two small years with defects, generated once: each test runs a copy of their drop zone."""
    home = Home.resolve(tmp_path_factory.mktemp("generated"))
    for seed, year in enumerate(YEARS):
        generate_year(home, year, seed=seed + 11, scale=0.01, defect_rate=0.1)
    return home


@pytest.fixture(scope="module")
def by_default(generated: Home, tmp_path_factory: pytest.TempPathFactory) -> Home:
    """The generated years published by the default runner, oldest first (as a backfill runs them)."""
    configure_prefect_defaults()
    from flows.annual import run_annual

    home = copy_drop_zones(generated, YEARS, tmp_path_factory.mktemp("default") / "home")
    for year in YEARS:
        run_annual("default", year=year, home=str(home.root))
    return home


def test_a_run_on_an_existing_cluster_publishes_the_same_release(generated: Home, by_default: Home, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``--dask-address``: a cluster the run did not start (its workers reporting to the flow's Prefect server, as
    the README says to set up) gives the release the default runner gives."""
    from distributed import LocalCluster

    from flows.annual import run_annual

    year = YEARS[0]
    home = copy_drop_zones(generated, (year,), tmp_path / "home")
    # this process's temporary server, which the flow reports to, and so the cluster's workers
    monkeypatch.setenv("PREFECT_API_URL", server_of_this_process())
    # one worker process: a cluster the run did not start is the subject (two workers: the backfill test below)
    with LocalCluster(n_workers=1, processes=True, threads_per_worker=1, dashboard_address="127.0.0.1:0") as cluster:
        assert cluster.scheduler.transition_counter == 0
        result = run_annual("dask", cluster.scheduler_address, year=year, home=str(home.root))
        assert result["publish"]["published"]
        assert cluster.scheduler.transition_counter > 0  # the tasks ran on this cluster
    _same_release(home, by_default, year)


def test_local_worker_pool_parses_the_same_rows(tmp_path_factory: pytest.TempPathFactory,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import ingest
    from flows.dropzone import drop_zone_files

    home = Home.resolve(tmp_path_factory.mktemp("pool"))
    generate_year(home, YEAR, seed=2, scale=0.01, defect_rate=0.2)
    raw = home.raw_year(YEAR)
    files = [(i, p.relative_to(raw).as_posix()) for i, p in enumerate(drop_zone_files(raw))]
    chunks = ingest.plan_chunks(raw, files, chunk_files=150)
    assert len(chunks) > 2
    here = [ingest.read_files(raw, items) for items in chunks]
    monkeypatch.setattr(ingest, "POOL_MIN_BYTES", 0)  # a pool even for a small year
    monkeypatch.setenv("IID_INGEST_WORKERS", "2")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    pooled = list(ingest.parse_locally(raw, chunks))
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime > before  # worker processes did the parsing
    assert len(pooled) == len(here)
    for ours, theirs in zip(pooled, here, strict=True):
        assert ours.keys() == theirs.keys()
        assert all(ours[name].equals(theirs[name]) for name in ours)
    with ingest.parse_pool(1) as pool:  # a worker parses without importing pandas, which stays importable
        assert pool.submit(ingest.read_files, raw, chunks[0]).result()["files"].equals(here[0]["files"])
        assert pool.submit(eval, "'pandas' in __import__('sys').modules").result() is False
        assert pool.submit(importlib.util.find_spec, "pandas").result() is not None
        # and collects cycles every 50,000 net allocations, its imports frozen out of every collection
        assert pool.submit(eval, "__import__('gc').get_threshold()").result() == (50_000, 20, 100)
        assert pool.submit(eval, "__import__('gc').get_freeze_count()").result() > 10_000


@pytest.mark.parametrize(("signum", "code", "line"), [
    (signal.SIGINT, 130, "interrupted (Ctrl-C)"),  # a terminal's Ctrl-C
    (signal.SIGTERM, 143, "stopped by SIGTERM"),  # a scheduler or a CI job stopping the run: kill -- -PGID
])
def test_a_stopped_dask_run_ends_with_its_one_line(tmp_path: Path, signum: int, code: int, line: str) -> None:
    """Ctrl-C in a terminal sends SIGINT to the run and to the worker processes of its local cluster (one process
    group), as ``kill -- -PGID`` sends SIGTERM. The run ends with its line and exit code 128 + the signal; the
    workers leave the signal to it and end with the cluster. Before, a worker died of SIGINT with a
    KeyboardInterrupt traceback; of SIGTERM, silently, but the run's nanny restarted it ("Restarting worker"),
    the scheduler logged the computed tasks it lost, and multiprocessing's resource tracker leaked semaphores at
    exit. The run's output has no INFO line of Dask's (~35 of them a run) nor GX's ("Created temporary directory
    … for ephemeral docs site"), nor the dashboard's link (bokeh is not installed here: that page only says to
    install it)."""
    import importlib.util

    assert importlib.util.find_spec("bokeh") is None
    home = Home.resolve(tmp_path / "home")
    generate_year(home, YEAR, seed=3, scale=0.01, defect_rate=0.1)
    log = tmp_path / "run.log"
    child, _ = paused_iid_run(["--year", str(YEAR), "--home", str(home.root), "--task-runner", "dask"],
                              "publish:before-rename", tmp_path / "paused.pid", log, new_session=True,
                              # Prefect's INFO lines, as a user sees them (the tests' default: WARNING); the
                              # server is this process's (the early server's Ctrl-C: test_tempserver)
                              env={"PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_API_URL": server_of_this_process()})
    try:
        workers = {pid for pid in descendants(child.pid) if os.getsid(pid) == child.pid}
        assert len(workers) >= 2, workers  # the cluster's two workers (and the ingest's, if still there)
        os.killpg(child.pid, signum)
        assert child.wait(timeout=120) == code, log.read_text()
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    output = log.read_text()
    assert f"error: {YEAR}: {line}; run the same command again" in output, output
    for noise in ("Traceback", "KeyboardInterrupt", "| INFO    | distributed.", "for ephemeral docs site",
                  "The Dask dashboard is available at",  # without bokeh, that page only says to install it
                  "Restarting worker", "lose already computed", "leaked semaphore"):
        assert noise not in output, output
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)]


def test_an_interrupted_dask_backfill_closes_its_cluster_before_its_line(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared cluster outlives each year's run: a backfill stopped by Ctrl-C closes it before it prints its
    line, or the workers' tasks in flight log "Finished" under that line (seen with a terminal's Ctrl-C)."""
    from typer.testing import CliRunner

    from flows import cli, daskcluster

    events: list[str] = []

    def run_one(year: int, home: Home, **kwargs: Any) -> dict[str, Any]:
        kwargs["cluster"].address()  # the real cluster, started as a year's run starts it
        raise KeyboardInterrupt

    close, fail = daskcluster.SharedCluster.close, cli.fail

    def closing(self: daskcluster.SharedCluster) -> None:
        events.append("close" if self.started else "nothing to close")
        close(self)

    def failing(message: str, code: int = 1) -> Any:
        events.append("line")
        return fail(message, code)

    monkeypatch.setattr(cli, "_run_one", run_one)
    monkeypatch.setattr(daskcluster.SharedCluster, "close", closing)
    monkeypatch.setattr(cli, "fail", failing)
    result = CliRunner().invoke(cli.app, ["backfill", "--years", "2023-2024", "--home", str(tmp_path),
                                          "--task-runner", "dask"])
    assert result.exit_code == 130, result.output
    assert "backfill stopped at 2023: interrupted (Ctrl-C)" in result.output
    assert events == ["close", "line", "nothing to close"]


def test_a_local_cluster_worker_quiets_only_its_heartbeat_to_a_closed_scheduler() -> None:
    """As a local cluster closes, a worker's heartbeat can meet the closed connection before the worker is told to
    stop (dask/distributed#7105): that record is left out; the same message for another error, and every other
    record, is kept."""
    from distributed.comm.core import CommClosedError

    from flows.daskcluster import HEARTBEAT_LOST, _SchedulerGone

    def record(msg: str, exc: BaseException | None) -> logging.LogRecord:
        info = (type(exc), exc, None) if exc else None
        return logging.LogRecord("distributed.worker", logging.ERROR, __file__, 1, msg, (), info)

    kept = _SchedulerGone()
    assert not kept.filter(record(HEARTBEAT_LOST, CommClosedError("in <TCP (closed)>: Stream is closed")))
    assert kept.filter(record(HEARTBEAT_LOST, OSError("Timed out trying to connect")))
    assert kept.filter(record(HEARTBEAT_LOST, None))
    assert kept.filter(record("Unexpected exception during heartbeat. Closing worker.", CommClosedError("x")))


def _clusters_started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The local Dask clusters started from now on in this test (real ones, counted), in a list that grows."""
    import distributed

    started: list[distributed.LocalCluster] = []

    class Counted(distributed.LocalCluster):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(distributed, "LocalCluster", Counted)
    return started


def test_dask_and_default_runners_publish_the_same_releases(generated: Home, by_default: Home, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """``iid backfill --task-runner dask`` (no address: a local cluster of two worker processes) publishes each
    year exactly as the default runner does, the parse and validation chunks run on the workers. It starts one
    local cluster for all its years (each year started its own: ~2.5 s, and its workers imported GX again), as the
    first year submits its first task, and closes it as the backfill ends."""
    import distributed
    from typer.testing import CliRunner

    from flows import ingest
    from flows.annual import OnCluster
    from flows.cli import app
    from flows.daskcluster import CONNECTING
    from flows.dropzone import drop_zone_files

    started = _clusters_started(monkeypatch)
    home = copy_drop_zones(generated, YEARS, tmp_path / "home")
    # smaller chunks than by default, so each year is several parse tasks and several validation tasks (each
    # task costs Prefect and Dask ~0.2 s: chunks of 100 files and 2,000 rows made ~40 tasks a year, these ~20)
    monkeypatch.setenv("IID_INGEST_CHUNK_FILES", "200")
    monkeypatch.setattr("expectations.stage.CHUNK_ROWS", 5_000)
    raw = home.raw_year(YEAR)
    files = [(i, p.relative_to(raw).as_posix()) for i, p in enumerate(drop_zone_files(raw))]
    assert len(ingest.plan_chunks(raw, files, chunk_files=200)) > 2
    planned: list[Any] = []  # how each year's chunks were sized: for the cluster's slots (flows.annual.OnCluster)
    plan = ingest.plan_chunks

    def recorded(raw_year: Path, to_read: list[tuple[int, str]], chunk_files: int, chunk_bytes: Any) -> Any:
        planned.append(chunk_bytes)
        return plan(raw_year, to_read, chunk_files, chunk_bytes)

    monkeypatch.setattr(ingest, "plan_chunks", recorded)
    with log_lines("prefect.task_runner.dask", level=logging.INFO) as lines:
        result = CliRunner().invoke(app, ["backfill", "--years", "2023-2024", "--home", str(home.root),
                                          "--task-runner", "dask"])
    assert result.exit_code == 0, result.output
    # the slots counted in each year's flow: two workers of one thread, so four chunks in flight
    on_cluster = [getattr(chunk_bytes, "__self__", None) for chunk_bytes in planned]
    assert len(on_cluster) == 2 and all(isinstance(c, OnCluster) and (c.slots(), c.in_flight()) == (2, 4)
                                        for c in on_cluster), planned
    assert "2 succeeded [2023, 2024]" in result.output
    for year in YEARS:
        _same_release(home, by_default, year)
    with duckdb.connect(str(home.work_db(YEAR)), read_only=True) as con:  # validated in several chunks
        chunks = con.execute("select max(chunk) from validation_results where suite = 'sid_answers'").fetchone()
    assert chunks is not None and chunks[0] > 1
    validation = _manifest(home)["validation"]
    assert sum(v for s in validation["suites"] for v in s["failing_rows_by_rule"].values()) > 0
    assert (home.published_year(YEAR) / "release=1" / "validation" / "index.html").is_file()
    assert len(started) == 1
    assert started[0].status == distributed.core.Status.closed
    # said once, by the run; prefect-dask's line calling it "an existing" cluster, as each year connects, is left out
    assert sum(line.startswith("Started a local Dask cluster of 2 worker processes at tcp://") for line in lines) == 1
    assert not any(line.startswith(CONNECTING) for line in lines), lines
    # a frame sent once as a task's argument (~50 MB a chunk in a national year) is not warned of
    from dask import config
    from dask.utils import parse_bytes

    assert parse_bytes(config.get("distributed.admin.large-graph-warning-threshold")) >= 2**30


def test_a_dask_run_with_no_task_for_the_cluster_starts_none(by_default: Home, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The local cluster starts when the flow first submits a task to it: a re-run with nothing changed, or one from
    the transform stage, has none to submit and starts no cluster (it started one, ~0.5 s and two processes), yet
    says it ran on Dask (a run with a file to parse starts one: the backfill test above)."""
    from flows import annual
    from flows.annual import run_annual

    started = _clusters_started(monkeypatch)
    home = copy_home(by_default.root, tmp_path / "home")
    looked: list[bool] = []  # whether the run will validate is looked at once a run (its drop zone hashed, ~7 ms)
    will_validate = annual._will_validate

    def looking(parameters: dict[str, Any]) -> bool:
        looked.append(will_validate(parameters))
        return looked[-1]

    monkeypatch.setattr(annual, "_will_validate", looking)

    def ran_on(result: dict[str, Any]) -> str:
        path = home.warehouse / "runs" / f"{YEAR}-{result['run_id']}.parquet"
        parameters = duckdb.connect().execute("select parameters from read_parquet(?)", [str(path)]).fetchone()
        assert parameters is not None
        return str(json.loads(parameters[0]).get("task_runner", "default"))

    for from_stage in ("ingest", "transform"):
        result = run_annual("dask", year=YEAR, home=str(home.root), from_stage=from_stage)
        assert not result["publish"]["published"]
        assert ran_on(result) == "dask"
    assert started == []
    assert looked == [False, False]


def _sigint_blocked(pid: int) -> bool:
    """Whether SIGINT is in the blocked mask of process ``pid`` (Linux ``/proc``)."""
    blocked = int(Path(f"/proc/{pid}/status").read_text().split("SigBlk:")[1].split()[0], 16)
    return bool(blocked & (1 << (signal.SIGINT - 1)))


def test_a_local_cluster_s_workers_have_sigint_blocked_from_their_start() -> None:
    """Ctrl-C reaches every process of the terminal's group: a worker still importing as its cluster started died
    of it with a traceback. The cluster is started with SIGINT held, so its workers are born with it blocked (also
    those started after, by its own threads), and this thread's mask is as it was."""
    from distributed import Client

    from flows.daskcluster import shared_local_cluster

    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    with shared_local_cluster() as shared:
        address = shared.address()
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
        with Client(address) as client:
            pids = list(client.run(os.getpid).values())
            assert len(pids) == 2 and all(map(_sigint_blocked, pids)), pids
            client.restart()  # workers started again by the cluster's own threads
            restarted = list(client.run(os.getpid).values())
            assert len(restarted) == 2 and all(map(_sigint_blocked, restarted)), restarted
            assert not any(client.run(_gx_imported).values())  # a run that will not validate: not imported
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if alive(pid)]


def _gx_imported() -> bool:
    import sys

    from expectations import prefetch

    prefetch.wait()
    return "great_expectations" in sys.modules


def test_the_workers_of_a_run_that_will_validate_import_gx_as_they_start() -> None:
    """Idle until their first task, the workers import GX on a thread as they start when the run will validate
    (its first validation task waits for it): a one-region re-run on Dask gave them one parse task, then
    validation, which imported GX first."""
    from distributed import Client

    from flows.daskcluster import shared_local_cluster

    with shared_local_cluster() as shared, Client(shared.address(prefetch_gx=True)) as client:
        assert all(client.run(_gx_imported).values())


def test_stop_signals_held_deliver_a_ctrl_c_or_a_sigterm_as_the_block_ends() -> None:
    """With Python's own handler (a terminal's), a SIGINT during the block raises KeyboardInterrupt as it ends; with
    SIGINT ignored (a background job of a script, ``nohup``), it stays ignored. A SIGTERM during the block reaches the
    run's handler (``flows.process.terminated_as_interrupt``) as it ends; both are blocked only inside the block."""
    from flows.daskcluster import stop_signals_held
    from flows.process import Terminated, terminated_as_interrupt

    with sigint_handled_by(signal.default_int_handler):
        reached = []
        with pytest.raises(KeyboardInterrupt), stop_signals_held():  # this process has other threads, which may take it
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            reached.append("end of the block")  # not interrupted inside it
        assert reached == ["end of the block"]
        assert not {signal.SIGINT, signal.SIGTERM} & signal.pthread_sigmask(signal.SIG_BLOCK, [])
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        with stop_signals_held():  # nothing came: nothing raised
            pass
        with terminated_as_interrupt():
            handler = signal.getsignal(signal.SIGTERM)
            reached = []
            with pytest.raises(Terminated), stop_signals_held():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                reached.append("end of the block")
            assert reached == ["end of the block"]
            assert signal.getsignal(signal.SIGTERM) is handler
            assert not {signal.SIGINT, signal.SIGTERM} & signal.pthread_sigmask(signal.SIG_BLOCK, [])
    with sigint_handled_by(signal.SIG_IGN):
        with stop_signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
