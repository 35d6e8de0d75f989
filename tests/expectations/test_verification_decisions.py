"""Verification decisions that need a home of their own: differing decisions on one answer (VER006), a level
beside accept or reject (VER007), and an adjust weighed against the level a value gives (VER003)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factory import score, write_home
from submissionparts import sid_answer, spd_answer, two_innovations

YEAR = 2024


def test_differing_decisions_on_one_answer_are_flagged_and_the_lowest_applies(tmp_path: Path) -> None:
    """Two rows deciding one answer differently are both kept and both warned of (VER006), and the lowest
    cap applies; the same decision written twice, or decisions on different answers, raise nothing."""
    sub = two_innovations("33.01")
    claimed = {a["indicator"]: a["level"] for a in sub["innovations"][0]["sid"]}
    code = next(c for c, level in claimed.items() if level >= 2)  # an answer a cap of 1 lowers
    other = next(c for c in claimed if c != code)

    def row(indicator: str, decision: str, level: Any = "") -> dict[str, Any]:
        return {"region_code": "33.01", "innovation_id": "33.01-A", "indicator": indicator, "decision": decision,
                "verified_level": level, "note": ""}

    rows = [row(code, "accept"), row(code, "adjust", 1), row(other, "accept"), row(other, " Accept ")]
    con = score(write_home(tmp_path, YEAR, {"33.01.json": sub}, rows), YEAR)
    warned = con.execute("select locator, rule, region_code, value from data_quality "
                         "where source_file = 'verification/verification.csv'").fetchall()
    assert warned == [("line 2", "VER006", "33.01", f"33.01-A / {code} / accept"),
                      ("line 3", "VER006", "33.01", f"33.01-A / {code} / adjust / 1")]
    assert con.execute("select count(*) from quarantine where source_file like 'verification/%'").fetchall() == [(0,)]
    credited = con.execute("select indicator, credited_level from indicator_scores where region_code = '33.01' "
                           "and innovation_id = '33.01-A' and indicator in (?, ?) order by indicator <> ?",
                           [code, other, code]).fetchall()
    assert credited == [(code, 1), (other, claimed[other])]


def test_a_level_beside_accept_or_reject_is_flagged_and_ignored(tmp_path: Path) -> None:
    """A verified_level written beside accept or reject (the verifier may have meant adjust) is warned of
    (VER007) and ignored: accept keeps the claimed level, reject sets 0. An adjust with its level, or an
    accept without one, raises nothing."""
    sub = two_innovations("33.01")
    claimed = {a["indicator"]: a["level"] for a in sub["innovations"][0]["sid"]}
    high = [c for c, level in claimed.items() if level >= 2]
    kept, zeroed, capped = high[0], high[1], high[2]
    quiet = next(c for c in claimed if c not in high[:3])

    def row(indicator: str, decision: str, level: Any = "") -> dict[str, Any]:
        return {"region_code": "33.01", "innovation_id": "33.01-A", "indicator": indicator, "decision": decision,
                "verified_level": level, "note": ""}

    rows = [row(kept, "accept", 1), row(zeroed, "Reject", " 2 "), row(capped, "adjust", 1), row(quiet, "accept")]
    con = score(write_home(tmp_path, YEAR, {"33.01.json": sub}, rows), YEAR)
    assert con.execute("select locator, rule, region_code, value from data_quality "
                       "where source_file = 'verification/verification.csv' order by locator").fetchall() == [
        ("line 2", "VER007", "33.01", f"33.01-A / {kept} / accept / 1"),
        ("line 3", "VER007", "33.01", f"33.01-A / {zeroed} / reject / 2")]
    assert con.execute("select count(*) from quarantine where source_file like 'verification/%'").fetchall() == [(0,)]
    credited = dict(con.execute("select indicator, credited_level from indicator_scores where region_code = '33.01' "
                                "and innovation_id = '33.01-A'").fetchall())
    assert (credited[kept], credited[zeroed], credited[capped], credited[quiet]) == (
        claimed[kept], 0, 1, claimed[quiet])


def test_an_adjust_is_weighed_against_the_level_a_value_gives(tmp_path: Path) -> None:
    """On a numeric row the value's level replaces the claim (IID.md §6), and an adjust caps that level: a
    claim of 1 whose value gives 3, adjusted to 2, is credited 2 (before, the adjust was VER003 against
    the claim of 1 and dropped, so the answer kept 3: verifying 1 gave 1, verifying 2 gave 3). An adjust
    above the level the value gives is VER003 and caps nothing."""
    sub = two_innovations("33.01")
    staff, trainings = sid_answer(sub, 0, "17"), sid_answer(sub, 0, "20")
    staff.update(level=1, value=31)      # 31 people: level 3 by the cut-points 1, 11, 31
    trainings.update(level=3, value=1)   # one training: level 1 by the cut-points 1, 2, 3
    spd = spd_answer(sub, "2a")
    spd.update(level=1, value=3)         # three years on time: level 3

    def row(innovation_id: str, indicator: str, level: int) -> dict[str, Any]:
        return {"region_code": "33.01", "innovation_id": innovation_id, "indicator": indicator, "decision": "adjust",
                "verified_level": level, "note": ""}

    rows = [row("33.01-A", "17", 2), row("", "2a", 2), row("33.01-A", "20", 2)]
    con = score(write_home(tmp_path, YEAR, {"33.01.json": sub}, rows), YEAR)
    assert con.execute("select locator, rule, value from quarantine "
                       "where source_file = 'verification/verification.csv'").fetchall() == [
        ("line 4", "VER003", "33.01-A / 20 / adjust / 2")]
    credited = con.execute("select part, indicator, value_level, level_cap, credited_level from indicator_scores "
                           "where region_code = '33.01' and (innovation_id = '33.01-A' or part = 'spd') "
                           "and indicator in ('17', '20', '2a') order by part, indicator").fetchall()
    assert credited == [("sid", "17", 3, 2, 2), ("sid", "20", 1, None, 1), ("spd", "2a", 3, 2, 2)]
