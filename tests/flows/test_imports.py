"""flows.imports: a deferred module runs on first use only; a hidden package is absent for one thread;
the cyclic collector is off while imports run, then what they made is frozen."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.imports import DeferredModule, collection_paused, defer, hidden


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module ``iid_probe_mod`` that records in ``runs.txt`` each time it is run."""
    (tmp_path / "iid_probe_mod.py").write_text(
        "from pathlib import Path\n"
        f"_log = Path({str(tmp_path / 'runs.txt')!r})\n"
        "_log.write_text(_log.read_text() + 'x' if _log.exists() else 'x')\n"
        "VALUE = 42\n"
        "def twice(n):\n    return 2 * n\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / "runs.txt"
    sys.modules.pop("iid_probe_mod", None)


def test_a_deferred_module_runs_on_first_use_only(probe: Path) -> None:
    assert defer("iid_probe_mod")
    import iid_probe_mod  # what a library's top-level import does

    assert isinstance(iid_probe_mod, DeferredModule)
    assert not probe.exists()  # imported by name, not run
    assert iid_probe_mod.twice(21) == 42  # the first use runs it
    assert iid_probe_mod.VALUE == 42
    assert probe.read_text() == "x"  # once
    assert not isinstance(sys.modules["iid_probe_mod"], DeferredModule)
    import iid_probe_mod as again

    assert again.VALUE == 42 and probe.read_text() == "x"


def test_defer_leaves_imported_and_missing_modules_alone() -> None:
    import json as before

    assert not defer("json")
    assert sys.modules["json"] is before
    assert not defer("iid_no_such_module_anywhere")
    assert "iid_no_such_module_anywhere" not in sys.modules


def test_a_hidden_package_is_absent_for_this_thread_only_and_only_in_the_block(probe: Path) -> None:
    other: list[str] = []

    def import_elsewhere() -> None:
        import iid_probe_mod

        other.append(type(iid_probe_mod).__name__)

    with hidden("iid_probe_mod"):
        with pytest.raises(ModuleNotFoundError, match="iid_probe_mod"):
            import iid_probe_mod
        assert not probe.exists()
        thread = threading.Thread(target=import_elsewhere)
        thread.start()
        thread.join()
        assert other == ["module"]  # another thread imports it as usual
    assert probe.read_text() == "x"
    sys.modules.pop("iid_probe_mod")
    import iid_probe_mod  # after the block, importable again

    assert iid_probe_mod.VALUE == 42


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_until_the_last_overlapping_block_ends_then_what_was_made_is_frozen(
        collector_on: None) -> None:
    """A run's start-up pauses the collector on its main thread and on GX's import thread; the blocks
    overlap, and the collector comes back (with the imports' objects frozen) only after both."""
    inside, go_on, done = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def other_thread() -> None:
        with collection_paused():
            inside.set()
            go_on.wait(10)
            seen.append(gc.isenabled())
        done.set()

    thread = threading.Thread(target=other_thread)
    with collection_paused():
        assert not gc.isenabled()
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread still holds it off
    made = [[i] for i in range(5_000)]  # objects made meanwhile, tracked by the collector
    before = gc.get_freeze_count()
    go_on.set()
    assert done.wait(10)
    thread.join()
    assert seen == [False]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(made)  # frozen: left out of later collections


def test_a_paused_collector_comes_back_after_an_error_and_one_that_was_off_stays_off(collector_on: None) -> None:
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("import failed")
    assert gc.isenabled()
    gc.disable()
    with collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # as it was found
