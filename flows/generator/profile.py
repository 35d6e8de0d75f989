"""A region's latent profile: capacity, whether and when it submits, how many innovations.

Capacity (a standard-normal-ish number) drives everything a region reports: the SPD levels, the
number of innovations and their maturity. The constants are calibrated so that ``iid-2023`` scores
of a generated year resemble the published figures of IID.md §5 (see the generator's tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random

from flows.reference import Region

# The constants here and in submission.py were tuned together by simulating many seeds and scoring
# with iid-2023 (tests/flows/test_generator_calibration.py::test_calibrated_to_published_figures checks seed 1).
LEVEL_CAPACITY = {"provinsi": 0.55, "kota": 0.5, "kabupaten": 0.0}
CAPACITY_SPREAD_LOW = 1.3
CAPACITY_SPREAD_HIGH = 0.42
PAPUA_PROVINCES = frozenset({"91", "92", "93", "94", "95", "96"})

INNOVATIONS_LOG_MEAN = 4.2  # log innovation count of an average kabupaten (e^4.2 ≈ 67 before noise)
INNOVATIONS_LOG_CAPACITY = 0.3
INNOVATIONS_LOG_NOISE = 0.36
INNOVATIONS_LOG_LEVEL = {"provinsi": 0.35}  # provinces report more than their capacity alone says
MAX_BASE_INNOVATIONS = 1200
TYPICAL_INNOVATIONS = 50

# Some weak regions file a token submission: a few innovations, poorly documented (most of the
# Kurang Inovatif predicates).
TOKEN_INTERCEPT = -1.7
TOKEN_MIN_INNOVATIONS = 3
TOKEN_MAX_INNOVATIONS = 24
TOKEN_PENALTY = 1.0

RESUBMIT_SHARE = 0.05  # an earlier on-time version, then a correction
LATE_CORRECTION_SHARE = 0.008  # a further correction after the deadline (does not count)
LATE_ONLY_SHARE = 0.003  # the only version arrives after the deadline


@dataclass(frozen=True)
class RegionPlan:
    """What one region will submit in a year."""

    region: Region
    capacity: float
    breadth: float  # log of the unscaled innovation count relative to a typical region's
    n_innovations: int  # in the counting (final on-time) version; 0 when the region does not submit
    submits: bool
    resubmits: bool
    late: str | None  # None, "correction" (after an on-time version) or "only"
    xlsx: bool
    times: tuple[datetime, ...]  # submitted_at of each version, oldest first


def region_rng(seed: int, year: int, code: str, purpose: str = "") -> Random:
    """An RNG of its own for each region (and purpose), so regions never depend on each other."""
    return Random(f"{seed}-{year}-{code}{'-' + purpose if purpose else ''}")


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def capacity(region: Region, rng: Random) -> float:
    papua = region.province_code in PAPUA_PROVINCES
    draw = rng.gauss(0, 1)
    draw *= CAPACITY_SPREAD_LOW if draw < 0 else CAPACITY_SPREAD_HIGH  # the weak trail further behind
    return draw + LEVEL_CAPACITY.get(region.level, 0.0) - 0.6 * region.tertinggal - 0.35 * papua


def _times(rng: Random, year: int, deadline: datetime, versions: int, late: str | None) -> tuple[datetime, ...]:
    start = datetime(year, 6, 1, tzinfo=deadline.tzinfo)
    days = (deadline - start).days
    last_day = start + timedelta(days=round(rng.triangular(10 if versions > 1 else 0, days, days)))
    times = [last_day]
    for _ in range(versions - 1):
        times.insert(0, times[0] - timedelta(days=rng.randint(2, 9)))
    if late == "correction":
        times.append(deadline + timedelta(days=rng.randint(1, 10)))
    elif late == "only":
        times = [deadline + timedelta(days=rng.randint(1, 12))]
    return tuple(t.replace(hour=rng.randint(7, 22), minute=rng.randint(0, 59), second=rng.randint(0, 59))
                 for t in times)


def plan_region(region: Region, year: int, seed: int, scale: float, deadline: datetime, *,
                xlsx_share: float, xlsx_allowed: bool) -> RegionPlan:
    """Draw a region's profile from its own RNG (same seed → same plan)."""
    rng = region_rng(seed, year, region.code, "plan")
    cap = capacity(region, rng)
    papua = region.province_code in PAPUA_PROVINCES
    p_absent = sigmoid(-6.0 - 1.6 * cap + 1.3 * papua + 0.6 * region.tertinggal
                        - 3.0 * (region.level == "provinsi"))
    absent = rng.random() < p_absent
    base = math.exp(INNOVATIONS_LOG_MEAN + INNOVATIONS_LOG_LEVEL.get(region.level, 0.0)
                    + INNOVATIONS_LOG_CAPACITY * cap
                    + rng.gauss(0, INNOVATIONS_LOG_NOISE))
    if rng.random() < sigmoid(TOKEN_INTERCEPT - 1.3 * cap):
        # a token submission: a handful of innovations, weakly documented
        base = rng.uniform(TOKEN_MIN_INNOVATIONS, TOKEN_MAX_INNOVATIONS)
        cap -= TOKEN_PENALTY
    n = max(1, round(min(base, MAX_BASE_INNOVATIONS) * scale))
    resubmits = rng.random() < RESUBMIT_SHARE
    draw = rng.random()
    late = "only" if draw < LATE_ONLY_SHARE else "correction" if draw < LATE_ONLY_SHARE + LATE_CORRECTION_SHARE \
        else None
    if late == "only":
        resubmits = False
    xlsx = rng.random() < xlsx_share and xlsx_allowed  # drawn either way: formats change nothing else
    times = _times(rng, year, deadline, 2 if resubmits else 1, late)
    breadth = math.log(base / TYPICAL_INNOVATIONS)
    if absent:
        return RegionPlan(region, cap, breadth, 0, False, False, None, xlsx, ())
    return RegionPlan(region, cap, breadth, n, late != "only", resubmits, late, xlsx, times)
