"""Import Great Expectations, in the background while the process waits for something else.

GX takes ~6 s of CPU to import. A run that will validate starts the import on a thread before the
flow starts, while Prefect's server starts up in its own process (or while the ingest workers parse),
so the validate stage finds it done. Validation waits for the thread before it uses GX.

Every import of GX goes through :func:`import_gx`, which first defers two modules GX imports but only
uses inside expectations this project does not run: ``scipy.stats`` (KS tests, KL divergence) and
``altair`` (KL divergence charts). They are ~2.3 s of the import. A deferred module is a stand-in that
imports the real one the first time anything is read from it, so code that does use them still works.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

# GX imports these at the top of a module but uses them only when a statistical expectation runs
DEFERRED = ("scipy.stats", "altair")
_THREAD: threading.Thread | None = None


class DeferredModule(types.ModuleType):
    """Stands in ``sys.modules`` for a module not imported yet; the first attribute read imports it.

    ``importlib.util.LazyLoader`` cannot do this on Python 3.11: the next ``import`` statement of the
    name reads ``__spec__`` and so runs the module at once. Here ``__spec__`` is a plain attribute."""

    def __init__(self, name: str, spec: Any) -> None:
        super().__init__(name)
        self.__spec__ = spec
        self.__loader__ = spec.loader
        self.__file__ = spec.origin

    def __getattr__(self, attr: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attr)


def defer(name: str) -> bool:
    """Put a stand-in for ``name`` in ``sys.modules`` unless it is imported already (or not installed)."""
    if name in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    if spec is None or spec.loader is None:
        return False
    sys.modules[name] = DeferredModule(name, spec)
    return True


def import_gx() -> Any:
    """``great_expectations``, imported with its statistics and charting modules deferred."""
    if "great_expectations" not in sys.modules:
        for name in DEFERRED:
            defer(name)
    import great_expectations

    return great_expectations


def _import() -> None:
    try:
        import_gx()
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
