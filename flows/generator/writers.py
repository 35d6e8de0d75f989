"""Render a submission document as the bytes of a JSON export or of the manual XLSX template.

Both are byte-identical for identical documents: the XLSX package gets fixed document dates and
fixed zip entry times (openpyxl would otherwise stamp the wall-clock time).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from typing import Any

XLSX_COLUMNS: dict[str, tuple[str, ...]] = {
    "profil": ("field", "value"),
    "spd": ("indicator", "level", "value", "evidence"),
    "inovasi": ("id", "name", "unit", "form", "kind", "initiator", "affair", "stage", "trial_date",
                "implementation_date", "design", "goal", "benefit", "result"),
    "sid": ("innovation_id", "indicator", "level", "value", "evidence"),
}
HEADER_FIELDS = ("schema", "year", "region_code", "region_name", "submitted_at")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def render_json(doc: dict[str, Any]) -> bytes:
    """UTF-8 JSON, non-ASCII characters kept as they are (one line, as the online system exports)."""
    return json.dumps(doc, ensure_ascii=False).encode("utf-8") + b"\n"


def _evidence_cell(items: Any) -> Any:
    if isinstance(items, list):
        return "; ".join(str(i) for i in items) or None
    return items


def _answer_cells(answer: dict[str, Any]) -> list[Any]:
    return [answer.get("indicator"), answer.get("level"), answer.get("value"),
            _evidence_cell(answer.get("evidence"))]


def xlsx_rows(doc: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """The data rows of each sheet (header excluded), in the order they are written."""
    operator = doc.get("operator") or {}
    profile = [[key, doc.get(key)] for key in HEADER_FIELDS if key in doc]
    profile += [[f"operator_{key}", operator.get(key)] for key in ("name", "email", "phone")]
    innovations = doc.get("innovations", [])
    fields = XLSX_COLUMNS["inovasi"]
    return {
        "profil": profile,
        "spd": [_answer_cells(a) for a in doc.get("spd", [])],
        "inovasi": [[inv.get(f) for f in fields] for inv in innovations],
        "sid": [[inv.get("id"), *_answer_cells(a)] for inv in innovations for a in inv.get("sid", [])],
    }


def sid_row_number(doc: dict[str, Any], innovation: int, answer: int) -> int:
    """Excel row of an SID answer in the ``sid`` sheet (header is row 1)."""
    before = sum(len(inv.get("sid", [])) for inv in doc["innovations"][:innovation])
    return 2 + before + answer


def _repack(data: bytes, stamp: str) -> bytes:
    """Same package with fixed dates, so equal content gives equal bytes.

    openpyxl stamps ``dcterms:modified`` with the clock when saving; it becomes ``stamp``, and every
    zip entry is dated 1980-01-01.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>" + stamp.encode() + rb"\g<2>", content)
            target.writestr(entry, content)
    return out.getvalue()


def render_xlsx(doc: dict[str, Any], *, omit_sheets: tuple[str, ...] = ()) -> bytes:
    """The manual template: sheets profil, spd, inovasi, sid; header in row 1, data from row 2."""
    from openpyxl import Workbook  # only XLSX files need it

    workbook = Workbook(write_only=True)
    fixed = datetime(int(doc["year"]) if isinstance(doc.get("year"), int) else 2000, 1, 1)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.properties.creator = "SIID"
    for name, rows in xlsx_rows(doc).items():
        if name in omit_sheets:
            continue
        sheet = workbook.create_sheet(name)
        sheet.append(list(XLSX_COLUMNS[name]))
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _repack(buffer.getvalue(), fixed.strftime("%Y-%m-%dT%H:%M:%SZ"))
