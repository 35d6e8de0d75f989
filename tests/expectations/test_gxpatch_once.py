"""The replacements that do a step of GX's once instead of once per metric (a row condition's filter, a
column pair's rows, an expectation's configuration and back) give GX's own failures and results on every
record suite of a defective year, and keep what they keep per thread; and a result's JSON made without GX's
copies (``expectations.resultjson``) is GX's own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from expectations import gxpatch
from expectations.validate import load_suite_json, suite_runner


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
    monkeypatch.setattr(gxpatch._subgraphs, "on", False)  # every validation builds its graphs, as GX's
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


def test_metric_graphs_kept_for_a_suite_give_the_same_results(
        defective: tuple[Any, dict[str, Any], list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record suite on a frame of a defective year, validated on the graphs GX builds (none kept yet,
    each suite its own), then each again on the graphs kept from it: the same failures and GX results, and
    no graph built the second time."""
    from expectations import stage

    con, params, files = defective
    suite_runner()
    monkeypatch.setattr(gxpatch._subgraphs, "on", True)
    gxpatch.forget_subgraphs()
    frames = {name: next(iter(stage.frame_chunks(con, name, None, files=files)))[1] for name in stage.RECORD_SUITES}
    first = {}
    for name, frame in frames.items():
        built = gxpatch._subgraphs.built
        first[name] = _outcome(name, frame, params)
        assert gxpatch._subgraphs.built == built + 1, name  # GX's own graphs, none of another suite's
    built = gxpatch._subgraphs.built
    for name, frame in frames.items():
        assert _outcome(name, frame, params) == first[name], name
    assert gxpatch._subgraphs.built == built  # the parameters are the same here (a run's hold its time: SUB006)
    assert len(gxpatch._subgraphs.kept) == len(frames) >= 6
    gxpatch.forget_subgraphs()
    assert not gxpatch._subgraphs.kept


def test_metric_graphs_are_kept_for_the_latest_suites_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most SUBGRAPHS_KEPT suites' graphs are kept, the least recently used let go first; a graph built with
    an error, or from a value that is not JSON, is not kept."""
    monkeypatch.setattr(gxpatch, "_subgraphs", gxpatch._Subgraphs())
    monkeypatch.setattr(gxpatch, "SUBGRAPHS_KEPT", 2)
    keys = iter(["a", "b", "a", "c", "b", None, "d"])
    monkeypatch.setattr(gxpatch, "subgraph_key", lambda *args: next(keys))

    def original(self: Any, configurations: list[Any], processed: list[Any], catch: bool, runtime: Any) -> Any:
        processed.extend(configurations)
        return [f"graph of {configurations[0]}"], (["error"] if configurations[0] == "d" else []), processed

    step = gxpatch.subgraphs_kept(original)
    made = [step(None, [label], [], True, None) for label in ("a", "b", "a", "c", "b", "x", "d")]
    assert made[2] == (["graph of a"], [], ["a"])  # kept: no graph built
    assert gxpatch._subgraphs.built == 6  # a, b, c, b again (let go for c), x (no key), d (an error)
    assert list(gxpatch._subgraphs.kept) == ["c", "b"]


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


def _drop_used_columns(frame: Any) -> Any:
    """A frame without three of the columns its expectations read (each of them then raises in GX)."""
    return frame.drop(columns=[c for c in frame.columns if c not in ("record_id", "file_id")][:3])


def test_results_as_json_are_gxs_own_for_every_record_suite_and_for_expectations_that_raised(
        defective: tuple[Any, dict[str, Any], list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """``result_json`` gives the text of GX's ``to_json_dict``, key for key and in the same order, for every
    record suite of a defective year (with its failures) and for frames missing columns (expectations that
    raised), without calling GX's ``to_json_dict``."""
    import pandas as pd
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult

    from expectations import resultjson, stage

    con, params, files = defective
    runner = suite_runner()
    assert resultjson.plain_path() is not None
    own = ExpectationSuiteValidationResult.to_json_dict
    compared = failed = raised = 0
    for name in stage.RECORD_SUITES:
        for _, frame in stage.frame_chunks(con, name, None, files=files):
            for shown in (frame, _drop_used_columns(frame)):
                shown = shown.copy()
                shown.index = pd.Index(shown["record_id"].to_numpy())
                result = runner.validate(name, shown, params)

                def gx_not_called(self: Any) -> Any:
                    raise AssertionError("GX's to_json_dict called")

                monkeypatch.setattr(ExpectationSuiteValidationResult, "to_json_dict", gx_not_called)
                ours = resultjson.result_json(result)
                monkeypatch.setattr(ExpectationSuiteValidationResult, "to_json_dict", own)
                assert json.dumps(ours) == json.dumps(result.to_json_dict()), name
                compared += 1
                failed += sum(not item["success"] for item in ours["results"])
                raised += sum(any(info.get("raised_exception") for info in item["exception_info"].values())
                              for item in ours["results"] if "raised_exception" not in item["exception_info"])
    assert compared == 2 * len(stage.RECORD_SUITES) and failed > 20 and raised > 20, (compared, failed, raised)


def test_a_result_outside_the_plain_path_gets_gxs_own_json(defective: tuple[Any, dict[str, Any], list[int]]) -> None:
    """An expectation's result with rendered content, or a configuration with a context, is not of the shape
    ``result_json`` reproduces: the whole result is then GX's own ``to_json_dict``."""
    import pandas as pd
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.expectations.expectation_configuration import ExpectationContext

    from expectations import resultjson, stage

    con, params, files = defective
    frame = next(iter(stage.frame_chunks(con, "innovations", None, files=files)))[1]
    frame.index = pd.Index(frame["record_id"].to_numpy())
    result = suite_runner().validate("innovations", frame, params)
    before = resultjson.result_json(result)
    assert "rendered_content" not in json.dumps(before) and "expectation_context" not in json.dumps(before)
    result.results[0].expectation_config.expectation_context = ExpectationContext(description="why")
    ours = resultjson.result_json(result)
    assert ours == ExpectationSuiteValidationResult.to_json_dict(result)
    assert ours["results"][0]["expectation_config"]["expectation_context"] == {"description": "why"}
    assert ours["results"][1:] == before["results"][1:]


def test_result_json_follows_the_installed_gx_and_marshmallow() -> None:
    """Fails when a GX or marshmallow release changes what ``result_json`` reproduces: compare the new sources
    with ``expectations/resultjson.py``, then update it and the sha256s there (or drop it)."""
    from expectations import resultjson

    assert {name: gxpatch.source_sha256(source) for name, source in resultjson.sources().items()} == \
        resultjson.KNOWN_SOURCES


def test_failing_rows_are_listed_off_the_index_with_gxs_own_results(
        defective: tuple[Any, dict[str, Any], list[int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record suite on the frames of a defective year: the same failures and GX results with the failing
    rows' labels read off the index as with GX's own function, which the replacement never falls back to there;
    on a frame whose index has a name it does, with GX's results."""
    import pandas as pd
    from great_expectations.expectations import registry

    from expectations import stage

    con, params, files = defective
    suite_runner()
    metrics = gxpatch.index_metrics(gxpatch.index_replacement)
    original = gxpatch.index_sources()["_pandas_map_condition_index"]
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    def provide(function: Any) -> None:
        for name, metric_class in metrics:
            monkeypatch.setitem(registry._registered_metrics[name]["providers"], "PandasExecutionEngine",
                                (metric_class, function))

    replacement = gxpatch.unexpected_index_only(counted)
    replacement.__dict__.update(original.__dict__)
    failing = 0
    for name in stage.RECORD_SUITES:
        for _, frame in stage.frame_chunks(con, name, None, files=files):
            provide(replacement)
            ours = _outcome(name, frame, params)
            provide(original)
            assert _outcome(name, frame, params) == ours, name
            failing += len(ours[0])
    assert not calls and failing > 100, (calls, failing)
    frame = next(iter(stage.frame_chunks(con, "innovations", None, files=files)))[1]
    named = frame.copy()
    named.index = pd.Index(named["record_id"].to_numpy(), name="record_id")
    provide(replacement)
    ours_named = suite_runner().validate("innovations", named, params)
    assert calls
    provide(original)
    gx_named = suite_runner().validate("innovations", named, params)
    assert [r.result for r in ours_named.results] == [r.result for r in gx_named.results]
