"""The annual Prefect flow: one task per stage, named by its parameters (``annual-2024``, ``ingest-2024``).

Import this module only after :func:`flows.settings.configure_prefect_defaults` has run.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import pipeline
from flows.locks import year_lock
from flows.methodology import for_year
from flows.runs import record_run, run_row
from flows.settings import Home
from flows.versioning import code_version


def _filesystem_hiccup(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only transient filesystem errors, never data or methodology errors."""
    try:
        state.result()
    except (OSError, TimeoutError) as exc:
        return not isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError))
    except Exception:
        return False
    return False


@task(task_run_name="ingest-{year}", cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=[2, 10], retry_condition_fn=_filesystem_hiccup)
def ingest_task(home_root: str, year: int, force: bool = False) -> dict[str, Any]:
    result = pipeline.ingest(Home.resolve(home_root), year, force=force)
    get_run_logger().info("ingest %s: %s files (%s rejected, %s read now, %s dropped), records %s", year,
                          result["files"], result["rejected_files"], result["files_parsed"], result["files_dropped"],
                          result["records"])
    return result


@task(task_run_name="validate-{year}", cache_policy=NO_CACHE)
def validate_task(home_root: str, year: int, force: bool = False) -> dict[str, Any]:
    result = pipeline.validate(Home.resolve(home_root), year, force=force)
    get_run_logger().info("validate %s%s: %s quarantined, %s warnings, submissions %s", year,
                          " (unchanged, skipped)" if result["skipped"] else "", result["quarantined"],
                          result["warnings"], result["submissions"])
    return result


@task(task_run_name="transform-{year}", cache_policy=NO_CACHE)
def transform_task(home_root: str, year: int, force: bool = False) -> dict[str, Any]:
    result = pipeline.transform(Home.resolve(home_root), year, force=force)
    get_run_logger().info("transform %s%s: tables %s, predicates %s", year,
                          " (unchanged, skipped)" if result["skipped"] else "", result["tables"],
                          result["predicates"])
    return result


@task(task_run_name="publish-{year}", cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=[2, 10], retry_condition_fn=_filesystem_hiccup)
def publish_task(home_root: str, year: int, run: dict[str, Any]) -> dict[str, Any]:
    result = pipeline.publish(Home.resolve(home_root), year, run)
    get_run_logger().info("publish %s: %s", year, result["message"])
    return result


def default_year() -> int:
    """The measurement year a scheduled run scores: the current year in Asia/Jakarta."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).year


@flow(name="annual", flow_run_name="annual-{year}", log_prints=False)
def annual(year: int | None = None, home: str | None = None, from_stage: str = "ingest",
           force: bool = False) -> dict[str, Any]:
    """Ingest → validate → transform → publish one measurement year.

    ``from_stage`` re-runs from a stage (the earlier ones are not run; their tables are used as they
    are); ``force`` redoes every stage even when its inputs did not change.
    """
    year = year or default_year()
    if from_stage not in pipeline.STAGES:
        raise ValueError(f"from_stage must be one of {pipeline.STAGES}, not {from_stage!r}")
    home_obj = Home.resolve(home)
    root = str(home_obj.root)
    loaded = for_year(year)
    run: dict[str, Any] = {
        "run_id": uuid.uuid4().hex, "flow_run_id": str(flow_run.get_id() or ""), "year": year,
        "parameters": {"year": year, "home": root, "from_stage": from_stage, "force": force},
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "methodology": loaded.method.id,
        "methodology_sha256": loaded.sha256, "code_version": code_version(), "stage_seconds": {},
        "stages_skipped": [],
    }
    first = pipeline.STAGES.index(from_stage)
    results: dict[str, Any] = {"year": year, "run_id": run["run_id"]}
    tasks = {"ingest": ingest_task, "validate": validate_task, "transform": transform_task}
    home_obj.work_db(year).parent.mkdir(parents=True, exist_ok=True)
    record_run(home_obj, run_row(run, status="running"))  # replaced by the final row when the run ends
    try:
        with year_lock(home_obj.work_db(year).parent, year):
            for position, stage in enumerate(pipeline.STAGES[:-1]):
                if position < first:
                    run["stages_skipped"].append(stage)
                    results[stage] = None
                    continue
                started = time.perf_counter()
                results[stage] = tasks[stage](root, year, force=force or (position == first and first > 0))
                run["stage_seconds"][stage] = round(time.perf_counter() - started, 3)
                if results[stage].get("skipped"):
                    run["stages_skipped"].append(stage)
            started = time.perf_counter()
            results["publish"] = publish_task(root, year, run)
            run["stage_seconds"]["publish"] = round(time.perf_counter() - started, 3)
    except Exception as exc:
        record_run(home_obj, run_row(run, status="failed", message=str(exc).splitlines()[0] if str(exc) else "",
                                     finished_at=datetime.now(UTC).isoformat(timespec="seconds")))
        raise
    published = results["publish"]
    record_run(home_obj, run_row(run, status="published" if published["published"] else "unchanged",
                                 message=published["message"], release=published["release"],
                                 counts=(results.get("transform") or {}).get("predicates"),
                                 finished_at=datetime.now(UTC).isoformat(timespec="seconds")))
    return results
