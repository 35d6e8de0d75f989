"""The yearly report page (``report/index.html``): national figures, predicates, distributions,
rankings per level and per award cluster, innovations by urusan / form / kind / stage, the method."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from flows.methodology import Methodology
from flows.report import charts
from flows.report.data import LEVELS, RegionScore, ReleaseData, mean_iid
from flows.report.fmt import FORM_LABEL, LEVEL_LABEL, predicate_class, sentence_case, short


@dataclass(frozen=True)
class RankEntry:
    rank: int
    code: str
    name: str
    level: str
    province: str
    iid: Decimal
    predicate: str
    delta: Decimal | None  # IID change from the previous year
    n_innovations: int
    submitted: bool


@dataclass(frozen=True)
class Figures:
    """National figures of one year."""

    pemda: int
    submitted: int
    innovations: int
    mean_iid: Decimal
    mean_iid_submitted: Decimal
    counts: dict[tuple[str, str], int]  # (level, predicate) → regions


def figures(regions: Sequence[RegionScore]) -> Figures:
    counts = Counter((r.level, r.predicate) for r in regions)
    assessed = [r for r in regions if r.submitted]
    return Figures(len(regions), len(assessed), sum(r.n_innovations for r in regions), mean_iid(list(regions)),
                   mean_iid(assessed), dict(counts))


def shared_ranks(values: Sequence[Decimal]) -> list[int]:
    """Ranks by value descending, ties sharing the better rank (1, 2, 2, 4)."""
    ranks, previous = [], None
    for position, value in enumerate(values, start=1):
        if value != previous:
            current, previous = position, value
        ranks.append(current)
    return ranks


def ranking(regions: Iterable[RegionScore], provinces: Mapping[str, str],
            previous: Mapping[str, RegionScore] | None, cluster: bool = False) -> list[RankEntry]:
    """Rank entries ordered by IID; in a level the published ``rank_in_level``, in a cluster a shared rank."""
    ordered = sorted(regions, key=lambda r: (-r.iid, r.code))
    ranks = shared_ranks([r.iid for r in ordered]) if cluster else [r.rank_in_level for r in ordered]
    out = []
    for rank, r in zip(ranks, ordered, strict=True):
        before = previous.get(r.code) if previous else None
        out.append(RankEntry(rank, r.code, r.name, r.level, provinces.get(r.province_code, r.province_code), r.iid,
                             r.predicate, r.iid - before.iid if before else None, r.n_innovations, r.submitted))
    return out


def _counted(counts: Mapping[str, int], order: Sequence[str], label: Any = sentence_case,
             by_count: bool = False) -> list[tuple[str, int]]:
    keys = [k for k in order if counts.get(k)] + sorted(k for k in counts if k not in order)
    if by_count:
        keys.sort(key=lambda k: -counts[k])
    return [(label(k), counts[k]) for k in keys]


def innovation_charts(data: ReleaseData, method: Methodology) -> dict[str, Markup]:
    counts = data.innovation_counts  # counting innovations only
    enum = method.enumerations
    return {
        "affair": charts.bar_list(_counted(counts["affair"], [a.name for a in method.affairs],
                                           by_count=True), "fill-bar"),
        "form": charts.bar_list(_counted(counts["form"], enum.form,
                                         lambda k: FORM_LABEL.get(k, sentence_case(k))), "fill-bar"),
        "kind": charts.bar_list(_counted(counts["kind"], enum.kind), "fill-bar"),
        "stage": charts.bar_list(_counted(counts["stage"], enum.stage), "fill-bar"),
    }


def _predicate_table(method: Methodology, now: Figures, before: Figures | None) -> list[dict[str, Any]]:
    rows = []
    for band in method.bands:
        cells = []
        for level in (*LEVELS, None):
            def count(f: Figures, lv: str | None = level, p: str = band.predicate) -> int:
                return sum(n for (lvl, pred), n in f.counts.items() if pred == p and (lv is None or lvl == lv))
            cells.append({"count": count(now), "delta": count(now) - count(before) if before else None})
        rows.append({"predicate": band.predicate, "cls": predicate_class(band.predicate), "cells": cells,
                     "range": band})
    return rows


def formula(method: Methodology, year: int) -> str:
    """The scoring formula with this year's parameters, aligned for a monospace block."""
    rule, top = method.innovation_count, method.maxima
    ji = f"{short(rule.per_innovation)} × MIN(n, {rule.cap})"
    if rule.min_basic_service_affairs:
        ji += f", hanya bila ≥ {rule.min_basic_service_affairs} urusan wajib pelayanan dasar tercakup"
    lines = [
        ("SPD", f"Σ bobot × tingkat ({len(method.spd_rows)} baris SPD)", f"maks {short(top.spd)}"),
        ("SID", f"Σ kematangan inovasi / MAX({method.divisor_for(year)}, n) + JI",
         f"maks {short(top.sid_maturity)} + {short(top.innovation_count)}"),
        ("JI", ji, f"maks {short(top.innovation_count)}"),
        ("Total", "SPD + SID", f"maks {short(method.max_total)}"),
        ("IID", f"Total / {short(method.max_total)} × 100, 2 desimal (setengah ke atas)", ""),
    ]
    width = max(len(middle) for _, middle, _ in lines) + 3
    return "\n".join(f"{left:<6}= {middle:<{width}}{right}".rstrip() for left, middle, right in lines)


def method_context(method: Methodology, year: int) -> dict[str, Any]:
    rule = method.innovation_count
    return {"method": method, "divisor": method.divisor_for(year), "deadline": method.deadline_for(year).date(),
            "ji_rate": rule.per_innovation, "ji_cap": rule.cap, "ji_min_affairs": rule.min_basic_service_affairs,
            "formula": formula(method, year), "spd_rows": method.spd_rows, "sid_rows": method.sid_rows,
            "bands": [{"band": b, "cls": predicate_class(b.predicate)} for b in method.bands]}


def index_context(data: ReleaseData, method: Methodology, history: Mapping[int, list[RegionScore]],
                  coached: int) -> dict[str, Any]:
    """Everything ``index.html`` shows."""
    year = data.year
    before_rows = history.get(year - 1)
    previous = {r.code: r for r in before_rows} if before_rows else None
    now, before = figures(data.regions), figures(before_rows) if before_rows else None
    predicates = [b.predicate for b in method.bands]
    thresholds = [b.min for b in method.bands if b.min > 0.01]
    levels = []
    for level in LEVELS:
        members = [r for r in data.regions if r.level == level]
        levels.append({
            "level": level, "label": LEVEL_LABEL[level], "size": len(members),
            "mean": mean_iid(members),
            "histogram": charts.histogram([(float(r.iid), r.predicate) for r in members], predicates, thresholds,
                                          f"Sebaran IID {LEVEL_LABEL[level]} {year}"),
            "strip": charts.predicate_strip([(p, sum(1 for r in members if r.predicate == p)) for p in predicates]),
            "ranking": ranking(members, data.province_names, previous),
        })
    clusters = [
        {"key": "tertinggal", "title": "Daerah tertinggal", "en": "disadvantaged regions (Perpres 63/2020)",
         "ranking": ranking((r for r in data.regions if r.tertinggal), data.province_names, previous, True)},
        {"key": "perbatasan", "title": "Daerah perbatasan", "en": "border regions",
         "ranking": ranking((r for r in data.regions if r.perbatasan), data.province_names, previous, True)},
    ]
    return {"year": year, "release": data.release, "now": now, "before": before, "previous_year": year - 1,
            "predicate_rows": _predicate_table(method, now, before), "levels": levels, "clusters": clusters,
            "innovation_charts": innovation_charts(data, method), "coached": coached,
            "coached_predicates": predicates[-2:], **method_context(method, year)}
