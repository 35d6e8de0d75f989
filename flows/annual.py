"""The annual Prefect flow: one task per stage, named by its parameters (``annual-2024``, ``ingest-2024``).

Import this module only after :func:`flows.settings.configure_prefect_defaults` has run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import pipeline
from flows.settings import Home


def _no_data_retry(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only filesystem hiccups, never data or methodology errors."""
    try:
        state.result()
    except (OSError, TimeoutError) as exc:
        return not isinstance(exc, (FileNotFoundError, PermissionError))
    except Exception:
        return False
    return False


@task(task_run_name="ingest-{year}", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10],
      retry_condition_fn=_no_data_retry)
def ingest_task(home_root: str, year: int) -> dict[str, Any]:
    result = pipeline.ingest(Home.resolve(home_root), year)
    get_run_logger().info("ingest %s: %s files (%s rejected), records %s, verification rows %s", year,
                          result["files"], result["rejected_files"], result["records"], result["verification_rows"])
    return result


@task(task_run_name="validate-{year}", cache_policy=NO_CACHE)
def validate_task(home_root: str, year: int) -> dict[str, Any]:
    result = pipeline.validate(Home.resolve(home_root), year)
    get_run_logger().info("validate %s: %s quarantined, %s warnings, submissions %s", year,
                          result["quarantined"], result["warnings"], result["submissions"])
    return result


@task(task_run_name="transform-{year}", cache_policy=NO_CACHE)
def transform_task(home_root: str, year: int) -> dict[str, Any]:
    result = pipeline.transform(Home.resolve(home_root), year)
    get_run_logger().info("transform %s: tables %s, predicates %s", year, result["tables"], result["predicates"])
    return result


@task(task_run_name="publish-{year}", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10],
      retry_condition_fn=_no_data_retry)
def publish_task(home_root: str, year: int, run: dict[str, Any]) -> dict[str, Any]:
    result = pipeline.publish(Home.resolve(home_root), year, run)
    get_run_logger().info("publish %s: %s", year, result["message"])
    return result


@flow(name="annual", flow_run_name="annual-{year}", log_prints=False)
def annual(year: int, home: str | None = None) -> dict[str, Any]:
    """Ingest → validate → transform → publish one measurement year."""
    root = str(Home.resolve(home).root)
    run = {"run_id": uuid.uuid4().hex, "flow_run_id": str(flow_run.get_id() or ""),
           "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    ingested = ingest_task(root, year)
    validated = validate_task(root, year)
    transformed = transform_task(root, year)
    published = publish_task(root, year, run)
    return {"year": year, "ingest": ingested, "validate": validated, "transform": transformed,
            "publish": published, "run_id": run["run_id"]}
