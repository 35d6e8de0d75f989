"""A region profile page (``report/region/<code>.html``): where the region stands, how it got there,
its strengths and weaknesses against the median of its level, and what would lift it a predicate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from markupsafe import Markup

from flows.feedback import describe_locator
from flows.methodology import Methodology
from flows.report import charts
from flows.report.data import (
    FINDINGS_LISTED,
    Innovation,
    RegionFindings,
    RegionScore,
    ReleaseData,
    load_findings,
    load_innovations,
)
from flows.report.fmt import FORM_LABEL, LEVEL_LABEL, STATUS_LABEL, predicate_class, sentence_case, short
from flows.report.lift import Lift, next_step
from flows.values import WIB


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


class RegionInputs(NamedTuple):
    """Everything a region page shows but the method, the release number and the code that renders it.

    ``region_context`` reads nothing else, so a page is a function of these, the method and the code:
    ``flows/report/pages.py`` carries a page over from the release before when their digest is unchanged.
    """

    year: int
    region: RegionScore
    province: str
    history: tuple[tuple[int, RegionScore, int], ...]  # (year, its row, its level's size), up to this year
    rows: tuple[tuple[str, float, float, float], ...]  # (method row, Σ credited levels, attained, level median)
    innovations_digest: str  # of its innovations as listed (``flows.report.data.innovation_digests``)
    innovations: list[Innovation]  # read only for a page that is rendered (``with_lists``)
    not_counting: list[tuple[str, datetime | None]]
    findings_digest: str  # of its findings (``flows.report.data.findings_digests``)
    findings: RegionFindings | None  # read only for a page that is rendered (``with_lists``); None: none
    leader_iid: float | None  # the best IID of the region's level this year (the top band's gap to first)


def region_inputs(region: RegionScore, data: ReleaseData, years: YearContext, method: Methodology) -> RegionInputs:
    """The inputs of one region's page, picked from the release's data (rows in the method's order), its
    innovations and findings by their digests only: ``with_lists`` reads them for the pages that are rendered."""
    code, level, year = region.code, region.level, data.year
    history = tuple((y, years.by_year[y][code], years.level_sizes.get((y, years.by_year[y][code].level), 0))
                    for y in sorted(years.by_year) if y <= year and code in years.by_year[y])
    sums, attained, medians = data.level_sums.get(code, {}), data.attained.get(code, {}), data.medians
    rows = tuple((row.code, sums.get(row.code, 0.0), attained.get(row.code, 0.0), medians.get((level, row.code), 0.0))
                 for row in method.rows)
    return RegionInputs(year, region, data.province_names.get(region.province_code, ""), history, rows,
                        data.innovation_digests.get(code, ""), [], data.not_counting.get(code, []),
                        data.findings_digests.get(code, ""), None, years.leaders.get(level))


def with_lists(inputs: Mapping[str, RegionInputs], codes: Sequence[str], data: ReleaseData,
               ) -> dict[str, RegionInputs]:
    """The inputs of the regions ``codes`` with their innovations and findings read (a query each for all of
    them; none when there is no region to render)."""
    if not codes:
        return {}
    innovations, findings = load_innovations(data.innovations_path, codes), load_findings(data.findings_dir, codes)
    return {code: inputs[code]._replace(innovations=innovations.get(code, []), findings=findings.get(code))
            for code in codes}


def region_lift(method: Methodology, inputs: RegionInputs) -> Lift:
    """What would lift the region a predicate (``flows.report.lift.next_step``), from its inputs alone."""
    r = inputs.region
    return next_step(method, inputs.year, submitted=r.submitted, predicate=r.predicate, iid=float(r.iid),
                     total_score=r.total_score, n_innovations=r.n_innovations, divisor_used=r.divisor_used,
                     sid_maturity_score=r.sid_maturity_score, basic_service_affairs=r.basic_service_affairs,
                     level_sums={row: level_sum for row, level_sum, _, _ in inputs.rows},
                     leader_iid=inputs.leader_iid)


def _history(inputs: RegionInputs, method: Methodology) -> dict[str, Any]:
    rows = [{"year": y, "iid": r.iid, "predicate": r.predicate, "rank": r.rank_in_level, "size": size}
            for y, r, size in inputs.history]
    chart = charts.history_chart([(y, float(r.iid), r.predicate) for y, r, _ in inputs.history],
                                 [(b.predicate, b.min) for b in method.bands], f"Riwayat IID {inputs.region.code}")
    return {"rows": rows, "chart": chart}


def _profile(inputs: RegionInputs, method: Methodology, part: str) -> Any:
    values = {row: (attained, median) for row, _, attained, median in inputs.rows}
    rows = method.spd_rows if part == "spd" else method.sid_rows
    return charts.row_profile([(r.code, r.name, *values.get(r.code, (0.0, 0.0))) for r in rows])


def _findings(found: RegionFindings | None) -> dict[str, Any]:
    found = found or RegionFindings([], [], 0, 0, 0)
    summary = [{"severity": s, "rule": rule, "reason": reason, "count": n} for s, rule, reason, n in found.summary]
    listed = [{"severity": f.severity, "rule": f.rule, "file": f.source_file, "where": describe_locator(f.locator),
               "reason": f.reason, "value": f.value} for f in found.listed]
    return {"summary": summary, "listed": listed, "more": max(found.total - FINDINGS_LISTED, 0),
            "rejected": found.rejected, "warnings": found.warnings, "aside": found.aside}


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


def region_context(inputs: RegionInputs, method: Methodology, lift: Lift) -> dict[str, Any]:
    """Everything ``region/<code>.html`` shows but the release number (``release`` in the page's footer).

    ``lift`` is ``region_lift(method, inputs)``, which the coaching list needs too.
    """
    region, year = inputs.region, inputs.year
    before = next((r for y, r, _ in inputs.history if y == year - 1), None)
    sid_max = method.maxima.sid_maturity
    # when each was submitted, in WIB as the region's letter says it (DuckDB gives the instant in UTC here)
    others = [{"status": STATUS_LABEL.get(status, status), "at": at.astimezone(WIB) if at else None}
              for status, at in inputs.not_counting]
    return {
        "year": year, "r": region, "cls": predicate_class(region.predicate),
        "level_label": LEVEL_LABEL[region.level], "province": inputs.province,
        "level_size": next((size for y, _, size in inputs.history if y == year), 0), "before": before,
        "iid_change": region.iid - before.iid if before else None, "maxima": method.maxima,
        "history": _history(inputs, method),
        "spd_profile": _profile(inputs, method, "spd"), "sid_profile": _profile(inputs, method, "sid"),
        "innovations": inputs.innovations, "innovation_rows": innovation_rows(inputs.innovations, sid_max),
        "sid_max": sid_max, "not_counting": others,
        "findings": _findings(inputs.findings), "next": _lift(lift, method),
        "deadline": method.deadline_for(year).date(), "divisor": method.divisor_for(year),
    }
