"""Great Expectations is imported without scipy.stats, altair and SQLAlchemy, and validates the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factory import defective_sample

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
pipeline.ingest(home, 2024)
summary = pipeline.validate(home, 2024, now=datetime(2024, 12, 1, tzinfo=UTC))
con = duckdb.connect(str(home.work_db(2024)), read_only=True)
failures = con.execute("select suite, record_id, rule, severity, reason, value from validation_failures "
                       "order by all").fetchall()
modules = {n: type(sys.modules[n]).__name__ if n in sys.modules else None
           for n in ("scipy.stats", "altair", "sqlalchemy")}
docs = sorted(p.relative_to(home.docs_dir(2024)).as_posix() for p in home.docs_dir(2024).rglob("*.html"))
print(json.dumps({"failures": failures, "suites": summary["suites"], "modules": modules, "docs": docs}))
"""


def _validate(source: Home, root: Path, how: str) -> dict[str, Any]:
    """``how`` GX validates a sample of ``source``'s defective year (each defect kind in it) in a new process."""
    home = Home.resolve(root)
    defective_sample(source, YEAR, home)
    out = subprocess.run([sys.executable, "-c", VALIDATE, str(root), how], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_gx_without_its_unused_modules_validates_a_defective_year_the_same(tmp_path: Path) -> None:
    source = Home.resolve(tmp_path / "source")
    generate_year(source, YEAR, seed=1, scale=0.02, defect_rate=0.3)
    plain = _validate(source, tmp_path / "plain", "plain")
    slim = _validate(source, tmp_path / "slim", "slim")
    assert plain["modules"] == {"scipy.stats": "module", "altair": "module", "sqlalchemy": "module"}
    assert slim["modules"] == {"scipy.stats": "DeferredModule", "altair": "DeferredModule", "sqlalchemy": None}
    assert len(plain["failures"]) > 100 and len({f[2] for f in plain["failures"]}) > 10
    assert slim["failures"] == plain["failures"]
    assert slim["suites"] == plain["suites"]
    assert slim["docs"] == plain["docs"]


def test_the_background_import_brings_gx_and_openpyxl_and_deferred_modules_work_when_used() -> None:
    code = ("import json, sys\n"
            "from expectations import prefetch\n"
            "assert prefetch.start()\n"
            "prefetch.wait()\n"
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
