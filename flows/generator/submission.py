"""One region's submission documents, in the shape of the JSON format (CONTRACT.md §2).

The counting (final on-time) version is drawn first; an earlier version and a late correction are
derived from it, so a correction repeats the same innovations with a few changed levels.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from random import Random
from typing import Any

from flows.generator import answers, text, vocab
from flows.generator.profile import RegionPlan, sigmoid
from flows.methodology import Methodology

SCHEMA = "iid.submission/v1"

SPD_BASE = 2.2
SPD_CAPACITY = 0.34
INNOVATION_BASE = 2.1
INNOVATION_CAPACITY = 0.24
INNOVATION_NOISE = 0.45
WEAK_SKILL_SLOPE = 1.65
INNOVATION_DILUTION = 0.3  # regions that report many innovations report weaker ones too
ANSWER_NOISE = 0.8
STAGE_OFFSET = {"inisiatif": -0.9, "uji coba": -0.5, "penerapan": 0.0}
# Some rows are harder to reach than others (replication, a Perda, a complete video).
ROW_OFFSET = {"16": -0.35, "31": -0.9, "35": -0.25, "33": 0.35, "19": 0.25, "23": 0.25, "26": 0.1}
EMPTY_EVIDENCE_SHARE = 0.02
EVIDENCE_POOL = 150  # distinct documents and links a region cites
VALUE_MISMATCH_SHARE = 0.10
ENUM_WEIGHTS: dict[str, dict[str, float]] = {
    "form": {"pelayanan publik": 60, "tata kelola pemerintahan": 30, "lainnya": 10},
    "kind": {"digital": 58, "non digital": 42},
    "initiator": {"opd": 55, "asn": 20, "kepala daerah": 15, "masyarakat": 7, "anggota dprd": 3},
}
SPELLING_VARIANTS = (str.title, str.upper, lambda s: f" {s} ", lambda s: s.replace(" ", "  "))
IMPLEMENTATION_YEARS_AGO = (0, 1, 2, 3, 4)
IMPLEMENTATION_YEAR_WEIGHTS = (0.15, 0.35, 0.28, 0.13, 0.09)


@dataclass(frozen=True)
class YearSpec:
    """What every region of a year shares: the method and its deadline."""

    year: int
    method: Methodology
    deadline: datetime


def _skill(capacity: float) -> float:
    """How capacity shows in the levels: below average, a region's answers fall off faster."""
    return capacity * WEAK_SKILL_SLOPE if capacity < 0 else capacity


def _weighted(rng: Random, options: tuple[str, ...], weights: dict[str, float]) -> str:
    return rng.choices(options, [weights.get(o, 1.0) for o in options])[0]


def _evidence(rng: Random, pool: list[str]) -> list[str]:
    """1–3 items from the region's own documents (regions reuse their documents across answers)."""
    draw = rng.random()
    if draw < EMPTY_EVIDENCE_SHARE:
        return []
    first = pool[int(rng.random() * len(pool))]
    if draw < 0.45:
        return [first]
    second = pool[int(rng.random() * len(pool))]
    if draw < 0.85 or second == first:
        return [first, second] if second != first else [first]
    third = pool[int(rng.random() * len(pool))]
    return list(dict.fromkeys((first, second, third)))


def _spd(rng: Random, spec: YearSpec, plan: RegionPlan, pool: list[str]) -> list[dict[str, Any]]:
    rows = spec.method.spd_rows
    skipped = set(rng.sample(range(len(rows)), rng.randint(1, 2))) if rng.random() < 0.05 else set()
    out = []
    for i, row in enumerate(rows):
        if i in skipped:
            continue
        level = answers.clamp_level(SPD_BASE + SPD_CAPACITY * _skill(plan.capacity) + rng.gauss(0, 0.85))
        out.append(answers.answer(row, level, rng, _evidence(rng, pool),
                                  mismatch_rate=VALUE_MISMATCH_SHARE))
    return out


def _affairs(rng: Random, spec: YearSpec, plan: RegionPlan) -> list[str]:
    names = tuple(a.name for a in spec.method.affairs)
    weights = [vocab.AFFAIR_WEIGHTS.get(n, 1.0) for n in names]
    chosen = rng.choices(names, weights, k=plan.n_innovations)
    basic = spec.method.basic_service_affairs
    if plan.n_innovations >= len(basic) and rng.random() < sigmoid(1.2 + 1.8 * plan.capacity):
        cover = basic if rng.random() < 0.7 else rng.sample(basic, len(basic) - 1)
        for position, affair in zip(rng.sample(range(plan.n_innovations), len(cover)), cover, strict=True):
            chosen[position] = affair
    return chosen


def _stage(rng: Random, cap: float) -> str:
    draw = rng.random()
    weak = max(0.0, -cap) * 0.012
    if draw < 0.038 + weak:
        return "inisiatif"
    if draw < 0.075 + 2 * weak:
        return "uji coba"
    return "penerapan"


def _dates(rng: Random, spec: YearSpec, stage: str) -> tuple[date, date]:
    latest = date(spec.year, 5, 31)
    if stage == "penerapan":
        ago = rng.choices(IMPLEMENTATION_YEARS_AGO, IMPLEMENTATION_YEAR_WEIGHTS)[0]
        implementation = min(date(spec.year - ago, 1, 1) + timedelta(days=rng.randint(0, 364)), latest)
        trial = implementation - timedelta(days=rng.randint(30, 400))
    else:
        trial = latest - timedelta(days=rng.randint(20, 500))
        implementation = min(trial + timedelta(days=rng.randint(0, 240)), latest)
    return trial, implementation


def _spelled(rng: Random, value: str) -> str:
    """Occasionally a different case or spacing (the pipeline normalises enumerations)."""
    return rng.choice(SPELLING_VARIANTS)(value) if rng.random() < 0.02 else value


def _design_words(rng: Random, spec: YearSpec) -> int:
    minimum = spec.method.narrative.design_min_words
    if minimum and rng.random() < 0.93:
        return rng.randint(minimum, max(minimum + 50, 600))
    return rng.randint(150, 600)


def _innovation(rng: Random, spec: YearSpec, plan: RegionPlan, k: int, affair: str,
                pool: list[str]) -> dict[str, Any]:
    enums = spec.method.enumerations
    stage = _stage(rng, plan.capacity)
    name = text.innovation_name(rng, affair)
    unit = text.unit(rng, affair)
    trial, implementation = _dates(rng, spec, stage)
    quality = (INNOVATION_BASE + INNOVATION_CAPACITY * _skill(plan.capacity) - INNOVATION_DILUTION * plan.breadth
               + rng.gauss(0, INNOVATION_NOISE) + STAGE_OFFSET.get(stage, 0.0))
    rows = spec.method.sid_rows
    missing = rng.randrange(len(rows)) if rng.random() < 0.005 else -1
    sid = [answers.answer(row, answers.clamp_level(quality + ROW_OFFSET.get(row.code, 0.0)
                                                   + rng.gauss(0, ANSWER_NOISE)),
                          rng, _evidence(rng, pool), mismatch_rate=VALUE_MISMATCH_SHARE)
           for i, row in enumerate(rows) if i != missing]
    region_name = plan.region.name
    return {
        "id": f"{text.abbreviation(region_name)}-{spec.year}-{k + 1:03d}",
        "name": name,
        "unit": unit,
        "form": _spelled(rng, _weighted(rng, enums.form, ENUM_WEIGHTS["form"])),
        "kind": _spelled(rng, _weighted(rng, enums.kind, ENUM_WEIGHTS["kind"])),
        "initiator": _spelled(rng, _weighted(rng, enums.initiator, ENUM_WEIGHTS["initiator"])),
        "affair": _spelled(rng, affair),
        "stage": _spelled(rng, stage),
        "trial_date": trial.isoformat(),
        "implementation_date": implementation.isoformat(),
        "design": text.design(rng, name, unit, region_name, spec.year, _design_words(rng, spec)),
        "goal": text.goal(rng, affair),
        "benefit": text.benefit(rng, affair),
        "result": text.result(rng),
        "sid": sid,
    }


def timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def final_submission(rng: Random, spec: YearSpec, plan: RegionPlan) -> dict[str, Any]:
    """The counting version of a region's submission (its last version on or before the deadline)."""
    region = plan.region
    region_host = text.host(region.name, region.level)
    affairs = _affairs(rng, spec, plan)
    pool = text.evidence(rng, spec.year, region_host, EVIDENCE_POOL)
    on_time = [t for t in plan.times if t <= spec.deadline] or list(plan.times)
    return {
        "schema": SCHEMA,
        "year": spec.year,
        "region_code": region.code,
        "region_name": region.name,
        "submitted_at": timestamp(on_time[-1]),
        "operator": text.operator(rng, region_host),
        "spd": _spd(rng, spec, plan, pool),
        "innovations": [_innovation(rng, spec, plan, k, affair, pool) for k, affair in enumerate(affairs)],
    }


def _nudge_levels(rng: Random, doc: dict[str, Any], changes: int, direction: int) -> None:
    answers_all = [a for a in doc["spd"]] + [a for inv in doc["innovations"] for a in inv["sid"]]
    for item in rng.sample(answers_all, min(changes, len(answers_all))):
        item["level"] = max(0, min(3, item["level"] + direction))


def other_version(rng: Random, final: dict[str, Any], submitted_at: datetime, *, earlier: bool) -> dict[str, Any]:
    """An earlier draft (fewer innovations, some lower levels) or a late correction of ``final``."""
    doc = copy.deepcopy(final)
    doc["submitted_at"] = timestamp(submitted_at)
    if earlier and len(doc["innovations"]) > 3 and rng.random() < 0.6:
        del doc["innovations"][-rng.randint(1, min(3, len(doc["innovations"]) - 1)):]
    _nudge_levels(rng, doc, rng.randint(2, 8), -1 if earlier else 1)
    return doc
