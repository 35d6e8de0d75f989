"""Import Great Expectations in the background while the process waits for something else.

GX takes ~6 s of CPU to import. A run that will validate starts the import on a thread before the
flow starts, while Prefect's server starts up in its own process (or while the ingest workers parse),
so the validate stage finds it done. Validation waits for the thread before it uses GX.
"""

from __future__ import annotations

import sys
import threading

_THREAD: threading.Thread | None = None


def _import() -> None:
    try:
        import great_expectations  # noqa: F401
        from great_expectations.core.expectation_validation_result import (  # noqa: F401
            expectationSuiteValidationResultSchema,
        )
        from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: F401
    except Exception:  # the validate stage imports it again and reports any error itself
        pass


def start() -> bool:
    """Start importing GX on a daemon thread (once per process); False if it is imported already."""
    global _THREAD
    if _THREAD is not None or "great_expectations" in sys.modules:
        return False
    _THREAD = threading.Thread(target=_import, name="gx-import", daemon=True)
    _THREAD.start()
    return True


def wait() -> None:
    """Block until a started import has finished (no-op when none was started)."""
    if _THREAD is not None:
        _THREAD.join()
