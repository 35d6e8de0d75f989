"""Identifier cells with a zero-padded number format (``00``, ``000``) are read as the workbook shows them.

An operator who types ``001`` in Excel gets the number 1, shown ``001`` where the column's format is ``000``;
the verification team types the id from what it sees. Both engines read such a cell as ``001``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import both_engines, innovation, submission, workbook_bytes, write_home, xlsx_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.readers import FileRejected, region_code_hint
from flows.xlsx_formats import is_zero_padded_format, zero_padded
from flows.xlsx_reader import _open_workbook, parse_xlsx

YEAR = 2024


@pytest.mark.parametrize(("code", "zero_padded_format"), [
    ("00", True), ("000", True), ("0" * 255, True),
    # a single zero shows the number as stored; a fraction (Excel's "Number", built-in 2, is 0.00) shows 1 as 1.00
    ("0", False), ("0.00", False), ("00.00", False), ("0.0", False),
    ("0" * 256, False), ("#,##0", False), ("0.00%", False), ('"ID-"000', False), ("000;-000", False),
    ("0.", False), (".00", False), ("00.00_ ", False), ("General", False), ("@", False), ("", False)])
def test_a_format_is_zero_padded_where_it_is_only_zeros(code: str, zero_padded_format: bool) -> None:
    assert is_zero_padded_format(code) is zero_padded_format


@pytest.mark.parametrize(("value", "code", "shown"), [
    (1, "000", "001"), (1.0, "000", "001"), (12345, "000", "12345"), (2.5, "00", "03"), (-1, "000", "-001"),
    (-0.4, "00", "-00"), (2**60, "00", "1152921504606847000"),  # as a float: calamine reads it so, openpyxl the int
    ("001", "000", "001"), ("x", "000", "x"), (True, "000", True), (None, "000", None),
    (float("inf"), "000", float("inf")), (1, "#,##0", 1), (1, "0", 1), (1, "0.00", 1), (35.1, "00.00", 35.1)])
def test_a_number_in_a_zero_padded_format_is_the_text_shown(value: Any, code: str, shown: Any) -> None:
    assert zero_padded(value, code) == shown


def _formatted(sub: dict[str, Any], cells: dict[tuple[str, str], tuple[Any, str]]) -> bytes:
    """The workbook of a submission with some cells (``(sheet, A2)``) holding a value in a number format."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sub)))
    for (sheet, cell), (value, number_format) in cells.items():
        book[sheet][cell].value, book[sheet][cell].number_format = value, number_format
    return workbook_bytes(book)


def _every_number_in(sub: dict[str, Any], code: str) -> bytes:
    """The workbook of a submission with every number cell of every sheet, ids typed as numbers, in ``code``."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sub)))
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=2):
            if sheet.title in ("inovasi", "sid"):
                row[0].value = int(row[0].value)
            for cell in row:
                if isinstance(cell.value, (int, float)):
                    cell.number_format = code
    return workbook_bytes(book)


def test_identifier_cells_are_read_as_their_zero_padded_format_shows_them() -> None:
    """Innovation 1 typed in a ``000`` column was the id ``1``: the team's ``001`` pointed at nothing (VER002).
    A zero-padded format (``000``, ``00``) gives the text shown, on both engines; ``0.00`` (Excel's "Number":
    shows ``2.50``), ``#,##0``, an indicator in ``00`` (no row code is ``01``) and a value keep the number stored."""
    sub = submission("35.78", spd_total=30, innovations=[innovation("I-1", 60), innovation("I-2", 40),
                                                         innovation("I-3", 40)])
    data = _formatted(sub, {
        ("inovasi", "A2"): (1, "000"), ("inovasi", "A3"): (2.5, "0.00"), ("inovasi", "A4"): (1234, "#,##0"),
        ("sid", "A2"): (1, "000"), ("sid", "A3"): (1.0, "000"), ("sid", "B3"): (17, "00"), ("sid", "D3"): (14, "000"),
        ("sid", "A4"): (2.5, "0.00"), ("sid", "A5"): (1234, "#,##0"), ("sid", "A6"): ("001", "000"),
        ("spd", "A2"): (1, "00"), ("spd", "C2"): (0.031, "0.0%")})
    calamine, openpyxl = both_engines(data)
    assert calamine == openpyxl
    parsed = parse_xlsx(data)
    assert [i.fields["id"] for i in parsed.innovations] == ["001", 2.5, 1234]
    owners = {locator: i.fields["id"] for i in parsed.innovations for locator in i.answers.locators}
    assert [owners.get(f"sid!{n}") for n in range(2, 7)] == ["001", "001", 2.5, 1234, "001"]
    sid = {locator: raw for i in parsed.innovations for locator, raw in zip(i.answers.locators, i.answers.raws,
                                                                           strict=True)}
    assert (sid["sid!3"]["indicator"], sid["sid!3"]["value"]) == (17, 14)
    assert (parsed.spd.raws[0]["indicator"], parsed.spd.raws[0]["value"]) == (1, 3.1)


def test_a_template_column_given_twice_rejects_the_workbook() -> None:
    """A row kept the last of two columns of one name, silently (0.5 beside a 0.031 shown as a percentage, 7
    beside a 1 shown ``001``): which of the two the operator meant cannot be told, as for a field of profil given
    in two rows (FIL009). The workbook is FIL006, naming the sheet, the column and where the two are; a column
    the template does not have may be there twice."""
    sub = submission("35.78", spd_total=30, innovations=[innovation("I-1", 60)])
    spd = _formatted(sub, {("spd", "E1"): ("value", "General"), ("spd", "C2"): (0.031, "0.0%"),
                           ("spd", "E2"): (0.5, "General")})
    inovasi = _formatted(sub, {("inovasi", "O1"): ("ID ", "General"), ("inovasi", "A2"): (1, "000"),
                               ("inovasi", "O2"): (7, "General")})
    extra = _formatted(sub, {("spd", "E1"): ("catatan", "General"), ("spd", "F1"): ("Catatan", "General")})
    for engine in ("calamine", "openpyxl"):
        for data, detail in ((spd, "sheet 'spd' has column(s) given twice: 'value' (C and E)"),
                             (inovasi, "sheet 'inovasi' has column(s) given twice: 'id' (A and O)")):
            with pytest.raises(FileRejected) as rejected:
                parse_xlsx(data, engine)
            assert rejected.value.rule == "FIL006" and rejected.value.detail.startswith(detail), engine
        assert len(parse_xlsx(extra, engine).spd.raws) == len(sub["spd"]), engine


@pytest.mark.parametrize("code", ["0", "0.00", "00.00"])
def test_ids_in_a_single_zero_or_a_fraction_format_are_read_as_stored(code: str) -> None:
    """Excel's "Number" format (built-in 2, ``0.00``) on the id columns showed 1 as ``1.00``, and the id was read
    so: not the ``1`` of JSON or of a verification CSV. Such formats apply to no cell now, so no sheet of a
    workbook using them everywhere is parsed for them (every one was)."""
    sub = submission("35.78", spd_total=30, innovations=[innovation("1", 60), innovation("2", 40)])
    data = _every_number_in(sub, code)
    calamine, openpyxl = both_engines(data)
    assert calamine == openpyxl
    parsed = parse_xlsx(data)
    assert [(i.fields["id"], len(i.answers)) for i in parsed.innovations] == [(1, 20), (2, 20)]
    workbook = _open_workbook(data, "calamine")
    workbook.close()
    assert workbook.shown == {}


def test_a_zero_padded_format_alone_has_only_the_identifier_sheets_parsed() -> None:
    """Every number cell in ``000``: it applies to the id columns only, so profil and spd (a year 2024, levels)
    are not parsed for it; they were. Their numbers read as stored."""
    sub = submission("35.78", spd_total=30, innovations=[innovation("1", 60), innovation("2", 40)])
    data = _every_number_in(sub, "000")
    workbook = _open_workbook(data, "calamine")
    workbook.close()
    assert set(workbook.shown) == {"inovasi", "sid"}
    parsed = parse_xlsx(data)
    assert [i.fields["id"] for i in parsed.innovations] == ["001", "002"]
    assert (parsed.header["year"], parsed.spd.raws[0]["level"]) == (YEAR, sub["spd"][0]["level"])


def _owners(data: bytes) -> dict[str, Any]:
    """The id of the innovation each sid row goes to (None: none, ANS009), the same on both engines."""
    calamine, openpyxl = both_engines(data)
    assert calamine == openpyxl
    parsed = parse_xlsx(data)
    owners: dict[str, Any] = {locator: None for locator in parsed.orphan_answers.locators}
    owners.update({locator: i.fields["id"] for i in parsed.innovations for locator in i.answers.locators})
    return owners


def test_a_sid_number_goes_to_the_innovation_whose_id_cell_stores_it() -> None:
    """inovasi's id column formatted ``000`` (1 shows ``001``), sid's left General (shows ``1``): every sid row
    named ``1``, no innovation, and was ANS009 (before ids were read as shown, both read ``1`` and matched). A sid
    number that names no id as shown goes to the one inovasi id cell storing that number, under its id as shown;
    sid's ``000`` beside inovasi's General goes to ``1`` too. Row 6 names ``7``, stored nowhere: ANS009."""
    sub = submission("35.78", spd_total=30, innovations=[innovation("1", 60), innovation("2", 40)])
    data = _formatted(sub, {("inovasi", "A2"): (1, "000"), ("inovasi", "A3"): (2, "General"),
                            ("sid", "A2"): (1, "General"), ("sid", "A3"): (1.0, "00"), ("sid", "A4"): (2, "000"),
                            ("sid", "A5"): (2, "General"), ("sid", "A6"): (7, "General")})
    owners = _owners(data)
    assert [owners[f"sid!{n}"] for n in range(2, 7)] == ["001", "001", 2, 2, None]


@pytest.mark.parametrize(("inovasi", "sid"), [
    # text ids are never matched loosely: ``01`` and ``1`` typed as text may be two innovations
    ({"A2": ("001", "@")}, (1, "General")),
    # a number stored in two id cells (shown ``001`` and ``01``) names neither, as a number or as text
    ({"A2": (1, "000"), "A3": (1, "00")}, (1, "General")), ({"A2": (1, "000"), "A3": (1, "00")}, ("1", "@"))])
def test_a_sid_id_is_not_matched_by_its_number_to_text_or_to_two_cells(inovasi: dict[str, tuple[Any, str]],
                                                                        sid: tuple[Any, str]) -> None:
    sub = submission("35.78", spd_total=30, innovations=[innovation("1", 60), innovation("2", 40)])
    cells = {("inovasi", cell): typed for cell, typed in inovasi.items()}
    data = _formatted(sub, {**cells, ("sid", "A2"): sid})
    assert _owners(data)["sid!2"] is None


def test_a_sid_text_id_goes_to_the_innovation_whose_id_cell_stores_that_number() -> None:
    """inovasi's id 1 formatted ``000`` (shows ``001``), sid's id typed as the text ``1``: before ids were read as
    shown both read ``1`` and matched; reading inovasi's as shown made every such sid row ANS009. A sid text that
    names no id as shown but is the number one inovasi id cell stores, as it read before, goes to that innovation."""
    sub = submission("35.78", spd_total=30, innovations=[innovation("1", 60)])
    data = _formatted(sub, {("inovasi", "A2"): (1, "000"), ("sid", "A2"): ("1", "@"), ("sid", "A3"): ("01", "@")})
    owners = _owners(data)
    assert (owners["sid!2"], owners["sid!3"]) == ("001", None)


def test_a_sid_number_shown_zero_padded_goes_to_the_text_id_it_read_as_before() -> None:
    """inovasi's id typed as the text ``1``, sid's id the number 1 formatted ``000`` (shows ``001``): before ids
    were read as shown the sid row read ``1`` and matched; as shown it named no innovation (ANS009)."""
    sub = submission("35.78", spd_total=30, innovations=[innovation("1", 60)])
    data = _formatted(sub, {("inovasi", "A2"): ("1", "@"), ("sid", "A2"): (1, "000"), ("sid", "A3"): (7, "000")})
    owners = _owners(data)
    assert (owners["sid!2"], owners["sid!3"]) == ("1", None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ids=st.lists(st.tuples(st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False,
                                                                                  allow_infinity=False)),
                              st.sampled_from(["00", "000", "0" * 40, "0.00", "00.00"])),
                    min_size=1, max_size=4))
def test_both_engines_read_any_number_in_a_zero_padded_format_alike(ids: list[tuple[Any, str]]) -> None:
    sub = submission("35.78", spd_total=30, innovations=[innovation(f"I-{n}", 40) for n in range(len(ids))])
    cells = {("inovasi", f"A{n}"): typed for n, typed in enumerate(ids, start=2)}
    cells.update({("sid", f"A{n}"): typed for n, typed in enumerate(ids, start=2)})
    calamine, openpyxl = both_engines(_formatted(sub, cells))
    assert calamine == openpyxl


@pytest.mark.parametrize(("typed", "code"), [(35.1, "35.10"), (35, "35"), (35.78, "35.78")])
def test_a_region_code_in_a_zero_padded_format_reads_as_the_code(typed: float, code: str) -> None:
    """A region code is no identifier column: 35.1 shown ``035`` in ``000`` reads as 35.10 (region_code_text,
    SUB001); a province typed 35 in the same cell shows ``035``, no region, and reads as the province 35."""
    data = _formatted(submission("35.10", spd_total=30), {("profil", "B4"): (typed, "000")})
    calamine, openpyxl = both_engines(data)
    assert calamine == openpyxl
    assert region_code_hint(parse_xlsx(data).header["region_code"]) == code


def _same_content(code: str) -> dict[str, Any]:
    return submission(code, spd_total=30, innovations=[innovation("001", 60), innovation("002", 40)])


def test_zero_padded_ids_are_scored_and_verified_through_iid_run(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A workbook of region 35.10 (shown ``35.10`` in ``00.00``) with innovations 1 and 2 shown ``001`` and
    ``002`` in its inovasi and sid sheets, and a verification CSV typed from what it shows: ``001`` rejected
    whole, an answer of ``002`` adjusted. Before, the ids were ``1`` and ``2``, both rows VER002, and neither
    decision applied.

    Beside it, innovations ``001`` and ``002`` as JSON (35.11) and as two workbooks typing the ids as numbers:
    35.12 with inovasi's column ``000`` and sid's General (shows ``1``: every sid row was ANS009, the SID maturity
    0), 35.13 with inovasi's as text and sid's ``000``. All three score alike."""
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setenv("IID_EARLY_SERVER", "0")
    sub = submission("35.10", spd_total=30, innovations=[innovation("1", 60), innovation("2", 40)])
    cells: dict[tuple[str, str], tuple[Any, str]] = {("profil", "B4"): (35.1, "00.00")}
    cells.update({("inovasi", f"A{n}"): (n - 1, "000") for n in (2, 3)})
    cells.update({("sid", f"A{n}"): (1 if n <= 21 else 2, "000") for n in range(2, 42)})
    adjusted = next(a for a in sub["innovations"][1]["sid"] if a["level"] >= 2)
    inovasi_padded = {("inovasi", f"A{n}"): (n - 1, "000") for n in (2, 3)}
    inovasi_padded.update({("sid", f"A{n}"): (1 if n <= 21 else 2, "General") for n in range(2, 42)})
    sid_padded = {("sid", f"A{n}"): (1 if n <= 21 else 2, "000") for n in range(2, 42)}
    home = write_home(tmp_path, YEAR, {
        "banyuwangi.xlsx": _formatted(sub, cells), "bondowoso.json": _same_content("35.11"),
        "situbondo.xlsx": _formatted(_same_content("35.12"), inovasi_padded),
        "probolinggo.xlsx": _formatted(_same_content("35.13"), sid_padded)}, [
        {"region_code": "35.10", "innovation_id": "001", "indicator": "", "decision": "reject",
         "verified_level": "", "note": ""},
        {"region_code": "35.10", "innovation_id": "002", "indicator": adjusted["indicator"], "decision": "adjust",
         "verified_level": 1, "note": ""}])
    result = CliRunner().invoke(app, ["run", "--year", str(YEAR), "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    catalog = duckdb.connect(str(home.catalog), read_only=True)
    assert catalog.execute("select rule, locator, value from quarantine").fetchall() == []
    assert catalog.execute("select innovation_id, verification_rejected, n_answers from innovation_scores "
                           "where region_code = '35.10' order by innovation_id").fetchall() == [
        ("001", True, 20), ("002", False, 20)]
    assert catalog.execute("select claimed_level, credited_level from indicator_scores where innovation_id = '002' "
                           "and region_code = '35.10' and indicator = ?", [adjusted["indicator"]]).fetchall() == [
        (adjusted["level"], 1)]
    assert catalog.execute("select submitted from region_scores where region_code = '35.10'").fetchall() == [(True,)]
    scores = {code: catalog.execute("select submitted, spd_score, sid_maturity_score, total_score, iid, predicate "
                                    "from region_scores where region_code = ?", [code]).fetchall()
              for code in ("35.11", "35.12", "35.13")}
    assert scores["35.11"][0][0] and scores["35.11"] == scores["35.12"] == scores["35.13"]
    assert catalog.execute("select region_code, innovation_id, n_answers from innovation_scores "
                           "where region_code <> '35.10' order by all").fetchall() == [
        (code, ident, 20) for code in ("35.11", "35.12", "35.13") for ident in ("001", "002")]


def test_column_letters_are_the_inverse_of_the_column_numbers_a_sheet_uses() -> None:
    from flows.xlsx_formats import _column_number, column_letters

    assert [column_letters(n) for n in (1, 26, 27, 52, 703, 16384)] == ["A", "Z", "AA", "AZ", "AAA", "XFD"]
    assert all(_column_number(column_letters(n)) == n for n in range(1, 16385))
