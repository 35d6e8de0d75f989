"""GX's kwargs helpers, reading an expectation's configuration once per call, return what GX's return."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from expectations import gxpatch
from expectations.validate import SUITE_ORDER, load_suite_json, suite_runner


@pytest.fixture(scope="module")
def expectations() -> list[Any]:
    suite_runner()  # imports GX and puts the replacements in place
    import great_expectations as gx

    found = [e for name in SUITE_ORDER for e in gx.ExpectationSuite(**load_suite_json(name)).expectations]
    assert len(found) > 50
    return found


def test_the_replacements_are_in_place_for_the_installed_gx(expectations: list[Any]) -> None:
    """Fails when a GX release changes one of the four methods: compare it with the replacement, then
    update it and its sha256 in ``expectations/gxpatch.py`` (or drop the replacement)."""
    from great_expectations.expectations.expectation import Expectation

    assert gxpatch.apply()
    for name, replacement in gxpatch.REPLACEMENTS.items():
        assert getattr(Expectation, name) is replacement
        assert gxpatch.source_sha256(getattr(Expectation, f"_gx_original{name}")) == gxpatch.KNOWN_SOURCES[name]


def test_each_replacement_returns_what_gx_returns_for_every_expectation_of_the_suites(
        expectations: list[Any], caplog: pytest.LogCaptureFixture) -> None:
    runtime_configurations: list[dict[str, Any] | None] = [
        None, {}, {"result_format": "BOOLEAN_ONLY"},
        {"result_format": {"result_format": "COMPLETE", "partial_unexpected_count": 20}, "catch_exceptions": False}]
    for expectation in expectations:
        cls = type(expectation)
        for name in ("_get_domain_kwargs", "_get_success_kwargs"):
            assert getattr(expectation, name)() == getattr(cls, f"_gx_original{name}")(expectation), (cls, name)
        for runtime in runtime_configurations:
            assert expectation._get_runtime_kwargs(runtime) == cls._gx_original_get_runtime_kwargs(expectation, runtime)
        keys = {*expectation.domain_keys, *expectation.success_keys, *expectation.runtime_keys, "not_a_field"}
        for key in keys:
            for default in (None, "fallback"):
                assert (expectation._get_success_kwarg(key, default)
                        == cls._gx_original_get_success_kwarg(expectation, key, default)), (cls, key)
    # an unknown key is warned about as GX warns
    caplog.clear()
    expectations[0]._get_success_kwarg("not_a_field")
    ours = [r.getMessage() for r in caplog.records]
    caplog.clear()
    type(expectations[0])._gx_original_get_success_kwarg(expectations[0], "not_a_field")
    assert ours == [r.getMessage() for r in caplog.records] and ours


def test_metric_ids_use_the_plain_json_path_for_the_installed_gx(expectations: list[Any]) -> None:
    """Fails when a GX release changes ``convert_to_json_serializable`` or ``IDDict.to_id``: compare them
    with :func:`gxpatch.plain_json`, then update the sha256s in ``expectations/gxpatch.py``."""
    from great_expectations import util
    from great_expectations.core import id_dict

    assert gxpatch.apply()
    assert id_dict.convert_to_json_serializable is not util.convert_to_json_serializable
    assert gxpatch.source_sha256(util.convert_to_json_serializable) == gxpatch.KNOWN_ID_SOURCES[
        "convert_to_json_serializable"]
    assert gxpatch.source_sha256(id_dict.IDDict.to_id) == gxpatch.KNOWN_ID_SOURCES["IDDict.to_id"]


def test_plain_json_returns_what_gx_returns() -> None:
    import datetime
    from collections import OrderedDict
    from enum import Enum

    import numpy as np
    import pandas as pd

    suite_runner()
    from great_expectations import util
    from great_expectations.core.id_dict import IDDict

    class Colour(Enum):
        RED = "red"

    fast = gxpatch.plain_json(util.convert_to_json_serializable)
    values: list[Any] = [
        "a", "", 0, -5, 2**70, True, False, None, 1.5, float("nan"), float("inf"), -0.0,
        ["11", "11.01", None, 3], ("x", 1), {"value_set": ["11", "12"], "mostly": 0.95, 3: "int key"},
        {"nested": [{"a": [1, 2.5, float("nan")]}, (None, True)]}, {1, 2}, np.int64(4), np.float64(2.5),
        np.array([1.0, 2.0]), np.bool_(True), pd.Timestamp("2024-03-31"), datetime.date(2024, 1, 2), Colour.RED,
        OrderedDict(b=1, a=[np.int32(2)]), IDDict(column="level"), [np.float32(0.1), pd.NaT],
        {"regex": r"(?i)^x\n?\Z", "parse_strings_as_datetimes": False, "min_value": pd.Timestamp(2024, 1, 1)},
    ]
    for value in values:
        expected = util.convert_to_json_serializable(value)
        got = fast(value)
        assert repr(got) == repr(expected), value
    # and so the metric ids GX names its metrics by
    for value in values:
        kwargs = {"column": "indicator", "value": value, "result_format": {"result_format": "COMPLETE"}}
        gx_id = hashlib.md5(json.dumps(util.convert_to_json_serializable(dict(kwargs)), sort_keys=True).encode(),
                            usedforsecurity=False).hexdigest()
        assert IDDict(kwargs).to_id() == gx_id, value


def test_data_docs_templates_are_compiled_once_and_kept_between_runs(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's Data Docs leave GX's compiled templates beside the docs; a later build compiles none
    and writes the same pages (but for the time GX stamps on its links)."""
    import re

    import duckdb
    import jinja2
    from factory import submission, write_home

    from expectations.stage import RECORD_SUITES, _merged_results
    from expectations.validate import build_docs
    from flows import pipeline

    home = write_home(tmp_path, 2024, {"35.78.json": submission("35.78", spd_total=30)}, [])
    pipeline.ingest(home, 2024)
    pipeline.validate(home, 2024)
    first = home.docs_dir(2024)
    assert len(list((first.parent / ".gx-templates").glob("*.cache"))) >= 20

    parsed: list[str] = []
    real = jinja2.Environment._parse

    def parse(self: jinja2.Environment, source: str, name: str | None, filename: str | None) -> Any:
        parsed.append(str(name))
        return real(self, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "_parse", parse)
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


def test_row_condition_filter_is_replaced_for_the_installed_gx(expectations: list[Any]) -> None:
    """Fails when a GX release changes ``_apply_row_condition_filter``: compare it with
    :func:`gxpatch.filter_once`'s use of it, then update its sha256 (or drop the replacement)."""
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    assert gxpatch.apply()
    original = PandasExecutionEngine._gx_original_apply_row_condition_filter  # type: ignore[attr-defined]
    assert gxpatch.source_sha256(original) == gxpatch.KNOWN_FILTER_SOURCE
    assert PandasExecutionEngine._apply_row_condition_filter is not original


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Any], list[int]]]:
    """A defective year ingested and validated (for the reference tables the frames join): its work
    database, read only, the suites' parameters and its files."""
    import duckdb

    from expectations.validate import suite_parameters
    from flows import pipeline
    from flows.generator import generate_year
    from flows.methodology import for_year
    from flows.settings import Home

    home = Home.resolve(tmp_path_factory.mktemp("defective"))
    generate_year(home, 2024, seed=11, scale=0.03, defect_rate=0.5)
    pipeline.ingest(home, 2024)
    pipeline.validate(home, 2024)
    con = duckdb.connect(str(home.work_db(2024)), read_only=True)
    regions = [(c, bool(a)) for c, a in con.execute("select code, autonomous from regions").fetchall()]
    files = [f for (f,) in con.execute("select file_id from landing_files").fetchall()]
    yield con, suite_parameters(for_year(2024).method, 2024, regions), files
    con.close()


def _outcome(name: str, frame: Any, params: dict[str, Any]) -> tuple[Any, str]:
    """A suite's failures on a frame and GX's result, without what differs from run to run."""
    import pandas as pd

    from expectations.validate import failures_of

    frame = frame.copy()
    frame.index = pd.Index(frame["record_id"].to_numpy())
    result = suite_runner().validate(name, frame, params)
    failures = failures_of(name, result, frame).to_pylist()
    text = json.dumps(result.to_json_dict(), sort_keys=True, default=str)
    return failures, re.sub(r'"id": "[0-9a-f-]+"|"ge_load_time": "[0-9TZ.]+"', "", text)  # per run


def test_each_row_condition_filters_a_frame_once_with_the_same_results(
        defective: tuple[Any, dict[str, Any], list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record suite on the frames of a defective year: the same failures and GX results with the
    kept filters as with GX's own, and each condition applied once per frame instead of once per metric."""
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    from expectations import stage

    con, params, files = defective
    suite_runner()
    original = PandasExecutionEngine._gx_original_apply_row_condition_filter  # type: ignore[attr-defined]
    calls: list[int] = []

    def counted(*args: Any) -> Any:
        calls.append(1)
        return original(*args)

    def outcome(name: str, frame: Any) -> tuple[Any, str]:
        return _outcome(name, frame, params)

    conditioned = 0
    for name in stage.RECORD_SUITES:
        # distinct conditions: expectations that share one (INO001's field checks) share its filtered frame
        conditions = len({json.dumps(e["kwargs"]["row_condition"], sort_keys=True)
                          for e in load_suite_json(name)["expectations"] if "row_condition" in e["kwargs"]})
        for _, frame in stage.frame_chunks(con, name, None, files=files):
            calls.clear()
            monkeypatch.setattr(gxpatch, "_filtered", gxpatch._Filtered())
            monkeypatch.setattr(PandasExecutionEngine, "_apply_row_condition_filter", gxpatch.filter_once(counted))
            kept = outcome(name, frame)
            once = len(calls)
            calls.clear()
            monkeypatch.setattr(PandasExecutionEngine, "_apply_row_condition_filter", counted)
            assert outcome(name, frame) == kept, name
            assert once == conditions, (name, once, conditions)
            assert len(calls) > once or conditions == 0, name
            conditioned += conditions
    assert conditioned >= 5


def test_a_column_pair_drops_rows_with_a_missing_value_once_with_the_same_results(
        defective: tuple[Any, dict[str, Any], list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record suite on the frames of a defective year: the same failures and GX results with the
    rows kept per column pair as with GX's own, and each pair's rows dropped once per frame instead of once
    per metric."""
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    from expectations import stage

    con, params, files = defective
    suite_runner()
    original = PandasExecutionEngine._gx_original_get_domain_records  # type: ignore[attr-defined]
    assert gxpatch.source_sha256(original) == gxpatch.KNOWN_DOMAIN_SOURCE
    assert PandasExecutionEngine.get_domain_records is not original
    dropped: list[str] = []

    def counted(self: Any, domain_kwargs: dict[str, Any]) -> Any:
        if "ignore_row_if" in domain_kwargs:
            dropped.append(domain_kwargs.get("column_A") or str(domain_kwargs.get("column_list")))
        return original(self, domain_kwargs)

    paired = 0
    for name in stage.RECORD_SUITES:
        pairs = sum("ignore_row_if" in e["kwargs"] for e in load_suite_json(name)["expectations"])
        for _, frame in stage.frame_chunks(con, name, None, files=files):
            dropped.clear()
            monkeypatch.setattr(PandasExecutionEngine, "get_domain_records", gxpatch.domains_once(counted))
            kept = _outcome(name, frame, params)
            once = len(dropped)
            dropped.clear()
            monkeypatch.setattr(PandasExecutionEngine, "get_domain_records", counted)
            assert _outcome(name, frame, params) == kept, name
            assert once == pairs, (name, once, pairs)
            assert len(dropped) > once or pairs == 0, name
            paired += pairs
    assert paired >= 7


def test_the_kept_rows_are_per_thread() -> None:
    """Two threads validating the same suite on different frames each get the rows of their own frame."""
    import threading

    calls: list[str] = []

    def original(self: Any, data: Any, row_condition: Any, domain_kwargs: dict[str, Any]) -> Any:
        calls.append(data)
        return f"rows of {data}"

    kept = gxpatch.filter_once(original)
    first = kept(None, "frame A", "level > 0", {})
    seen: list[Any] = []
    other = threading.Thread(target=lambda: seen.append(kept(None, "frame B", "level > 0", {})))
    other.start()
    other.join()
    assert seen == ["rows of frame B"]
    assert first == kept(None, "frame A", "level > 0", {}) == "rows of frame A"
    assert calls == ["frame A", "frame B"]  # frame A's rows were kept on its thread
    gxpatch.forget_filtered()


def test_the_builders_are_replaced_for_the_installed_gx(expectations: list[Any]) -> None:
    """Fails when a GX release changes a source :func:`gxpatch.built_once` relies on: compare it with what
    the replacement assumes (nothing changes an expectation or a configuration made into one during
    ``graph_validate``), then update its sha256 in ``expectations/gxpatch.py`` (or drop the replacement)."""
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.validator.validator import Validator

    assert gxpatch.apply()
    sources = gxpatch.build_sources()
    assert {name: gxpatch.source_sha256(function) for name, function in sources.items()} == gxpatch.KNOWN_BUILD_SOURCES
    assert Expectation.__dict__["configuration"] is not Expectation._gx_original_configuration  # type: ignore[attr-defined]
    assert ExpectationConfiguration.to_domain_obj is not ExpectationConfiguration._gx_original_to_domain_obj  # type: ignore[attr-defined]
    assert Validator.graph_validate is not Validator._gx_original_graph_validate  # type: ignore[attr-defined]
    # outside a validation every read builds anew, as GX's
    assert expectations[0].configuration is not expectations[0].configuration
    configuration = expectations[0].configuration
    assert configuration.to_domain_obj() is not configuration.to_domain_obj()
    assert configuration.to_domain_obj() == expectations[0]


def test_each_expectation_and_configuration_is_built_once_per_validation_with_the_same_results(
        defective: tuple[Any, dict[str, Any], list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record suite on the frames of a defective year: the same failures and GX results with each
    expectation's configuration (and each configuration's expectation) built once per validation as with
    GX's builders, which build them again for every metric."""
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.validator.validator import Validator

    from expectations import stage

    con, params, files = defective
    suite_runner()
    configuration = Expectation._gx_original_configuration.fget  # type: ignore[attr-defined]
    to_domain_obj = ExpectationConfiguration._gx_original_to_domain_obj  # type: ignore[attr-defined]
    built: list[str] = []

    def counted(original: Any, kind: str) -> Any:
        def build(self: Any) -> Any:
            built.append(kind)
            return original(self)
        return build

    def use(builder: Any) -> None:
        monkeypatch.setattr(Expectation, "configuration", property(builder(counted(configuration, "configuration"))))
        monkeypatch.setattr(ExpectationConfiguration, "to_domain_obj", builder(counted(to_domain_obj, "expectation")))

    checked = 0
    for name in stage.RECORD_SUITES:
        size = len(load_suite_json(name)["expectations"])
        for _, frame in stage.frame_chunks(con, name, None, files=files):
            built.clear()
            use(gxpatch.built_once)
            kept = _outcome(name, frame, params)
            once = {kind: built.count(kind) for kind in ("configuration", "expectation")}
            built.clear()
            use(lambda original: original)
            assert _outcome(name, frame, params) == kept, name
            gx = {kind: built.count(kind) for kind in ("configuration", "expectation")}
            # per expectation of the suite: its configuration read before the validation, and within it
            # one expectation made of each of two configurations, and their two configurations
            assert once == {"configuration": 3 * size, "expectation": 2 * size}, (name, once)
            assert gx["configuration"] > 2 * once["configuration"], (name, gx, once)
            assert not gxpatch._built.on and not gxpatch._built.made
            checked += 1
    assert checked >= 6
    assert Validator.graph_validate is not Validator._gx_original_graph_validate  # type: ignore[attr-defined]


def test_builds_are_kept_per_thread_and_only_during_a_validation() -> None:
    """Another thread building while one validates builds anew; after the validation every call builds."""
    import threading

    class Thing:
        pass

    made: list[str] = []

    def make(self: Any) -> str:
        made.append(threading.current_thread().name)
        return f"built {len(made)}"

    build = gxpatch.built_once(make)
    thing = Thing()
    seen: list[Any] = []

    def graph_validate(self: Any) -> list[str]:
        first = build(thing)
        other = threading.Thread(target=lambda: seen.extend([build(thing), build(thing)]), name="other")
        other.start()
        other.join()
        return [first, build(thing), gxpatch.validating(lambda self: build(thing))(None)]

    assert gxpatch.validating(graph_validate)(None) == ["built 1", "built 1", "built 1"]
    assert seen == ["built 2", "built 3"]
    assert build(thing) == "built 4" and not gxpatch._built.made


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
