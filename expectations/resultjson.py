"""A suite's validation result as JSON: what GX's ``ExpectationSuiteValidationResult.to_json_dict`` returns,
without its copies.

Each chunk's GX result is kept as JSON (``validation_results``), for the Data Docs. GX's ``to_json_dict`` copies the
whole result (``deepcopy``), then each expectation's result and configuration three more times on their way
through marshmallow's schemas (a pre-dump and a post-dump hook each copy what they are given), and passes every
value through ``convert_to_json_serializable``'s type checks. The configurations hold the suites' value sets
(every region code, every indicator): for one file's six record suites, 0.03-0.05 s of their 0.2-0.3 s in every
re-run (0.001 s this way, in one process).

:func:`result_json` builds the same dict directly: the schemas' fields in their order, each serialised as
marshmallow's field does it (a ``Dict`` as a dict, a ``UUID`` or ``Str`` as its text, an ``Enum`` by its value,
a ``Bool`` or ``Raw`` as it is), the keys GX drops when they are None dropped, and every value through GX's
JSON conversion with the plain path of :func:`expectations.gxpatch.plain_json`. It takes that path only where
the result has the shape the schemas were read for (no rendered content, no expectation context; dicts where
the schemas dump dicts); any other result, or a GX or marshmallow whose sources differ from those it was
written from (by sha256, as for :mod:`expectations.gxpatch`), gets GX's own ``to_json_dict``. A test compares
the two on every record suite of a defective year and on expectations that raised.
"""

from __future__ import annotations

from typing import Any

from expectations.gxpatch import plain_json, sources_known

# sha256 of the sources whose output result_json reproduces (great_expectations 1.24.1, marshmallow 4.4.0)
KNOWN_SOURCES = {
    "ExpectationSuiteValidationResult.to_json_dict": "69cbb04db7d4fecad0bdd58e5722763a98c62a3149836c60be1613dd85193bdc",
    "ExpectationValidationResult.to_json_dict": "c9dc7d54f81e6739a101242f2e5fe70c45746cf217288fcb8ada30f657b8f42e",
    "ExpectationSuiteValidationResultSchema": "85ea6832e1cb7b8b4c01213f37e05a2007a004fdafc527568c13be0a85ec5fc6",
    "ExpectationValidationResultSchema": "86b1fe34782db07751ffffbb51d475446d5fb03a68c20773b9372ac57f8a5bfd",
    "ExpectationConfigurationSchema": "5213fa48d4f489dbbbcd9c2615525445452f234c6d04ec70cc27ef9e96509e69",
    "convert_to_json_serializable": "a282e2e272fc0dd2448354369b6c6223decf889883adab1aab7679cd38205523",
    # a Bool and a Raw field (success, notes) serialise as the base Field does: the value as it is
    "marshmallow.fields.Boolean._serialize": "90c6f6251e611a13b3b88709963cbb497234854e37a496ddfe9f1d4ad21cff42",
    "marshmallow.fields.Raw._serialize": "90c6f6251e611a13b3b88709963cbb497234854e37a496ddfe9f1d4ad21cff42",
    "marshmallow.fields.Mapping._serialize": "19ff812567740fe4d3f327deec4f2bfbbca549f2b3e37ed33b090119d50d7bcf",
    "marshmallow.fields.String._serialize": "cee633dbe0c522e4949efc4cdd832866ce169cc4ed20f794535a242c2461db49",
    "marshmallow.fields.UUID._serialize": "8ed7f218403d9002f2f78204ed052cfff0a6958a5212300eec0e0ab25c89fc03",
    "marshmallow.fields.Enum._serialize": "875b802cfefed5eb4cfa64202df50d1bebb9c979f2fe78d23cdf9e24d862a05b",
}
_plain: Any = None  # the plain path, or False where the sources differ from KNOWN_SOURCES


def sources() -> dict[str, Any]:
    """The sources :func:`result_json` reproduces, by name."""
    from great_expectations import util
    from great_expectations.core import expectation_validation_result as results
    from great_expectations.expectations import expectation_configuration as configurations
    from marshmallow import fields

    return {
        "ExpectationSuiteValidationResult.to_json_dict": results.ExpectationSuiteValidationResult.to_json_dict,
        "ExpectationValidationResult.to_json_dict": results.ExpectationValidationResult.to_json_dict,
        "ExpectationSuiteValidationResultSchema": results.ExpectationSuiteValidationResultSchema,
        "ExpectationValidationResultSchema": results.ExpectationValidationResultSchema,
        "ExpectationConfigurationSchema": configurations.ExpectationConfigurationSchema,
        "convert_to_json_serializable": util.convert_to_json_serializable,
        "marshmallow.fields.Boolean._serialize": fields.Boolean._serialize,
        "marshmallow.fields.Raw._serialize": fields.Raw._serialize,
        "marshmallow.fields.Mapping._serialize": fields.Mapping._serialize,
        "marshmallow.fields.String._serialize": fields.String._serialize,
        "marshmallow.fields.UUID._serialize": fields.UUID._serialize,
        "marshmallow.fields.Enum._serialize": fields.Enum._serialize,
    }


def plain_path() -> Any:
    """The JSON conversion :func:`result_json` uses, or None where GX's ``to_json_dict`` must be used."""
    global _plain
    if _plain is None:
        from great_expectations import util

        _plain = plain_json(util.convert_to_json_serializable) if sources_known(sources(), KNOWN_SOURCES) else False
    return _plain or None


# the keys of an expectation's configuration GX leaves out when they are None (ExpectationConfigurationSchema)
_DROPPED_IF_NONE = ("notes", "id", "expectation_context", "rendered_content", "description")


def _configuration(config: Any, convert: Any) -> dict[str, Any] | None:
    if config.expectation_context is not None or config.rendered_content is not None:
        return None
    kwargs, meta = config.kwargs, config.meta
    if type(kwargs) is not dict or not (meta is None or type(meta) is dict):
        return None
    severity = config.severity
    if isinstance(severity, str):  # GX's pre-dump hook makes a text severity its enum again
        from great_expectations.expectations.metadata_types import FailureSeverity

        severity = FailureSeverity(severity)
    found = {"type": str(config.type), "kwargs": convert(kwargs), "meta": convert(meta),
             "notes": convert(config.notes),
             "id": None if config.id is None else str(config.id),
             # expectation_context and rendered_content: None here, so left out
             "description": None if config.description is None else str(config.description),
             "severity": None if severity is None else convert(severity.value)}
    return {key: value for key, value in found.items() if not (value is None and key in _DROPPED_IF_NONE)}


def _item(item: Any, convert: Any) -> dict[str, Any] | None:
    if item.rendered_content is not None:
        return None
    for part in (item.result, item.meta, item.exception_info):
        if not (part is None or type(part) is dict):
            return None
    config = None
    if item.expectation_config is not None:
        config = _configuration(item.expectation_config, convert)
        if config is None:
            return None
    return {"success": item.success, "expectation_config": config, "result": convert(item.result),
            "meta": convert(item.meta), "exception_info": convert(item.exception_info)}


def _suite(result: Any, convert: Any) -> dict[str, Any] | None:
    for part in (result.suite_parameters, result.statistics, result.meta):
        if not (part is None or type(part) is dict):
            return None
    items = [_item(item, convert) for item in result.results]
    if any(found is None for found in items):
        return None
    return {"success": result.success, "results": items, "suite_name": str(result.suite_name),
            "suite_parameters": convert(result.suite_parameters), "statistics": convert(result.statistics),
            "meta": convert(result.meta), "id": None if result.id is None else str(result.id)}


def result_json(result: Any) -> dict[str, Any]:
    """``result.to_json_dict()`` of a GX suite validation result (see the module's doc)."""
    convert = plain_path()
    found = None if convert is None else _suite(result, convert)
    return result.to_json_dict() if found is None else found
