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


# The work an empty flow and the baseline do is the same every time, so how far their walls are apart within one
# benchmark tells how far the machine's pace moved while it ran: the medians of a benchmark whose pace moved mix
# fast and slow phases, and its shares and ratios divide figures measured in different ones. Steady benchmarks
# here: the empty flows 4.12-4.50 s (1.09 x) and the baselines 1.01-1.07 s (1.06 x); unsteady ones up to 1.7 x.
# Scale 10's empty flows, each after a run that wrote gigabytes, spread more (4.2-7.0 s in round 40's benchmark).
PACE_LIMIT = 1.25


def pace(startups: list[float], baselines: list[float]) -> dict[str, Any]:
    """How steady the machine's pace was: the slowest over the fastest empty flow (the first, a warm-up, left
    out) and baseline run, and whether both stayed within :data:`PACE_LIMIT`."""
    measured = startups[1:] or startups
    spreads = {"empty_flow": (min(measured), max(measured)), "baseline": (min(baselines), max(baselines))}
    out: dict[str, Any] = {}
    for name, (fastest, slowest) in spreads.items():
        out[name] = {"fastest_seconds": fastest, "slowest_seconds": slowest,
                     "slowest_over_fastest": round(slowest / fastest, 2) if fastest > 0 else None}
    out["limit"] = PACE_LIMIT
    out["steady"] = all(v["slowest_over_fastest"] is not None and v["slowest_over_fastest"] <= PACE_LIMIT
                        for v in (out["empty_flow"], out["baseline"]))
    return out


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
    steady = result.get("pace")
    if steady is not None:
        flows, base = steady["empty_flow"], steady["baseline"]
        rows.append(("machine's pace: empty flows; baselines",
                     f"{flows['fastest_seconds']:.1f}–{flows['slowest_seconds']:.1f} s; "
                     f"{base['fastest_seconds']:.2f}–{base['slowest_seconds']:.2f} s",
                     f"≤ {steady['limit']:.2f} × apart", "steady" if steady["steady"] else "MOVED"))
    return rows


def pace_warning(result: dict[str, Any]) -> str | None:
    """What to say of a benchmark during which the machine's pace moved (None when it stayed steady)."""
    steady = result.get("pace")
    if steady is None or steady["steady"]:
        return None
    flows, base = steady["empty_flow"], steady["baseline"]
    return (f"the machine's pace moved during this benchmark (the same empty flow took "
            f"{flows['fastest_seconds']:.1f}–{flows['slowest_seconds']:.1f} s, the same baseline "
            f"{base['fastest_seconds']:.2f}–{base['slowest_seconds']:.2f} s): its medians mix fast and slow phases, "
            "so compare its figures with care, or run it again when the machine is quiet")
