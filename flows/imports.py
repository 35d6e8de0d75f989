"""Import tools: two keep heavy modules a process does not use out of it, one makes imports cheaper.

- :func:`hidden` makes packages look uninstalled to the imports one thread makes while a block runs.
  A library that treats them as optional then does without them; outside the block, and on other
  threads, they import as usual.
- :func:`defer` puts a stand-in for a module in ``sys.modules``; the module itself runs the first
  time anything is read from it. ``import x`` of a deferred module costs nothing, and code that uses
  it still works.
- :func:`collection_paused` keeps Python's cyclic collector off while a block imports, and freezes
  what the imports made (see there).

Where they are used, and what each saves, is said there: parse workers (``flows.ingest``), the
import of Great Expectations (``expectations.prefetch``) and a run's start-up (``flows.cli``,
``flows.tempserver``).
"""

from __future__ import annotations

import gc
import importlib
import importlib.abc
import importlib.util
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _Hidden(importlib.abc.MetaPathFinder):
    """Refuses, for one thread, to import the given top-level packages or anything inside them."""

    def __init__(self, packages: frozenset[str], thread: int) -> None:
        self.packages = packages
        self.thread = thread

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.partition(".")[0] in self.packages and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


@contextmanager
def hidden(*packages: str) -> Iterator[None]:
    """While the block runs, imports of ``packages`` by this thread fail as if they were not installed.

    A package already imported stays importable (``import`` finds it in ``sys.modules``)."""
    finder = _Hidden(frozenset(packages), threading.get_ident())
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


class DeferredModule(types.ModuleType):
    """Stands in ``sys.modules`` for a module not run yet; the first attribute read imports it.

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
    """Put a stand-in for ``name`` in ``sys.modules``; False (and nothing done) when it is imported
    already or not installed. Finding a submodule imports its parent package."""
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


class _Pause:
    """Who holds the collector off (threads may overlap), and whether it was on before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.was_enabled = False


_PAUSE = _Pause()


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic collector off, for the whole process, while the block runs (blocks may overlap,
    on several threads); when the last one ends, what the process holds is frozen (``gc.freeze``: left
    out of every later collection, still freed when nothing refers to it) and the collector is back on
    if it was on before.

    Imports make hundreds of thousands of objects that live as long as the process and almost no
    garbage: the collector, started every 700 allocations, walked them again and again. In a run's
    start-up (Prefect, the stages' modules, Great Expectations on a thread) it ran ~720 times for
    0.56-0.64 s, 0.42-0.49 s of it in five full collections, on the interpreter the imports need;
    off, Prefect's, the run's and GX's imports left ~7,100 objects of cyclic garbage, ~2 MB (frozen
    with the rest)."""
    with _PAUSE.lock:
        if _PAUSE.holders == 0:
            _PAUSE.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSE.holders += 1
    try:
        yield
    finally:
        with _PAUSE.lock:
            _PAUSE.holders -= 1
            if _PAUSE.holders == 0:
                gc.freeze()
                if _PAUSE.was_enabled:
                    gc.enable()
