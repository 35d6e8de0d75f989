"""A generated year with injected defects: every defect is caught by its rule, nothing is lost;
the same content in XLSX and JSON scores the same."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from factory import innovation, score, submission, write_home, xlsx_bytes

from flows.generator import LEDGER_FILE, generate_year
from flows.generator.defects import CATALOGUE
from flows.settings import Home

YEAR = 2024


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict, duckdb.DuckDBPyConnection]:
    home = Home.resolve(tmp_path_factory.mktemp("defects"))
    generate_year(home, YEAR, seed=8, scale=0.05, defect_rate=0.25)  # a seed whose ledger covers every kind
    ledger = json.loads((home.raw_year(YEAR) / LEDGER_FILE).read_text(encoding="utf-8"))
    return home, ledger, score(home, YEAR)


def test_ledger_covers_the_whole_catalogue(defective: tuple[Home, dict, duckdb.DuckDBPyConnection]) -> None:
    _, ledger, _ = defective
    kinds = Counter(d["kind"] for d in ledger["defects"])
    assert set(kinds) == {k.name for k in CATALOGUE}, f"missing: {({k.name for k in CATALOGUE}) - set(kinds)}"


def test_every_injected_defect_is_caught_by_its_rule(defective: tuple[Home, dict, duckdb.DuckDBPyConnection]) -> None:
    _, ledger, con = defective
    found = set(con.execute("select source_file, locator, rule from quarantine union all "
                            "select source_file, locator, rule from data_quality").fetchall())
    missed = [d for d in ledger["defects"] if (d["file"], d["locator"], d["rule"]) not in found]
    assert missed == []


def test_quarantine_and_warnings_are_stored_in_their_models_order(
        defective: tuple[Home, dict, duckdb.DuckDBPyConnection]) -> None:
    """Both tables are published as stored, so they are stored in their models' final ``order by``
    (nulls last)."""
    _, _, con = defective
    for table, order in (("quarantine", "source_file, record_type, record_id"),
                         ("data_quality", "source_file, locator, rule")):
        rows = con.execute(f"select {order} from {table}").fetchall()
        assert len(rows) > 100
        assert rows == sorted(rows, key=lambda row: [(value is None, value) for value in row]), table


def test_reconciliation_balances_with_defects(defective: tuple[Home, dict, duckdb.DuckDBPyConnection]) -> None:
    _, ledger, con = defective
    assert con.execute("select count(*) from reconciliation where not balanced").fetchall() == [(0,)]
    read, scored, quarantined, superseded, late = con.execute(
        "select sum(records_read), sum(records_scored), sum(records_quarantined), sum(records_superseded), "
        "sum(records_late) from reconciliation").fetchall()[0]
    assert read == scored + quarantined + superseded + late
    assert quarantined >= sum(1 for d in ledger["defects"] if d["severity"] == "reject")


def test_xlsx_scores_like_the_same_content_in_json(tmp_path: Path) -> None:
    content = {code: submission(code, spd_total=33.5, innovations=[innovation("A-1", 61), innovation("A-2", 20)])
               for code in ("35.78", "35.71")}
    content["35.78"]["spd"][6].update(value=3.1)        # a numeric value and an empty evidence list travel too
    content["35.71"]["spd"][6].update(value=3.1)
    content["35.78"]["innovations"][0]["sid"][3]["evidence"] = []
    content["35.71"]["innovations"][0]["sid"][3]["evidence"] = []
    home = write_home(tmp_path, YEAR, {"json.json": content["35.78"], "book.xlsx": xlsx_bytes(content["35.71"])})
    con = score(home, YEAR)
    columns = "spd_score, sid_maturity_score, innovation_count_score, total_score, iid, predicate, n_innovations"
    rows = con.execute(f"select region_code, {columns} from region_scores where region_code in ('35.78', '35.71') "
                       "order by region_code").fetchall()
    assert rows[0][1:] == rows[1][1:] and rows[0][5] > 0
    answers = con.execute("select region_code, count(*), sum(score) from indicator_scores group by 1 order by 1")
    first, second = answers.fetchall()
    assert first[1:] == second[1:]
