"""Awkward workbooks: a sheet no engine can read, a profil field given twice, two sheets standing for one or a
sheet reaching far outside its table reject the file (naming the sheet, never a cell's content, and the region
its profil names); sheet names in another case, rows outside the template and a far cell are read."""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Any

import pytest
from factory import both_engines, innovation, submission, xlsx_bytes, xlsx_patched

from flows.readers import FileRejected, region_code_hint
from flows.xlsx_formats import shown_cells, shown_styles
from flows.xlsx_reader import parse_xlsx, sheet_span


def _spd_row(cells: bytes) -> bytes:
    """The template of a small submission with one more row of raw cell XML in its 'spd' sheet."""
    doc = submission("35.01", spd_total=30, innovations=[innovation("35.01-A", 50)])
    return xlsx_patched(xlsx_bytes(doc), "xl/worksheets/sheet2.xml", b"</sheetData>",
                    b'<row r="500">' + cells + b"</row></sheetData>")


@pytest.mark.parametrize(("cells", "found"), [
    (b'<c r="B500" t="n"><v>abc</v></c>', "sheet 'spd' is unreadable"),  # a number cell holding text
    (b'<c r="B500" t="s"><v>99999</v></c>', "sheet 'spd' is unreadable"),  # no such shared string
    (b'<c r="B500" t="d"><v>not a date</v></c>', "sheet 'spd' is unreadable"),  # an ISO date cell that is none
    (b'<c r="B500" t="e"><v>#N/A</v></c><c r="C500"><v>nan</v></c>', "sheet 'spd' is unreadable"),
])
def test_a_sheet_the_readers_cannot_read_rejects_its_file(cells: bytes, found: str) -> None:
    """calamine reads a sheet's cells after the workbook opened: what it fails on there goes to openpyxl,
    and what neither can read rejects the file (FIL006, naming the sheet) instead of stopping the year's
    ingest with the reader's own error (CalamineError, XmlError, ValueError …, found by fuzzing)."""
    with pytest.raises(FileRejected) as rejected:
        parse_xlsx(_spd_row(cells))
    assert (rejected.value.rule, found in rejected.value.detail) == ("FIL006", True), rejected.value.detail


def test_what_calamine_cannot_read_in_a_sheet_openpyxl_may() -> None:
    """A boolean cell holding 2 stops calamine while it reads the sheet; openpyxl reads it (as True)."""
    parsed = parse_xlsx(_spd_row(b'<c r="A500" t="inlineStr"><is><t>S99</t></is></c><c r="B500" t="b"><v>2</v></c>'))
    assert [a for a in parsed.spd.raws if a.get("indicator") == "S99"]


PLANTED = "pii.planted@example.org"


def _profil_email_typed(cell_type: bytes) -> bytes:
    """The template of a small submission whose operator e-mail (profil!B8) is a cell of another type."""
    doc = submission("35.01", spd_total=30, innovations=[innovation("35.01-A", 50)])
    doc["operator"]["email"] = PLANTED
    return xlsx_patched(xlsx_bytes(doc), "xl/worksheets/sheet1.xml",
                        b'<c r="B8" t="inlineStr"><is><t>' + PLANTED.encode() + b"</t></is></c>",
                        b'<c r="B8" t="' + cell_type + b'"><v>' + PLANTED.encode() + b"</v></c>")


@pytest.mark.parametrize("cell_type", [b"n", b"b", b"d", b"s"])
def test_an_unreadable_sheet_is_named_without_what_its_cells_hold(cell_type: bytes) -> None:
    """The readers' messages quote the cell they fail on (``could not convert string to float:
    'pii.planted@…'``): the reason, published in quarantine, said it. It names the sheet, the rows read
    before and the kind of error only."""
    for engine in ("calamine", "openpyxl"):
        with pytest.raises(FileRejected) as rejected:
            parse_xlsx(_profil_email_typed(cell_type), engine)
        assert (rejected.value.rule, rejected.value.detail) == (
            "FIL006", "sheet 'profil' is unreadable after row 7 (ValueError)")


def _profil_with(*rows: list[Any]) -> bytes:
    """The template of a small submission with more rows at the end of its 'profil' sheet."""
    import openpyxl

    doc = submission("35.01", spd_total=30, innovations=[innovation("35.01-A", 50)])
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(doc)))
    for row in rows:
        wb["profil"].append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("field", "value"), [
    ("submitted_at", "2024-09-30T10:00:00+07:00"), ("region_code", "35.02"), (" Region_Code ", "35.01"),
    ("operator_email", PLANTED), ("operator_phone", "0811-PLANTED"), ("schema", "iid.submission/v1")])
def test_a_profil_field_given_twice_rejects_the_file(field: str, value: str) -> None:
    """A second submitted_at or region_code row was read silently, the last one winning (in JSON a key
    given twice is FIL009). The reason names the field and its rows, never a value (an operator's contact)."""
    name = field.strip().lower()
    row = {"schema": 2, "region_code": 4, "submitted_at": 6, "operator_email": 8, "operator_phone": 9}[name]
    for engine in ("calamine", "openpyxl"):
        with pytest.raises(FileRejected) as rejected:
            parse_xlsx(_profil_with([field, value]), engine)
        assert (rejected.value.rule, rejected.value.detail) == (
            "FIL009", f"sheet 'profil' gives the field {name!r} twice (rows {row} and 10); keep one row")


def test_rows_of_profil_outside_the_template_may_repeat() -> None:
    """Fields the template does not know are ignored, as keys JSON does not know: the same twice rejects nothing."""
    parsed = parse_xlsx(_profil_with(["catatan", "satu"], ["catatan", "dua"], [None, "tanpa nama"], [None, "lagi"]))
    assert parsed.header["region_code"] == "35.01"


@pytest.mark.parametrize(("workbook", "rule", "region"), [
    (lambda: xlsx_bytes(submission("61.04", spd_total=30), drop_sheet="sid"), "FIL006", "61.04"),
    (lambda: _spd_row(b'<c r="B500" t="n"><v>abc</v></c>'), "FIL006", "35.01"),  # spd unreadable, profil read
    (lambda: _profil_with(["submitted_at", "2024-07-02T10:00:00+07:00"]), "FIL009", "35.01"),
    (lambda: _profil_with(["schema", "iid.submission/v0"]), "FIL009", "35.01"),
    (lambda: _profil_with(["region_code", "35.02"]), "FIL009", None),  # which of the two?
    (lambda: _profil_email_typed(b"n"), "FIL006", None),  # profil itself unreadable
    (lambda: xlsx_bytes(submission("61.04", spd_total=30), drop_sheet="profil"), "FIL006", None),
])
def test_a_rejected_workbook_names_the_region_its_profil_names(workbook: Any, rule: str, region: str | None) -> None:
    """Every rejected workbook had no region in quarantine, so `iid feedback --region` told the region
    nothing was rejected: where its profil sheet was read and names one region code, the rejection carries it."""
    for engine in ("calamine", "openpyxl"):
        with pytest.raises(FileRejected) as rejected:
            parse_xlsx(workbook(), engine)
        assert (rejected.value.rule, rejected.value.region_hint) == (rule, region)


@pytest.mark.parametrize(("written", "code"), [(35.1, "35.10"), (35.01, "35.01"), (35, "35"), (35.0, "35"),
                                             (" 35.10 ", "35.10"), (35.123, None), (float("nan"), None)])
def test_a_region_code_typed_as_a_number_reads_as_the_code(written: Any, code: str | None) -> None:
    """Excel keeps a typed 35.10 as the number 35.1, which read as the region '35.1' (SUB001: the file lost)."""
    assert region_code_hint(written) == code


@pytest.mark.parametrize("code", ["pii.planted@example.org", "35.01 atau 35.02", "3501"])
def test_only_a_region_code_is_taken_from_a_rejected_workbook(code: str) -> None:
    doc = submission("35.01", spd_total=30)
    doc["region_code"] = code
    with pytest.raises(FileRejected) as rejected:
        parse_xlsx(xlsx_bytes(doc, drop_sheet="sid"))
    assert rejected.value.region_hint is None


def _sheets_named(titles: dict[str, str], extra: str | None = None) -> bytes:
    """The template of a small submission with its sheets renamed (and a copy of 'sid' named ``extra``), in
    the workbook's XML: openpyxl renames a title that clashes with another ignoring case ('Profil1')."""
    import openpyxl

    doc = submission("35.01", spd_total=30, innovations=[innovation("35.01-A", 50)])
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(doc)))
    wb.copy_worksheet(wb["sid"]).title = "extra"
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    for name, title in [*titles.items(), *([("extra", extra)] if extra is not None else [])]:
        data = xlsx_patched(data, "xl/workbook.xml", f'name="{name}"'.encode(), f'name="{title}"'.encode())
    return data


def test_sheet_names_match_ignoring_case_and_surrounding_spaces() -> None:
    """'Profil' was a missing sheet (FIL006), where column names already matched ignoring case."""
    expected = asdict(parse_xlsx(_sheets_named({})))
    renamed = _sheets_named({"profil": "Profil", "spd": " SPD ", "inovasi": "INOVASI", "sid": "Sid "})
    assert both_engines(renamed) == [expected, expected]


@pytest.mark.parametrize(("titles", "extra", "detail"), [
    ({}, "SID", "sheets 'sid' and 'SID' both stand for sheet 'sid'"),
    ({"profil": "Profil"}, "profil ", "sheets 'Profil' and 'profil ' both stand for sheet 'profil'"),
])
def test_two_sheets_standing_for_one_reject_the_file(titles: dict[str, str], extra: str, detail: str) -> None:
    for rejected in both_engines(_sheets_named(titles, extra)):
        assert rejected == ("FIL006", f"{detail} (sheet names match ignoring case and surrounding spaces); keep one")


@pytest.mark.parametrize(("row", "cell"), [(b"1048576", b"XFD1048576"), (b"600", b"ZZZZZ600"),
                                         (b"99999999999", b"B99999999999")])
def test_a_sheet_reaching_far_outside_its_table_is_too_large(row: bytes, cell: bytes) -> None:
    """calamine makes a sheet's whole span from A1 at once: a cell at XFD1048576 asked for 512 GB and
    aborted the process, with no exception to catch and no file named. Such a sheet is FIL008, named."""
    with pytest.raises(FileRejected) as rejected:
        parse_xlsx(xlsx_patched(_spd_row(b'<c r="A500"><v>1</v></c>'), "xl/worksheets/sheet2.xml", b"</sheetData>",
                            b'<row r="' + row + b'"><c r="' + cell + b'"><v>1</v></c></row></sheetData>'))
    assert rejected.value.rule == "FIL008" and "sheet 'spd' reaches row" in rejected.value.detail


def test_a_cell_far_to_the_right_on_one_row_is_read() -> None:
    """A note at XFD1 (the last column of the header row) spans 16,384 cells a row, within the limit: read."""
    doc = submission("35.01", spd_total=30, innovations=[innovation("35.01-A", 50)])
    data = xlsx_patched(xlsx_bytes(doc), "xl/worksheets/sheet2.xml", b"</row>", b'<c r="XFD1"><v>1</v></c></row>')
    read = [{k: v for k, v in row.items() if k != "1"} for row in parse_xlsx(data).spd.raws]  # '1': XFD1's header
    assert read == parse_xlsx(xlsx_bytes(doc)).spd.raws


def test_a_sheet_full_of_unclosed_cell_tags_is_read_in_one_pass() -> None:
    """``<c `` after ``<c `` with no ``>``: a search for a cell's attributes that ran on past the next tag
    went once over the rest of the part for every such tag (150 KB took three minutes; the span check and
    the percentage cells read every sheet of every workbook). A hostile upload must not hold up the year."""
    hostile = b"<worksheet><sheetData><row r='1'>" + b"<c " * 2_000_000
    assert sheet_span(hostile) == (1, 0)
    assert sheet_span(b"<row " * 2_000_000 + b"<row r='7'><c r='C7'/>") == (7, 3)
    assert shown_cells(hostile, {1: "%"}) == {}
    assert shown_styles(b"<styleSheet><cellXfs" * 1_000_000) == {}
