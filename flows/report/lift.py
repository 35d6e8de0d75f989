"""What would lift a region to the next predicate, computed from the method (never hand-written advice).

Points missing = next band's minimum IID × max_total / 100 − total_score (total-score points).
Attainable gain of a row, in total-score points:

- SPD row: weight × (3 − credited level); an unanswered row counts as level 0;
- SID row: weight × Σ over the innovations counting in n of (3 − credited level) / divisor used,
  i.e. averaged exactly like the SID maturity score.

Adding innovations is a separate lever: JI rises by the method's rate per innovation up to its cap,
and while n is below the divisor a new innovation's maturity is not diluted by the average.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flows.methodology import Methodology, Row

TOP_ROWS = 5
_EPSILON = 1e-9


@dataclass(frozen=True)
class RowGain:
    """One indicator row of one region: what it has and what it could still earn."""

    code: str
    part: str
    name: str
    name_en: str
    weight: float
    attained: float  # SPD: the credited level; SID: Σ credited levels / divisor used (0–3)
    gain: float  # total-score points still attainable on this row


@dataclass(frozen=True)
class Lift:
    """The step to the next predicate for one region."""

    submitted: bool
    predicate: str
    target: str | None  # the next predicate up; None in the top band or without a submission
    target_min_iid: float | None
    points_missing: float  # total-score points to the next band's minimum
    iid_missing: float  # the same in IID points
    gains: tuple[RowGain, ...]  # every row, largest gain first
    rows_needed: int | None  # how many of the largest gains together close the gap; None if all rows fall short
    ji_per_innovation: float
    innovations_to_cap: int
    ji_blocked: bool  # iid-2026: JI is 0 until enough basic-service urusan are covered
    new_innovation_gain: float  # total-score points of one more innovation at full maturity
    below_divisor: bool
    gap_to_first: float | None  # top band: IID points behind rank 1 of the level (0 when first)

    @property
    def top(self) -> tuple[RowGain, ...]:
        return self.gains[:TOP_ROWS]

    @property
    def top_total(self) -> float:
        return sum(g.gain for g in self.top)

    @property
    def all_rows_total(self) -> float:
        return sum(g.gain for g in self.gains)

    @property
    def reachable_by_top(self) -> bool:
        return self.rows_needed is not None and self.rows_needed <= TOP_ROWS


def _ordered(gains: list[RowGain], method: Methodology) -> tuple[RowGain, ...]:
    position = {r.code: i for i, r in enumerate(method.rows)}
    return tuple(sorted(gains, key=lambda g: (-round(g.gain, 9), position[g.code])))


def _row_gain(row: Row, attained: float, gain: float) -> RowGain:
    return RowGain(row.code, row.part, row.name, row.name_en, row.weight, attained, gain)


def row_gains(method: Methodology, level_sums: Mapping[str, float], n_innovations: int,
              divisor_used: int) -> tuple[RowGain, ...]:
    """Every row's attained level and attainable gain; ``level_sums`` = Σ credited levels per row code
    (SPD: the row's level; SID: the sum over the region's innovations; missing codes count 0)."""
    gains = []
    for row in method.rows:
        total = float(level_sums.get(row.code, 0))
        if row.part == "spd":
            gains.append(_row_gain(row, total, row.weight * (3 - total)))
        else:
            gains.append(_row_gain(row, total / divisor_used, row.weight * (3 * n_innovations - total) / divisor_used))
    return _ordered(gains, method)


# the method heaviest_rows was last asked for, with its rows: every region without a counting submission gets the
# same rows (543 of a small year's 546 computed them again, ~0.1 s of a publish); a method is frozen
_HEAVIEST: list[tuple[Methodology, tuple[RowGain, ...]]] = []


def heaviest_rows(method: Methodology) -> tuple[RowGain, ...]:
    """For a region without a counting submission: the rows that weigh most (3 × weight each)."""
    kept = _HEAVIEST[-1] if _HEAVIEST else None
    if kept is None or kept[0] is not method:
        kept = (method, _ordered([_row_gain(r, 0.0, 3 * r.weight) for r in method.rows], method))
        _HEAVIEST[:] = [kept]
    return kept[1]


def rows_to_close(gains: tuple[RowGain, ...], points_missing: float) -> int | None:
    """The number of largest gains that together reach ``points_missing`` (None if all rows fall short)."""
    running = 0.0
    for count, g in enumerate(gains, start=1):
        running += g.gain
        if running >= points_missing - _EPSILON:
            return count
    return None


def _new_innovation_gain(method: Methodology, n: int, divisor_used: int, divisor: int, maturity: float,
                         ji_applies: bool) -> float:
    """Total-score change of one more innovation at full maturity (the average may rise or fall)."""
    summed = maturity * divisor_used
    after = (summed + method.maxima.sid_maturity) / max(divisor, n + 1)
    ji = method.innovation_count.per_innovation if ji_applies and n < method.innovation_count.cap else 0.0
    return after - maturity + ji


def next_step(method: Methodology, year: int, *, submitted: bool, predicate: str, iid: float, total_score: float,
              n_innovations: int, divisor_used: int, sid_maturity_score: float, basic_service_affairs: int,
              level_sums: Mapping[str, float], leader_iid: float | None = None) -> Lift:
    """The lift of one region: points to the next band, its rows ranked by gain, the innovation lever."""
    count_rule = method.innovation_count
    divisor = method.divisor_for(year)
    ji_blocked = (count_rule.min_basic_service_affairs is not None
                  and basic_service_affairs < count_rule.min_basic_service_affairs)

    def lift(target: str | None, target_min: float | None, missing: float, iid_missing: float,
             gains: tuple[RowGain, ...], rows_needed: int | None, gap_to_first: float | None) -> Lift:
        return Lift(submitted, predicate, target, target_min, missing, iid_missing, gains, rows_needed,
                    ji_per_innovation=count_rule.per_innovation,
                    innovations_to_cap=max(count_rule.cap - n_innovations, 0),
                    ji_blocked=ji_blocked and submitted,
                    new_innovation_gain=_new_innovation_gain(method, n_innovations, divisor_used, divisor,
                                                             sid_maturity_score, not ji_blocked),
                    below_divisor=n_innovations < divisor, gap_to_first=gap_to_first)

    if not submitted:
        return lift(None, None, 0.0, 0.0, heaviest_rows(method), None, None)
    gains = row_gains(method, level_sums, n_innovations, divisor_used)
    names: list[str] = [b.predicate for b in method.bands]
    position = names.index(predicate)
    if position == 0:
        return lift(None, None, 0.0, 0.0, gains, 0, round(max((leader_iid or iid) - iid, 0.0), 2))
    band = method.bands[position - 1]
    missing = max(band.min * method.max_total / 100 - total_score, 0.0)
    return lift(band.predicate, band.min, missing, round(band.min - iid, 2), gains, rows_to_close(gains, missing), None)
