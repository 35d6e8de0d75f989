"""Pages people can open and files they can hand on, built from a release's tables.

``build_release_report`` writes, into the release folder (at publish, before the manifest) or into
another folder (``iid report``):

    report/index.html            the yearly report: national figures, predicates, distributions,
                                 rankings per level and cluster, innovations, the method
    report/region/<code>.html    one profile per pemda, with what would lift it a predicate
    coaching.csv, coaching.xlsx  every Kurang Inovatif and Tidak Dapat Dinilai pemda

Pages are self-contained: inline CSS and SVG, no script, no font, no request to the network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from flows.methodology import for_year
from flows.report.coaching import coaching_rows, write_csv, write_xlsx
from flows.report.data import load_history, load_release
from flows.report.lift import Lift, next_step
from flows.report.national import index_context
from flows.report.profile import YearContext, region_context
from flows.report.render import render_to, template
from flows.settings import Home


@dataclass(frozen=True)
class ReportSummary:
    """What a report build wrote and how long it took."""

    year: int
    release: int
    pages: int  # HTML pages: the index and one per pemda
    coaching_rows: int
    seconds: float
    index: Path
    coaching_csv: Path
    coaching_xlsx: Path


def build_release_report(release_dir: Path, home: Home, year: int, release: int,
                         out_dir: Path | None = None) -> ReportSummary:
    """Build the report of one release from its Parquet tables (no manifest needed) and earlier years'
    latest releases; write it into ``out_dir`` (default: the release folder itself)."""
    started = time.perf_counter()
    method = for_year(year).method
    data = load_release(release_dir, year, release, method)
    history = load_history(home, year)
    years = YearContext.build(data, history)
    lifts: dict[str, Lift] = {
        r.code: next_step(method, year, submitted=r.submitted, predicate=r.predicate, iid=float(r.iid),
                          total_score=r.total_score, n_innovations=r.n_innovations, divisor_used=r.divisor_used,
                          sid_maturity_score=r.sid_maturity_score, basic_service_affairs=r.basic_service_affairs,
                          level_sums=data.level_sums.get(r.code, {}), leader_iid=years.leaders.get(r.level))
        for r in data.regions}
    previous = years.by_year.get(year - 1)
    coached = coaching_rows(method, data.regions, lifts, data.province_names, previous)

    target = out_dir or release_dir
    pages_dir = target / "report" / "region"
    pages_dir.mkdir(parents=True, exist_ok=True)
    common = {"year": year, "release": release, "method_id": method.id}
    index = target / "report" / "index.html"
    render_to("index.html.j2", {**common, **index_context(data, method, history, len(coached))}, index)
    page = template("region.html.j2")
    for region in data.regions:
        html = page.render({**common, **region_context(region, data, method, lifts[region.code], years)})
        (pages_dir / f"{region.code}.html").write_text(html, encoding="utf-8")
    csv_path, xlsx_path = target / "coaching.csv", target / "coaching.xlsx"
    write_csv(coached, csv_path)
    write_xlsx(coached, xlsx_path, year)
    return ReportSummary(year, release, len(data.regions) + 1, len(coached), time.perf_counter() - started, index,
                         csv_path, xlsx_path)
