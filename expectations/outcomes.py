"""What validating a suite gives back: each chunk's outcome, and the chunks merged into one suite's outcome.

A suite's frame is validated in chunks of rows (in this process, on a Dask worker, or in an earlier
run whose results were kept); its expectations are row by row, so the chunks' GX results add up to
the result of the whole frame: :func:`merge_outcomes` adds them, for the manifest's statistics and
the Data Docs. Nothing here imports Great Expectations or pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass
class SuiteOutcome:
    """Success statistics of one suite, as recorded in the manifest."""

    suite: str
    rows: int
    expectations: int
    successful: int
    failures: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "rows": self.rows, "evaluated_expectations": self.expectations,
                "successful_expectations": self.successful, "failing_rows_by_rule": self.failures}


@dataclass(frozen=True)
class ChunkOutcome:
    """What validating one frame chunk gives back: its failing rows and the GX result without row lists."""

    suite: str
    rows: int
    failures: pa.Table
    result: dict[str, Any]


_COUNTS = ("element_count", "missing_count", "unexpected_count")


def _merge_item(first: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    merged = {**first, "success": bool(first["success"] and other["success"]), "result": dict(first["result"])}
    out, more = merged["result"], other["result"]
    for key in _COUNTS:
        if key in out:
            out[key] = out[key] + more.get(key, 0)
    for key in ("partial_unexpected_list", "partial_unexpected_index_list"):
        if key in out:
            out[key] = (list(out[key]) + list(more.get(key) or []))[:20]
    if "element_count" in out:
        total, missing, bad = out["element_count"], out.get("missing_count", 0), out.get("unexpected_count", 0)
        present = total - missing
        out["missing_percent"] = missing / total * 100 if total else None
        out["unexpected_percent_total"] = bad / total * 100 if total else None
        out["unexpected_percent_nonmissing"] = bad / present * 100 if present else None
        out["unexpected_percent"] = out["unexpected_percent_nonmissing"]
    return merged


def merge_outcomes(name: str, chunks: list[ChunkOutcome]) -> tuple[SuiteOutcome, dict[str, Any]]:
    """One suite's outcome and GX result from the results of its chunks (row expectations add up)."""
    result = chunks[0].result
    for chunk in chunks[1:]:
        items = [_merge_item(a, b) for a, b in zip(result["results"], chunk.result["results"], strict=True)]
        result = {**result, "results": items}
    evaluated = len(result["results"])
    successful = sum(1 for item in result["results"] if item["success"])
    result["success"] = successful == evaluated
    result["statistics"] = {**result.get("statistics", {}), "evaluated_expectations": evaluated,
                            "successful_expectations": successful,
                            "unsuccessful_expectations": evaluated - successful,
                            "success_percent": successful / evaluated * 100 if evaluated else None}
    outcome = SuiteOutcome(name, sum(c.rows for c in chunks), evaluated, successful)
    for item in result["results"]:
        if not item["success"]:
            rule = item["expectation_config"]["meta"]["rule"]
            outcome.failures[rule] = outcome.failures.get(rule, 0) + int(item["result"].get("unexpected_count") or 0)
    return outcome, result
