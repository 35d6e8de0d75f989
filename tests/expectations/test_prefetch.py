"""Great Expectations is imported without scipy.stats, altair and SQLAlchemy, and validates the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factory import defective_sample

from expectations.validate import load_suite_json
from flows.generator import generate_year
from flows.settings import Home

YEAR = 2024
ROOT = Path(__file__).resolve().parents[2]
# a fresh interpreter per way of importing: this test process may have imported any of them already
VALIDATE = """
import json, sys
from datetime import UTC, datetime
import expectations.prefetch as prefetch
if sys.argv[2] == "plain":
    prefetch.DEFERRED, prefetch.HIDDEN = (), ()
import duckdb
from flows import pipeline
from flows.settings import Home
home = Home.resolve(sys.argv[1])
warmed = None
if sys.argv[2] == "warm":  # as a run's start-up does, then waits until the thread is done on its own
    import time
    assert prefetch.start(year=2024)
    while prefetch._THREAD.is_alive():
        time.sleep(0.02)
    from expectations import gxpatch
    warmed = gxpatch._subgraphs.built
pipeline.ingest(home, 2024)
summary = pipeline.validate(home, 2024, now=datetime(2024, 12, 1, tzinfo=UTC))
if warmed is not None:
    warmed = [warmed, gxpatch._subgraphs.built - warmed]
con = duckdb.connect(str(home.work_db(2024)), read_only=True)
failures = con.execute("select suite, record_id, rule, severity, reason, value from validation_failures "
                       "order by all").fetchall()
modules = {n: type(sys.modules[n]).__name__ if n in sys.modules else None
           for n in ("scipy.stats", "altair", "sqlalchemy")}
docs = sorted(p.relative_to(home.docs_dir(2024)).as_posix() for p in home.docs_dir(2024).rglob("*.html"))
print(json.dumps({"failures": failures, "suites": summary["suites"], "modules": modules, "docs": docs,
                  "warmed": warmed}))
"""


def _validate(source: Home, root: Path, how: str) -> dict[str, Any]:
    """``how`` GX validates a sample of ``source``'s defective year (each defect kind in it) in a new process."""
    home = Home.resolve(root)
    defective_sample(source, YEAR, home)
    out = subprocess.run([sys.executable, "-c", VALIDATE, str(root), how], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("source"))
    generate_year(home, YEAR, seed=1, scale=0.02, defect_rate=0.3)
    return home


@pytest.fixture(scope="module")
def slim(source: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The defective year validated as a run validates it: GX imported without what it does not use."""
    return _validate(source, tmp_path_factory.mktemp("slim"), "slim")


def test_gx_without_its_unused_modules_validates_a_defective_year_the_same(source: Home, slim: dict[str, Any],
                                                                            tmp_path: Path) -> None:
    plain = _validate(source, tmp_path / "plain", "plain")
    assert plain["modules"] == {"scipy.stats": "module", "altair": "module", "sqlalchemy": "module"}
    assert slim["modules"] == {"scipy.stats": "DeferredModule", "altair": "DeferredModule", "sqlalchemy": None}
    assert len(plain["failures"]) > 100 and len({f[2] for f in plain["failures"]}) > 10
    assert slim["failures"] == plain["failures"]
    assert slim["suites"] == plain["suites"]
    assert slim["docs"] == plain["docs"]


def test_a_year_validates_the_same_after_the_start_up_s_warm_up(source: Home, slim: dict[str, Any],
                                                                 tmp_path: Path) -> None:
    """The thread that imports GX, given the year, validates every suite on an empty year: the validation of
    the year then builds again only the metric graphs of the suites that hold the run's clock, whose value
    differs, and finds what a process without the warm-up finds."""
    from expectations.stage import RECORD_SUITES, WARM_ORDER, YEAR_WIDE_SUITES

    warm = _validate(source, tmp_path / "warm", "warm")
    assert sorted(WARM_ORDER) == sorted(RECORD_SUITES + YEAR_WIDE_SUITES)
    clocked = [name for name in WARM_ORDER if any(
        {"$PARAMETER": "now"} in e.get("kwargs", {}).values() for e in load_suite_json(name)["expectations"])]
    assert clocked == ["submissions"]
    assert warm["warmed"] == [len(WARM_ORDER), len(clocked)]
    assert slim["warmed"] is None
    assert warm["failures"] == slim["failures"]
    assert warm["suites"] == slim["suites"]
    assert warm["docs"] == slim["docs"]


class _StopAfter:
    """A stop that is set once it has been looked at ``n`` times."""

    def __init__(self, n: int) -> None:
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n < 0


def test_the_warm_up_stops_before_the_next_suite_once_told() -> None:
    from expectations.stage import WARM_ORDER, warm_suites

    assert warm_suites(YEAR, _StopAfter(0)) == []  # type: ignore[arg-type]
    assert warm_suites(YEAR, _StopAfter(2)) == list(WARM_ORDER[:2])  # type: ignore[arg-type]


def test_the_background_import_brings_gx_and_openpyxl_and_deferred_modules_work_when_used() -> None:
    code = ("import json, sys\n"
            "from expectations import prefetch\n"
            "assert prefetch.start(year=2024)\n"
            "prefetch.wait()\n"  # before the import is done: the warm-up does not start
            "from expectations import gxpatch\n"
            "assert gxpatch._subgraphs.built == 0, gxpatch._subgraphs.built\n"
            "import gc\n"
            "loaded = [m in sys.modules for m in ('great_expectations', 'openpyxl')]\n"
            "loaded.append(gc.get_freeze_count() > 100_000)\n"
            "from expectations import validate\n"
            "loaded.append(validate._RUNNER is not None and validate._RUNNER._docs_context is not None)\n"
            "loaded.append(sorted(validate._RUNNER.definitions) == sorted(validate.SUITE_ORDER))\n"
            "from great_expectations.compatibility import sqlalchemy as compat\n"
            "assert type(compat.sqlite).__name__ == 'NotImported' and 'sqlalchemy' not in sys.modules\n"
            "from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl\n"
            "print(json.dumps([loaded, kl.stats.entropy([0.5, 0.5], [0.25, 0.75]), kl.alt.Chart.__name__]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded, entropy, chart = json.loads(out.stdout.strip().splitlines()[-1])
    # what they made is frozen out of full collections; the suite runner, a docs context and every
    # suite's batch definition are made
    assert loaded == [True, True, True, True, True]
    assert entropy == pytest.approx(0.1438410362258904)
    assert chart == "Chart"


def test_sqlalchemy_already_imported_is_left_to_gx_whole() -> None:
    """Hiding what the process has already would give GX half of SQLAlchemy (its submodules not yet loaded)."""
    code = ("import json, sys\n"
            "import sqlalchemy\n"
            "from expectations.prefetch import import_gx\n"
            "import_gx()\n"
            "from great_expectations.compatibility import sqlalchemy as compat\n"
            "print(json.dumps([type(compat.sqlite).__name__, type(compat.engine).__name__]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["module", "module"]
