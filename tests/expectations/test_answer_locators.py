"""A SID answer or evidence item in the quarantine, the warnings and the scored tables has its file and its
locator: a SID answer's is its innovation's with ``.sid[j]`` after it in JSON, its row of the sheet ``sid`` in
XLSX (``sid!n``); an evidence item's is its answer's with ``.evidence[i]`` (JSON) or ``#evidence[i]`` (XLSX)
after it. Landing keeps neither text with those rows (flows/landing.py), so the SQL works them out; the expected
locators here are those the rows were landed with before (checked against that code)."""

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
    sub["innovations"][0]["sid"][4].update(level=2, evidence=[])  # a warning (ANS008), scored 0
    sub["innovations"][1]["sid"][1]["level"] = 9  # rejected (ANS003), and its evidence with it
    return sub, one, two


Tables = dict[str, set[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tables, int, int, int]:
    json_sub, one, two = _with_bad_evidence("35.01")
    xlsx_sub, one_x, two_x = _with_bad_evidence("35.02")
    assert (one, two) == (one_x, two_x)
    home = write_home(tmp_path_factory.mktemp("evidence"), YEAR,
                      {"35.01-1.json": json_sub, "35.02-1.xlsx": xlsx_bytes(xlsx_sub)})
    con = score(home, YEAR)
    try:
        tables = {
            "evidence": set(con.execute("select source_file, locator, rule, cascaded from quarantine "
                                        "where record_type = 'evidence'").fetchall()),
            "sid": set(con.execute("select source_file, locator, rule, cascaded from quarantine "
                                   "where record_type = 'sid_answer'").fetchall()),
            "warned": set(con.execute("select source_file, locator, rule from data_quality "
                                      "where record_table = 'sid_answers'").fetchall()),
            "scored": set(con.execute("select source_file, locator, indicator from indicator_scores "
                                      "where part = 'sid'").fetchall()),
        }
    finally:
        con.close()
    return tables, one, two, len(json_sub["innovations"][0]["sid"])


def _of(rows: set[tuple[Any, ...]], name: str) -> set[tuple[Any, ...]]:
    return {row for row in rows if row[0] == name}


def test_a_rejected_json_evidence_item_has_its_answer_s_locator_and_its_place(
        scored: tuple[Tables, int, int, int]) -> None:
    tables, one, two, _ = scored
    assert _of(tables["evidence"], "35.01-1.json") == {
        ("35.01-1.json", f"$.spd[{one}].evidence[1]", "EVD001", False),
        ("35.01-1.json", "$.innovations[0].sid[2].evidence[2]", "EVD001", False),
        ("35.01-1.json", f"$.spd[{two}].evidence[0]", "ANS003", True),  # its answer fell, and its items with it
        ("35.01-1.json", f"$.spd[{two}].evidence[1]", "ANS003", True),
        ("35.01-1.json", "$.innovations[1].sid[1].evidence[0]", "ANS003", True),
    }


def test_a_rejected_xlsx_evidence_item_has_its_row_and_its_place_in_the_cell(
        scored: tuple[Tables, int, int, int]) -> None:
    tables, one, two, first_sid = scored
    # a sheet's first row is its header: the answer at place i of a list is on row i + 2; sheet sid holds the first
    # innovation's answers, then the second's
    assert _of(tables["evidence"], "35.02-1.xlsx") == {
        ("35.02-1.xlsx", f"spd!{one + 2}#evidence[1]", "EVD001", False),
        ("35.02-1.xlsx", "sid!4#evidence[2]", "EVD001", False),
        ("35.02-1.xlsx", f"spd!{two + 2}#evidence[0]", "ANS003", True),
        ("35.02-1.xlsx", f"spd!{two + 2}#evidence[1]", "ANS003", True),
        ("35.02-1.xlsx", f"sid!{first_sid + 3}#evidence[0]", "ANS003", True),
    }


def test_a_sid_answer_rejected_warned_or_scored_has_its_locator_in_json_and_xlsx(
        scored: tuple[Tables, int, int, int]) -> None:
    tables, _, _, first_sid = scored
    assert tables["sid"] == {("35.01-1.json", "$.innovations[1].sid[1]", "ANS003", False),
                             ("35.02-1.xlsx", f"sid!{first_sid + 3}", "ANS003", False)}
    assert tables["warned"] == {("35.01-1.json", "$.innovations[0].sid[4]", "ANS008"),
                                ("35.02-1.xlsx", "sid!6", "ANS008")}
    json_scored, xlsx_scored = _of(tables["scored"], "35.01-1.json"), _of(tables["scored"], "35.02-1.xlsx")
    assert len(json_scored) == len(xlsx_scored) == 2 * first_sid - 1  # both innovations' answers but the rejected
    assert {locator for _, locator, _ in json_scored} == (
        {f"$.innovations[0].sid[{j}]" for j in range(first_sid)}
        | {f"$.innovations[1].sid[{j}]" for j in range(first_sid) if j != 1})
    assert {locator for _, locator, _ in xlsx_scored} == {f"sid!{n}" for n in range(2, 2 + 2 * first_sid)
                                                           if n != first_sid + 3}


def test_landing_keeps_an_evidence_item_s_place_not_its_texts(tmp_path_factory: pytest.TempPathFactory) -> None:
    """What the SQL works the locators out from: an item's place in its answer's evidence, a SID answer's in its
    innovation's list."""
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
        sid_columns = [r[0] for r in con.execute("select column_name from information_schema.columns "
                                                 "where table_name = 'landing_sid_answers'").fetchall()]
        sid_places = con.execute("select i.locator, list(a.position order by a.record_id) from landing_sid_answers a "
                                 "join landing_innovations i on i.record_id = a.innovation_record_id "
                                 "group by all order by all").fetchall()
    finally:
        con.close()
    assert "locator" not in columns and "source_file" not in columns and "position" in columns
    assert places == [(0,), (1,)]
    assert "locator" not in sid_columns and "source_file" not in sid_columns and "position" in sid_columns
    assert sid_places == [(f"$.innovations[{k}]", list(range(len(sub["innovations"][k]["sid"])))) for k in (0, 1)]
