"""The Dask cluster of ``--task-runner dask``: the address given is checked before a run, and the local
cluster started when none is given is set up here.

- **An address** (``--dask-address``) is checked before anything is locked or started
  (:func:`scheduler_problem`): a malformed one, or a scheduler that does not answer, is told in one line
  with what to do. Before, the run started, and its ingest tried to connect for 30 s, three times (the task's
  retries for a filesystem hiccup took the connection's OSError for one): 106 s, then the bare error.
- **The run's own process** shows Dask's warnings and errors, not its routine (:func:`quiet_client`).
- **The local cluster** (:class:`SharedCluster`, started by the run when its flow first submits a task,
  :func:`runner_on_shared`, or once for all of a backfill's years) has two worker processes of one thread
  (:func:`local_cluster`), its scheduler's HTTP endpoints (the dashboard, with bokeh) on a free port, so
  that two runs at once do not contend for 8787, and this module as the workers' preload (:func:`dask_setup`):

  - Ctrl-C in a terminal sends SIGINT to every process of the terminal's group: the run and the worker
    processes its local cluster spawned. The run stops the flow and closes the cluster, which stops the
    workers; a worker that took the signal itself died first with a KeyboardInterrupt traceback on the
    terminal (two of them, ~35 lines, before the run's own line). A worker of this cluster leaves SIGINT
    to the run that owns it (born with it blocked, :func:`stop_signals_held`, then ignoring it); it still
    ends with its cluster, with the run whatever ends it (its nanny's pipe: a ``kill -9`` of the run
    included), and on a SIGKILL of its own.
  - SIGTERM to the group (a scheduler or a CI job stopping the run, ``kill -- -PGID``) reached the workers
    too, which died of it: the run's nanny logged "Restarting worker" twice, the scheduler that the cluster
    had lost computed tasks, and at exit multiprocessing's resource tracker two leaked semaphores (~6 lines
    under the run's own). A worker leaves SIGTERM to the run as it does SIGINT; its nanny still stops it
    (asking, then SIGKILL), and Dask's memory monitor sends SIGKILL after its SIGTERM, as it does for a
    worker that ignores it.
  - As the cluster closes, a worker's heartbeat can find the scheduler gone before the worker is told to
    stop, and logs "Failed to communicate with scheduler during heartbeat." with a 25-line traceback
    (about one run in ten here; dask/distributed#7105). The scheduler runs in the run's own process, so
    it is gone only when the run ends or has ended: that record is left out, every other one is kept.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

HEARTBEAT_LOST = "Failed to communicate with scheduler during heartbeat."
CONNECT_SECONDS = 10  # how long a scheduler is given to accept the check's connection
EXAMPLE = "tcp://scheduler-host:8786"


def scheduler_problem(address: str, timeout: float = CONNECT_SECONDS) -> tuple[str, int] | None:
    """Why the Dask scheduler at ``address`` cannot be used, and the exit code to give (2 for an address
    that is not one, 1 for one nothing answers at); None when it accepts a connection (a ``tcp://`` or
    ``tls://`` address; another protocol is left to Dask to try)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)  # no scheme: tcp
        if scheme not in ("tcp", "tls"):
            return None
        host, port = parse_host_port(location)
    except ValueError as exc:
        return f"--dask-address {address!r} is not a scheduler's address ({exc}); give it as {EXAMPLE}", 2
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.gaierror as exc:
        return f"--dask-address {address}: the host {host!r} is not known ({exc.strerror or exc}); check its name", 1
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError) and not exc.strerror:
            why = f"no answer in {timeout:g} s"
        return (f"no Dask scheduler answers at {address} ({why}): start it (dask scheduler --port {port}), or give "
                "the address it prints with --dask-address; without --dask-address, the run starts a local "
                "cluster of its own"), 1
    return None


PREFETCH_GX = "IID_DASK_PREFETCH_GX"  # set for a local cluster's workers: import GX as they start


def local_cluster(prefetch_gx: bool = False) -> dict[str, Any]:
    """The keyword arguments of the local cluster a run starts when no address is given; ``prefetch_gx``:
    its workers import Great Expectations on a thread as they start (:func:`dask_setup`)."""
    return {"n_workers": 2, "processes": True, "threads_per_worker": 1, "dashboard_address": "127.0.0.1:0",
            "silence_logs": logging.ERROR, "preload": [__name__],
            **({"env": {PREFETCH_GX: "1"}} if prefetch_gx else {})}


DASHBOARD_LINK = "The Dask dashboard is available at"


class _NoDashboard(logging.Filter):
    """Leaves out prefect-dask's line giving the dashboard's link: without bokeh, that page only says to
    install bokeh."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(DASHBOARD_LINK)


def quiet_client() -> None:
    """What the run's own process shows of Dask (a cluster given by address or a local one):

    - distributed's messages from WARNING up: it logs its cluster's every step at INFO (~35 lines a run,
      through Prefect's handler);
    - no warning of a graph over 10 MB ("Sending large graph … Consider loading the data with Dask
      directly", 8 lines, five times in a national year): a validation chunk's frame goes to its worker as
      the task's argument, once (up to ~50 MB at 500,000 rows), which is not the repetition it warns of;
    - prefect-dask's line giving the dashboard's link only when bokeh is installed (the dashboard is
      served then)."""
    import importlib.util

    import dask

    logging.getLogger("distributed").setLevel(logging.WARNING)
    dask.config.set({"distributed.admin.large-graph-warning-threshold": "4GB"})
    logger = logging.getLogger("prefect.task_runner.dask")
    if importlib.util.find_spec("bokeh") is None and not any(isinstance(f, _NoDashboard) for f in logger.filters):
        logger.addFilter(_NoDashboard())


class _SchedulerGone(logging.Filter):
    """Leaves out the record of a heartbeat that found its closed connection to the scheduler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != HEARTBEAT_LOST or not record.exc_info:
            return True
        from distributed.comm.core import CommClosedError

        return not isinstance(record.exc_info[1], CommClosedError)


def dask_setup(worker: Any) -> None:
    """Ignore SIGINT and SIGTERM in this worker process, and quiet its heartbeat's end (Dask calls this as a
    worker of the local cluster starts, on the process's main thread). The worker was started with both
    blocked (:class:`SharedCluster`); ignoring them as well holds if something in the worker unblocks them, as
    multiprocessing does on a thread that spawns its resource tracker. For a run that will validate, start importing
    Great Expectations on a thread (:mod:`expectations.prefetch`; its first validation task waits for it):
    the worker is idle until its first task, and a re-run of one file gives it one parse task, then
    validation, which found GX to import (~2-3 s)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    logging.getLogger("distributed.worker").addFilter(_SchedulerGone())
    if os.environ.get(PREFETCH_GX) == "1":
        from expectations import prefetch

        prefetch.start()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # what stops a run (Ctrl-C, kill): the run's, not its workers'


@contextmanager
def stop_signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back for the block, then acted on as they would have been, if one came: a Ctrl-C
    or a ``kill`` during the block stops the run just after it. On this thread they are blocked, so every thread
    started in the block is born with them blocked, as is every process those threads start (a blocked signal
    stays blocked across fork and exec); another thread of the process may still take one, so on the main
    thread their handlers are replaced for the block by one that notes them. The first that came is acted on
    (its handler raises: KeyboardInterrupt, or ``flows.process.Terminated``)."""
    came: list[signal.Signals] = []
    handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}  # None: set outside Python, left alone
    on_main = threading.current_thread() is threading.main_thread()
    noted = [signum for signum, handler in handlers.items() if on_main and handler is not None]
    for signum in noted:
        signal.signal(signum, lambda number, frame: came.append(signal.Signals(number)))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # one that was pending on this thread is noted now
        for signum in noted:
            signal.signal(signum, handlers[signum])
        if came:
            first, handler = came[0], handlers[came[0]]
            if callable(handler):
                handler(first, None)  # Python's own raises KeyboardInterrupt; flows.process's Terminated
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), first)


class SharedCluster:
    """The local cluster of a run on Dask without ``--dask-address``, or of every year of such a backfill.

    The run starts it itself, and the flow's runner connects to its scheduler as to a cluster given by address
    (prefect-dask used to start one per flow: in a backfill, each year started its own, ~2.5 s, and its
    workers imported Great Expectations again to validate, ~2 s). It starts the first time it is asked for
    (:meth:`address`: as a year's flow submits its first task, :func:`runner_on_shared`), once the run's
    Prefect server is known: the worker processes inherit the run's environment, ``PREFECT_API_URL`` among it
    (a temporary server stays up until the process ends, so a backfill's years all report to the same one).

    Ctrl-C reaches every process of the terminal's group, as does a SIGTERM sent to the group. A worker still
    starting (importing this package, before the preload runs) died of it with a KeyboardInterrupt traceback,
    and the half-started cluster then failed to close (an AssertionError at exit, asyncio's "Task exception was
    never retrieved"). The cluster is started with SIGINT and SIGTERM held (:func:`stop_signals_held`): its event
    loop's thread, the threads that start the workers (also when a worker is restarted later) and so the workers
    themselves have both blocked for good; a Ctrl-C or SIGTERM during the start (~2-3 s) stops the run as soon
    as the cluster is up."""

    def __init__(self) -> None:
        self._cluster: Any = None

    def address(self, prefetch_gx: bool = False) -> str:
        """The scheduler's address, starting the cluster if it is not started (``prefetch_gx``: its workers
        import Great Expectations as they start, for a run that will validate)."""
        if self._cluster is None:
            from multiprocessing import resource_tracker

            from distributed import LocalCluster

            quiet_client()
            # started by the first process spawned otherwise, on a thread of the cluster's, which it would leave
            # with SIGINT and SIGTERM unblocked (multiprocessing blocks them as it spawns the tracker, then
            # unblocks them)
            resource_tracker.ensure_running()
            with stop_signals_held():
                self._cluster = LocalCluster(**local_cluster(prefetch_gx))
            logging.getLogger("prefect.task_runner.dask").info(
                "Started a local Dask cluster of %d worker processes at %s", len(self._cluster.workers),
                self._cluster.scheduler_address)
        return str(self._cluster.scheduler_address)

    @property
    def started(self) -> bool:
        return self._cluster is not None

    def close(self) -> None:
        """Stop the cluster and its workers (nothing when it was never started). A failure to close is
        logged, not raised: the run's outcome is already known."""
        cluster, self._cluster = self._cluster, None
        if cluster is None:
            return
        try:
            cluster.close()
        except Exception as exc:  # the run's outcome stands; the workers end with this process
            logging.getLogger("prefect.task_runner.dask").warning("the local Dask cluster did not close cleanly: %s",
                                                                  exc)


CONNECTING = "Connecting to an existing Dask cluster at "  # prefect-dask's line as a runner first connects


class _NotOurOwn(logging.Filter):
    """Leaves out prefect-dask's line saying it connects to "an existing" cluster for the one the run has just
    started (:class:`SharedCluster` logged its own line, with the address)."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.line = CONNECTING + address

    def filter(self, record: logging.LogRecord) -> bool:
        return str(record.msg) != self.line


_RUNNER_CLASS: type | None = None


def _runner_class() -> type:
    """The class of :func:`runner_on_shared`: made the first time (prefect_dask is imported only for Dask)."""
    global _RUNNER_CLASS
    if _RUNNER_CLASS is None:
        from prefect_dask import DaskTaskRunner

        class SharedClusterRunner(DaskTaskRunner):
            """prefect-dask's runner on a :class:`SharedCluster`, which it starts when it first submits a task."""

            def __init__(self, shared: SharedCluster, prefetch_gx: bool = False) -> None:
                super().__init__()
                self.shared, self.prefetch_gx = shared, prefetch_gx

            @property
            def name(self) -> str:  # its logger's too: prefect.task_runner.dask, as prefect-dask's own runner
                return "dask"

            def duplicate(self) -> SharedClusterRunner:  # Prefect runs each flow on a duplicate of its runner
                return type(self)(self.shared, self.prefetch_gx)

            def __reduce__(self) -> tuple[Any, ...]:
                # a task sent to a worker carries its flow, and the flow its runner: there, prefect-dask's own runner
                # on the cluster's address (which the worker's task never submits to), not the cluster itself
                return _runner_at, (self.shared.address() if self.shared.started else None,)

            @property
            def client(self) -> Any:
                if self._client is not None:
                    return self._client
                self.address = self.shared.address(self.prefetch_gx)
                quiet = _NotOurOwn(self.address)
                self.logger.addFilter(quiet)
                try:
                    return super().client
                finally:
                    self.logger.removeFilter(quiet)

        _RUNNER_CLASS = SharedClusterRunner
    return _RUNNER_CLASS


def _runner_at(address: str | None) -> Any:
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=address)


def runner_on_shared(shared: SharedCluster, prefetch_gx: bool = False) -> Any:
    """A Dask task runner on ``shared``, which is started when the flow first submits a task to it (a chunk of
    files to parse or of rows to validate): a run with none to submit (nothing changed, or ``--from-stage
    transform``) starts no cluster (~0.5 s and two processes before), and a backfill's cluster starts with the
    first year that needs it. ``prefetch_gx``: its workers import Great Expectations as they start."""
    return _runner_class()(shared, prefetch_gx)


@contextmanager
def shared_local_cluster() -> Iterator[SharedCluster]:
    """A :class:`SharedCluster`, started when first asked for and closed as the block ends, however it ends."""
    shared = SharedCluster()
    try:
        yield shared
    finally:
        shared.close()
