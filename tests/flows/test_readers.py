"""The readers' fast paths give exactly what the reference readers give.

JSON: orjson against the standard library parser. XLSX: calamine against openpyxl (which reads what
calamine cannot), on generated workbooks, awkward ones and arbitrary cell values.
"""

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
from flows.readers import FileRejected, parse_json, region_code_hint
from flows.settings import Home
from flows.xlsx_formats import is_percent_format, shown_cells, shown_styles
from flows.xlsx_reader import parse_xlsx, sheet_span


def _reference(text: str) -> object:
    """What the standard library parser makes of a text, refusing duplicate keys."""
    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise FileRejected("FIL009", "duplicate")
        return dict(items)
    return json.loads(text, object_pairs_hook=pairs)


def _doc(**changes: object) -> dict[str, object]:
    doc = submission("35.78", spd_total=30, innovations=[innovation("35.78-1", 50)])
    doc.update(changes)
    return doc


@pytest.mark.parametrize("text", [
    json.dumps(_doc()),
    json.dumps(_doc(), indent=2),
    json.dumps(_doc(region_name='Kota "Batu": kota apel')),  # a quoted key-like text inside a value
    json.dumps(_doc(note={"a": {"b": [1, {"c": None}]}})),
    json.dumps(_doc(year=2**70)),  # beyond 64 bits: orjson refuses, the standard parser reads it
    json.dumps(_doc(level=float("nan"))),  # NaN is not JSON: orjson refuses, the standard parser reads it
    '{"schema": "iid.submission/v1", "year": 2024, "spd": [{"indicator": "1", "level": 1e309}]}',
    '{"schema": "iid.submission/v1", "region_name": "\\ud83d\\ude00"}',  # a surrogate pair: one character
])
def test_fast_path_reads_what_the_standard_parser_reads(text: str) -> None:
    parsed = parse_json(text.encode())
    reference = _reference(text)
    assert isinstance(reference, dict)
    assert parsed.header == {k: reference.get(k) for k in ("year", "region_code", "region_name", "submitted_at")}
    assert parsed.spd.raws == reference.get("spd", [])
    assert parsed.spd.locators == [f"$.spd[{i}]" for i in range(len(parsed.spd))]


@pytest.mark.parametrize("text", [
    '{"schema": "iid.submission/v1", "year": 2024, "year": 2025}',
    '{"schema": "iid.submission/v1", "spd": [{"indicator": "1", "level": 1, "level": 2}]}',
    '{"schema": "iid.submission/v1", "innovations": [{"id": "x", "sid": [{"evidence": [{"a": 1, "a" : 2}]}]}]}',
    '{"schema": "iid.submission/v1", "note": "say \\"a\\": b", "year": 1, "year": 2}',
])
def test_duplicate_keys_anywhere_are_refused(text: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json(text.encode())
    assert caught.value.rule == "FIL009"


@pytest.mark.parametrize(("text", "where"), [
    ('{"schema": "iid.submission/v1", "region_name": "Kota \\ud800"}', "$.region_name holds the escape \\ud800"),
    ('{"schema": "iid.submission/v1", "spd": [{"evidence": ["a", "\\udc01b"]}]}', "$.spd[0].evidence[1] holds"),
    ('{"schema": "iid.submission/v1", "innovations": [{"x\\ud83d": 1}]}', "a key of $.innovations[0] holds"),
    ('{"schema": "iid.submission/v1", "region_name": "\\ude00\\ud83d"}', "holds the escape \\ude00"),  # reversed pair
])
def test_a_lone_surrogate_rejects_the_file_and_says_where(text: str, where: str) -> None:
    """Half of a UTF-16 surrogate pair is valid JSON but no character: no UTF-8 table can hold it, so the
    file is rejected (FIL002) with the place, instead of stopping the year's ingest."""
    with pytest.raises(FileRejected) as caught:
        parse_json(text.encode())
    assert caught.value.rule == "FIL002"
    assert where in caught.value.detail


def test_nesting_past_the_limit_is_refused_wherever_it_is_parsed() -> None:
    """A document 101 levels deep is refused (FIL008) also when orjson reads it (its limit is 1,024) and
    deep in a flow's stack, where turning the value into text ran out of stack and stopped the year's
    ingest; 100 levels are read."""
    from flows.landing import RECORD_TABLES, LandingBatch
    from flows.readers import MAX_JSON_DEPTH

    def doc(depth: int) -> bytes:  # the object itself is the first level
        return ('{"schema": "iid.submission/v1", "region_name": ' + "[" * (depth - 1) + "]" * (depth - 1)
                + "}").encode()

    def in_deep_stack(frames: int, data: bytes) -> str:
        if frames:
            return in_deep_stack(frames - 1, data)
        try:
            batch = LandingBatch(dict.fromkeys(RECORD_TABLES, 0))
            batch.add_parsed(0, "f.json", parse_json(data))
            batch.tables()
        except FileRejected as exc:
            return f"{exc.rule}: {exc.detail}"
        return "read"

    assert in_deep_stack(0, doc(MAX_JSON_DEPTH)) == "read"
    assert in_deep_stack(0, doc(MAX_JSON_DEPTH + 1)).startswith("FIL008: JSON nested 101 levels deep")
    assert in_deep_stack(150, doc(900)).startswith("FIL008: JSON nested 900 levels deep")


def test_deep_nesting_is_refused_as_before() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json(("[" * 50_000 + "]" * 50_000).encode())
    assert caught.value.rule == "FIL008"


def test_an_integer_longer_than_python_converts_is_kept_as_its_digits() -> None:
    """A JSON integer of 5,001 digits is valid JSON, but ``int()`` refuses more than 4,300 digits: the
    ValueError stopped the year's ingest. The number is kept as its digits, which convert to no level,
    year or value (the answer is ANS005, a level ANS002), with the digits as the text shown; every other
    number of the file is read as before, and 1e400 stays an infinite float."""
    from flows.landing import RECORD_TABLES, LandingBatch

    digits = "1" + "0" * 5000
    text = json.dumps(_doc(year=2024, region_name="x")).replace('"region_name": "x"', f'"region_name": -{digits}')
    text = text.replace('"level": ', f'"value": {digits}, "level": ', 1).replace('"year": 2024', '"year": 1e400')
    parsed = parse_json(text.encode())
    assert parsed.header["region_name"] == "-" + digits and parsed.header["year"] == float("inf")
    first, second = parsed.spd.raws[:2]
    assert first["value"] == digits and type(first["level"]) is int and "value" not in second
    batch = LandingBatch(dict.fromkeys(RECORD_TABLES, 0))
    batch.add_parsed(0, "f.json", parsed)
    answer = batch.tables()["spd_answers"].slice(0, 1).to_pylist()[0]
    assert (answer["value"], answer["value_raw"], answer["level"]) == (None, digits, first["level"])


ODD_VALUES: list[Any] = [None, "", "  ", "3", " 3 ", "3.0", "tiga", 3, 3.0, 3.5, -0.0, True, False, 2**63, 1e309,
                         float("nan"), "1,5", " Sid 03 ", "SID_03", "sid 03", {"a": 1}, [1, 2], "\u00a0x\u00a0", "é"]


def test_bulk_answer_rows_equal_the_general_conversions() -> None:
    """LandingBatch's short paths for plain values give exactly what text/whole_number/number/code_text give."""
    from flows.landing import LandingBatch
    from flows.readers import Answers
    from flows.values import code_text, number, text, whole_number

    raws = [{"indicator": indicator, "level": level, "value": value, "evidence": [level, value, indicator]}
            for indicator, level, value in ((a, b, c) for a in ODD_VALUES for b in ODD_VALUES[:12]
                                            for c in ODD_VALUES[::5])]
    batch = LandingBatch({"spd_answers": 0, "evidence": 0})
    batch._answers("spd_answers", 7, "f.json", Answers.from_json("$.spd", raws))
    rows, evidence = batch.columns["spd_answers"], batch.columns["evidence"]
    for i, a in enumerate(raws):
        assert rows["locator"][i] == f"$.spd[{i}]"
        assert rows["indicator"][i] == code_text(a["indicator"])
        assert rows["level"][i] == whole_number(a["level"]) and rows["level_raw"][i] == text(a["level"])
        value = number(a["value"]) if a["value"] is not None else None
        assert rows["value"][i] == value or (value != value and rows["value"][i] != rows["value"][i])
        assert rows["value_raw"][i] == (text(a["value"]) if a["value"] is not None else None)
    assert evidence["item"] == [text(item) for a in raws for item in a["evidence"]]
    assert evidence["locator"] == [f"$.spd[{i}].evidence[{j}]" for i in range(len(raws)) for j in range(3)]
    assert evidence["answer_record_id"] == [i for i in range(len(raws)) for _ in range(3)]


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


def test_what_calamine_cannot_read_in_a_sheet_openpyxl_may() -> None:
    """A boolean cell holding 2 stops calamine while it reads the sheet; openpyxl reads it (as True)."""
    parsed = parse_xlsx(_spd_row(b'<c r="A500" t="inlineStr"><is><t>S99</t></is></c><c r="B500" t="b"><v>2</v></c>'))
    assert [a for a in parsed.spd.raws if a.get("indicator") == "S99"]


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


def test_a_sheet_full_of_unclosed_cell_tags_is_read_in_one_pass() -> None:
    """``<c `` after ``<c `` with no ``>``: a search for a cell's attributes that ran on past the next tag
    went once over the rest of the part for every such tag (150 KB took three minutes; the span check and
    the percentage cells read every sheet of every workbook). A hostile upload must not hold up the year."""
    hostile = b"<worksheet><sheetData><row r='1'>" + b"<c " * 2_000_000
    assert sheet_span(hostile) == (1, 0)
    assert sheet_span(b"<row " * 2_000_000 + b"<row r='7'><c r='C7'/>") == (7, 3)
    assert shown_cells(hostile, {1: "%"}) == {}
    assert shown_styles(b"<styleSheet><cellXfs" * 1_000_000) == {}
