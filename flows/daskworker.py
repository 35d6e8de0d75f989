"""A Dask preload for the worker processes of the local cluster ``--task-runner dask`` starts.

- Ctrl-C in a terminal sends SIGINT to every process of the terminal's group: the run and the worker
  processes its local cluster spawned. The run stops the flow and closes the cluster, which stops the
  workers; a worker that took the signal itself died first with a KeyboardInterrupt traceback on the
  terminal (two of them, ~35 lines, before the run's own line). A worker of this cluster leaves SIGINT
  to the run that owns it; it still ends with its cluster, and on SIGTERM or SIGKILL.
- As the cluster closes, a worker's heartbeat can find the scheduler gone before the worker is told to
  stop, and logs "Failed to communicate with scheduler during heartbeat." with a 25-line traceback
  (about one run in ten here; dask/distributed#7105). The scheduler runs in the run's own process, so
  it is gone only when the run ends or has ended: that record is left out, every other one is kept.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

HEARTBEAT_LOST = "Failed to communicate with scheduler during heartbeat."


class _SchedulerGone(logging.Filter):
    """Leaves out the record of a heartbeat that found its closed connection to the scheduler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != HEARTBEAT_LOST or not record.exc_info:
            return True
        from distributed.comm.core import CommClosedError

        return not isinstance(record.exc_info[1], CommClosedError)


def dask_setup(worker: Any) -> None:
    """Ignore SIGINT in this worker process, and quiet its heartbeat's end (Dask calls this as the
    worker starts, on the process's main thread)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("distributed.worker").addFilter(_SchedulerGone())
