"""Import Great Expectations, in the background while the process waits for something else.

GX takes ~6 s of CPU to import as installed here. A run that will validate starts the import on a
thread before the flow starts, while Prefect's server starts up in its own process (or while the
ingest workers parse), so the validate stage finds it done. Validation waits for the thread before
it uses GX. The thread then imports openpyxl (~0.3 s), which the publish stage needs for the
coaching workbook, makes the suite runner, the context of the Data Docs and the suites' batch
definitions (~0.25 s of the validate stage), all with Python's cyclic collector off, and freezes what
the process then holds out of its later collections (``flows.imports.collection_paused``).

Given the year the run will validate, the thread then validates every suite once on an empty year of
its own (:func:`expectations.stage.warm_suites`, ~0.8 s of CPU): what GX, pandas and the suites do the
first time in a process (lazy imports, the metric graphs of each suite: ``expectations.gxpatch``) is
then done while the server boots, not in the validate stage. It stops after the suite in flight when
the server answers (:func:`stop_warming`, as the flow starts: the ingest's parse workers take both
cores then) or the validate stage needs the runner (:func:`wait`). Without it, the first validation of
a one-region resubmission in a process took ~0.2 s longer than the next ones, and as long with it (scale 1,
four processes each way); in whole runs, alternating, its validate stage took 0.17 s less (the mean of
five pairs, within this machine's noise).

Every import of GX goes through :func:`import_gx`, which leaves out what GX loads but never uses
here (:mod:`flows.imports`), ~3 s of the 6:

- ``scipy.stats`` and ``altair`` are deferred: GX imports them at the top of three modules but uses
  them only inside statistical expectations (KS tests, KL divergence) that no suite here has. If one
  is ever used, it loads then.
- SQLAlchemy is hidden from GX's import: it is an optional extra of GX (for SQL data sources), and
  GX without it validates pandas frames the same. Neither the run's own temporary server (launched
  as a process, :mod:`flows.tempserver`), a running server nor a Dask worker loads it in this
  process. It is left alone when the process has it already (GX would get half of it), and when
  another thread may import it meanwhile: Prefect's own temporary server, which ``run_annual``
  falls back to, imports it in this process while it starts, so that import does not hide it.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from typing import Any

from flows.imports import collection_paused, defer, hidden

DEFERRED = ("scipy.stats", "altair")
HIDDEN = ("sqlalchemy",)
_THREAD: threading.Thread | None = None
_STOP = threading.Event()  # the warm-up ends after the suite in flight (stop_warming, wait)


def import_gx(hide_optional: bool = True) -> Any:
    """``great_expectations``, imported without what it would load for nothing (see above);
    ``hide_optional=False`` when another thread may import SQLAlchemy while this runs."""
    if "great_expectations" not in sys.modules:
        for name in DEFERRED:
            defer(name)
        with hidden(*[p for p in HIDDEN if hide_optional and p not in sys.modules]):
            import great_expectations
            from great_expectations.core.expectation_validation_result import (  # noqa: F401
                expectationSuiteValidationResultSchema,
            )
            from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: F401
    import great_expectations

    return great_expectations


def _import(hide_optional: bool, year: int | None = None) -> None:
    # what the imports make (~200,000 objects with GX) lives as long as the process: the collector stays
    # off meanwhile, and then leaves it all out of its full collections, which walked it (0.1-0.14 s each,
    # once in a national year's ingest); objects frozen are still freed when nothing refers to them
    with collection_paused():
        with contextlib.suppress(Exception):  # the validate stage imports it again and reports any error itself
            import_gx(hide_optional)
        with contextlib.suppress(Exception):  # ~0.3 s the publish stage would pay for the coaching workbook
            import openpyxl  # noqa: F401
        with contextlib.suppress(Exception):  # the validate stage makes them itself, and reports any error
            from expectations.validate import suite_runner

            runner = suite_runner()
            runner.prepare_docs()  # GX contexts holding the suites, ~0.1 s the validate stage would pay
            runner.prepare_batches()  # and the suites' batch definitions, ~0.15 s
        if year is not None and not _STOP.is_set():
            with contextlib.suppress(Exception):  # the validate stage validates them itself, and reports any error
                from expectations.stage import warm_suites

                warm_suites(year, _STOP)
            # what it leaves (GX's caches, modules it imported on the way) is frozen with the imports; its
            # garbage (~13,000 objects in cycles, ~2 MB) is collected first, not frozen with them
            gc.collect()


def start(hide_optional: bool = True, year: int | None = None) -> bool:
    """Start importing GX on a daemon thread (once per process); False if it is imported already.
    ``hide_optional=False`` when this process may import SQLAlchemy before the thread is done; ``year``: the
    year the run will validate, whose suites the thread then validates on an empty year (see above)."""
    global _THREAD
    if _THREAD is not None or "great_expectations" in sys.modules:
        return False
    _THREAD = threading.Thread(target=_import, args=(hide_optional, year), name="gx-import", daemon=True)
    _THREAD.start()
    return True


def stop_warming() -> None:
    """Have the thread's warm-up end after the suite it is validating (none started after this)."""
    _STOP.set()


def wait() -> None:
    """Block until a started import has finished, its warm-up stopped after the suite in flight (no-op when
    none was started, and on its own thread)."""
    if _THREAD is not None and _THREAD is not threading.current_thread():
        _STOP.set()
        _THREAD.join()
