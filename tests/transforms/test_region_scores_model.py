"""The region_scores model on small hand-made tables: exact rounding, band edges, ranks."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from flows.methodology import for_year
from flows.pipeline import transform_params
from transforms.runner import load_reference, run_model

BASIC = ["pendidikan", "kesehatan", "pekerjaan umum dan penataan ruang", "perumahan rakyat dan kawasan permukiman",
         "ketenteraman, ketertiban umum, dan pelindungan masyarakat", "sosial"]


def scored(year: int, cases: dict[str, tuple[float, int, str, int]]) -> dict[str, tuple[Decimal, str, int]]:
    """cases: code -> (spd score, n innovations, maturity sum as text, basic urusan covered)."""
    con = duckdb.connect()
    load_reference(con, year, for_year(year).method)
    con.execute("create or replace table regions as select * from regions where 1 = 0")
    con.execute("create table stg_submissions (region_code varchar, source_file varchar, source_sha256 varchar, "
                "submitted_at timestamptz, status varchar)")
    con.execute("create table indicator_scores (region_code varchar, part varchar, score decimal(12, 4))")
    con.execute("create table innovation_scores (region_code varchar, counts_in_n boolean, "
                "verification_rejected boolean, maturity_score decimal(12, 4), affair varchar, "
                "basic_service_affair boolean)")
    for i, (code, (spd, n, maturity, basic)) in enumerate(cases.items()):
        con.execute("insert into regions values (?, ?, 'kabupaten', '11', true, false, false, null)",
                    [code, f"Kabupaten {i}"])
        con.execute("insert into stg_submissions values (?, 'f.json', 'x', now(), 'counting')", [code])
        con.execute("insert into indicator_scores values (?, 'spd', ?)", [code, spd])
        for j in range(n):
            affair = BASIC[j] if j < basic else "pariwisata"
            con.execute("insert into innovation_scores values (?, true, false, ?, ?, ?)",
                        [code, Decimal(maturity) if j == 0 else 0, affair, j < basic])
    run_model(con, "marts/region_scores", transform_params(year))
    return {code: (iid, predicate, rank) for code, iid, predicate, rank in con.execute(
        "select region_code, iid, predicate, rank_in_level from region_scores").fetchall()}


def test_band_edges_iid_2023() -> None:
    # total = spd + maturity / 10 + 0.38 × 10; IID = total / 2.5
    out = scored(2024, {
        "11.01": (20, 10, "637", 0),       # total 87.5     → 35.00 Inovatif
        "11.02": (20, 10, "636.75", 0),    # total 87.475   → 34.99 Kurang Inovatif
        "11.03": (40, 10, "1062", 0),      # total 150      → 60.00 Inovatif
        "11.04": (40, 10, "1062.25", 0),   # total 150.025  → 60.01 Sangat Inovatif
        "11.05": (0, 0, "0", 0),           # submitted, nothing earned → 0.00 Tidak Dapat Dinilai
        "11.06": (30, 10, "662.125", 0),   # total 100.0125 → 40.005, half up → 40.01
    })
    assert out["11.01"][:2] == (Decimal("35.00"), "Inovatif")
    assert out["11.02"][:2] == (Decimal("34.99"), "Kurang Inovatif")
    assert out["11.03"][:2] == (Decimal("60.00"), "Inovatif")
    assert out["11.04"][:2] == (Decimal("60.01"), "Sangat Inovatif")
    assert out["11.05"][:2] == (Decimal("0.00"), "Tidak Dapat Dinilai")
    assert out["11.06"][:2] == (Decimal("40.01"), "Inovatif")
    assert [out[c][2] for c in ("11.04", "11.03", "11.06", "11.01", "11.02", "11.05")] == [1, 2, 3, 4, 5, 6]


def test_band_edges_iid_2026() -> None:
    # divisor 12, 12 innovations over 5 basic urusan → JI 4.56; total = spd + maturity / 12 + 4.56
    out = scored(2026, {
        "11.01": (30, 12, "785.28", 5),    # total 100     → 40.00 Kurang Inovatif
        "11.02": (30, 12, "785.58", 5),    # total 100.025 → 40.01 Inovatif
        "11.03": (50, 12, "1295.28", 5),   # total 162.5   → 65.00 Inovatif
        "11.04": (50, 12, "1295.58", 5),   # total 162.525 → 65.01 Sangat Inovatif
        "11.05": (50, 12, "1295.58", 4),   # 4 basic urusan → JI 0 → total 157.965 → 63.19 Inovatif
    })
    assert out["11.01"][:2] == (Decimal("40.00"), "Kurang Inovatif")
    assert out["11.02"][:2] == (Decimal("40.01"), "Inovatif")
    assert out["11.03"][:2] == (Decimal("65.00"), "Inovatif")
    assert out["11.04"][:2] == (Decimal("65.01"), "Sangat Inovatif")
    assert out["11.05"][:2] == (Decimal("63.19"), "Inovatif")


def test_shared_ranks_and_non_submitters_rank_last_tied() -> None:
    out = scored(2024, {"11.01": (30, 10, "500", 0), "11.02": (30, 10, "500", 0), "11.03": (10, 10, "100", 0),
                        "11.04": (0, 0, "0", 0), "11.05": (0, 0, "0", 0)})
    assert [out[c][2] for c in ("11.01", "11.02", "11.03", "11.04", "11.05")] == [1, 1, 3, 4, 4]


@pytest.mark.parametrize("n, divisor", [(3, 10), (10, 10), (14, 14)])
def test_divisor_is_max_of_minimum_and_n(n: int, divisor: int) -> None:
    out = scored(2024, {"11.01": (21, n, "111", 0)})
    expected = Decimal(21 + 111 / divisor + 0.38 * n) * 100 / 250
    assert out["11.01"][0] == expected.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
