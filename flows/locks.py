"""Advisory file locks: one run per year at a time, one catalog rebuild at a time.

The lock is held by the process (``flock``), so it disappears with a crashed process and never
needs cleaning up by hand. A thread that holds a lock may take it again (the CLI takes a year's lock
before Prefect starts and holds it while the flow, in the same thread, takes it too); another thread
or process may not.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class RunLocked(RuntimeError):
    """Another process holds the lock."""


_HELD: dict[str, int] = {}  # lock file -> the thread holding it, in this process
_HELD_GUARD = threading.Lock()


@contextmanager
def file_lock(path: Path, what: str, wait: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``path``; without ``wait``, fail at once with a clear message. Within a
    thread that holds it already, this holds nothing more and leaves it to the outer holder."""
    key = os.path.abspath(path)
    with _HELD_GUARD:
        mine = _HELD.get(key) == threading.get_ident()
    if mine:
        yield
        return
    with _locked(path, what, wait):
        with _HELD_GUARD:
            _HELD[key] = threading.get_ident()
        try:
            yield
        finally:
            with _HELD_GUARD:
                del _HELD[key]


@contextmanager
def _locked(path: Path, what: str, wait: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunLocked(f"{what} is already running ({holder}); wait for it to finish, then run again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}")
        handle.flush()
        yield
    finally:
        handle.close()


@contextmanager
def year_lock(work_dir: Path, year: int) -> Iterator[None]:
    """One annual run per year at a time; different years may run in parallel."""
    with file_lock(work_dir / f"{year}.lock", f"a run of {year}"):
        yield
