"""Pages people can open and files they can hand on, built from a release's tables.

``build_release_report`` writes, into the release folder (at publish, before the manifest) or into
another folder (``iid report``):

    report/index.html            the yearly report: national figures, predicates, distributions,
                                 rankings per level and cluster, innovations, the method
    report/region/<code>.html    one profile per pemda, with what would lift it a predicate
    coaching.csv, coaching.xlsx  every Kurang Inovatif and Tidak Dapat Dinilai pemda

Region pages do not name the release (the yearly report does): a page whose inputs did not change
since an earlier release was built is that release's file, hard-linked (``flows/report/pages.py``).

Pages are self-contained: inline CSS and SVG, no script, no font, no request to the network.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flows.methodology import LoadedMethodology, Methodology, for_year
from flows.progress import show
from flows.releases import Release
from flows.report.coaching import coaching_rows, write_csv, write_xlsx
from flows.report.data import load_history, load_release
from flows.report.lift import Lift
from flows.report.national import index_context
from flows.report.pages import Carrier, PageRecord, Stamp, key_prefix, page_key, write_new
from flows.report.profile import (
    RegionInputs,
    YearContext,
    region_context,
    region_inputs,
    region_lift,
    with_lists,
)
from flows.report.render import cache_templates, render_to, template
from flows.settings import Home

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class ReportSummary:
    """What a report build wrote and how long it took."""

    year: int
    release: int
    pages: int  # HTML pages: the index and one per pemda
    pages_carried: int  # region pages taken from an earlier release, their inputs unchanged
    coaching_rows: int
    seconds: float
    index: Path
    coaching_csv: Path
    coaching_xlsx: Path
    sha256: dict[str, str]  # the region pages' sha256, by path from the folder written into


class _Lifts(dict[str, Lift]):
    """Each region's lift, worked out the first time it is asked for."""

    def __init__(self, method: Methodology, inputs: Mapping[str, RegionInputs]) -> None:
        super().__init__()
        self._method, self._inputs = method, inputs

    def __missing__(self, code: str) -> Lift:
        lift = self[code] = region_lift(self._method, self._inputs[code])
        return lift


def build_release_report(release_dir: Path, home: Home, year: int, release: int,
                         out_dir: Path | None = None, carry_over: bool = True,
                         history_from: Mapping[int, Release] | None = None,
                         methodology: LoadedMethodology | None = None,
                         indicator_sums: pa.Table | None = None) -> ReportSummary:
    """Build the report of one release from its Parquet tables (no manifest needed) and earlier years'
    releases (``history_from``: year -> release; by default the latest of each); write it into ``out_dir``
    (default: the release folder itself, whose pages are then recorded for the next release to carry
    over). ``carry_over=False`` renders every page. ``methodology``: the method the release was scored under
    (default: the file in force for the year). ``indicator_sums``: the sums of ``indicator_scores``
    (:func:`flows.report.data.indicator_sums`) from a publisher still writing that file."""
    started = time.perf_counter()
    cache_templates(home.work_db(year).parent / ".report-templates")
    loaded = methodology or for_year(year)
    method = loaded.method
    data = load_release(release_dir, year, release, method, indicator_sums)
    history = load_history(home, year, history_from)
    years = YearContext.build(data, history)
    inputs = {r.code: region_inputs(r, data, years, method) for r in data.regions}
    lifts = _Lifts(method, inputs)  # the coaching list's and the rendered pages' only
    previous = years.by_year.get(year - 1)
    coached = coaching_rows(method, data.regions, lifts, data.province_names, previous)

    target = out_dir or release_dir
    pages_dir = target / "report" / "region"
    pages_dir.mkdir(parents=True, exist_ok=True)
    common = {"year": year, "release": release, "method_id": method.id}
    index = target / "report" / "index.html"
    render_to("index.html.j2", {**common, **index_context(data, method, history, len(coached))}, index)
    page = template("region.html.j2")
    earlier = PageRecord.read(home.report_pages(year), year) if carry_over else None
    # linked only into a release (read-only once published); a folder of one's own gets copies
    carrier = Carrier(earlier, home.published_year(year), link=out_dir is None)
    prefix = key_prefix(year, loaded.sha256)
    record, written = PageRecord(year, release), {}
    keys = {region.code: page_key(prefix, inputs[region.code]) for region in data.regions}

    def keep(code: str, stamp: Stamp) -> None:
        written[f"report/region/{code}.html"] = stamp.sha256
        key = keys[code]
        if key is not None:
            record.pages[code] = (key, stamp)

    to_render = []
    for code, key in keys.items():
        carried = carrier.take(code, key, pages_dir / f"{code}.html")
        if carried is None:
            to_render.append(code)
        else:
            keep(code, carried)
    page_common = {"year": year, "method_id": method.id}  # a region page does not name the release
    show("publish: region pages", 0, len(to_render))
    for done, (code, full) in enumerate(with_lists(inputs, to_render, data).items(), 1):
        show("publish: region pages", done, len(to_render))
        encoded = page.render({**page_common, **region_context(full, method, lifts[code])}).encode("utf-8")
        path = pages_dir / f"{code}.html"
        write_new(path, encoded)
        keep(code, Stamp.of(path, hashlib.sha256(encoded).hexdigest()))
    if out_dir is None:
        record.write(home.report_pages(year))
    csv_path, xlsx_path = target / "coaching.csv", target / "coaching.xlsx"
    write_csv(coached, csv_path)
    write_xlsx(coached, xlsx_path, year)
    return ReportSummary(year, release, len(data.regions) + 1, carrier.carried, len(coached),
                         time.perf_counter() - started, index, csv_path, xlsx_path, written)
