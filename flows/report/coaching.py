"""The coaching list: every pemda in the two lowest bands (Kurang Inovatif, Tidak Dapat Dinilai), with the
three rows of largest attainable gain and whether it was in the same situation the year before."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.xml.functions import tostring

from flows.methodology import Methodology
from flows.report.data import LEVELS, RegionScore
from flows.report.lift import Lift

ROWS_LISTED = 3
COLUMNS = [
    "region_code", "region_name", "province_code", "province_name", "level", "submitted", "predicate", "iid",
    "rank_in_level", "next_predicate", "points_missing", "iid_points_missing",
    *[f"row_{k}_{what}" for k in range(1, ROWS_LISTED + 1) for what in ("code", "name", "gain")],
    "previous_predicate", "same_situation_previous_year",
]
_EXPLAINED = {
    "submitted": "false: no counting submission (nothing on time); every score is 0",
    "points_missing": "total-score points to the next band's minimum IID (empty without a submission)",
    "iid_points_missing": "the same gap in IID points",
    "row_k_code / name / gain": "the rows with the largest attainable gain in total-score points: SPD weight × "
                                "(3 − level); SID weight × Σ(3 − level) / divisor; without a submission, the "
                                "heaviest rows of the method (3 × weight)",
    "previous_predicate": "predicate in the latest release of the previous year (empty when none is published)",
    "same_situation_previous_year": "true when the previous year's predicate was also Kurang Inovatif or "
                                    "Tidak Dapat Dinilai (empty when unknown)",
}


def coaching_predicates(method: Methodology) -> tuple[str, ...]:
    """The predicates the ministry coaches: the two lowest bands of the method."""
    return tuple(b.predicate for b in method.bands[-2:])


def coaching_rows(method: Methodology, regions: list[RegionScore], lifts: Mapping[str, Lift],
                  province_names: Mapping[str, str], previous: Mapping[str, RegionScore] | None) -> list[list[Any]]:
    """One row per coached pemda, by province, level and code."""
    coached = coaching_predicates(method)
    chosen = sorted((r for r in regions if r.predicate in coached),
                    key=lambda r: (r.province_code, LEVELS.index(r.level), r.code))
    out: list[list[Any]] = []
    for r in chosen:
        lift = lifts[r.code]
        listed: list[Any] = []
        for g in lift.gains[:ROWS_LISTED]:
            listed += [g.code, g.name, round(g.gain, 4)]
        before = previous.get(r.code) if previous is not None else None
        out.append([
            r.code, r.name, r.province_code, province_names.get(r.province_code, ""), r.level, r.submitted,
            r.predicate, float(r.iid), r.rank_in_level, lift.target or "",
            round(lift.points_missing, 4) if r.submitted else None,
            float(lift.iid_missing) if r.submitted else None,
            *listed,
            before.predicate if before else None,
            (before.predicate in coached) if before else None,
        ])
    return out


def write_csv(rows: list[list[Any]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row])


# The time a coaching workbook says it was made, and its zip entries' times: a constant (the zip format's
# earliest date), so that the file is a function of its rows (openpyxl writes the time of saving into
# docProps/core.xml and into every zip entry, which made each build of the same release differ).
FIXED_TIME = datetime(1980, 1, 1)


def _reproducible(book: Workbook) -> bytes:
    """The workbook's bytes with every time in it fixed (``FIXED_TIME``), entries in openpyxl's order."""
    saved = io.BytesIO()
    book.save(saved)
    properties = book.properties  # as openpyxl wrote it, but for its times (save set "modified" to now)
    properties.created = properties.modified = FIXED_TIME
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = tostring(properties.to_tree()) if entry.filename == "docProps/core.xml" else source.read(entry)
            fixed = zipfile.ZipInfo(entry.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, entry.external_attr
            target.writestr(fixed, data)
    return out.getvalue()


def write_xlsx(rows: list[list[Any]], path: Path, year: int) -> None:
    """The same table as the CSV, for people who hand it on; a second sheet explains the columns."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"pembinaan {year}")
    sheet.freeze_panes = "C2"
    widths = {"region_name": 30, "province_name": 24, "predicate": 20, "next_predicate": 16,
              "previous_predicate": 20, "same_situation_previous_year": 14}
    for index, name in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(name, 44 if name.endswith("_name") else 12)
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"
    notes = book.create_sheet("keterangan")
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 110
    notes.append([f"Daftar pembinaan IID {year}: every Kurang Inovatif and Tidak Dapat Dinilai pemda"])
    for column, text in _EXPLAINED.items():
        notes.append([column, text])
    path.write_bytes(_reproducible(book))

