"""A rejected evidence item is quarantined with its file and its locator: its answer's locator followed by its
place in the answer's evidence, ``.evidence[i]`` in JSON and ``#evidence[i]`` in an XLSX cell. Landing keeps
neither text with the item (flows/landing.py), so the quarantine works them out; the expected locators here are
those the items were landed with before (checked against that code)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from factory import score, write_home, xlsx_bytes
from submissionparts import two_innovations

YEAR = 2024


def _with_bad_evidence(code: str) -> tuple[dict[str, Any], int, int]:
    """Region ``code``'s submission with: SPD row "1"'s second item bad (EVD001), innovation 0's third SID answer's
    third item bad, and SPD row "2a" at level 9 (ANS003) with two items, which fall with it. Returns the submission
    and the places of rows "1" and "2a" in its SPD list."""
    sub = two_innovations(code)
    spd = sub["spd"]
    one = next(i for i, a in enumerate(spd) if a["indicator"] == "1")
    two = next(i for i, a in enumerate(spd) if a["indicator"] == "2a")
    spd[one]["evidence"] = ["rpjmd.pdf", "../../etc/passwd"]
    spd[two].update(level=9, evidence=["lra-2023.pdf", "https://jdih.example.go.id/perda.pdf"])
    sub["innovations"][0]["sid"][2]["evidence"] = ["perkada.pdf", "sk-tim.pdf", "no extension"]
    return sub, one, two


@pytest.fixture(scope="module")
def quarantined(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[tuple[Any, ...]], int, int]:
    json_sub, one, two = _with_bad_evidence("35.01")
    xlsx_sub, one_x, two_x = _with_bad_evidence("35.02")
    assert (one, two) == (one_x, two_x)
    home = write_home(tmp_path_factory.mktemp("evidence"), YEAR,
                      {"35.01-1.json": json_sub, "35.02-1.xlsx": xlsx_bytes(xlsx_sub)})
    con = score(home, YEAR)
    try:
        rows = con.execute("select source_file, locator, rule, cascaded from quarantine "
                           "where record_type = 'evidence'").fetchall()
    finally:
        con.close()
    return set(rows), one, two


def test_a_rejected_json_evidence_item_has_its_answer_s_locator_and_its_place(
        quarantined: tuple[set[tuple[Any, ...]], int, int]) -> None:
    rows, one, two = quarantined
    json_rows = {row for row in rows if row[0] == "35.01-1.json"}
    assert json_rows == {
        ("35.01-1.json", f"$.spd[{one}].evidence[1]", "EVD001", False),
        ("35.01-1.json", "$.innovations[0].sid[2].evidence[2]", "EVD001", False),
        ("35.01-1.json", f"$.spd[{two}].evidence[0]", "ANS003", True),  # its answer fell, and its items with it
        ("35.01-1.json", f"$.spd[{two}].evidence[1]", "ANS003", True),
    }


def test_a_rejected_xlsx_evidence_item_has_its_row_and_its_place_in_the_cell(
        quarantined: tuple[set[tuple[Any, ...]], int, int]) -> None:
    rows, one, two = quarantined
    xlsx_rows = {row for row in rows if row[0] == "35.02-1.xlsx"}
    # a sheet's first row is its header: the answer at place i of a list is on row i + 2
    assert xlsx_rows == {
        ("35.02-1.xlsx", f"spd!{one + 2}#evidence[1]", "EVD001", False),
        ("35.02-1.xlsx", "sid!4#evidence[2]", "EVD001", False),
        ("35.02-1.xlsx", f"spd!{two + 2}#evidence[0]", "ANS003", True),
        ("35.02-1.xlsx", f"spd!{two + 2}#evidence[1]", "ANS003", True),
    }


def test_landing_keeps_an_evidence_item_s_place_not_its_texts(tmp_path_factory: pytest.TempPathFactory) -> None:
    """What the quarantine works the locators out from: the item's place in its answer's evidence."""
    sub, one, _ = _with_bad_evidence("35.03")
    home = write_home(tmp_path_factory.mktemp("landing"), YEAR, {"35.03-1.json": sub})
    from flows import pipeline

    pipeline.ingest(home, YEAR)
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        columns = [r[0] for r in con.execute("select column_name from information_schema.columns "
                                             "where table_name = 'landing_evidence' order by ordinal_position")
                   .fetchall()]
        places = con.execute("select e.position from landing_evidence e join landing_spd_answers a "
                             "on e.answer_table = 'spd_answers' and a.record_id = e.answer_record_id "
                             "where a.locator = ? order by e.record_id", [f"$.spd[{one}]"]).fetchall()
    finally:
        con.close()
    assert "locator" not in columns and "source_file" not in columns and "position" in columns
    assert places == [(0,), (1,)]
