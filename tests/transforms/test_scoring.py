"""Whole scoring on tiny hand-computed years: ingest → validate → transform, no Prefect."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from factory import BASIC, innovation, region, score, submission, write_home


def _many(prefix: str, count: int, sid_total: float, affairs: list[str], year: int) -> list[dict]:
    dates = {"trial": f"{year - 2}-02-01", "implemented": f"{year - 1}-03-01"}
    return [innovation(f"{prefix}-{i}", sid_total, affair=affairs[i % len(affairs)], year=year, **dates)
            for i in range(count)]


def test_arithmetic_checks_of_iid_2026(tmp_path: Path) -> None:
    """IID.md §4: the four published arithmetic checks of the iid-2026 method."""
    year = 2026
    home = write_home(tmp_path, year, {
        "a.json": submission("11", year=year, spd_total=63, innovations=_many("A", 200, 111, BASIC, year)),
        "b.json": submission("12", year=year, spd_total=40, innovations=_many("B", 20, 70, BASIC[:5], year)),
        "c.json": submission("13", year=year, spd_total=40, innovations=_many("C", 20, 70, BASIC[:4], year)),
        "d.json": submission("14", year=year, spd_total=40, innovations=_many("D", 8, 80, BASIC[:5], year)),
    })
    con = score(home, year)
    a, b, c, d = (region(con, code) for code in ("11", "12", "13", "14"))
    assert (a["iid"], a["predicate"], a["total_score"]) == (Decimal("100.00"), "Sangat Inovatif", 250.0)
    assert (b["iid"], b["predicate"]) == (Decimal("47.04"), "Inovatif")
    assert abs(b["total_score"] - 117.60) < 1e-9 and abs(b["innovation_count_score"] - 7.60) < 1e-9
    assert (c["iid"], c["predicate"], c["innovation_count_score"]) == (Decimal("44.00"), "Inovatif", 0.0)
    assert abs(c["total_score"] - 110.0) < 1e-9
    assert d["divisor_used"] == 12 and abs(d["sid_maturity_score"] - 640 / 12) < 1e-9
    assert [x["rank_in_level"] for x in (a, b, c, d)] == [1, 2, 3, 4]
    assert a["methodology"] == "iid-2026"


def test_iid_2026_counts_only_innovations_implemented_in_the_two_previous_years(tmp_path: Path) -> None:
    year = 2026
    old = [innovation(f"O-{i}", 50, affair=BASIC[i % 6], trial="2020-01-01", implemented="2021-06-01")
           for i in range(3)]
    recent = _many("R", 2, 50, BASIC, year)
    home = write_home(tmp_path, year, {"x.json": submission("11", year=year, spd_total=10, innovations=old + recent)})
    con = score(home, year)
    assert region(con, "11")["n_innovations"] == 2
    counted = dict(con.execute("select innovation_id, counts_in_n from innovation_scores").fetchall())
    assert counted == {"O-0": False, "O-1": False, "O-2": False, "R-0": True, "R-1": True}


def test_small_region_is_divided_by_ten(tmp_path: Path) -> None:
    """n = 3 < 10: SPD 21 + 3 × 37 / 10 + 0.38 × 3 = 33.24 → 13.30 (IID.md §3)."""
    invs = [innovation(f"S-{i}", 37) for i in range(3)]
    home = write_home(tmp_path, 2024, {"s.json": submission("35.15", spd_total=21, innovations=invs)})
    s = region(score(home, 2024), "35.15")
    assert s["divisor_used"] == 10 and s["n_innovations"] == 3
    assert (s["iid"], s["predicate"]) == (Decimal("13.30"), "Kurang Inovatif")


def test_value_level_evidence_and_verification(tmp_path: Path) -> None:
    sub = submission("35.78", spd_total=0, innovations=[innovation("K-1", 0), innovation("K-2", 0),
                                                        innovation("K-3", 0)])
    by_code = {a["indicator"]: a for a in sub["spd"]}
    by_code["7"].update(level=3, value=12.5)             # value says level 2 (−5.14 ≤ 12.5 < 33.85): 1.5 × 2
    by_code["5b"].update(level=1, value=2.0)              # lower is better: 2.0 < 2.35 → level 3: 0.75 × 3
    by_code["12"].update(level=3, evidence=[])            # no evidence: 0 although claimed 3
    by_code["1"].update(level=3)                          # verification adjusts to 1: 1 × 1
    k1 = {a["indicator"]: a for a in sub["innovations"][0]["sid"]}
    k1["16"].update(level=3)                              # 3 × 3 = 9, verification caps at 2 → 6
    k1["35"].update(level=3)                              # 4 × 3 = 12
    k2 = {a["indicator"]: a for a in sub["innovations"][1]["sid"]}
    k2["31"].update(level=3)                              # rejected innovation: 0, still counts in n
    verification: list[dict[str, Any]] = [
        {"region_code": "35.78", "innovation_id": "", "indicator": "1", "decision": "adjust", "verified_level": 1,
         "note": "hanya misi"},
        {"region_code": "35.78", "innovation_id": "K-1", "indicator": "16", "decision": "adjust",
         "verified_level": 2, "note": "perkada belum ditetapkan"},
        {"region_code": "35.78", "innovation_id": "K-1", "indicator": "35", "decision": "accept",
         "verified_level": "", "note": ""},
        {"region_code": "35.78", "innovation_id": "K-2", "indicator": "", "decision": "reject", "verified_level": "",
         "note": "bukan inovasi"},
    ]
    home = write_home(tmp_path, 2024, {"sby.json": sub}, verification)
    con = score(home, 2024)
    s = region(con, "35.78")
    credited = dict(con.execute("select indicator, credited_level from indicator_scores where part = 'spd' "
                                "and credited_level > 0").fetchall())
    assert credited == {"7": 2, "5b": 3, "1": 1}
    # a score is the weight times the credited level, exactly, as the 8-byte decimal(18, 4) (decimal(28, 4), the
    # product's own type, took 16 bytes a score in the work database and the release)
    assert con.execute("select distinct typeof(score), score = weight * credited_level from indicator_scores"
                       ).fetchall() == [("DECIMAL(18,4)", True)]
    assert con.execute("select score from indicator_scores where innovation_id = 'K-1' and indicator = '16'"
                       ).fetchall() == [(Decimal("6.0000"),)]
    assert s["spd_score"] == 1.5 * 2 + 0.75 * 3 + 1
    assert s["n_innovations"] == 3 and s["n_innovations_rejected"] == 1
    assert abs(s["sid_maturity_score"] - (6 + 12) / 10) < 1e-9
    assert abs(s["total_score"] - (6.25 + 1.8 + 0.38 * 3)) < 1e-9
    warned = {r for (r,) in con.execute("select distinct rule from data_quality").fetchall()}
    assert {"ANS007", "ANS008"} <= warned


def test_latest_on_time_submission_counts(tmp_path: Path) -> None:
    first = submission("35.15", spd_total=10, submitted_at="2024-07-01T08:00:00+07:00")
    correction = submission("35.15", spd_total=20, submitted_at="2024-08-02T23:59:00+07:00")
    late = submission("35.15", spd_total=60, submitted_at="2024-08-03T00:00:01+07:00")
    only_late = submission("35.16", spd_total=60, submitted_at="2024-09-01T10:00:00+07:00")
    home = write_home(tmp_path, 2024, {"1.json": first, "2.json": correction, "3.json": late, "4.json": only_late})
    con = score(home, 2024)
    status = dict(con.execute("select source_file, status from stg_submissions").fetchall())
    assert status == {"1.json": "superseded", "2.json": "counting", "3.json": "late", "4.json": "late"}
    assert region(con, "35.15")["spd_score"] == 20
    late_only = region(con, "35.16")
    assert (late_only["submitted"], late_only["iid"], late_only["predicate"]) == (
        False, Decimal("0.00"), "Tidak Dapat Dinilai")


def test_every_pemda_has_one_row_and_non_submitters_are_not_assessed(tmp_path: Path) -> None:
    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    con = score(home, 2024)
    total, distinct, tdd = con.execute("select count(*), count(distinct region_code), count(*) filter "
                                       "(where predicate = 'Tidak Dapat Dinilai') from region_scores").fetchall()[0]
    assert (total, distinct, tdd) == (546, 546, 545)
    assert con.execute("select count(*) from region_scores where region_code like '31.%'").fetchall()[0][0] == 0


def test_identical_regions_share_a_rank(tmp_path: Path) -> None:
    files = {f"{code}.json": submission(code, spd_total=30, innovations=[innovation("X", 50)])
             for code in ("35.78", "35.71", "35.72")}
    files["35.73.json"] = submission("35.73", spd_total=31, innovations=[innovation("X", 50)])
    con = score(write_home(tmp_path, 2024, files), 2024)
    ranks = {c: region(con, c)["rank_in_level"] for c in ("35.73", "35.78", "35.71", "35.72")}
    assert ranks == {"35.73": 1, "35.78": 2, "35.71": 2, "35.72": 2}
