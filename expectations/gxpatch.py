"""Great Expectations reads an expectation's configuration once per lookup instead of once per key.

GX builds an expectation's ``configuration`` anew (a pydantic ``dict()`` of every field, then an
``ExpectationConfiguration``) each time it is read, and its kwargs helpers read it once per key:
about sixteen times per ``_get_runtime_kwargs``, which GX calls for every metric of every
expectation of every chunk. On a national year that is a quarter to a third of validation (a
profile of the validate stage: 1.8 s of 4.7 s inside GX). The methods below are GX's own
(``Expectation._get_success_kwarg``, ``_get_domain_kwargs``, ``_get_success_kwargs`` and
``_get_runtime_kwargs`` of great_expectations 1.24), reading the configuration once per call: the
property has no side effects and nothing changes the expectation during a call, so they return what
GX's return.

They replace GX's only when GX's source of all four is the source they were written from (its
sha256 below): a GX release that changes any of them keeps its own, and a test says so.

GX also names every metric it builds by an md5 of its kwargs (``IDDict.to_id``), first passing them
through ``convert_to_json_serializable``, which tries some twenty type checks (numpy, pandas, shapely …)
on every value: the suites' value sets hold every region code, so one file's validation spent ~15 % of
its CPU there. :func:`plain_json` returns the same values for plain JSON values (str, int, bool, None,
float, and lists, tuples and dicts of them) without those checks, and hands anything else to GX's
function; it replaces the name only in ``IDDict``'s module, under the same sha256 rule.

An expectation with a ``row_condition`` has GX filter the batch's whole frame (``DataFrame.query``, then a
copy of every column of the rows kept) once for each metric it computes, five or six times per
expectation: at ten times a national year that was ~4 s of the 17 s validation. :func:`filter_once`
keeps the rows a condition kept for the frame being validated and hands the same frame to the next
metric with the same condition; :func:`forget_filtered` drops them when a suite's run ends. GX does
not change a batch's frame while it validates it, nor the frames a filter returns (each metric
filters or selects from them into new frames); the validation results and failures of a defective
year are the same either way (tested). Under the same sha256 rule.

The same holds for an expectation on a pair (or list) of columns that ignores rows with a missing value
(``ignore_row_if``): GX drops those rows from the whole frame, copying every column, once for each of its
four metrics, ~2.6 s of CPU at ten times a national year. :func:`domains_once` keeps the rows kept for
the frame (after any row condition) and the columns, under the same rules and sha256 check.

Within one suite's validation (``Validator.graph_validate``) GX also turns each expectation into its
configuration, and that configuration back into an expectation, for every metric it names: ~1,950
configurations and ~950 expectations built to validate one file's six suites, a third of that
validation. :func:`built_once` has each expectation build its configuration once, and each
configuration its expectation once, while a suite is validated (per thread); they are let go when the
validation returns. Within it nothing changes an expectation or, once it has been made into one, a
configuration (the batch id is set before), and every use of them reads them; the validation results
and failures of a defective year are the same either way (tested). Under the same sha256 rule, on the
sources of the two builders, of ``graph_validate`` and the step that makes its metric graphs, and of
``get_metric_kwargs``, which builds one of each per metric.

Each suite's validation also works out, expectation by expectation, the graph of metrics it needs
(``_generate_metric_dependency_subgraphs_for_each_expectation_configuration``): the same graphs each time
the same suite is validated with the same parameters (the next chunk of a table, the next home or year
validated in the same process). :func:`subgraphs_kept` keeps the graphs of the last :data:`SUBGRAPHS_KEPT`
suites validated, by everything they are made of: the execution engine's class, the batch id, the runtime
configuration and every field of each configuration, as JSON (a time as its type and ISO text; any other
value that is not JSON, or a configuration with a context or rendered content, keeps nothing). A small
home's validation took 0.85 s of CPU instead of 1.0 s (the median of 12 each, alternating in one process).
The graphs hold metric configurations, which GX only reads once a graph is built, and the configurations
the results are made from (GX gets a copy of their list, as it removes the rejected ones from it); graphs
built with an error are not kept. A suite's graphs take ~0.5 MB (a small year's eight suites 4.0 MB, traced), so
the most a process keeps is ~32 MB. Every record suite of a defective year gives the same results and failures
validated twice on kept graphs as on GX's own (tested). Under the same sha256 rule, on the step it replaces,
the configuration's fields and the two steps that read the graphs (resolving them, and tracing a metric's
error to its expectation).

Every column map expectation also has GX list its failing rows (``unexpected_index_list``), by filtering the
domain's whole frame, every column of it, by the column's nulls and then by the failures, to read the index of what
is left: 13-15 % of validating a record suite, on one file's frames as on a national year's chunks (cProfile).
:func:`unexpected_index_only` picks the same labels out of the domain's index with the same two boolean Series,
where GX returns nothing but those labels (a frame whose index has no name, no ``unexpected_index_column_names``)
and each Series is a boolean one on that index (a missing value false, as pandas makes it); anything else is GX's own.
Under the same sha256 rule, on GX's function and the helper that lists the labels.

GX's Data Docs views each make their own Jinja environment and compile every template they use from
source: 24 templates compiled 51 times, ~40 % of building the docs. :func:`cache_templates` gives
the environments made afterwards a shared Jinja bytecode cache on disk. That is Jinja's own
mechanism: a cached template is used only while its source's checksum and the Python version match.
Jinja folds GX's ``generate_html_element_uuid`` filter, applied to a literal in ``collapse.j2``, into
the compiled template: a random uuid4 drawn at compile time and kept in the cache, so two homes (or a
cache deleted) gave the same results different pages. The environments get a filter that names each
prefix's element by a uuid5 of the prefix, the same everywhere (within a page, the element ids were
already one per compiled template); the cache files carry a new name, so none compiled with a random
id is read. The process also keeps each template it compiled or read (:class:`KeptTemplates`): a home
whose cache is new (every test's, or a second home) compiled all of them again; it now gets the files
written from what the process holds (a small home's validation: 0.81 s of CPU instead of 0.89 s).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

logger = logging.getLogger("great_expectations.expectations.expectation")

# sha256 of GX's source of each method these replace (great_expectations 1.24.1)
KNOWN_SOURCES = {
    "_get_success_kwarg": "baef37a186b4087123ae215810bc46c0761b276c4db2bb336865fe959e5bffd2",
    "_get_domain_kwargs": "91ad2a0670ff463ad99457f1e5c351b7fbd64cac8f6c200a18a437552f2adfd0",
    "_get_success_kwargs": "fe376905e18bc525a128d251281e7f48309e82f820f23c8e1d93d85e2739b26f",
    "_get_runtime_kwargs": "4196ca2a2cdb5bbfdf5e7540eaa58048d6e6881819ed004041ef56151667d8d0",
}
# sha256 of the sources plain_json stands in for (great_expectations 1.24.1)
KNOWN_ID_SOURCES = {
    "convert_to_json_serializable": "a282e2e272fc0dd2448354369b6c6223decf889883adab1aab7679cd38205523",
    "IDDict.to_id": "3820fd313f5a0f6903b8b63f6bda3cadf1dc822312d6da5a3eff18ca76f06344",
}
# sha256 of GX's PandasExecutionEngine._apply_row_condition_filter (great_expectations 1.24.1)
KNOWN_FILTER_SOURCE = "917e05df63a2a6afc3aa568c034f118b803a88f209046f05e1927a6731edeae8"
# sha256 of GX's PandasExecutionEngine.get_domain_records (great_expectations 1.24.1)
KNOWN_DOMAIN_SOURCE = "4691281d9a24f31f802390bdb751e118f7fc4c3a35555177f9939679f1cf5528"
# sha256 of the GX sources built_once relies on (great_expectations 1.24.1)
KNOWN_BUILD_SOURCES = {
    "Expectation.configuration": "017b2b788132d570b370ac396d96dbc7ff212418ffcf6c4c63b56a6518022685",
    "ExpectationConfiguration.to_domain_obj": "24e276873831375b656bafff13ef35ddf48751e3c5a6b43e1ce4bc82b2c84a31",
    "Validator.graph_validate": "179acad7dc6ff0eaff4ea1649a85e8d78cb95ee373084e96664e2a19fe16dd28",
    "Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration":
        "3165fac4b81c0f96e27a88296afa66e1cf988cd40d4d940e85bab3834f863947",
    "get_metric_kwargs": "1c6cab93be71d12856a9179a061a61b87e80115e68ca785a7d4806d4bb6b5e7b",
}
# sha256 of the GX sources subgraphs_kept relies on (great_expectations 1.24.1)
KNOWN_SUBGRAPH_SOURCES = {
    "Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration":
        "3165fac4b81c0f96e27a88296afa66e1cf988cd40d4d940e85bab3834f863947",
    "ExpectationConfiguration.__init__": "ebb1f72aec4b5880bde520dcda46d6ea05ab28deee2a17b11e10c03641b8cb6c",
    "ValidationGraph._resolve": "3796cd3358b6aa66c0ac70f7c6580199a3fc9e9499689e835e6cbd8d09c33248",
    "ExpectationValidationGraph.get_exception_info": "bcf21603070ea08d960ccd983f424036ea61a9c09435cc5dd76a75b54093e782",
}
# sha256 of the GX sources unexpected_index_only stands in for (great_expectations 1.24.1)
KNOWN_INDEX_SOURCES = {
    "_pandas_map_condition_index": "c5e5f434f107f2abe51bd1ece612fdc756f1fa47c0e7e986afcd99aa9d924014",
    "compute_unexpected_pandas_indices": "9945d77907b79bef6988e84d8191176131477ccd26047c2f6dd28944372159b8",
}
SUBGRAPHS_KEPT = 64  # suites (with their parameters) whose metric graphs a process keeps
_applied: bool | None = None
_subgraphs_applied: bool | None = None
_builds_applied: bool | None = None
_ids_applied: bool | None = None
_filters_applied: bool | None = None
_index_applied: bool | None = None
index_replacement: Any = None  # the provider unexpected_index_only made, once in place


def source_sha256(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def sources_known(sources: dict[str, Any], known: dict[str, str]) -> bool:
    """Whether each of ``known``'s sources (by name) is, by sha256, the one of that name in ``sources``."""
    return all(source_sha256(sources[name]) == sha for name, sha in known.items())


def _kwarg(expectation: Any, kwargs: dict[str, Any], key: str, default: Any = None) -> Any:
    """``_get_success_kwarg`` on configuration kwargs already read."""
    if key in kwargs:
        return kwargs[key]
    field = expectation.__fields__.get(key)
    if field is not None:
        return field.default if not field.required else default
    logger.warning(f'_get_success_kwarg called with key "{key}", '
                   f"but it is not a known field of {type(expectation).__name__}")
    return default


def _domain(expectation: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``_get_domain_kwargs`` on configuration kwargs already read."""
    from great_expectations.exceptions import InvalidExpectationKwargsError

    domain_kwargs = {key: kwargs.get(key, expectation._get_default_value(key)) for key in expectation.domain_keys}
    missing_kwargs = set(expectation.domain_keys) - set(domain_kwargs.keys())
    if missing_kwargs:
        raise InvalidExpectationKwargsError(f"Missing domain kwargs: {list(missing_kwargs)}")
    return domain_kwargs


def _success(expectation: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``_get_success_kwargs`` on configuration kwargs already read."""
    domain_kwargs = _domain(expectation, kwargs)
    success_kwargs = {key: kwargs.get(key, expectation._get_default_value(key)) for key in expectation.success_keys}
    success_kwargs.update(domain_kwargs)
    return success_kwargs


def _get_success_kwarg(self: Any, key: str, default: Any = None) -> Any:
    return _kwarg(self, self.configuration.kwargs, key, default)


def _get_domain_kwargs(self: Any) -> dict[str, Any]:
    return _domain(self, self.configuration.kwargs)


def _get_success_kwargs(self: Any) -> dict[str, Any]:
    return _success(self, self.configuration.kwargs)


def _get_runtime_kwargs(self: Any, runtime_configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    from great_expectations.expectations.expectation import parse_result_format  # the name GX's method uses

    runtime_configuration = runtime_configuration or {}
    kwargs = self.configuration.kwargs
    success_kwargs = _success(self, kwargs)
    runtime_kwargs = {key: runtime_configuration.get(key, _kwarg(self, kwargs, key)) for key in self.runtime_keys}
    runtime_kwargs.update(success_kwargs)
    runtime_kwargs["result_format"] = parse_result_format(runtime_kwargs["result_format"])
    return runtime_kwargs


def plain_json(original: Any) -> Any:
    """``convert_to_json_serializable`` with a short path for plain JSON values; anything else (numpy and
    pandas values, sets, dict subclasses, dates …) goes to ``original``.

    GX's function returns plain values as they are, NaN as None, dicts with their keys as ``str`` and
    lists and tuples as lists, converting their items one by one: so does this one.
    """
    def convert(data: Any) -> Any:
        kind = type(data)
        if kind is str or kind is int or kind is bool or data is None:
            return data
        if kind is float:
            return None if data != data else data  # NaN is the one float unequal to itself
        if kind is list or kind is tuple:
            return [convert(item) for item in data]
        if kind is dict:
            return {key if type(key) is str else str(key): convert(value) for key, value in data.items()}
        return original(data)
    return convert


class _Filtered(threading.local):
    """The rows each row condition kept of one frame (the frame being validated), per thread: a Dask
    worker may validate two chunks of a suite at once on two threads."""

    def __init__(self) -> None:
        self.frame: Any = None
        self.kept: dict[tuple[str, Any], Any] = {}
        self.domains: dict[tuple[Any, ...], tuple[Any, Any]] = {}  # key → (frame before, rows kept)


_filtered = _Filtered()


def filter_once(original: Any) -> Any:
    """``_apply_row_condition_filter`` that filters a frame by a condition once: the next metric with
    the same condition on the same frame gets the same rows."""
    def apply_row_condition_filter(self: Any, data: Any, row_condition: Any, domain_kwargs: dict[str, Any]) -> Any:
        if _filtered.frame is not data:
            _filtered.frame, _filtered.kept = data, {}
        key = (repr(row_condition), domain_kwargs.get("condition_parser"))
        rows = _filtered.kept.get(key)
        if rows is None:
            rows = _filtered.kept[key] = original(self, data, row_condition, domain_kwargs)
        return rows
    return apply_row_condition_filter


# what get_domain_records reads to drop rows with missing values of a column pair or list
_MISSING_KEYS = ("column_A", "column_B", "column_list", "ignore_row_if")


def domains_once(original: Any) -> Any:
    """``get_domain_records`` that drops the rows with missing values of a column pair (or list) of a
    frame once: the next metric with the same columns and rule on the same frame gets the same rows.

    The frame they are dropped from is GX's own answer for the same domain without the pair (the batch's
    frame, or the rows its row condition kept): the rows kept are GX's answer for the whole domain,
    computed the first time."""
    def get_domain_records(self: Any, domain_kwargs: dict[str, Any]) -> Any:
        if "column" in domain_kwargs or "ignore_row_if" not in domain_kwargs:
            return original(self, domain_kwargs)
        before = original(self, {k: v for k, v in domain_kwargs.items() if k not in _MISSING_KEYS})
        key = (id(before), *(repr(domain_kwargs.get(k)) for k in _MISSING_KEYS))
        found = _filtered.domains.get(key)
        if found is None or found[0] is not before:
            found = _filtered.domains[key] = (before, original(self, domain_kwargs))
        return found[1]
    return get_domain_records


def forget_filtered() -> None:
    """Let go of the frame last validated and the rows kept of it."""
    _filtered.frame, _filtered.kept, _filtered.domains = None, {}, {}


class _Built(threading.local):
    """What each expectation and configuration built while this thread validates a suite."""

    def __init__(self) -> None:
        self.on = False
        self.made: dict[int, tuple[Any, Any]] = {}  # id(builder) → (builder, what it built)


_built = _Built()


def built_once(original: Any) -> Any:
    """A builder (``Expectation.configuration``'s getter, ``ExpectationConfiguration.to_domain_obj``)
    that, while a suite is validated, builds once per object and hands the same result to the next call."""
    def build(self: Any) -> Any:
        if not _built.on:
            return original(self)
        found = _built.made.get(id(self))
        if found is None or found[0] is not self:  # the object is held, so its id is not reused meanwhile
            found = _built.made[id(self)] = (self, original(self))
        return found[1]
    build.__doc__ = original.__doc__
    return build


def validating(original: Any) -> Any:
    """``Validator.graph_validate`` with :func:`built_once`'s builders on during the call."""
    def graph_validate(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _built.on:  # called within a validation: that one lets go
            return original(self, *args, **kwargs)
        _built.on = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _built.on, _built.made = False, {}
    graph_validate.__doc__ = original.__doc__
    return graph_validate


class _Subgraphs:
    """The metric graphs of the suites validated lately in this process, by what they are made of."""

    def __init__(self) -> None:
        self.on = True
        self.kept: OrderedDict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = OrderedDict()
        self.lock = threading.Lock()
        self.built = 0  # graphs built by GX's step (a suite's validation that found none kept)


_subgraphs = _Subgraphs()


def _json_only(value: Any) -> Any:
    """A time (a deadline among a suite's parameters: a pandas Timestamp) as its type and ISO text; any other
    value that is not JSON stops the key."""
    if isinstance(value, datetime):
        return [f"{type(value).__module__}.{type(value).__qualname__}", value.isoformat()]
    raise TypeError(f"not JSON: {type(value).__name__}")


def subgraph_key(validator: Any, configurations: list[Any], catch_exceptions: bool,
                 runtime_configuration: dict[str, Any] | None) -> str | None:
    """Everything a suite's metric graphs are made of, as JSON text; None when any of it is not JSON."""
    parts: list[Any] = [type(validator._execution_engine).__qualname__, validator.active_batch_id, catch_exceptions,
                        runtime_configuration]
    for c in configurations:
        if c._expectation_context is not None or c._rendered_content is not None:
            return None
        parts.append([c.type, c._kwargs, c._raw_kwargs, c.meta, c.notes, c.description, str(c.severity),
                      c.success_on_last_run, c._id])
    try:
        return json.dumps(parts, sort_keys=True, default=_json_only)
    except (TypeError, ValueError):
        return None


def subgraphs_kept(original: Any) -> Any:
    """GX's step that builds each expectation's metric graph, kept per suite and parameters (see above)."""
    def subgraphs(self: Any, expectation_configurations: list[Any], processed_configurations: list[Any],
                  catch_exceptions: bool, runtime_configuration: dict[str, Any] | None = None) -> Any:
        key = (subgraph_key(self, expectation_configurations, catch_exceptions, runtime_configuration)
               if _subgraphs.on else None)
        if key is not None:
            with _subgraphs.lock:
                found = _subgraphs.kept.get(key)
                if found is not None:
                    _subgraphs.kept.move_to_end(key)
            if found is not None:
                graphs, processed = found
                processed_configurations.extend(processed)
                return list(graphs), [], processed_configurations
        graphs, evrs, processed = original(self, expectation_configurations, processed_configurations,
                                           catch_exceptions, runtime_configuration)
        _subgraphs.built += 1
        if key is not None and not evrs:
            with _subgraphs.lock:
                _subgraphs.kept[key] = (tuple(graphs), tuple(processed))
                while len(_subgraphs.kept) > SUBGRAPHS_KEPT:
                    _subgraphs.kept.popitem(last=False)
        return graphs, evrs, processed
    subgraphs.__doc__ = original.__doc__
    return subgraphs


def forget_subgraphs() -> None:
    """Let go of the metric graphs kept."""
    with _subgraphs.lock:
        _subgraphs.kept.clear()


def subgraph_sources() -> dict[str, Any]:
    """GX's functions whose sources :func:`subgraphs_kept` relies on, by name."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.validator.validation_graph import ExpectationValidationGraph, ValidationGraph
    from great_expectations.validator.validator import Validator

    return {"Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration":
            getattr(Validator, "_gx_original_subgraphs",
                    Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration),
            "ExpectationConfiguration.__init__": ExpectationConfiguration.__init__,
            "ValidationGraph._resolve": ValidationGraph._resolve,
            "ExpectationValidationGraph.get_exception_info": ExpectationValidationGraph.get_exception_info}


def _apply_subgraphs() -> bool:
    global _subgraphs_applied
    if _subgraphs_applied is None:
        from great_expectations.validator.validator import Validator

        sources = subgraph_sources()
        _subgraphs_applied = sources_known(sources, KNOWN_SUBGRAPH_SOURCES)
        if _subgraphs_applied:
            name = "_generate_metric_dependency_subgraphs_for_each_expectation_configuration"
            original = getattr(Validator, name)
            Validator._gx_original_subgraphs = original  # type: ignore[attr-defined]
            setattr(Validator, name, subgraphs_kept(original))
    return _subgraphs_applied


def _bool_rows(index: Any, key: Any) -> Any:
    """The labels of ``index`` where the boolean Series ``key`` (on the same index) is true: what a frame on that
    index keeps of its rows for ``frame[key]`` (pandas' own check makes the mask, a missing value false); None when
    ``key`` is not such a Series."""
    import pandas as pd

    if not isinstance(key, pd.Series) or not pd.api.types.is_bool_dtype(key.dtype) or not key.index.equals(index):
        return None
    return index[pd.api.indexers.check_array_indexer(index, key.array)]


def unexpected_index_only(original: Any) -> Any:
    """GX's ``_pandas_map_condition_index``, reading the failing rows' labels off the domain's index (see above)."""
    def _pandas_map_condition_index(cls: Any, execution_engine: Any, metric_domain_kwargs: dict[str, Any],
                                    metric_value_kwargs: dict[str, Any], metrics: dict[str, Any], **kwargs: Any) -> Any:
        from great_expectations.expectations.metrics.util import get_dbms_compatible_metric_domain_kwargs

        result_format = metric_value_kwargs["result_format"]
        unexpected, compute_domain_kwargs, accessor_domain_kwargs = metrics["unexpected_condition"]
        if result_format.get("unexpected_index_column_names"):
            return original(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, **kwargs)
        accessor = get_dbms_compatible_metric_domain_kwargs(metric_domain_kwargs=accessor_domain_kwargs,
                                                            batch_columns_list=metrics["table.columns"])
        domain = execution_engine.get_domain_records(domain_kwargs=dict(**compute_domain_kwargs, **accessor))
        index = domain.index
        if index.name is not None or index.names[0] is not None:
            return original(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, **kwargs)
        if "column" in accessor and kwargs.get("filter_column_isnull", getattr(cls, "filter_column_isnull", False)):
            index = _bool_rows(index, domain[accessor["column"]].notnull())
        rows = None if index is None else _bool_rows(index, unexpected)
        if rows is None:
            return original(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, **kwargs)
        labels = list(rows)
        if result_format["result_format"] == "COMPLETE":
            return labels
        return labels[: result_format["partial_unexpected_count"]]
    _pandas_map_condition_index.__doc__ = original.__doc__
    return _pandas_map_condition_index


def index_sources() -> dict[str, Any]:
    """GX's functions whose sources :func:`unexpected_index_only` relies on, by name."""
    from great_expectations.expectations.metrics import util
    from great_expectations.expectations.metrics.map_metric_provider import map_condition_auxilliary_methods as aux

    return {"_pandas_map_condition_index": aux._pandas_map_condition_index,
            "compute_unexpected_pandas_indices": util.compute_unexpected_pandas_indices}


def index_metrics(provider: Any = None) -> list[tuple[str, Any]]:
    """The metrics whose pandas provider is ``provider`` (GX's ``_pandas_map_condition_index`` by default), with
    their class."""
    from great_expectations.expectations import registry

    if provider is None:
        provider = index_sources()["_pandas_map_condition_index"]
    return [(name, definition["providers"]["PandasExecutionEngine"][0])
            for name, definition in registry._registered_metrics.items()
            if definition.get("providers", {}).get("PandasExecutionEngine", (None, None))[1] is provider]


def _apply_index() -> bool:
    global _index_applied, index_replacement
    if _index_applied is None:
        from great_expectations.expectations import registry

        sources = index_sources()
        _index_applied = sources_known(sources, KNOWN_INDEX_SOURCES)
        if _index_applied:
            original = sources["_pandas_map_condition_index"]
            index_replacement = unexpected_index_only(original)
            index_replacement.__dict__.update(original.__dict__)  # what registering set on GX's (its metric_fn_type)
            for name, metric_class in index_metrics(original):
                registry._registered_metrics[name]["providers"]["PandasExecutionEngine"] = (metric_class,
                                                                                            index_replacement)
    return _index_applied


REPLACEMENTS = {"_get_success_kwarg": _get_success_kwarg, "_get_domain_kwargs": _get_domain_kwargs,
                "_get_success_kwargs": _get_success_kwargs, "_get_runtime_kwargs": _get_runtime_kwargs}


def apply() -> bool:
    """Put the replacements in place when GX's methods are those they were written from; returns
    whether they are all in place (once per process; GX must be importable)."""
    return (_apply_kwargs() & _apply_ids() & _apply_filters() & _apply_builds() & _apply_subgraphs()
            & _apply_index())


def build_sources() -> dict[str, Any]:
    """GX's functions whose sources :func:`built_once` and :func:`validating` rely on, by name."""
    from great_expectations.expectations import registry
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.validator.validator import Validator

    subgraphs = "_generate_metric_dependency_subgraphs_for_each_expectation_configuration"
    return {"Expectation.configuration": getattr(Expectation, "_gx_original_configuration",
                                                 Expectation.__dict__["configuration"]).fget,
            "ExpectationConfiguration.to_domain_obj": getattr(ExpectationConfiguration, "_gx_original_to_domain_obj",
                                                              ExpectationConfiguration.to_domain_obj),
            "Validator.graph_validate": getattr(Validator, "_gx_original_graph_validate", Validator.graph_validate),
            f"Validator.{subgraphs}": getattr(Validator, "_gx_original_subgraphs", getattr(Validator, subgraphs)),
            "get_metric_kwargs": registry.get_metric_kwargs}


def _apply_builds() -> bool:
    global _builds_applied
    if _builds_applied is None:
        from great_expectations.expectations.expectation import Expectation
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
        from great_expectations.validator.validator import Validator

        sources = build_sources()
        _builds_applied = sources_known(sources, KNOWN_BUILD_SOURCES)
        if _builds_applied:
            configuration = Expectation.__dict__["configuration"]
            Expectation._gx_original_configuration = configuration  # type: ignore[attr-defined]
            Expectation.configuration = property(built_once(configuration.fget))  # type: ignore[method-assign,assignment]
            original = ExpectationConfiguration.to_domain_obj
            ExpectationConfiguration._gx_original_to_domain_obj = original  # type: ignore[attr-defined]
            ExpectationConfiguration.to_domain_obj = built_once(original)  # type: ignore[method-assign]
            graph_validate = Validator.graph_validate
            Validator._gx_original_graph_validate = graph_validate  # type: ignore[attr-defined]
            Validator.graph_validate = validating(graph_validate)  # type: ignore[method-assign]
    return _builds_applied


def _apply_filters() -> bool:
    global _filters_applied
    if _filters_applied is None:
        from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

        original = PandasExecutionEngine._apply_row_condition_filter
        domains = PandasExecutionEngine.get_domain_records
        filters_known = source_sha256(original) == KNOWN_FILTER_SOURCE
        domains_known = source_sha256(domains) == KNOWN_DOMAIN_SOURCE
        if filters_known:  # each replacement on its own: a GX release may change one and not the other
            PandasExecutionEngine._gx_original_apply_row_condition_filter = original  # type: ignore[attr-defined]
            PandasExecutionEngine._apply_row_condition_filter = filter_once(original)  # type: ignore[method-assign]
        if domains_known:
            PandasExecutionEngine._gx_original_get_domain_records = domains  # type: ignore[attr-defined]
            PandasExecutionEngine.get_domain_records = domains_once(domains)  # type: ignore[method-assign]
        _filters_applied = filters_known and domains_known
    return _filters_applied


def _apply_ids() -> bool:
    global _ids_applied
    if _ids_applied is None:
        from great_expectations import util
        from great_expectations.core import id_dict

        _ids_applied = (source_sha256(util.convert_to_json_serializable)
                        == KNOWN_ID_SOURCES["convert_to_json_serializable"]
                        and source_sha256(id_dict.IDDict.to_id) == KNOWN_ID_SOURCES["IDDict.to_id"]
                        and id_dict.convert_to_json_serializable is util.convert_to_json_serializable)
        if _ids_applied:
            id_dict.convert_to_json_serializable = plain_json(util.convert_to_json_serializable)
    return _ids_applied


def _apply_kwargs() -> bool:
    global _applied
    if _applied is None:
        from great_expectations.expectations.expectation import Expectation

        originals = {name: getattr(Expectation, name) for name in REPLACEMENTS}
        _applied = all(source_sha256(function) == KNOWN_SOURCES[name] for name, function in originals.items())
        if _applied:
            for name, replacement in REPLACEMENTS.items():
                setattr(Expectation, f"_gx_original{name}", originals[name])
                setattr(Expectation, name, replacement)
    return _applied


_template_cache: list[Any] = []  # the cache views share, once set


@functools.cache
def _kept_templates_class() -> Any:
    """:class:`KeptTemplates`, defined once, when first asked for (this module imports no Jinja at first)."""
    from jinja2 import FileSystemBytecodeCache
    from jinja2.bccache import Bucket

    class KeptTemplates(FileSystemBytecodeCache):
        """Jinja's bytecode cache in a folder, in front of which the process keeps every template it compiled
        or read, by Jinja's own key and the checksum of the source (as the files do). A compiled template is
        a code object, which nothing changes: Jinja makes each environment's template from it anew, as it
        does from the file's marshalled code. Found here but not in the folder, it is written there too, so
        the next process in that home reads it rather than compiling it."""

        compiled: ClassVar[dict[str, tuple[str | None, Any]]] = {}  # bucket key -> (source checksum, code)

        def load_bytecode(self, bucket: Bucket) -> None:
            found = self.compiled.get(bucket.key)
            if found is not None and found[0] == bucket.checksum:
                bucket.code = found[1]
                if not Path(self._get_cache_filename(bucket)).exists():
                    self.dump_bytecode(bucket)
                return
            super().load_bytecode(bucket)
            if bucket.code is not None:
                self.compiled[bucket.key] = (bucket.checksum, bucket.code)

        def dump_bytecode(self, bucket: Bucket) -> None:
            self.compiled[bucket.key] = (bucket.checksum, bucket.code)
            super().dump_bytecode(bucket)

    return KeptTemplates


def forget_compiled() -> None:
    """Let go of the templates the process keeps compiled (the next docs build reads or compiles them)."""
    _kept_templates_class().compiled.clear()


def cache_templates(directory: Path) -> None:
    """Give GX's Data Docs views, from now on, a Jinja bytecode cache in ``directory`` (made if missing), in
    front of which the process keeps the templates it compiled or read (:class:`KeptTemplates`)."""
    from jinja2 import Environment

    directory.mkdir(parents=True, exist_ok=True)
    cache = _kept_templates_class()(str(directory), pattern="__iid_stable_ids_%s.cache")
    if _template_cache:
        _template_cache[0] = cache
        return
    _template_cache.append(cache)
    from great_expectations.render.view import view

    original = view.DefaultJinjaView.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        env = getattr(self, "env", None)
        if isinstance(env, Environment) and env.bytecode_cache is None:
            env.bytecode_cache = _template_cache[0]
            env.filters["generate_html_element_uuid"] = stable_element_id

    view.DefaultJinjaView.__init__ = init  # type: ignore[method-assign]


def stable_element_id(prefix: str | None = None) -> str:
    """GX's ``generate_html_element_uuid`` (``prefix`` + a random uuid4), with a uuid5 of the prefix instead."""
    import uuid

    return (prefix or "") + str(uuid.uuid5(uuid.NAMESPACE_URL, f"iid-data-docs:{prefix or ''}"))
