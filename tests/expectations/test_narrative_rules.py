"""The innovations' narratives: checked by their length in characters (INO012), and a design shorter than the
minimum rejected under iid-2026 (INO011)."""

from __future__ import annotations

from pathlib import Path

from factory import innovation, score, submission, write_home


def test_narratives_are_checked_by_their_length_in_characters(tmp_path: Path) -> None:
    """The narratives land as their length (``<field>_chars``), not their text: 50,000 characters with spaces
    around them are accepted, 50,001 are INO012 with the length as the value. (A workbook cannot hold more:
    a cell holds at most 32,767 characters.)"""
    at_limit = innovation("L-1", 50, goal=" " + "é" * 50_000 + "\n", design=" dua  kata ")
    over = innovation("L-2", 50, benefit="m" * 50_001, result="   ")
    home = write_home(tmp_path, 2024, {"l.json": submission("35.01", spd_total=20, innovations=[at_limit, over])})
    con = score(home, 2024)
    assert con.execute("select innovation_id, design_chars, goal_chars, benefit_chars, result_chars, design_words "
                       "from landing_innovations order by 1").fetchall() == [
        ("L-1", 9, 50_000, 7, 5, 2), ("L-2", 2399, 6, 50_001, None, 320)]
    assert con.execute("select locator, rule, value, reason from quarantine where record_type = 'innovation'"
                       ).fetchall() == [
        ("$.innovations[1]", "INO012", "50001", "benefit (manfaat) is longer than 50000 characters")]
    assert con.execute("select innovation_id from innovation_scores order by 1").fetchall() == [("L-1",)]


def test_design_shorter_than_minimum_is_rejected_under_iid_2026(tmp_path: Path) -> None:
    short = innovation("P-1", 50, year=2026, trial="2024-01-01", implemented="2025-01-01", design="terlalu pendek")
    long = innovation("P-2", 50, year=2026, trial="2024-01-01", implemented="2025-01-01")
    home = write_home(tmp_path, 2026, {"p.json": submission("35.01", year=2026, spd_total=20,
                                                            innovations=[short, long])})
    con = score(home, 2026)
    assert con.execute("select locator, rule from quarantine where record_type = 'innovation'").fetchall() == [
        ("$.innovations[0]", "INO011")]
    assert con.execute("select n_innovations from region_scores where region_code = '35.01'").fetchall() == [(1,)]
