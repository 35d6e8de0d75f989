"""The same submission as JSON and as an XLSX workbook is scored the same and quarantined under the same rules.

One home per format, one region per case; the pipeline runs once per home (ingest → validate → transform).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import innovation, score, submission, workbook_bytes, write_home, xlsx_bytes

YEAR = 2024


def _duplicated_id(code: str) -> dict[str, Any]:
    """Innovations 1 and 3 share an id and answer different rows: the auditor's case scored 19.11 as JSON and
    21.39 as XLSX (the workbook gave the first innovation every sid row of the id)."""
    first, third = innovation(f"{code}-A", 60), innovation(f"{code}-A", 80)
    first["sid"] = first["sid"][:5]
    return submission(code, spd_total=30, innovations=[first, innovation(f"{code}-B", 40), third])


def _answered(code: str) -> dict[str, Any]:
    """Two innovations, numeric answers with values (one contradicting its level), two evidence items."""
    first, second = innovation(f"{code}-A", 60), innovation(f"{code}-B", 40, affair="pendidikan", trial="2021-05-01")
    for answer in first["sid"]:
        if answer["indicator"] in ("17", "28"):
            answer.update(level=2, value=14 if answer["indicator"] == "17" else 3)
        if answer["indicator"] == "16":
            answer["evidence"] = ["perkada.pdf", "https://jdih.example.go.id/perkada.pdf"]
    sub = submission(code, spd_total=30, innovations=[first, second])
    for answer in sub["spd"]:
        if answer["indicator"] in ("7", "5b"):
            answer["value"] = 12.5 if answer["indicator"] == "7" else 3.1
    return sub


Cells = Callable[[str, str, Any], Any]


def _typed(change: Cells) -> Callable[[dict[str, Any]], bytes]:
    """The workbook of a submission with each cell's value passed through ``change(sheet, column, value)``:
    what an operator's Excel makes of what was typed."""
    def workbook(sub: dict[str, Any]) -> bytes:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sub)))
        for sheet in book.worksheets:
            header = [cell.value for cell in sheet[1]]
            for row in sheet.iter_rows(min_row=2):
                field = row[0].value if sheet.title == "profil" else None
                for column, cell in zip(header, row, strict=False):
                    cell.value = change(sheet.title, field if column == "value" and field else column, cell.value)
        return workbook_bytes(book)
    return workbook


def _excel_dates(sheet: str, column: str, value: Any) -> Any:
    if column in ("trial_date", "implementation_date"):
        return datetime.fromisoformat(value)
    return datetime(2024, 7, 1, 10) if column == "submitted_at" else value


def _numbers_as_text(sheet: str, column: str, value: Any) -> Any:
    return str(value) if column in ("year", "level", "value", "indicator") and value is not None else value


def _spaces_and_commas(sheet: str, column: str, value: Any) -> Any:
    if column in ("affair", "form", "stage"):
        return f"  {value.upper().replace(' ', '  ')} "
    if column == "evidence":
        return f" {value.replace('; ', ' ;  ')} ;"
    if column == "value":
        return "   " if value is None else str(value).replace(".", ",")
    return value


def _region_code_typed(sheet: str, column: str, value: Any) -> Any:
    """``35.10`` typed in a General cell is the number 35.1: the region read '35.1', SUB001, the file lost."""
    return float(value) if column == "region_code" else value


def _percent_cells(sub: dict[str, Any]) -> bytes:
    """The values of rates and growths typed with a percent sign (``3,1%``): Excel stores 0.031 and shows 3.1%,
    and 5b (unemployment rate, lower is better) read 0.031 as level 3 where 3.1 is level 2."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sub)))
    for sheet in ("spd", "sid"):
        for cell in book[sheet]["D" if sheet == "sid" else "C"][1:]:
            if isinstance(cell.value, (int, float)):
                cell.value, cell.number_format = cell.value / 100, "0.0%"
    return workbook_bytes(book)


def _zero_padded(code: str) -> dict[str, Any]:
    """Innovations ``001`` and ``002``, as the online system writes ids that a template shows zero-padded."""
    return submission(code, spd_total=30, innovations=[innovation("001", 60), innovation("002", 40)])


def _ids_typed_as_numbers(sub: dict[str, Any]) -> bytes:
    """The ids typed as numbers in the sid sheet's ``000`` column (Excel keeps 1, shows ``001``), as text in
    inovasi: every sid row named the id ``1``, no innovation of the sheet (ANS009), and the innovations had no
    answers."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sub)))
    for cell in book["sid"]["A"][1:]:
        cell.value, cell.number_format = int(cell.value), "000"
    return workbook_bytes(book)


def _numbered(code: str) -> dict[str, Any]:
    """Innovations ``1`` and ``2``."""
    return submission(code, spd_total=30, innovations=[innovation("1", 60), innovation("2", 40)])


def _ids_in_the_number_format(sub: dict[str, Any]) -> bytes:
    """The ids typed as numbers in columns given Excel's "Number" format (built-in 2, ``0.00``: 1 shows ``1.00``):
    they were read as shown, ``1.00``, where JSON and a verification CSV say ``1``."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sub)))
    for sheet in ("inovasi", "sid"):
        for cell in book[sheet]["A"][1:]:
            cell.value, cell.number_format = int(cell.value), "0.00"
    return workbook_bytes(book)


def _inovasi_ids_typed_as_numbers(sub: dict[str, Any]) -> bytes:
    """The ids typed as numbers in both sheets, the inovasi sheet's column formatted ``000`` (shows ``001``) and
    the sid sheet's left General (shows ``1``): the innovation was ``001`` and every sid row, naming ``1``, was
    ANS009 (its SID maturity 0), where before ids were read as shown both were ``1`` and matched."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sub)))
    for cell in book["inovasi"]["A"][1:]:
        cell.value, cell.number_format = int(cell.value), "000"
    for cell in book["sid"]["A"][1:]:
        cell.value = int(cell.value)
    return workbook_bytes(book)


# case -> region, submission, and the workbook of it (None: as the factory writes it)
def _without_ids(code: str) -> dict[str, Any]:
    """Two innovations without an id (INO001), each answering other rows, beside one with an id."""
    first, second = innovation("", 60), innovation("", 40)
    first["sid"], second["sid"] = first["sid"][:5], second["sid"][5:12]
    return submission(code, spd_total=30, innovations=[first, second, innovation(f"{code}-C", 50)])


CASES: dict[str, tuple[str, Callable[[str], dict[str, Any]], Callable[[dict[str, Any]], bytes] | None]] = {
    # the workbook's sid rows without an id were ANS009 (an id not in inovasi): in JSON they go with their innovation
    "without_ids": ("35.16", _without_ids, None),
    "duplicated_id": ("35.15", _duplicated_id, None),
    "excel_dates": ("35.02", _answered, _typed(_excel_dates)),
    "numbers_as_text": ("35.03", _answered, _typed(_numbers_as_text)),
    "spaces_and_commas": ("35.04", _answered, _typed(_spaces_and_commas)),
    "region_code_typed": ("35.10", _answered, _typed(_region_code_typed)),
    "percent_cells": ("35.06", _answered, _percent_cells),
    "zero_padded_ids": ("35.07", _zero_padded, _ids_typed_as_numbers),
    "zero_padded_inovasi": ("35.08", _zero_padded, _inovasi_ids_typed_as_numbers),
    "number_format_ids": ("35.09", _numbered, _ids_in_the_number_format),
}
SCORE_COLUMNS = ("submitted", "n_innovations", "spd_score", "sid_maturity_score", "innovation_count_score",
                 "total_score", "iid", "predicate")


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, duckdb.DuckDBPyConnection]:
    out = {}
    for fmt in ("json", "xlsx"):
        root: Path = tmp_path_factory.mktemp(fmt)
        files = {f"{case}.{fmt}": sub if fmt == "json" else (workbook or xlsx_bytes)(sub)
                 for case, (code, build, workbook) in CASES.items() for sub in (build(code),)}
        out[fmt] = score(write_home(root, YEAR, files), YEAR)
    return out


def _scores(con: duckdb.DuckDBPyConnection, code: str) -> tuple[Any, ...]:
    return tuple(con.execute(f"select {', '.join(SCORE_COLUMNS)} from region_scores where region_code = ?",
                             [code]).fetchall()[0])


def _rules(con: duckdb.DuckDBPyConnection, case: str, table: str = "quarantine") -> list[tuple[str, str, int]]:
    kind = "record_type" if table == "quarantine" else "record_table"
    return con.execute(f"select {kind}, rule, count(*) from {table} where source_file like ? "
                       "group by all order by all", [f"{case}.%"]).fetchall()


@pytest.mark.parametrize("case", list(CASES))
def test_both_formats_score_alike(homes: dict[str, duckdb.DuckDBPyConnection], case: str) -> None:
    code = CASES[case][0]
    scores = _scores(homes["json"], code)
    assert scores[0], f"{case}: the submission should be scored"
    assert scores == _scores(homes["xlsx"], code)
    assert _rules(homes["json"], case) == _rules(homes["xlsx"], case)
    # an Excel date-time has no time zone (SUB008: read as WIB, as the JSON's +07:00 says)
    warned = [row for row in _rules(homes["xlsx"], case, "data_quality")
              if not (case == "excel_dates" and row[1] == "SUB008")]
    assert _rules(homes["json"], case, "data_quality") == warned


@pytest.mark.parametrize("code", ["35.07", "35.08"])
def test_ids_typed_as_numbers_in_a_zero_padded_format_are_the_ids(
        homes: dict[str, duckdb.DuckDBPyConnection], code: str) -> None:
    """Zero-padded in the sid sheet only (35.07) or in the inovasi sheet only (35.08): each innovation has its
    20 answers, under the id the inovasi sheet shows."""
    for con in homes.values():
        scored = con.execute("select innovation_id, n_answers from innovation_scores where region_code = ? "
                             "order by all", [code]).fetchall()
        assert scored == [("001", 20), ("002", 20)]


def test_ids_in_a_format_with_a_fraction_are_read_as_stored(homes: dict[str, duckdb.DuckDBPyConnection]) -> None:
    for con in homes.values():
        scored = con.execute("select innovation_id, n_answers from innovation_scores where region_code = '35.09' "
                             "order by all").fetchall()
        assert scored == [("1", 20), ("2", 20)]


def test_a_duplicated_id_rejects_every_innovation_carrying_it(homes: dict[str, duckdb.DuckDBPyConnection]) -> None:
    """Both innovations with the id go, with all their answers (5 + 20 rows); the other one is scored alone."""
    for con in homes.values():
        assert _rules(con, "duplicated_id") == [("evidence", "INO007", 25), ("innovation", "INO007", 2),
                                                ("sid_answer", "INO007", 25)]
        scored = con.execute("select innovation_id from innovation_scores where region_code = '35.15'").fetchall()
        assert scored == [("35.15-B",)]
    # in the workbook each sid row of the id is rejected itself, naming the id: it belongs to no one innovation
    rows = homes["xlsx"].execute("select distinct value, cascaded from quarantine "
                                 "where source_file = 'duplicated_id.xlsx' and record_type = 'sid_answer'").fetchall()
    assert rows == [("35.15-A", False)]
