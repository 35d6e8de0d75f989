"""With ``--task-runner dask`` (a local cluster of two worker processes) a year publishes exactly what the
default runner publishes: the parse and validation chunks run on the workers, the flow inserts the results."""

from __future__ import annotations

import importlib.util
import json
import resource
from typing import Any

import pytest

from flows.generator import generate_year
from flows.settings import Home, configure_prefect_defaults

YEAR = 2024


def _manifest(home: Home) -> dict[str, Any]:
    return dict(json.loads((home.published_year(YEAR) / "release=1" / "manifest.json").read_text()))


def test_dask_and_default_runners_publish_the_same_release(tmp_path_factory: pytest.TempPathFactory,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    configure_prefect_defaults()
    from flows.annual import run_annual

    homes = {}
    for runner in ("default", "dask"):
        homes[runner] = Home.resolve(tmp_path_factory.mktemp(runner))
        generate_year(homes[runner], YEAR, seed=5, scale=0.02, defect_rate=0.1)
    run_annual("default", year=YEAR, home=str(homes["default"].root))
    # on Dask: smaller chunks, so several parse and validation tasks are merged
    monkeypatch.setenv("IID_INGEST_CHUNK_FILES", "100")
    monkeypatch.setattr("expectations.stage.CHUNK_ROWS", 10_000)
    result = run_annual("dask", year=YEAR, home=str(homes["dask"].root))
    assert result["publish"]["published"]

    default, dask = _manifest(homes["default"]), _manifest(homes["dask"])
    assert dask["content_hashes"] == default["content_hashes"]
    assert dask["validation"] == default["validation"]  # outcomes merged from chunks = one whole frame
    assert dask["reconciliation"] == default["reconciliation"]
    assert default["counts"]["predicates"] == dask["counts"]["predicates"]
    assert sum(v for s in default["validation"]["suites"] for v in s["failing_rows_by_rule"].values()) > 0
    assert (homes["dask"].published_year(YEAR) / "release=1" / "validation" / "index.html").is_file()


def test_local_worker_pool_parses_the_same_rows(tmp_path_factory: pytest.TempPathFactory,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import ingest
    from flows.dropzone import drop_zone_files

    home = Home.resolve(tmp_path_factory.mktemp("pool"))
    generate_year(home, YEAR, seed=2, scale=0.01, defect_rate=0.2)
    raw = home.raw_year(YEAR)
    files = [(i, p.relative_to(raw).as_posix()) for i, p in enumerate(drop_zone_files(raw))]
    chunks = ingest.plan_chunks(raw, files, chunk_files=150)
    assert len(chunks) > 2
    here = [ingest.read_files(raw, items) for items in chunks]
    monkeypatch.setattr(ingest, "POOL_MIN_BYTES", 0)  # a pool even for a small year
    monkeypatch.setenv("IID_INGEST_WORKERS", "2")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    pooled = list(ingest.parse_locally(raw, chunks))
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime > before  # worker processes did the parsing
    assert len(pooled) == len(here)
    for ours, theirs in zip(pooled, here, strict=True):
        assert ours.keys() == theirs.keys()
        assert all(ours[name].equals(theirs[name]) for name in ours)
    with ingest.parse_pool(1) as pool:  # a worker parses without importing pandas, which stays importable
        assert pool.submit(ingest.read_files, raw, chunks[0]).result()["files"].equals(here[0]["files"])
        assert pool.submit(eval, "'pandas' in __import__('sys').modules").result() is False
        assert pool.submit(importlib.util.find_spec, "pandas").result() is not None
        # and collects cycles every 50,000 net allocations, its imports frozen out of every collection
        assert pool.submit(eval, "__import__('gc').get_threshold()").result() == (50_000, 20, 100)
        assert pool.submit(eval, "__import__('gc').get_freeze_count()").result() > 10_000
