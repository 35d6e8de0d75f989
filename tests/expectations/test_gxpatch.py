"""GX's kwargs helpers, reading an expectation's configuration once per call, return what GX's return."""

from __future__ import annotations

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
