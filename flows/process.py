"""Ending a run's process quickly.

After a run, the interpreter's own teardown (freeing every object the run created: DataFrames, GX
and Prefect state, module dictionaries) takes 1–2 s of the wall time a user waits for, and grows
with the year's size. Everything that matters at exit is in atexit handlers — Prefect flushing its
logs and events, stopping a temporary server, logging's shutdown — and in the standard streams; this
runs those in the interpreter's own order (first the threading module's exit hooks, where Prefect
drains its log and event workers, then atexit), then leaves without the teardown.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: int = 0) -> NoReturn:
    """Run the atexit handlers, flush stdout and stderr, and end the process with ``code``.

    Falls back to a normal exit while a non-daemon thread is still running (its work would be lost).
    """
    main = threading.main_thread()
    if any(t is not main and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    shutdown = getattr(threading, "_shutdown", None)  # what Py_FinalizeEx calls first
    if shutdown is None:
        sys.exit(code)
    shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
