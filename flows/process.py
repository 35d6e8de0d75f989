"""Ending a run's process quickly.

After a run, the interpreter's own teardown (freeing every object the run created: DataFrames, GX
and Prefect state, module dictionaries) takes 1–2 s of the wall time a user waits for, and grows
with the year's size. Everything that matters at exit is in atexit handlers — Prefect flushing its
logs and events, stopping a temporary server, logging's shutdown — and in the standard streams; this
runs those in the interpreter's own order (first the threading module's exit hooks, where Prefect
drains its log and event workers, then atexit), then leaves without the teardown.

A run or a benchmark sent SIGTERM (``kill``, a scheduler stopping a job, a CI time limit) ends as on
Ctrl-C, through :func:`terminated_as_interrupt`: the work it committed is kept, its children and its
temporary server are stopped, and it says so in one line, instead of dying where it stood.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
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


class Terminated(KeyboardInterrupt):
    """The process was sent SIGTERM: raised in its main thread, so that it ends as on Ctrl-C (the work in
    hand stopped, what it started cleaned up, one line said) instead of dying at once."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


@contextlib.contextmanager
def terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` in the main thread while the block runs (elsewhere, a thread
    cannot take signals: nothing changes).

    A Prefect flow run puts its own handler in place while it runs, which records the run as Crashed;
    it then gives the signal back to the handler it found, this one, so the flow's caller gets
    :class:`Terminated` too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
