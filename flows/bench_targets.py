"""The benchmark's targets (issue 7) for a scale, each with its measured value and whether it is met,
and the few rows the terminal shows of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.settings import PROJECT_ROOT


def default_results_path(scale: float, task_runner: str = "default") -> Path:
    """Where ``iid bench`` writes the results of a scale: ``bench/results-<scale>.json``, on Dask
    ``bench/results-<scale>-dask.json``."""
    return PROJECT_ROOT / "bench" / f"results-{scale:g}{'' if task_runner == 'default' else '-' + task_runner}.json"


def targets(result: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets for this scale, each with the measured value and whether it is met."""
    full, ratios = result["full_run"], result["ratios"]
    checks: dict[str, tuple[float, float]] = {
        "no_change_share_of_work": (result["no_change_rerun"]["share_of_full_work"], 0.10),
        "one_region_share_of_work": (result["one_region_rerun"]["share_of_full_work"], 0.25),
    }
    if result["scale"] == 1:
        checks["work_to_baseline"] = (ratios["work_to_baseline"], 6)
        checks["full_run_wall_seconds"] = (full["wall_seconds"], 45)
    if result["scale"] == 10:
        checks["full_run_to_baseline"] = (ratios["full_run_to_baseline"], 3)
        checks["peak_rss_mb_run_and_workers"] = (full["peak_rss_tree_mb_max"], 2048)  # the largest of all full runs
        one = default_results_path(1)
        if one.is_file():
            small = json.loads(one.read_text(encoding="utf-8"))
            growth = full["work_seconds"] / small["full_run"]["work_seconds"]
            size = (sum(result["data"]["landing_records"].values())
                    / sum(small["data"]["landing_records"].values()))
            checks["work_growth_over_size_growth_from_scale_1"] = (round(growth / size, 3), 1.0)
    return {name: {"value": value, "limit": limit, "met": value <= limit} for name, (value, limit) in checks.items()}


# how each target reads in the summary: its words and how its value is written
_TARGET_WORDS: dict[str, tuple[str, Callable[[float], str]]] = {
    "no_change_share_of_work": ("no-change re-run ÷ full run's work", lambda v: f"{v:.1%}"),
    "one_region_share_of_work": ("one-region re-run ÷ full run's work", lambda v: f"{v:.1%}"),
    "work_to_baseline": ("full run's work ÷ baseline", lambda v: f"{v:.1f} ×"),
    "full_run_wall_seconds": ("full run, wall", lambda v: f"{v:.1f} s"),
    "full_run_to_baseline": ("full run ÷ baseline", lambda v: f"{v:.1f} ×"),
    "peak_rss_mb_run_and_workers": ("peak memory, run and children", lambda v: f"{v:,.0f} MB"),
    "work_growth_over_size_growth_from_scale_1": ("work growth ÷ size growth from scale 1", lambda v: f"{v:.2f} ×"),
}


def summary_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The benchmark in a few rows for the terminal (what, measured, target, met): the full run and the
    baseline, then each target of the scale."""
    full, base = result["full_run"], result["baseline"]
    rows = [("full run: wall (work)",
             f"{full['wall_seconds']:.1f} s ({full['work_seconds']:.1f} s)", "", ""),
            ("fixed start-up; baseline",
             f"{result['fixed_startup_seconds']:.1f} s; {base['wall_seconds']:.2f} s", "", "")]
    for name, target in result["targets"].items():
        words, written = _TARGET_WORDS.get(name, (name, str))
        rows.append((words, written(target["value"]), f"≤ {written(target['limit'])}",
                     "met" if target["met"] else "NOT met"))
    return rows
