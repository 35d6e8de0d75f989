"""A verification row whose innovation_id differs from one of its region's only by leading zeros says so (VER002).

The team types ids from what a workbook shows (``001``), and a spreadsheet saving the CSV drops the zeros unless
the column is text: such a row points at nothing, as any row naming an unknown id, but its reason names the
zeros and what to write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factory import innovation, score, submission, write_home

YEAR = 2024
ZEROS = "differs from an innovation id of the region's counting submission only by leading zeros"


def _row(region: str, innovation_id: str, indicator: str = "", decision: str = "reject",
         level: Any = "") -> dict[str, Any]:
    return {"region_code": region, "innovation_id": innovation_id, "indicator": indicator, "decision": decision,
            "verified_level": level, "note": ""}


def test_an_id_apart_by_leading_zeros_is_named_in_the_reason(tmp_path: Path) -> None:
    rows = [
        _row("33.02", "001"),  # the submission has 1
        _row("33.02", "0001", "16", "adjust", 1),  # an answer of 1
        _row("33.02", "7"),  # the submission has 007: the CSV lost its zeros in a spreadsheet
        _row("33.02", "404"),  # no innovation at all
        _row("33.02", "1-A"),  # A-7 and 1-A are not zeros apart
        _row("33.03", "01"),  # 1 is an innovation of 33.02, not of 33.03
        _row("33.02", "1"),  # the innovation itself: applied
    ]
    home = write_home(tmp_path, YEAR, {
        "33.02.json": submission("33.02", spd_total=30, innovations=[innovation("1", 60), innovation("007", 40),
                                                                     innovation("A-7", 40)]),
        "33.03.json": submission("33.03", spd_total=30, innovations=[innovation("X", 50)])}, rows)
    con = score(home, YEAR)
    found = con.execute("select locator, rule, value, reason from quarantine where source_file like 'verification/%' "
                        "order by locator").fetchall()
    assert [(locator, rule, value) for locator, rule, value, _ in found] == [
        ("line 2", "VER002", "001 / reject"), ("line 3", "VER002", "0001 / 16 / adjust / 1"),
        ("line 4", "VER002", "7 / reject"), ("line 5", "VER002", "404 / reject"), ("line 6", "VER002", "1-A / reject"),
        ("line 7", "VER002", "01 / reject")]
    zeros = [locator for locator, _, _, reason in found if ZEROS in reason]
    assert zeros == ["line 2", "line 3", "line 4"]
    assert all("write the id exactly as the submission has it" in reason for _, _, _, reason in found[:3])
    assert {reason for _, _, _, reason in found[3:]} == {
        "the row points at no answer or innovation of the region's counting submission"}
    # only the row naming the id as the submission has it applies
    assert con.execute("select innovation_id, verification_rejected from innovation_scores "
                       "where region_code = '33.02' order by all").fetchall() == [
        ("007", False), ("1", True), ("A-7", False)]
