"""Great Expectations is imported with scipy.stats and altair deferred, and they still work when used."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from expectations.prefetch import DeferredModule, defer


@pytest.fixture
def probe_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module that records in a file each time it is run."""
    (tmp_path / "iid_probe_mod.py").write_text(
        "from pathlib import Path\n"
        f"_log = Path({str(tmp_path / 'runs.txt')!r})\n"
        "_log.write_text(_log.read_text() + 'x' if _log.exists() else 'x')\n"
        "VALUE = 42\n"
        "def twice(n):\n    return 2 * n\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / "runs.txt"
    sys.modules.pop("iid_probe_mod", None)


def test_a_deferred_module_runs_on_first_use_only(probe_module: Path) -> None:
    assert defer("iid_probe_mod")
    import iid_probe_mod  # what a library's top-level import does

    assert isinstance(iid_probe_mod, DeferredModule)
    assert not probe_module.exists()  # imported by name, not run
    assert iid_probe_mod.twice(21) == 42  # first use runs it
    assert iid_probe_mod.VALUE == 42
    assert probe_module.read_text() == "x"  # once
    assert not isinstance(sys.modules["iid_probe_mod"], DeferredModule)
    import iid_probe_mod as again

    assert again.VALUE == 42 and probe_module.read_text() == "x"


def test_defer_leaves_imported_and_missing_modules_alone() -> None:
    import json as before

    assert not defer("json")
    assert sys.modules["json"] is before
    assert not defer("iid_no_such_module_anywhere")
    assert "iid_no_such_module_anywhere" not in sys.modules


def test_gx_imports_without_scipy_stats_and_altair_and_they_work_when_used() -> None:
    # a fresh interpreter: this test process may have imported either already
    code = (
        "import json, sys\n"
        "from expectations.prefetch import import_gx\n"
        "import_gx()\n"
        "from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl\n"
        "deferred = {n: type(sys.modules[n]).__name__ for n in ('scipy.stats', 'altair')}\n"
        "entropy = kl.stats.entropy([0.5, 0.5], [0.25, 0.75])\n"
        "chart = kl.alt.Chart.__name__\n"
        "print(json.dumps({'deferred': deferred, 'entropy': entropy, 'chart': chart,\n"
        "                  'loaded': {n: type(sys.modules[n]).__name__ for n in ('scipy.stats', 'altair')}}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["deferred"] == {"scipy.stats": "DeferredModule", "altair": "DeferredModule"}
    assert result["entropy"] == pytest.approx(0.1438410362258904)
    assert result["chart"] == "Chart"
    assert result["loaded"] == {"scipy.stats": "module", "altair": "module"}
