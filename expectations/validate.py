"""Validate: run the Great Expectations suites of ``expectations/suites/`` on the landing tables.

Failing rows become ``validation_failures`` (rule code, severity and reason from each expectation's
``meta``); rejected records, with their dependants, go to ``quarantine`` and warnings to
``data_quality``. GX is imported only here, inside the stage that needs it.
"""

from __future__ import annotations

import gc
import json
import os
import re
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from expectations.outcomes import ChunkOutcome
from expectations.resultjson import result_json
from flows.methodology import Methodology

if TYPE_CHECKING:
    import pandas as pd  # imported where used: a run that skips validation never needs it (~1 s)

EXPECTATIONS = Path(__file__).resolve().parent
SUITES = EXPECTATIONS / "suites"
SQL = EXPECTATIONS / "sql"
SUITE_ORDER = ("files", "submissions", "spd_answers", "innovations", "sid_answers", "evidence",
               "counting_submissions", "verification")
VALUE_CHARS = 120
CHUNK_ROWS = int(os.environ.get("IID_VALIDATE_CHUNK_ROWS", "500000"))  # rows of a frame validated at once
FAILURE_SCHEMA = pa.schema([
    ("suite", pa.string()), ("record_id", pa.int64()), ("rule", pa.string()), ("severity", pa.string()),
    ("reason", pa.string()), ("value", pa.string()),
])


def load_suite_json(name: str) -> dict[str, Any]:
    return dict(json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8")))


def frame_sql(name: str) -> str:
    """The SELECT of one suite's frame from ``sql/frames.sql`` (or ``sql/<name>.sql``)."""
    own = SQL / f"{name}.sql"
    if own.exists():
        return own.read_text(encoding="utf-8")
    text = (SQL / "frames.sql").read_text(encoding="utf-8")
    match = re.search(rf"-- frame: {name}\n(.*?)(?=\n-- frame: |\Z)", text, re.S)
    if not match:
        raise KeyError(f"no frame for suite {name}")
    return match.group(1).strip().rstrip(";")


_LAST_WHITESPACE = 0x3000  # IDEOGRAPHIC SPACE; nothing above it is whitespace (a test checks all code points)


@lru_cache(maxsize=1)
def _whitespace() -> str:
    """Every character Python's ``\\s`` matches, written out (RE2's ``\\s`` knows only six of them)."""
    return "".join(c for c in map(chr, range(_LAST_WHITESPACE + 1)) if c.isspace())


def evidence_regex(schemes: str, extensions: str) -> str:
    """A URL with an allowed scheme, or a bare file name with an allowed extension (EVD002).

    Written without ``\\s``, ``\\S`` and ``$`` so that pandas can hand it to pyarrow's RE2 engine
    (C++, about 20 times faster than Python's ``re`` on a million items) with the same meaning:
    whitespace is spelled out as the characters Python's ``\\s`` matches, and ``$`` (the end, or
    before a final newline) as ``\\n?\\Z``.
    """
    ws = _whitespace()
    return rf"(?i)^(?:(?:{schemes})://[^{ws}/]+[^{ws}]*|[^/\\{ws}][^/\\]*\.(?:{extensions}))\n?\Z"


def suite_parameters(method: Methodology, year: int, regions: list[tuple[str, bool]],
                     now: datetime | None = None) -> dict[str, Any]:
    """Values the suites take as ``$PARAMETER``: the year's codes, lists and dates."""
    import pandas as pd

    deadline = method.deadline_for(year)
    ext = "|".join(re.escape(e) for e in method.evidence.allowed_extensions)
    schemes = "|".join(re.escape(s) for s in method.evidence.url_schemes)
    return {
        "known_region_codes": [code for code, _ in regions],
        "pemda_codes": [code for code, autonomous in regions if autonomous],
        "years": [year],
        "now": pd.Timestamp(now or datetime.now(UTC)),
        "spd_rows": [r.code for r in method.spd_rows],
        "sid_rows": [r.code for r in method.sid_rows],
        "forms": list(method.enumerations.form),
        "kinds": list(method.enumerations.kind),
        "initiators": list(method.enumerations.initiator),
        "stages": list(method.enumerations.stage),
        "affairs": [a.name for a in method.affairs],
        "deadline_date": pd.Timestamp(deadline.date()),
        "design_min_words": method.narrative.design_min_words or 0,
        "evidence_regex": evidence_regex(schemes, ext),
    }


class SuiteRunner:
    """An ephemeral GX context with the suites loaded; validates DataFrames row by row."""

    def __init__(self) -> None:
        import logging

        from expectations import prefetch

        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        prefetch.wait()  # a background import of GX, if one was started, finishes first
        self.gx = prefetch.import_gx()
        # this module sets its own level to INFO as it is imported, and tells of every context made
        # ("Created temporary directory '/tmp/…' for ephemeral docs site", twice a run, and on each worker)
        logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
        # GX fingerprints every frame it is given (a pandas hash of every cell, twice per suite and chunk)
        # only to show it among the batch markers of a result: 20-25 % of validation. A chunk's
        # fingerprint says nothing the release's input sha256s do not, so frames of any size are not hashed.
        from great_expectations.execution_engine import pandas_execution_engine

        pandas_execution_engine.HASH_THRESHOLD = 0
        from expectations import gxpatch

        gxpatch.apply()  # GX's per-metric rebuilding and refiltering, done once (see gxpatch)
        self._stored_suites: dict[tuple[str, ...], Any] = {}  # the suites as the first context's store holds them
        self.context = self._context()
        self.source = self.context.data_sources.add_pandas("landing")
        self.suites = {name: self.context.suites.get(name) for name in SUITE_ORDER}
        self.definitions: dict[str, Any] = {}
        self._docs_context: Any = None  # a fresh context made ahead for the next Data Docs build
        # The objects so far (modules, GX's registries and this runner: ~200,000 with GX) live as long as
        # the process; Python's full cyclic collection walked them all each time, 0.08-0.1 s, once or
        # twice in each stage after this. Frozen, the collector leaves them out (they are still freed
        # when nothing refers to them).
        gc.freeze()

    def _context(self) -> Any:
        """A fresh ephemeral context holding the suites, quiet.

        GX's ``suites.add`` dumps each suite to JSON text for the context's store (marshmallow, ~0.06 s for
        the eight) and loads it back. The first context's store keeps that text; a later context's
        in-memory store is given the same text (:data:`SUITES_AS_STORED`), which it loads the same way
        whenever a suite is read: the same pages (``tests/expectations/test_suite_runner_docs.py`` compares them).
        The suites' ids, which GX draws anew for each ``add``, are then those of the first context: no
        page shows them. Any other store gets GX's own path.
        """
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = self.gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        store = context.expectations_store
        backend = _in_memory_backend(store)
        keys = {name: store.key_to_tuple(store.get_key(name=name, id=None)) for name in SUITE_ORDER}
        if SUITES_AS_STORED and backend is not None and len(self._stored_suites) == len(keys):
            for key in keys.values():
                backend.add(key, self._stored_suites[key])
            return context
        for name in SUITE_ORDER:
            context.suites.add(self.gx.ExpectationSuite(**load_suite_json(name)))
        if backend is not None:
            self._stored_suites = {key: backend.get(key) for key in keys.values()}
        return context

    def prepare_docs(self) -> None:
        """Make the context the next :meth:`build_docs` will use now (~0.06 s), e.g. while the run waits."""
        if self._docs_context is None:
            self._docs_context = self._context()

    def _definition(self, name: str) -> Any:
        """The batch definition of a suite's frames (a data asset of its name), made the first time."""
        if name not in self.definitions:
            asset = self.source.add_dataframe_asset(name)
            self.definitions[name] = asset.add_batch_definition_whole_dataframe(name)
        return self.definitions[name]

    def prepare_batches(self) -> None:
        """Make every suite's batch definition now (GX writes each to its config: ~0.02 s a suite, ~0.15 s
        that a re-run after one region's correction would pay in its validate stage), e.g. while the run waits."""
        for name in SUITE_ORDER:
            self._definition(name)

    def validate(self, name: str, frame: pd.DataFrame, params: dict[str, Any]) -> Any:
        """The GX result of one suite on one frame (whose index is the record id)."""
        batch = self._definition(name).get_batch(batch_parameters={"dataframe": frame})
        # The frame's index is the record id: GX then lists failing rows as plain index labels, which is
        # fast even for a million failures (named index columns cost ~30 µs per failing row).
        try:
            return batch.validate(self.suites[name], expectation_parameters=params, result_format={
                "result_format": "COMPLETE", "exclude_unexpected_values": True,
                "return_unexpected_index_query": False, "partial_unexpected_count": 20})
        finally:
            from expectations import gxpatch

            gxpatch.forget_filtered()  # the rows kept by its row conditions and column pairs go with the frame
            # GX's execution engine (one per data source, as long as the runner) keeps the last batch of
            # every asset, and so its frame: at ten times a national year ~250 MB (the innovations' frame
            # alone 128 MB) held through scoring and publishing, where the run's memory peaks
            manager = batch.data.execution_engine.batch_manager
            manager.reset_batch_cache()
            manager.batch_data_cache.clear()

    def build_docs(self, target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> Path:
        """Render GX Data Docs of this run's (merged) results into ``target`` (static HTML, ``index.html``).

        The quarantine table holds every failing row; the docs show each rule, its statistics and examples.
        """
        import shutil

        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        from expectations import gxpatch
        from expectations.docs_offline import make_offline, without_load_time

        gxpatch.cache_templates(target.parent / ".gx-templates")  # compiled GX templates, kept between runs
        # built beside the target and renamed into place, the earlier docs removed first: a build cut short
        # leaves no docs, rather than half of them or an earlier run's, where a later run would take them
        # for its validation's (the docs' links are relative)
        final, target = target, building_dir(target)
        shutil.rmtree(final, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        # a fresh context per build (made ahead, or now): nothing of an earlier run in this process shows
        context, self._docs_context = self._docs_context or self._context(), None
        run_id = RunIdentifier(run_name=run_name, run_time=datetime(2000, 1, 1, tzinfo=UTC))
        for name, result in results.items():
            key = ValidationResultIdentifier(expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
                                             run_id=run_id, batch_identifier=name)
            keep_result(context.validation_results_store, key, without_load_time(result))
        context.add_data_docs_site("release", {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(target)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        context.build_data_docs(site_names=["release"])
        _add_offline_listing(target / "index.html", {name: result["statistics"] for name, result in results.items()})
        make_offline(target)  # no CDN, no logo from GX's server, no build time in the pages
        target.rename(final)
        return final / "index.html"


def building_dir(docs_dir: Path) -> Path:
    """Where the Data Docs of ``docs_dir`` are built before they are renamed into place."""
    return docs_dir.with_name(f"{docs_dir.name}.building")


def _in_memory_backend(store: Any) -> Any:
    """The in-memory backend of a (non-cloud) GX store, or None for any other."""
    from great_expectations.data_context.store.in_memory_store_backend import InMemoryStoreBackend

    backend = getattr(store, "_store_backend", None)
    return backend if isinstance(backend, InMemoryStoreBackend) and not store.cloud_mode else None


def keep_result(store: Any, key: Any, result: dict[str, Any]) -> None:
    """Put a suite's (merged, JSON-ready) result in a context's validation results store for the docs.

    GX's ``store.set`` loads the dict into a result object and dumps it back to JSON text (marshmallow
    both ways, ~0.07 s a build at scale 1), which the docs then load again. Its in-memory store keeps
    any value and loads a dict the way it loads that text (``ValidationResultsStore.deserialize``), so
    the dict goes in as it is: the same pages (``tests/expectations/test_suite_runner_docs.py`` compares them).
    Any other store gets GX's own path.
    """
    from great_expectations.core.expectation_validation_result import expectationSuiteValidationResultSchema

    backend = _in_memory_backend(store)
    if KEEP_AS_IS and backend is not None:
        backend.set(store.key_to_tuple(key), result)
    else:
        store.set(key, expectationSuiteValidationResultSchema.load(result))


KEEP_AS_IS = True  # False: every result through GX's store.set (a test compares the two)
SUITES_AS_STORED = True  # False: every context's suites through GX's suites.add (a test compares the two)

_RUNNER: SuiteRunner | None = None


def suite_runner() -> SuiteRunner:
    """One runner per process (GX imports in ~6 s; a worker validating many chunks pays it once)."""
    global _RUNNER
    from expectations import prefetch

    prefetch.wait()  # the background import may be making the runner
    if _RUNNER is None:
        from flows.imports import collection_paused

        # as the background import does: with a running Prefect server none is started (no core is idle
        # meanwhile), and GX was imported here with the collector on, ~0.25 s longer (1.3 s against 1.05 s)
        with collection_paused():
            _RUNNER = SuiteRunner()
    return _RUNNER


def build_docs(target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> Path:
    """The Data Docs of (merged) suite results, built by this process's runner."""
    return suite_runner().build_docs(target, run_name, results)


def _add_offline_listing(index: Path, statistics: dict[str, dict[str, Any]]) -> None:
    """GX's index builds its tables with scripts from CDNs; add a plain list that works offline too."""
    import html

    root = index.parent
    items = []
    for name, stats in statistics.items():
        results = sorted((root / "validations" / name).rglob("*.html"))
        links = [f'<a href="{html.escape(p.relative_to(root).as_posix())}">validation result</a>' for p in results]
        suite = root / "expectations" / f"{name}.html"
        if suite.is_file():
            links.append(f'<a href="expectations/{html.escape(name)}.html">expectation suite</a>')
        items.append(f"<li><strong>{html.escape(name)}</strong>: {stats['successful_expectations']} of "
                     f"{stats['evaluated_expectations']} expectations met — {' · '.join(links)}</li>")
    block = ('<section id="iid-offline-listing" style="margin:1em 2em;font-family:sans-serif">'
             "<h2>Suites of this run</h2><ul>" + "".join(items) + "</ul></section>")
    text = index.read_text(encoding="utf-8")
    position = text.find(">", text.find("<body")) + 1
    index.write_text(text[:position] + block + text[position:], encoding="utf-8")


def _value_texts(frame: pd.DataFrame, ids: list[Any], template: str) -> pa.Array:
    """The offending values of failing rows as short text, written by ``template``: its ``{column}`` fields,
    each as written where the frame carries its raw text (``level_raw`` for ``level``: a level ``tiga`` or a
    date ``01/03/2022`` that did not convert is shown, not the empty value it converted to), empty where
    missing; a template of one field alone keeps a missing value missing. An expectation's
    ``meta.value_format`` names each number of a pair (``level 3; value 1 gives level 2``); without one, the
    columns it checks are joined by ``/`` (:func:`_default_template`)."""
    import string

    import pandas as pd

    parts = list(string.Formatter().parse(template))
    fields = [f"{f}_raw" if f"{f}_raw" in frame.columns else f for _, f, _, _ in parts if f]
    if not fields:
        return pa.nulls(len(ids), pa.string())
    if len(parts) == 1 and not parts[0][0]:  # one field, nothing around it
        return pa.array(frame.loc[ids, fields[0]].astype("string").str.slice(0, VALUE_CHARS), pa.string(),
                        from_pandas=True)
    text = pd.Series([""] * len(ids), index=pd.Index(ids), dtype="string")
    columns = iter(fields)
    for literal, field, _, _ in parts:
        text = text + literal
        if field:
            text = text + frame.loc[ids, next(columns)].astype("string").fillna("")
    return pa.array(text.str.slice(0, VALUE_CHARS), pa.string(), from_pandas=True)


def _default_template(frame: pd.DataFrame, columns: list[str]) -> str:
    """The columns an expectation checks that the frame has (the record id aside), as ``{a} / {b}``."""
    present = [c for c in columns if c != "record_id" and (c in frame.columns or f"{c}_raw" in frame.columns)]
    return " / ".join(f"{{{c}}}" for c in present)


@cache
def value_column(name: str) -> str | None:
    """The frame column whose text a suite's failures carry as their value (``meta.value_column``), for a
    suite whose expectations check derived flags (the verification suite's ``decided_alike``, …) rather
    than what was written; None: each failure shows the columns its expectation checks."""
    column = load_suite_json(name).get("meta", {}).get("value_column")
    return str(column) if column else None


def _columns(kwargs: dict[str, Any]) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list", []))


def failures_of(name: str, result: Any, frame: pd.DataFrame) -> pa.Table:
    """Turn a GX result into failure rows; an expectation that raised is an error, never a pass."""
    tables = []
    shown = value_column(name)
    for item in result.results:
        meta = item.expectation_config.meta or {}
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise RuntimeError(f"suite {name}, rule {meta.get('rule')}: expectation raised "
                               f"{item.exception_info.get('exception_message')}")
        if item.success:
            continue
        ids = list(item.result.get("unexpected_index_list") or [])
        if ids and isinstance(ids[0], dict):  # a named index comes back as [{name: [ids]}]
            ids = [i for entry in ids for values in entry.values() for i in values]
        count = len(ids)
        tables.append(pa.table({  # a million failing rows of one rule in ~0.1 s, not ~1 s of Python lists
            "suite": pa.repeat(pa.scalar(name, pa.string()), count),
            "record_id": pa.array(np.asarray(ids, dtype=np.int64)),
            "rule": pa.repeat(pa.scalar(meta["rule"], pa.string()), count),
            "severity": pa.repeat(pa.scalar(meta["severity"], pa.string()), count),
            "reason": pa.repeat(pa.scalar(meta["reason"], pa.string()), count),
            "value": _value_texts(frame, ids, meta.get("value_format") or _default_template(
                frame, [shown] if shown else _columns(item.expectation_config.kwargs))),
        }, schema=FAILURE_SCHEMA))
    return pa.concat_tables(tables) if tables else FAILURE_SCHEMA.empty_table()


def validate_chunk(name: str, frame: pd.DataFrame, params: dict[str, Any]) -> ChunkOutcome:
    """Validate one chunk of a suite's frame; a pure function of its inputs (it may run on a Dask worker)."""
    import pandas as pd

    frame.index = pd.Index(frame["record_id"].to_numpy())
    result = suite_runner().validate(name, frame, params)
    failures = failures_of(name, result, frame)
    for item in result.results:  # the failing rows are in ``failures``; the docs keep GX's samples
        for field_name in ("unexpected_index_list", "unexpected_list", "unexpected_index_query"):
            item.result.pop(field_name, None)
    return ChunkOutcome(name, len(frame), failures, result_json(result))  # GX's to_json_dict, without its copies
