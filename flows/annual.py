"""The annual Prefect flow: one task per stage, named by its parameters (``annual-2024``, ``ingest-2024``).

With a Dask task runner (:func:`annual_flow`), the parsing of file chunks and the validation of frame
chunks become mapped tasks on the cluster; the flow process inserts what they return. Import this
module only after :func:`flows.settings.configure_prefect_defaults` has run.
"""

from __future__ import annotations

import logging
import os
import resource
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from zoneinfo import ZoneInfo

from prefect import Flow, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run

from flows import pipeline, workdb
from flows.errors import first_line
from flows.locks import year_lock
from flows.methodology import for_year
from flows.progress import show
from flows.runs import begin_run, end_run, failed_row, final_row, record_run, run_row
from flows.settings import Home
from flows.versioning import code_version

if TYPE_CHECKING:
    import pyarrow as pa

    from expectations.outcomes import ChunkOutcome
    from flows.daskcluster import SharedCluster

TASK_RUNNERS = ("default", "dask")
STAGE_WORDS = {"ingest": "ingest: reading the drop zone", "validate": "validate: checking the records",
               "transform": "score: the SQL models", "publish": "publish: writing the release"}
T = TypeVar("T")


NOT_TRANSIENT = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


def _filesystem_hiccup(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only transient filesystem errors: an OSError the system raised (it has an errno: EIO, ESTALE on
    a network mount, …), not one of a missing path or permissions; never data or methodology errors, nor an
    OSError raised without an errno, such as Dask's "Timed out trying to connect" to a scheduler (each try
    waited 30 s)."""
    try:
        state.result()
    except OSError as exc:
        return exc.errno is not None and not isinstance(exc, NOT_TRANSIENT)
    except Exception:
        return False
    return False


@task(task_run_name="parse-{label}", cache_policy=NO_CACHE)
def parse_chunk_task(raw_year: str, items: list[tuple[int, str]], label: str) -> dict[str, pa.Table]:
    """Parse one chunk of drop-zone files into landing rows (ids local to the chunk)."""
    from flows.ingest import read_files

    return read_files(Path(raw_year), items)


@task(task_run_name="check-{name}-{label}", cache_policy=NO_CACHE)
def validate_chunk_task(name: str, frame: Any, params: dict[str, Any], label: str) -> ChunkOutcome:
    """Run one suite on one chunk of its frame; returns the failing rows and the GX result."""
    from expectations.validate import validate_chunk

    return validate_chunk(name, frame, params)


def _scaled_out() -> bool:
    """Whether the flow runs on a Dask cluster (then chunks become mapped tasks)."""
    context = FlowRunContext.get()
    return context is not None and any(c.__name__ == "DaskTaskRunner" for c in type(context.task_runner).__mro__)


def slots_of(client: Any) -> int:
    """How many tasks the Dask cluster of ``client`` runs at once: its workers' threads, as its scheduler counts
    them now (at least one: a cluster whose workers have yet to join runs tasks as they do)."""
    return max(1, sum(client.nthreads().values()))


def cluster_slots() -> int:
    """The slots (:func:`slots_of`) of the flow's Dask cluster. Asking starts the run's local cluster if it has
    not started."""
    context = FlowRunContext.get()
    assert context is not None, "asked outside a flow run"
    return slots_of(cast(Any, context.task_runner).client)


SENT_PER_SLOT = 2  # tasks in flight per task slot of the cluster: one running, one waiting to start


def _in_order(submit: Callable[[T], PrefectFuture[Any]], items: Iterable[T],
              ahead: Callable[[], int]) -> Iterator[Any]:
    """Submit tasks and yield their results in submission order, with at most ``ahead()`` in flight (asked as
    the first item comes: a run with nothing to send starts no cluster)."""
    pending: deque[PrefectFuture[Any]] = deque()
    limit = 0
    for item in items:
        limit = limit or ahead()
        pending.append(submit(item))
        if len(pending) >= limit:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


class OnCluster:
    """A stage's chunks on the flow's Dask cluster: as many in flight as keep each of its task slots busy
    (:data:`SENT_PER_SLOT` per slot; four in all before round 50, whatever the cluster's size), and the files of a
    chunk sized for the slots (``flows.ingest.cluster_chunk_bytes``). The slots are counted once, when first
    needed: by a stage with something to send."""

    def __init__(self, slots: Callable[[], int] = cluster_slots) -> None:
        self._count = slots
        self._slots = 0

    def slots(self) -> int:
        self._slots = self._slots or self._count()
        return self._slots

    def in_flight(self) -> int:
        return SENT_PER_SLOT * self.slots()

    def chunk_bytes(self, total: int) -> int:
        from flows.ingest import cluster_chunk_bytes

        return cluster_chunk_bytes(total, self.slots())

    def parse(self, raw_year: Path, chunks: list[list[tuple[int, str]]]) -> Iterator[dict[str, pa.Table]]:
        return _in_order(lambda items: parse_chunk_task.submit(str(raw_year), items, f"{raw_year.name}-{items[0][0]}"),
                         chunks, self.in_flight)

    def validate(self, frames: Iterable[tuple[str, Any]], params: dict[str, Any]) -> Iterator[ChunkOutcome]:
        def submit(chunk: tuple[str, Any]) -> PrefectFuture[Any]:
            name, frame = chunk
            label = str(frame["record_id"].iloc[0]) if len(frame) else "empty"
            return validate_chunk_task.submit(name, frame, params, label)
        return _in_order(submit, frames, self.in_flight)


@task(task_run_name="ingest-{year}", cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=[2, 10], retry_condition_fn=_filesystem_hiccup)
def ingest_task(home_root: str, year: int, force: bool = False) -> dict[str, Any]:
    cluster = OnCluster() if _scaled_out() else None
    result = pipeline.ingest(Home.resolve(home_root), year, force=force,
                             progress=lambda done, total: show("ingest: files read", done, total),
                             parse=cluster.parse if cluster else None,
                             chunk_bytes=cluster.chunk_bytes if cluster else None)
    get_run_logger().info("ingest %s: %s files (%s rejected, %s read now, %s dropped), records %s", year,
                          result["files"], result["rejected_files"], result["files_parsed"], result["files_dropped"],
                          result["records"])
    return result


@task(task_run_name="validate-{year}", cache_policy=NO_CACHE)
def validate_task(home_root: str, year: int, force: bool = False) -> dict[str, Any]:
    result = pipeline.validate(Home.resolve(home_root), year, force=force,
                               validate_chunks=OnCluster().validate if _scaled_out() else None)
    get_run_logger().info("validate %s%s: %s quarantined, %s warnings, submissions %s", year,
                          " (unchanged, skipped)" if result["skipped"] else "", result["quarantined"],
                          result["warnings"], result["submissions"])
    return result


@task(task_run_name="transform-{year}", cache_policy=NO_CACHE)
def transform_task(home_root: str, year: int, force: bool = False) -> dict[str, Any]:
    result = pipeline.transform(Home.resolve(home_root), year, force=force)
    get_run_logger().info("transform %s%s: %s files scored, tables %s, predicates %s", year,
                          " (unchanged, skipped)" if result["skipped"] else "", result.get("files_scored", "all"),
                          result["tables"], result["predicates"])
    return result


@task(task_run_name="publish-{year}", cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=[2, 10], retry_condition_fn=_filesystem_hiccup)
def publish_task(home_root: str, year: int, run: dict[str, Any]) -> dict[str, Any]:
    result = pipeline.publish(Home.resolve(home_root), year, run)
    get_run_logger().info("publish %s: %s", year, result["message"])
    return result


@task(task_run_name="copy-{year}", cache_policy=NO_CACHE)
def copy_task(home_root: str, year: int, url: str) -> dict[str, Any]:
    """Copy the year's releases that the copy location lacks, then write the location's catalog."""
    from flows.remote import copy_releases

    result = copy_releases(Home.resolve(home_root), url, [year])
    get_run_logger().info("copy %s: %s", year, result.message)
    return {"url": url, "copied": result.copied, "catalog": result.catalog, "message": result.message}


def _copy(root: str, year: int, url: str) -> dict[str, Any]:
    """The copy step. Its failure leaves the run a success (the release is published at home, which is
    what ``iid run`` promises): the task is Failed in Prefect, and the result and the run's row say why."""
    state = copy_task(root, year, url, return_state=True)
    outcome = state.result(raise_on_failure=False)
    if state.is_completed():
        return cast(dict[str, Any], outcome)
    reason = first_line(cast(BaseException, outcome))
    return {"url": url, "copied": [], "catalog": None, "failed": reason,
            "message": f"the release is published at home, but the copy failed: {reason}"}


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (e.g. the ingest workers)."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                   resource.getrusage(resource.RUSAGE_CHILDREN)))


def default_year() -> int:
    """The measurement year a scheduled run scores: the current year in Asia/Jakarta."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).year


def _stages(root: str, year: int, first: int, force: bool, run: dict[str, Any], results: dict[str, Any]) -> None:
    """The stages from the ``first``, then publish; each one's result into ``results``, times into ``run``."""
    tasks = {"ingest": ingest_task, "validate": validate_task, "transform": transform_task}
    run["stages_skipped"] = []
    for position, stage in enumerate(pipeline.STAGES[:-1]):
        if position < first:
            run["stages_skipped"].append(stage)
            results[stage] = None
            continue
        started, cpu = time.perf_counter(), _cpu_seconds()
        show(STAGE_WORDS[stage])
        results[stage] = tasks[stage](root, year, force=force or (position == first and first > 0))
        run["stage_seconds"][stage] = round(time.perf_counter() - started, 3)
        run["stage_cpu_seconds"][stage] = round(_cpu_seconds() - cpu, 3)
        if results[stage].get("skipped"):
            run["stages_skipped"].append(stage)
    started, cpu = time.perf_counter(), _cpu_seconds()
    show(STAGE_WORDS["publish"])
    results["publish"] = publish_task(root, year, run)
    run["stage_seconds"]["publish"] = round(time.perf_counter() - started, 3)
    run["stage_cpu_seconds"]["publish"] = round(_cpu_seconds() - cpu, 3)


def _run_year(home: Home, year: int, first: int, force: bool, copy_url: str | None, run: dict[str, Any],
              results: dict[str, Any]) -> None:
    """The stages from the ``first`` (all of them after a damaged work database set aside), then the copy."""
    root = str(home.root)
    # --force rebuilds a damaged work database (all in it is derived from raw/): set aside, kept
    set_aside = workdb.set_aside_if_damaged(home, year) if force else None
    try:
        start = 0 if set_aside else first
        pipeline.check_ready(home, year, pipeline.STAGES[start])
        with workdb.held_open(home, year):  # one DuckDB instance for the stages, closed before a set-aside
            _stages(root, year, start, force, run, results)
    except workdb.DamagedWorkDatabase:  # found on reading a block, not on opening
        if not force:
            raise
        set_aside = workdb.set_aside(home, year)
        with workdb.held_open(home, year):
            _stages(root, year, 0, force, run, results)
    if set_aside:
        results["set_aside"] = str(set_aside)
    if copy_url:
        started, cpu = time.perf_counter(), _cpu_seconds()
        show(f"copy: to {copy_url}")
        results["copy"] = _copy(root, year, copy_url)
        run["stage_seconds"]["copy"] = round(time.perf_counter() - started, 3)
        run["stage_cpu_seconds"]["copy"] = round(_cpu_seconds() - cpu, 3)


@flow(name="annual", flow_run_name="annual-{year}", log_prints=False)
def annual(year: int | None = None, home: str | None = None, from_stage: str = "ingest",
           force: bool = False, copy_to: str | None = None) -> dict[str, Any]:
    """Ingest → validate → transform → publish one measurement year.

    ``from_stage`` re-runs from a stage (the earlier ones are not run; their tables are used as they
    are); ``force`` redoes every stage even when its inputs did not change. ``copy_to`` (default
    ``$IID_COPY_TO``) is a folder or fsspec URL that gets a copy of the year's releases it lacks and
    a catalog of its own (:mod:`flows.remote`).
    """
    from flows.remote import copy_location

    year = year or default_year()
    copy_url = copy_location(copy_to)
    if from_stage not in pipeline.STAGES:
        raise ValueError(f"from_stage must be one of {pipeline.STAGES}, not {from_stage!r}")
    home_obj = Home.resolve(home)
    root = str(home_obj.root)
    loaded = for_year(year)
    run: dict[str, Any] = {
        "run_id": uuid.uuid4().hex, "flow_run_id": str(flow_run.get_id() or ""), "year": year,
        "parameters": {"year": year, "home": root, "from_stage": from_stage, "force": force,
                       **({"copy_to": copy_url} if copy_url else {})},
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "methodology": loaded.method.id,
        "methodology_sha256": loaded.sha256, "code_version": code_version(), "stage_seconds": {},
        "stage_cpu_seconds": {}, "stages_skipped": [],
    }
    if _scaled_out():
        run["parameters"]["task_runner"] = "dask"
    first = pipeline.STAGES.index(from_stage)
    results: dict[str, Any] = {"year": year, "run_id": run["run_id"]}
    home_obj.work_db(year).parent.mkdir(parents=True, exist_ok=True)
    begun = False
    try:
        with year_lock(home_obj.work_db(year).parent, year):
            # recorded under the lock: a run still 'running' in the log is one that began and never ended
            begin_run(home_obj, run_row(run, status="running"))  # replaced by the final row when the run ends
            begun = True
            try:
                _run_year(home_obj, year, first, force, copy_url, run, results)
            except BaseException as exc:  # Ctrl-C too: no run is left 'running' in the log
                end_run(home_obj, failed_row(run, exc))
                raise
            end_run(home_obj, final_row(run, results))
    except Exception as exc:
        if not begun:  # refused the lock (another run of the year is running), or could not record its start
            record_run(home_obj, failed_row(run, exc))
        raise
    results["stage_cpu_seconds"] = run["stage_cpu_seconds"]
    return results


def annual_flow(task_runner: str = "default", dask_address: str | None = None,
                cluster: SharedCluster | None = None, prefetch_gx: bool = False) -> Flow[..., dict[str, Any]]:
    """The annual flow on a task runner: ``default`` (this process), or ``dask``: the cluster at
    ``dask_address``, or else the local ``cluster``, started when the flow first submits a task to it
    (``prefetch_gx``: its workers import Great Expectations as they start; :func:`run_annual` gives one)."""
    if task_runner == "default":
        return annual
    if task_runner != "dask":
        raise ValueError(f"task runner must be one of {TASK_RUNNERS}, not {task_runner!r}")
    from flows.daskcluster import quiet_client, runner_on_shared

    if dask_address:
        from prefect_dask import DaskTaskRunner

        quiet_client()
        return annual.with_options(task_runner=cast(Any, DaskTaskRunner(address=dask_address)))
    if cluster is None:
        raise ValueError("the dask task runner needs a scheduler's address or a local cluster "
                         "(run_annual starts one)")
    return annual.with_options(task_runner=cast(Any, runner_on_shared(cluster, prefetch_gx)))


@contextmanager
def _local_workers_share_api(task_runner: str, dask_address: str | None) -> Iterator[None]:
    """Local Dask workers report to this process's temporary Prefect server, not to one each."""
    if task_runner != "dask" or dask_address or os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the same instance the flow's client uses
    server.start(timeout=int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")))
    os.environ["PREFECT_API_URL"] = server.api_url  # inherited by the worker processes the cluster spawns
    try:
        yield
    finally:
        del os.environ["PREFECT_API_URL"]


def _will_validate(parameters: dict[str, Any]) -> bool:
    year = int(parameters.get("year") or default_year())
    return pipeline.will_validate(Home.resolve(parameters.get("home")), year, parameters.get("from_stage", "ingest"),
                                  bool(parameters.get("force")))


def _prefetch_validation(parameters: dict[str, Any]) -> bool | None:
    """If the run will likely validate, import GX on a thread while Prefect's temporary server starts
    (see expectations.prefetch); returns whether it will, where that was looked at (None with a running
    server). With a running server there is no idle core to use, so validation imports GX when it needs
    it: importing it on a thread from the start took a national year's full run from 23.0 to 22.1 s but
    a one-region resubmission from 11.8 to 12.4 s (the thread holds the GIL the ingest of the one file
    needs), measured with the benchmark."""
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        return None
    validates = _will_validate(parameters)
    if validates:
        from expectations import prefetch

        prefetch.start(hide_optional=False)  # Prefect's own temporary server imports SQLAlchemy meanwhile
    return validates


class _WithoutTraceback(logging.Formatter):
    """A console formatter that leaves out tracebacks: the message already names the error, and the
    command ends with a one-line reason; the Prefect server's log (the UI) keeps the traceback."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def console_without_tracebacks() -> None:
    """Prefect's console log shows errors in one line, without the traceback (``IID_TRACEBACKS=1``
    keeps them). For the command line; call after Prefect has set up its logging."""
    if os.environ.get("IID_TRACEBACKS", "") not in ("", "0"):
        return
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not isinstance(handler.formatter, _WithoutTraceback):
            handler.setFormatter(_WithoutTraceback(handler.formatter))


HEARTBEAT_SETTINGS = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


@contextmanager
def no_heartbeats_on_a_temporary_server() -> Iterator[None]:
    """Flows run inside this send no heartbeats when their server is a temporary one.

    Prefect (3.9, as installed here) has every flow run send a heartbeat event every 180 s from a
    thread, so that a server can mark a run whose process died as crashed. The thread sleeps in steps
    of 1 s and the flow waits for it as it ends: up to 1 s at the end of every run, 1.0 s of an empty
    flow's 1.1 s.
    A temporary server (the one :mod:`flows.tempserver` starts, or Prefect's own when no API URL is
    configured) stops with the run's process, so no one can ever read those heartbeats. With a
    configured server they are sent as Prefect's settings say, and a frequency set in the environment
    is always obeyed.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

    from flows import tempserver

    temporary = tempserver.serving() or not get_current_settings().api.url
    if not temporary or any(name in os.environ for name in HEARTBEAT_SETTINGS):
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def run_annual(task_runner: str = "default", dask_address: str | None = None, cluster: SharedCluster | None = None,
               **parameters: Any) -> dict[str, Any]:
    """Run the annual flow with ``parameters`` on the chosen task runner; on Dask without an address, on
    ``cluster`` when given (a backfill's, :class:`flows.daskcluster.SharedCluster`), else on a local
    cluster of its own."""
    from flows import tempserver

    validates = _prefetch_validation(parameters)
    tempserver.ready()  # a temporary server started early (flows.tempserver), if any
    with no_heartbeats_on_a_temporary_server(), _local_workers_share_api(task_runner, dask_address), \
            ExitStack() as own:
        if task_runner == "dask" and not dask_address:
            if cluster is None:
                from flows.daskcluster import shared_local_cluster

                cluster = own.enter_context(shared_local_cluster())  # this run's own, closed as it ends
            # started as the flow submits its first task, if it has one: its workers inherit the server's URL
            prefetch_gx = _will_validate(parameters) if validates is None else validates  # looked at once (~7 ms)
            return dict(annual_flow(task_runner, cluster=cluster, prefetch_gx=prefetch_gx)(**parameters))
        return dict(annual_flow(task_runner, dask_address)(**parameters))
