"""The replacements of GX's methods: in place, GX's originals still the sources they were written against (by
sha256), and each returns what GX's returns: the kwargs helpers (reading an expectation's configuration once
per call) and the plain JSON path metric ids are made by."""

from __future__ import annotations

import hashlib
import json
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


def test_row_condition_filter_is_replaced_for_the_installed_gx(expectations: list[Any]) -> None:
    """Fails when a GX release changes ``_apply_row_condition_filter``: compare it with
    :func:`gxpatch.filter_once`'s use of it, then update its sha256 (or drop the replacement)."""
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    assert gxpatch.apply()
    original = PandasExecutionEngine._gx_original_apply_row_condition_filter  # type: ignore[attr-defined]
    assert gxpatch.source_sha256(original) == gxpatch.KNOWN_FILTER_SOURCE
    assert PandasExecutionEngine._apply_row_condition_filter is not original


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


def test_the_metric_graph_step_is_replaced_for_the_installed_gx() -> None:
    """Fails when a GX release changes a source :func:`gxpatch.subgraphs_kept` relies on: compare it with what
    the replacement assumes (a metric graph, once built, is only read; a configuration's fields are those the
    key holds), then update its sha256 in ``expectations/gxpatch.py`` (or drop the replacement)."""
    from great_expectations.validator.validator import Validator

    assert gxpatch.apply()
    sources = gxpatch.subgraph_sources()
    assert {name: gxpatch.source_sha256(function) for name, function in sources.items()} == \
        gxpatch.KNOWN_SUBGRAPH_SOURCES
    step = Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration
    assert step is not Validator._gx_original_subgraphs  # type: ignore[attr-defined]


def test_the_unexpected_index_step_is_replaced_for_the_installed_gx() -> None:
    """Fails when a GX release changes ``_pandas_map_condition_index`` or ``compute_unexpected_pandas_indices``:
    compare them with what :func:`gxpatch.unexpected_index_only` assumes (a frame whose index has no name and no
    ``unexpected_index_column_names``: the labels of the rows a boolean Series keeps, after the column's nulls),
    then update their sha256 in ``expectations/gxpatch.py`` (or drop the replacement)."""
    assert gxpatch.apply()
    assert {name: gxpatch.source_sha256(function) for name, function in gxpatch.index_sources().items()} == \
        gxpatch.KNOWN_INDEX_SOURCES
    assert not gxpatch.index_metrics()  # every metric GX gave its function has the replacement
    assert len(gxpatch.index_metrics(gxpatch.index_replacement)) >= 20


_WITHOUT_MISSING = [[True, False, True], [False, False, False], [True, True, True], []]


@pytest.mark.parametrize(("values", "dtype"), [*((v, "bool") for v in _WITHOUT_MISSING),
                                               *((v, "boolean") for v in _WITHOUT_MISSING),
                                               ([True, None, False, None], "boolean"), ([None, None], "boolean")])
def test_rows_a_boolean_series_keeps_are_those_a_frame_keeps(values: list[bool | None], dtype: str) -> None:
    """``_bool_rows`` gives the index labels ``frame[key]`` keeps (a missing value as false), and nothing for a
    Series on another index or of another type."""
    import pandas as pd

    index = pd.Index([10 * (i + 1) for i in range(len(values))])
    frame = pd.DataFrame({"x": range(len(values))}, index=index)
    key = pd.Series(values, index=index, dtype=dtype)
    assert list(gxpatch._bool_rows(index, key)) == list(frame[key].index)
    assert gxpatch._bool_rows(index[::-1], key) is None or len(values) < 2
    assert gxpatch._bool_rows(index, key.astype(object)) is None
