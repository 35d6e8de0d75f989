"""The XLSX reader's two engines read alike: calamine against openpyxl (which reads what calamine cannot) on
generated workbooks, arbitrary cell values, sheets that do not start at A1 and a dimension smaller than the data;
and on both a value shown as a percentage is read as shown."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from factory import both_engines, innovation, submission, xlsx_bytes, xlsx_patched
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.generator import generate_year
from flows.settings import Home
from flows.xlsx_formats import is_percent_format
from flows.xlsx_reader import parse_xlsx


def test_calamine_reads_generated_workbooks_as_openpyxl_does(tmp_path: Path) -> None:
    """Both engines read every generated workbook alike, with each of the generator's defect kinds among them.

    Scale 0.02 gives as many workbooks as 0.05 did (one or two per region, 621) and every defect kind an
    XLSX file can carry (duplicate_innovation_id, the only one needing two innovations, 9 times), at 60% of
    the cost: the engines are compared on the same kinds of workbook, each a little shorter."""
    from flows.generator import LEDGER_FILE
    from flows.generator.defects import applicable

    home = Home.resolve(tmp_path)
    generate_year(home, 2024, seed=5, scale=0.02, defect_rate=0.5, formats=("xlsx",))
    workbooks = sorted(home.raw_year(2024).glob("*.xlsx"))
    assert len(workbooks) > 500
    ledger = json.loads((home.raw_year(2024) / LEDGER_FILE).read_text(encoding="utf-8"))
    assert {d["kind"] for d in ledger["defects"]} == {kind.name for kind in applicable("xlsx")}
    differing = [p.name for p in workbooks if (both := both_engines(p.read_bytes()))[0] != both[1]]
    assert differing == []


def _sheet_with(cells: list[list[Any]], start: str | None = None) -> bytes:
    """A template workbook whose sid sheet holds ``cells`` (optionally starting at another cell)."""
    import openpyxl

    doc = submission("35.78", spd_total=30, innovations=[innovation("I-1", 50)])
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(doc)))
    sheet = wb["sid"]
    for number, row in enumerate(cells, start=sheet.max_row + 1):
        for column, value in enumerate(row, start=1):
            sheet.cell(number, column, value)
    if start:
        sheet.move_range(f"A1:E{sheet.max_row}", rows=int(start[1:]) - 1, cols=ord(start[0]) - ord("A"))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


CELL = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=12),
    st.sampled_from([" 3 ", "3.0", "1e3", "2,5", "#N/A", "=1+2", "=SUM(1,2)", "_x000D_", "\t", "I-1", "  "]),
    st.dates(date(1900, 3, 1), date(9999, 12, 31)),
    # a workbook keeps times to the millisecond (the engines may round a half millisecond apart)
    st.datetimes(datetime(1900, 3, 1), datetime(9999, 12, 31)).map(lambda d: d.replace(microsecond=d.microsecond
                                                                                        // 1000 * 1000)),
    st.times().map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.lists(CELL, min_size=5, max_size=5), min_size=1, max_size=4))
def test_calamine_reads_any_cell_values_as_openpyxl_does(cells: list[list[Any]]) -> None:
    calamine, openpyxl = both_engines(_sheet_with(cells))
    assert calamine == openpyxl


@pytest.mark.parametrize("start", ["B1", "A3", "C4"])
def test_a_sheet_that_does_not_start_at_a1_reads_the_same(start: str) -> None:
    calamine, openpyxl = both_engines(_sheet_with([["I-1", "16", 2, None, "x.pdf"]], start))
    assert calamine == openpyxl


def test_a_workbook_calamine_cannot_read_is_read_by_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    import python_calamine

    class Refusing:
        @staticmethod
        def from_filelike(_: Any) -> Any:
            raise python_calamine.CalamineError("calamine cannot read this workbook")

    data = _sheet_with([])
    expected = both_engines(data)[1]
    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Refusing)
    parsed = parse_xlsx(data)
    assert asdict(parsed) == expected and parsed.innovations


def test_openpyxl_reads_every_row_whatever_the_sheets_dimension_says() -> None:
    """A <dimension> smaller than the data made openpyxl (read-only) stop at its last row without a word,
    where calamine reads on: the file went to openpyxl for an error cell elsewhere and lost 59 of its 60
    SID answers. Both read every row now."""
    doc = submission("35.01", spd_total=30, innovations=[innovation("35.01-A", 50)])
    data = xlsx_patched(xlsx_bytes(doc), "xl/worksheets/sheet2.xml", b"</sheetData>",
                    b'<row r="500"><c r="D500" t="e"><v>#N/A</v></c></row></sheetData>')
    short = xlsx_patched(data, "xl/worksheets/sheet4.xml", b"<sheetData>", b'<dimension ref="A1:E2"/><sheetData>')
    expected = sum(len(i["sid"]) for i in doc["innovations"])
    for workbook in (data, short):
        assert sum(len(i.answers) for i in parse_xlsx(workbook).innovations) == expected
        assert sum(len(i.answers) for i in parse_xlsx(workbook, "openpyxl").innovations) == expected


@pytest.mark.parametrize(("code", "percent"), [
    ("0%", True), ("0.0%", True), ("#,##0.00 %", True), ('0.00"%"', False), ("0\\%", False), ("[Red]0.0", False),
    ("0.00", False), ("General", False)])
def test_a_number_format_is_a_percentage_where_it_shows_one(code: str, percent: bool) -> None:
    assert is_percent_format(code) is percent


def test_a_value_shown_as_a_percentage_is_read_as_shown() -> None:
    """``3,1%`` typed in Excel is the number 0.031: a value is read as the sheet shows it (3.1), on both engines;
    a format that only writes the sign (``0"%"``) and a level shown as a percentage are read as they are."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(submission("35.15", spd_total=30))))
    spd = book["spd"]
    for cell, value, number_format in (("C2", 0.031, "0.0%"), ("C3", 0.5, "0%"), ("C4", 12, '0.00"%"'),
                                       ("B5", 1, "0%"), ("C6", "12%", "0%")):
        spd[cell].value, spd[cell].number_format = value, number_format
    out = io.BytesIO()
    book.save(out)
    for engine in ("calamine", "openpyxl"):
        parsed = parse_xlsx(out.getvalue(), engine)
        assert [(r["level"], r["value"]) for r in parsed.spd.raws[:5]] == [
            (0, 3.1), (0, 50), (0, 12), (1, None), (0, "12%")], engine
