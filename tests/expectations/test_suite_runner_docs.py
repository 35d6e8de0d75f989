"""The suite runner's shortcuts around GX give GX's own Data Docs: templates compiled once and kept, a docs
context made ahead, results and suites handed over as stored; and what the runner makes once is frozen
out of the cyclic collector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from expectations.validate import SUITE_ORDER, suite_runner


def test_data_docs_templates_are_compiled_once_and_kept_between_runs(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's Data Docs leave GX's compiled templates beside the docs; a later build (in a process that holds
    none of them) compiles none and writes the same pages (but for the time GX stamps on its links)."""
    import re

    import duckdb
    from factory import submission, templates_parsed, write_home

    from expectations.stage import RECORD_SUITES, _merged_results
    from expectations.validate import build_docs
    from flows import pipeline

    home = write_home(tmp_path, 2024, {"35.78.json": submission("35.78", spd_total=30)}, [])
    pipeline.ingest(home, 2024)
    pipeline.validate(home, 2024)
    first = home.docs_dir(2024)
    assert len(list((first.parent / ".gx-templates").glob("*.cache"))) >= 20

    from expectations import gxpatch

    gxpatch.forget_compiled()  # as in the next process: only the home's folder holds them
    parsed = templates_parsed(monkeypatch)
    con = duckdb.connect(str(home.work_db(2024)), read_only=True)
    _, results = _merged_results(con, RECORD_SUITES)
    con.close()
    again = first.parent / "again"
    build_docs(again, "annual-2024", results)
    assert parsed == []

    def page(path: Path) -> str:
        return re.sub(r"\?d=\d{8}T\d{6}\.\d+Z", "", path.read_text(encoding="utf-8"))

    pages = sorted(p.relative_to(again) for p in again.rglob("*.html"))
    assert len(pages) >= 2 * len(RECORD_SUITES)
    for rel in pages:
        if rel.parts[0] == "validations":
            assert page(again / rel) == page(first / rel), rel


def test_a_suite_runner_freezes_what_exists_out_of_the_cyclic_collector() -> None:
    """The imports, GX's registries and the runner's context live as long as the process: once a runner
    exists, Python's full collections leave them out."""
    import gc

    from expectations.validate import SuiteRunner

    suite_runner()
    before = gc.get_freeze_count()
    runner = SuiteRunner()  # a new context and suites: more objects, frozen with it
    assert gc.get_freeze_count() > before
    assert gc.is_tracked(runner.context) and runner.context.suites.get("files").name == "files"


def test_the_process_s_suite_runner_is_made_with_the_collector_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Made by validation itself (no background import: a running Prefect server was configured), the runner and
    GX's import run with Python's cyclic collector off, as the background import does (~0.25 s less), and it is
    back on after."""
    import gc

    from expectations import validate

    seen: list[bool] = []

    class Recording(validate.SuiteRunner):
        def __init__(self) -> None:
            seen.append(gc.isenabled())
            super().__init__()

    monkeypatch.setattr(validate, "_RUNNER", None)
    monkeypatch.setattr(validate, "SuiteRunner", Recording)
    assert gc.isenabled()
    assert isinstance(validate.suite_runner(), Recording)
    assert seen == [False] and gc.isenabled()


def test_a_docs_context_made_ahead_is_used_by_one_build_and_gives_the_same_pages(tmp_path: Path) -> None:
    """The context the background import makes for the Data Docs serves the next build only; a build
    without one makes its own, and both write the same pages."""
    import re

    from factory import validation_results

    from expectations.stage import RECORD_SUITES
    from expectations.validate import SuiteRunner

    results = validation_results(tmp_path)
    runner = SuiteRunner()
    runner.prepare_docs()
    ahead = runner._docs_context
    runner.prepare_docs()
    assert runner._docs_context is ahead is not None  # made once until a build takes it
    runner.build_docs(tmp_path / "ahead", "annual-2024", results)
    assert runner._docs_context is None
    assert len(ahead.validation_results_store.list_keys()) == len(results)  # this build's results only
    runner.build_docs(tmp_path / "now", "annual-2024", results)

    def pages(root: Path) -> dict[Path, str]:
        return {p.relative_to(root): re.sub(r"\?d=\d{8}T\d{6}\.\d+Z", "", p.read_text(encoding="utf-8"))
                for p in root.rglob("*.html") if p.relative_to(root).parts[0] == "validations"}

    assert len(pages(tmp_path / "ahead")) == len(RECORD_SUITES)
    assert pages(tmp_path / "ahead") == pages(tmp_path / "now")
    assert len(ahead.validation_results_store.list_keys()) == len(results)  # the second build used its own


def test_results_kept_as_they_are_give_the_docs_gx_store_gives(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``keep_result`` hands the in-memory store the result dicts as they are: every page is the one
    GX's ``store.set`` (marshmallow load and dump) gives, and the results are left unchanged."""
    import copy
    import re

    import duckdb
    from factory import innovation, submission, write_home

    from expectations import validate
    from expectations.stage import RECORD_SUITES, _merged_results
    from flows import pipeline

    content = submission("35.78", spd_total=30, innovations=[innovation("SBY-1", 60), innovation("SBY-2", 40)])
    content["innovations"][1]["name"] = ""  # a failing expectation: its samples reach the docs
    home = write_home(tmp_path, 2024, {"35.78.json": content}, [])
    pipeline.ingest(home, 2024)
    pipeline.validate(home, 2024)
    con = duckdb.connect(str(home.work_db(2024)), read_only=True)
    _, results = _merged_results(con, RECORD_SUITES)
    con.close()
    assert any(not item["success"] for result in results.values() for item in result["results"])
    before = copy.deepcopy(results)
    validate.suite_runner().build_docs(tmp_path / "as-is", "annual-2024", results)
    assert results == before
    monkeypatch.setattr(validate, "KEEP_AS_IS", False)
    validate.suite_runner().build_docs(tmp_path / "gx", "annual-2024", results)

    def pages(root: Path) -> dict[Path, str]:
        return {p.relative_to(root): re.sub(r"\?d=\d{8}T\d{6}\.\d+Z", "", p.read_text(encoding="utf-8"))
                for p in root.rglob("*.html")}

    found = pages(tmp_path / "as-is")
    assert len(found) >= 2 * len(RECORD_SUITES) + 1 and found == pages(tmp_path / "gx")


def test_docs_contexts_hold_the_suites_as_the_first_context_stored_them(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A Data Docs context is given the suites' JSON text the runner's first context stored, not filled by
    GX's ``suites.add`` again (marshmallow, ~0.06 s a build): every page, the suites' own included, is the
    one a context filled by ``suites.add`` gives."""
    import re

    from factory import validation_results
    from great_expectations.core.factory.suite_factory import SuiteFactory

    from expectations import validate

    results = validation_results(tmp_path)
    runner = suite_runner()
    added: list[str] = []
    real = SuiteFactory.add

    def add(self: SuiteFactory, suite: Any) -> Any:
        added.append(suite.name)
        return real(self, suite)

    monkeypatch.setattr(SuiteFactory, "add", add)
    monkeypatch.setattr(runner, "_docs_context", None)
    runner.build_docs(tmp_path / "stored", "annual-2024", results)
    assert added == []
    monkeypatch.setattr(validate, "SUITES_AS_STORED", False)
    runner.build_docs(tmp_path / "gx", "annual-2024", results)
    assert added == list(SUITE_ORDER)

    def pages(root: Path) -> dict[Path, str]:
        return {p.relative_to(root): re.sub(r"\?d=\d{8}T\d{6}\.\d+Z", "", p.read_text(encoding="utf-8"))
                for p in root.rglob("*.html")}

    found = pages(tmp_path / "stored")
    assert {p.parts[0] for p in found} >= {"expectations", "validations", "index.html"}
    assert found == pages(tmp_path / "gx")


def test_batch_definitions_made_ahead_are_those_validation_uses() -> None:
    """``prepare_batches`` (called by the background import) makes each suite's asset once; validating a
    frame then adds none."""
    import pandas as pd

    from expectations.validate import SuiteRunner

    runner = SuiteRunner()
    runner.prepare_batches()
    made = dict(runner.definitions)
    assert sorted(made) == sorted(SUITE_ORDER) and len(runner.source.assets) == len(SUITE_ORDER)
    runner.prepare_batches()
    result = runner.validate("files", pd.DataFrame({"file_id": [1]}), {})
    assert result.statistics["evaluated_expectations"] > 0
    assert all(runner.definitions[name] is made[name] for name in SUITE_ORDER)
    assert len(runner.source.assets) == len(SUITE_ORDER)


def test_a_validated_frame_is_not_kept_by_gx() -> None:
    """GX's execution engine lives as long as the runner and would keep the last frame of every suite (at ten
    times a national year ~250 MB, through scoring and publishing): once validated, nothing of GX holds it."""
    import gc
    import weakref

    import pandas as pd

    from expectations.validate import SuiteRunner

    runner = SuiteRunner()
    for ids in ([1, 2], [3]):  # the second frame replaces the first in GX's caches, and goes too
        frame = pd.DataFrame({"file_id": ids})
        kept = weakref.ref(frame)
        result = runner.validate("files", frame, {})
        assert result.statistics["evaluated_expectations"] > 0
        del frame
        gc.collect()
        assert kept() is None
