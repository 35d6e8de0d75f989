"""A region profile page (``report/region/<code>.html``): where the region stands, how it got there,
its strengths and weaknesses against the median of its level, and what would lift it a predicate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from flows.feedback import describe_locator
from flows.methodology import Methodology
from flows.report import charts
from flows.report.data import FINDINGS_LISTED, Innovation, RegionFindings, RegionScore, ReleaseData
from flows.report.fmt import FORM_LABEL, LEVEL_LABEL, STATUS_LABEL, predicate_class, sentence_case, short
from flows.report.lift import Lift


@dataclass(frozen=True)
class YearContext:
    """What a profile needs from the whole year: region lookups, level sizes and leaders, medians."""

    by_year: dict[int, dict[str, RegionScore]]  # history plus the current year
    level_sizes: dict[tuple[int, str], int]
    leaders: dict[str, float]  # level → best IID of the current year

    @classmethod
    def build(cls, data: ReleaseData, history: Mapping[int, list[RegionScore]]) -> YearContext:
        by_year = {y: {r.code: r for r in rows} for y, rows in history.items()}
        by_year[data.year] = data.by_code()
        sizes = Counter((y, r.level) for y, rows in by_year.items() for r in rows.values())
        leaders: dict[str, float] = {}
        for r in data.regions:
            leaders[r.level] = max(leaders.get(r.level, 0.0), float(r.iid))
        return cls(by_year, dict(sizes), leaders)


def _history(code: str, year: int, years: YearContext, method: Methodology) -> dict[str, Any]:
    found = [(y, years.by_year[y][code]) for y in sorted(years.by_year) if y <= year and code in years.by_year[y]]
    rows = [{"year": y, "iid": r.iid, "predicate": r.predicate, "rank": r.rank_in_level,
             "size": years.level_sizes.get((y, r.level), 0)} for y, r in found]
    chart = charts.history_chart([(y, float(r.iid), r.predicate) for y, r in found],
                                 [(b.predicate, b.min) for b in method.bands], f"Riwayat IID {code}")
    return {"rows": rows, "chart": chart}


def _profile(region: RegionScore, data: ReleaseData, method: Methodology, part: str) -> Any:
    attained = data.attained.get(region.code, {})
    rows = method.spd_rows if part == "spd" else method.sid_rows
    medians = data.medians
    return charts.row_profile([(r.code, r.name, attained.get(r.code, 0.0), medians.get((region.level, r.code), 0.0))
                               for r in rows])


def _findings(found: RegionFindings | None) -> dict[str, Any]:
    found = found or RegionFindings([], [], 0, 0, 0)
    summary = [{"severity": s, "rule": rule, "reason": reason, "count": n} for s, rule, reason, n in found.summary]
    listed = [{"severity": f.severity, "rule": f.rule, "file": f.source_file, "where": describe_locator(f.locator),
               "reason": f.reason, "value": f.value} for f in found.listed]
    return {"summary": summary, "listed": listed, "more": max(found.total - FINDINGS_LISTED, 0),
            "rejected": found.rejected, "warnings": found.warnings}


def _lift(lift: Lift, method: Methodology) -> dict[str, Any]:
    running, rows = 0.0, []
    for g in lift.top:
        running += g.gain
        rows.append({"gain": g, "cumulative": running,
                     "closes": lift.target is not None and running >= lift.points_missing - 1e-9})
    to_iid = 100 / method.max_total
    return {"lift": lift, "rows": rows, "to_iid": to_iid, "target_cls": predicate_class(lift.target or ""),
            "max_new_innovations": lift.innovations_to_cap}


def html_text(text: str) -> str:
    """``markupsafe.escape`` of a plain string, as a plain string (about twice as fast, for tables of
    thousands of rows): ``& < > " '`` become ``&amp; &lt; &gt; &#34; &#39;``."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
            .replace("'", "&#39;"))


def innovation_rows(items: Sequence[Innovation], sid_max: float) -> Markup:
    """The rows of a profile's innovations table, written here rather than in the template: a region
    can have hundreds of innovations, and Jinja's per-attribute lookups made this table most of the
    report's time at ten times a national year. Units, enumerations and scores repeat from row to
    row, so their cells are escaped once per table; names and ids are escaped row by row."""
    top = html_text(short(sid_max))
    units: dict[str, str] = {}
    kinds: dict[tuple[str, str, str, str], str] = {}  # (affair, form, kind, stage) -> the four middle cells
    scores: dict[float, str] = {}  # maturity -> the score and meter cells
    rows = []
    for item in items:
        unit = units.get(item.unit)
        if unit is None:
            unit = units[item.unit] = html_text(item.unit)
        key = (item.affair, item.form, item.kind, item.stage)
        middle = kinds.get(key)
        if middle is None:
            middle = kinds[key] = (
                f'<td>{html_text(sentence_case(item.affair))}</td>'
                f'<td class="opt">{html_text(FORM_LABEL.get(item.form, sentence_case(item.form)))}</td>'
                f'<td class="nowrap opt">{html_text(item.kind)}</td>'
                f'<td class="nowrap">{html_text(sentence_case(item.stage))}</td>\n      ')
        score = scores.get(item.maturity)
        if score is None:
            score = scores[item.maturity] = (
                f'<td class="num">{html_text(short(item.maturity))} <span class="note">/ {top}</span></td>'
                f'<td><div class="meter"><span style="width:{round(100 * item.maturity / sid_max, 1)}%"></span>'
                '</div></td></tr>')
        notes = ((" · <strong>ditolak verifikasi</strong> (rejected, counts in n)" if item.rejected else "")
                 + ("" if item.counts_in_n else " · tidak dihitung (outside the counting window)"))
        rows.append(f'<tr><td class="wrap-text">{html_text(item.name)}<br><span class="note">'
                    f'{html_text(item.innovation_id)} · {unit}{notes}</span></td>\n      {middle}{score}')
    return Markup("".join(rows))


def region_context(region: RegionScore, data: ReleaseData, method: Methodology, lift: Lift,
                   years: YearContext) -> dict[str, Any]:
    """Everything ``region/<code>.html`` shows."""
    year = data.year
    before = years.by_year.get(year - 1, {}).get(region.code)
    sid_max = method.maxima.sid_maturity
    innovations = data.innovations.get(region.code, [])
    others = [{"status": STATUS_LABEL.get(status, status), "at": at}
              for status, at in data.not_counting.get(region.code, [])]
    return {
        "year": year, "release": data.release, "r": region, "cls": predicate_class(region.predicate),
        "level_label": LEVEL_LABEL[region.level], "province": data.province_names.get(region.province_code, ""),
        "level_size": years.level_sizes.get((year, region.level), 0), "before": before,
        "iid_change": region.iid - before.iid if before else None, "maxima": method.maxima,
        "history": _history(region.code, year, years, method),
        "spd_profile": _profile(region, data, method, "spd"), "sid_profile": _profile(region, data, method, "sid"),
        "innovations": innovations, "innovation_rows": innovation_rows(innovations, sid_max), "sid_max": sid_max,
        "not_counting": others,
        "findings": _findings(data.findings.get(region.code)), "next": _lift(lift, method),
        "deadline": method.deadline_for(year).date(), "divisor": method.divisor_for(year),
    }
