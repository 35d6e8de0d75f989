"""Answers to indicator rows: levels drawn from a latent quality, values that fit a level's cut-points.

Everything about a row (cut-points, direction, value range) comes from the methodology file; only the
shape of the synthetic numbers (two decimals for rates, whole numbers for counts) is decided here.
"""

from __future__ import annotations

import math
from functools import lru_cache
from random import Random
from typing import Any

from flows.methodology import Row

Value = int | float


def clamp_level(raw: float) -> int:
    return max(0, min(3, round(raw)))


Cuts = tuple[float, float, float]
Range = tuple[float | None, float | None] | None


@lru_cache(maxsize=256)
def _whole_numbers(cutpoints: Cuts, value_range: Range) -> bool:
    """Counts (staff, days, replications…) are whole numbers; rates and indices have decimals."""
    finite = [c for c in cutpoints if math.isfinite(c)]
    upper = value_range[1] if value_range else None
    return all(float(c).is_integer() for c in finite) and (upper is None or upper < 100)


def _interval(direction: str, c: Cuts, level: int) -> tuple[float, float]:
    """Values whose level is ``level``: ``[lo, hi)`` before the row's value range is applied."""
    if direction == "higher":
        lo = c[level - 1] if level >= 1 else -math.inf
        hi = c[level] if level <= 2 else math.inf
    else:
        lo = c[level] if level <= 2 else -math.inf
        hi = c[level - 1] if level >= 1 else math.inf
    return lo, hi


@lru_cache(maxsize=1024)
def _bounds(direction: str, cutpoints: Cuts, value_range: Range, level: int) -> tuple[float, float] | None:
    """Bounds to draw from, or None when no value can have this level."""
    lo, hi = _interval(direction, cutpoints, level)
    finite = [c for c in cutpoints if math.isfinite(c)]
    spread = (max(finite) - min(finite)) if len(finite) > 1 else max(abs(finite[0]) if finite else 1.0, 1.0)
    spread = spread or 1.0
    low_limit, high_limit = value_range if value_range else (None, None)
    if low_limit is not None:
        lo = max(lo, low_limit)
    if high_limit is not None:
        hi = min(hi, high_limit + 1e-9)
    if not math.isfinite(lo) and not math.isfinite(hi):
        return None
    if not math.isfinite(lo):
        lo = hi - 2 * spread
    if not math.isfinite(hi):
        hi = lo + 2 * spread
    if hi <= lo:
        return None
    return lo, hi


def value_for(row: Row, level: int, rng: Random) -> Value | None:
    """A value of a numeric row whose level is ``level``, inside the row's value range; None if impossible."""
    if row.direction is None or row.cutpoints is None:
        return None
    bounds = _bounds(row.direction, row.cutpoints, row.value_range, level)
    if bounds is None:
        return None
    lo, hi = bounds
    low_limit, high_limit = row.value_range if row.value_range else (None, None)
    for _ in range(8):
        if _whole_numbers(row.cutpoints, row.value_range):
            candidate: Value = rng.randint(math.ceil(lo), max(math.ceil(lo), math.ceil(hi) - 1))
        else:
            candidate = round(rng.uniform(lo, hi), 2)
        inside = (low_limit is None or candidate >= low_limit) and (high_limit is None or candidate <= high_limit)
        if inside and row.value_level(float(candidate)) == level:
            return candidate
    return None


def answer(row: Row, level: int, rng: Random, evidence: list[str], *, mismatch_rate: float,
           value_rate: float = 0.95) -> dict[str, Any]:
    """One answer as in the JSON format. ``level`` is the level the evidence supports.

    For numeric rows a value usually comes with it; with probability ``mismatch_rate`` the claimed
    level differs from the value's level (mostly an over-claim), so the value's level is credited.
    """
    out: dict[str, Any] = {"indicator": row.code, "level": level}
    if row.kind == "numeric" and rng.random() < value_rate:
        value = value_for(row, level, rng)
        if value is not None:
            if rng.random() < mismatch_rate:
                claimed = level + 1 if (level < 3 and rng.random() < 0.7) or level == 0 else level - 1
                out["level"] = claimed
            out["value"] = value
    out["evidence"] = evidence
    return out
