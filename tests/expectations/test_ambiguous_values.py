"""ANS010: a value written as text that reads two ways (``"1.500"``: 1.5, or one thousand five hundred in
Indonesian) is flagged with the text as written and still scored as read; a number written as a number is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factory import innovation, score, submission, write_home, xlsx_bytes

YEAR = 2024
REASON = ("value (nilai) is written as text with a separator before exactly three digits (1.500): read as 1.5; "
          "if you meant one thousand five hundred, write 1500")


def _base(code: str) -> dict[str, Any]:
    return submission(code, spd_total=30, innovations=[innovation(f"{code}-A", 60), innovation(f"{code}-B", 40)])


def _spd(sub: dict[str, Any], code: str) -> dict[str, Any]:
    return next(a for a in sub["spd"] if a["indicator"] == code)


def _sid(sub: dict[str, Any], inv: int, code: str) -> dict[str, Any]:
    return next(a for a in sub["innovations"][inv]["sid"] if a["indicator"] == code)


def test_only_a_number_written_as_text_is_said_to_be_read_two_ways(tmp_path: Path) -> None:
    """ANS010 flags a value written as text with one separator before exactly three digits (``"1.500"``,
    ``"-12,250"``), the text as the value, and the answer is still read and scored as 1.5. A number written
    as a number (JSON ``1.125``, in a file of numbers only or beside texts; an XLSX number cell) is exact, and
    ``"0.125"``, ``"1.5"``, ``"1500.250"`` or ``"1.500.000"`` (ANS005) are not read two ways; nor is a value on a
    row that is not numeric, where no value is scored."""
    texts = _base("35.01")
    for (indicator, value), answer in zip([("33", "1.500"), ("17", "0.125"), ("31", " 1,500 "), ("20", "1.5"),
                                           ("24", "1500.250"), ("22", 1.125), ("27", "1.500.000")],
                                          [_sid(texts, 0, c) for c in ("33", "17", "31", "20", "24", "22", "27")],
                                          strict=True):
        assert answer["indicator"] == indicator
        answer["value"] = value
    _spd(texts, "7")["value"] = "-12,250"
    _spd(texts, "1")["value"] = "2.500"  # a row scored by its level, not a number: its value is never read
    numbers = _base("35.02")
    _sid(numbers, 0, "33")["value"] = 1.125
    _spd(numbers, "13a")["value"] = 1.125
    workbook = _base("35.03")
    _sid(workbook, 0, "33")["value"] = 1.125  # a number cell
    _sid(workbook, 1, "33")["value"] = "1,500"  # a text cell
    _spd(workbook, "13a")["value"] = "1.250"
    home = write_home(tmp_path, YEAR, {"texts.json": texts, "numbers.json": numbers,
                                       "workbook.xlsx": xlsx_bytes(workbook)})
    con = score(home, YEAR)
    assert con.execute("select source_file, locator, region_code, value, reason from data_quality "
                       "where rule = 'ANS010' order by 1, 2").fetchall() == [
        ("texts.json", "$.innovations[0].sid[15]", "35.01", "1,500", REASON),
        ("texts.json", "$.innovations[0].sid[17]", "35.01", "1.500", REASON),
        ("texts.json", "$.spd[8]", "35.01", "-12,250", REASON),
        ("workbook.xlsx", "sid!39", "35.03", "1,500", REASON),
        ("workbook.xlsx", "spd!18", "35.03", "1.250", REASON)]
    assert con.execute("select source_file, rule, value from quarantine where not cascaded").fetchall() == [
        ("texts.json", "ANS005", "1.500.000")]
    # read as written, with the decimal comma or point: 1.5 beneficiaries is level 1
    assert con.execute("select region_code, innovation_id, value, value_level, credited_level from indicator_scores "
                       "where indicator = '33' and value is not null order by 1, 2").fetchall() == [
        ("35.01", "35.01-A", 1.5, 1, 1), ("35.02", "35.02-A", 1.125, 1, 1), ("35.03", "35.03-A", 1.125, 1, 1),
        ("35.03", "35.03-B", 1.5, 1, 1)]

