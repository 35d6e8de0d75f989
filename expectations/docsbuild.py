"""Data Docs built on a thread while the run goes on to scoring; publish waits for them.

Rendering GX's Data Docs is Python (~0.3-0.5 s for a year, whatever its size) and nothing but the
release needs them, so the annual flow builds them while DuckDB scores the year (which leaves the
interpreter free) and joins the build before it copies them into the release.

A build never leaves docs that do not belong to the validation just saved: the old docs are removed
before it starts, it writes into ``<target>.partial`` and renames that into place when it is done. A
process killed meanwhile leaves no docs folder, and validation runs again next time (it is skipped
only when the folder is there). An error in the build is raised by :func:`wait`, which publish calls.
"""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_pending: dict[Path, Future[Path]] = {}
_executor: ThreadPoolExecutor | None = None


def partial_dir(target: Path) -> Path:
    """Where a build writes before it is renamed into ``target``."""
    return target.with_name(target.name + ".partial")


def _build(target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> Path:
    from expectations.validate import build_docs

    partial = partial_dir(target)
    build_docs(partial, run_name, results)
    os.replace(partial, target)  # target was removed when the build was started
    return target


def start(target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> None:
    """Build the Data Docs of ``results`` into ``target`` on a thread; :func:`wait` joins it."""
    global _executor
    wait(target, raise_errors=False)  # an earlier build into the same folder is over (or failed) first
    for stale in (target, partial_dir(target)):
        shutil.rmtree(stale, ignore_errors=True)
    with _lock:
        if _executor is None:
            # joined at interpreter exit (concurrent.futures does so for its threads)
            _executor = ThreadPoolExecutor(1, thread_name_prefix="iid-data-docs")
        _pending[target] = _executor.submit(_build, target, run_name, results)


def build_now(target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> None:
    """The same build as :func:`start`, in this thread."""
    wait(target, raise_errors=False)
    for stale in (target, partial_dir(target)):
        shutil.rmtree(stale, ignore_errors=True)
    _build(target, run_name, results)


def pending(target: Path) -> bool:
    """Whether a build into ``target`` was started and not yet waited for."""
    with _lock:
        return target in _pending


class DocsBuildError(RuntimeError):
    """The Data Docs could not be built (not an OSError: a step retried on filesystem errors must not
    go on without them)."""


def wait(target: Path, raise_errors: bool = True) -> None:
    """Wait for the build into ``target``, if one was started; raises :class:`DocsBuildError` when it
    failed (unless not ``raise_errors``). The failed build left no docs folder: the next run validates again."""
    with _lock:
        future = _pending.pop(target, None)
    if future is None:
        return
    try:
        future.result()
    except Exception as exc:
        if raise_errors:
            raise DocsBuildError(f"the Data Docs of validation could not be built in {target}: "
                                 f"{type(exc).__name__}: {exc}; nothing was published, run again") from exc
