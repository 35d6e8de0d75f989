"""Every rule code fires on a bad record, and the good records of the same file are still scored.

One year holds one region per case; the pipeline runs once (ingest → validate → transform)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import duckdb
import pytest
from factory import score, write_home, xlsx_bytes, xlsx_patched
from submissionparts import sid_answer, spd_answer, two_innovations

YEAR = 2024
Mutation = Callable[[dict[str, Any]], Any]


def _set(target: Callable[[dict[str, Any]], dict[str, Any]], **changes: Any) -> Mutation:
    def mutate(sub: dict[str, Any]) -> dict[str, Any]:
        target(sub).update(changes)
        return sub
    return mutate


def _drop(target: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Mutation:
    def mutate(sub: dict[str, Any]) -> dict[str, Any]:
        del target(sub)[key]
        return sub
    return mutate


def _raw_number(target: Callable[[dict[str, Any]], dict[str, Any]], key: str, number: str) -> Mutation:
    """A field written as a JSON number ``json.dumps`` cannot write (5,001 digits): the file's bytes."""
    def mutate(sub: dict[str, Any]) -> bytes:
        target(sub)[key] = "@number@"
        return json.dumps(sub).replace('"@number@"', number).encode()
    return mutate


def _append_spd(answer: dict[str, Any]) -> Mutation:
    def mutate(sub: dict[str, Any]) -> dict[str, Any]:
        sub["spd"].append(answer)
        return sub
    return mutate


def _duplicate_innovation(sub: dict[str, Any]) -> dict[str, Any]:
    sub["innovations"].append(json.loads(json.dumps(sub["innovations"][0])))
    return sub


def _xlsx_email_in_a_number_cell(sub: dict[str, Any]) -> bytes:
    """A workbook whose operator e-mail (profil!B8) is a number cell: no reader can read the sheet, and
    their messages quote the cell."""
    email = sub["operator"]["email"].encode()
    return xlsx_patched(xlsx_bytes(sub), "xl/worksheets/sheet1.xml",
                        b'<c r="B8" t="inlineStr"><is><t>' + email + b"</t></is></c>",
                        b'<c r="B8" t="n"><v>' + email + b"</v></c>")


def _xlsx_profil_field_twice(sub: dict[str, Any]) -> bytes:
    """A workbook whose 'profil' sheet gives submitted_at a second time (later than the first)."""
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sub)))
    wb["profil"].append(["submitted_at", "2024-07-30T10:00:00+07:00"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _inv0(sub: dict[str, Any]) -> dict[str, Any]:
    return dict(sub["innovations"][0]) and sub["innovations"][0]


# case id -> (region code, mutation or raw content, rule, severity, locator, whole file rejected)
CASES: dict[str, tuple[str, Any, str, str, str, bool]] = {
    "empty_file": ("35.01", b"", "FIL001", "reject", "(file)", True),
    "latin1": ("35.02", lambda s: json.dumps({**s, "region_name": "Kabupaten Pacitán"},
                                             ensure_ascii=False).encode("latin-1"), "FIL002", "reject", "(file)", True),
    # an escaped half of a surrogate pair: valid JSON, no character; it stopped the year's ingest before
    "lone_surrogate": ("36.03", lambda s: json.dumps({**s, "region_name": "Kabupaten Tangerang\ud800"}).encode(),
                       "FIL002", "reject", "(file)", True),
    "bom": ("35.03", lambda s: b"\xef\xbb\xbf" + json.dumps(s).encode(), "FIL003", "warn", "(file)", False),
    "truncated": ("35.04", lambda s: json.dumps(s).encode()[:300], "FIL004", "reject", "(file)", True),
    "not_json": ("35.05", b"<html><body>502 Bad Gateway</body></html>", "FIL004", "reject", "(file)", True),
    "wrong_schema": ("35.06", lambda s: json.dumps({**s, "schema": "iid.submission/v0"}).encode(), "FIL005",
                     "reject", "(file)", True),
    "xlsx_missing_sheet": ("35.07", lambda s: xlsx_bytes(s, drop_sheet="sid"), "FIL006", "reject", "(file)", True),
    # the readers' message quoted the cell, here the operator's e-mail: published in the reason and value
    "xlsx_unreadable_email": ("36.71", _xlsx_email_in_a_number_cell, "FIL006", "reject", "(file)", True),
    "unsupported": ("35.08", b"catatan operator", "FIL007", "reject", "(file)", True),
    "too_deep": ("35.09", b"[" * 100_000 + b"]" * 100_000, "FIL008", "reject", "(file)", True),
    "duplicate_keys": ("35.10", lambda s: json.dumps(s).replace('"year": 2024', '"year": 2024, "year": 2024')
                       .encode(), "FIL009", "reject", "(file)", True),
    # read silently, the last row winning, where JSON's duplicate key rejects the file
    "xlsx_profil_field_twice": ("36.72", _xlsx_profil_field_twice, "FIL009", "reject", "(file)", True),
    "unknown_region": ("99.99", None, "SUB001", "reject", "$", True),
    "jakarta_admin": ("31.71", None, "SUB002", "reject", "$", True),
    "wrong_year": ("35.11", _set(lambda s: s, year=2023), "SUB003", "reject", "$", True),
    "no_submitted_at": ("35.12", _drop(lambda s: s, "submitted_at"), "SUB004", "reject", "$", True),
    "bad_timestamp": ("35.13", _set(lambda s: s, submitted_at="kemarin sore"), "SUB005", "reject", "$", True),
    # before year 1 once in UTC: it stopped the year's ingest before
    "year_one": ("36.04", _set(lambda s: s, submitted_at="0001-01-01T00:00:00"), "SUB005", "reject", "$", True),
    "future": ("35.14", _set(lambda s: s, submitted_at="2099-01-01T00:00:00+07:00"), "SUB006", "reject", "$", True),
    # read as WIB and scored, but said: a WITA or WIT submission near the deadline may be judged off
    "no_time_zone": ("36.73", _set(lambda s: s, submitted_at="2024-07-30T09:12:00"), "SUB008", "warn", "$", False),
    "name_differs": ("35.15", _set(lambda s: s, region_name="Kab. Sidoarjo"), "SUB007", "warn", "$", False),
    "unknown_indicator": ("35.16", _set(lambda s: spd_answer(s, "3"), indicator="36x"), "ANS001", "reject", "$.spd[3]",
                          False),
    "sid_row_in_spd": ("35.17", _set(lambda s: spd_answer(s, "3"), indicator="16"), "ANS001", "reject", "$.spd[3]",
                       False),
    "level_text": ("35.18", _set(lambda s: sid_answer(s, 0, "18"), level="tiga"), "ANS002", "reject",
                   "$.innovations[0].sid[2]", False),
    "level_fraction": ("35.19", _set(lambda s: spd_answer(s, "1"), level=2.5), "ANS002", "reject", "$.spd[0]", False),
    "level_4": ("35.20", _set(lambda s: spd_answer(s, "1"), level=4), "ANS003", "reject", "$.spd[0]", False),
    "duplicate_answer": ("35.21", _append_spd({"indicator": "1", "level": 3, "evidence": ["a.pdf"]}), "ANS004",
                         "reject", "$.spd[20]", False),
    "text_in_number": ("35.22", _set(lambda s: sid_answer(s, 0, "17"), value="dua belas"), "ANS005", "reject",
                       "$.innovations[0].sid[1]", False),
    # valid JSON, but more digits than int() converts: the ValueError stopped the year's ingest before
    "huge_integer_value": ("32.01", _raw_number(lambda s: spd_answer(s, "7"), "value", "1" + "0" * 5000), "ANS005",
                           "reject", "$.spd[8]", False),
    "out_of_range": ("35.23", _set(lambda s: sid_answer(s, 0, "29"), value=150), "ANS006", "reject",
                     "$.innovations[0].sid[13]", False),
    "value_contradicts": ("35.24", _set(lambda s: spd_answer(s, "7"), level=3, value=1.0), "ANS007", "warn", "$.spd[8]",
                          False),
    "no_evidence": ("35.25", _set(lambda s: spd_answer(s, "12"), level=2, evidence=[]), "ANS008", "warn", "$.spd[15]",
                    False),
    # two rows naming two unknown ids, for one indicator: the second was ANS004 (a second answer of "no innovation")
    "xlsx_orphan_sid": ("35.26", lambda s: xlsx_bytes(s, extra_sid=[["NOPE-1", "16", 2, None, "x.pdf"],
                                                                    ["NOPE-2", "16", 2, None, "x.pdf"]]), "ANS009",
                        "reject", "sid!43", False),
    "missing_name": ("35.27", _drop(_inv0, "name"), "INO001", "reject", "$.innovations[0]", False),
    "bad_form": ("35.28", _set(_inv0, form="inovasi lain"), "INO002", "reject", "$.innovations[0]", False),
    "bad_kind": ("35.29", _set(_inv0, kind="analog"), "INO003", "reject", "$.innovations[0]", False),
    "bad_initiator": ("35.71", _set(_inv0, initiator="bupati"), "INO004", "reject", "$.innovations[0]", False),
    "bad_stage": ("35.72", _set(_inv0, stage="selesai"), "INO005", "reject", "$.innovations[0]", False),
    "bad_affair": ("35.73", _set(_inv0, affair="olahraga air"), "INO006", "reject", "$.innovations[0]", False),
    "duplicate_innovation": ("35.74", _duplicate_innovation, "INO007", "reject", "$.innovations[2]", False),
    "implementation_before_trial": ("35.75", _set(_inv0, trial_date="2023-05-01", implementation_date="2023-01-01"),
                                    "INO008", "reject", "$.innovations[0]", False),
    "after_deadline": ("35.76", _set(_inv0, implementation_date="2024-12-01"), "INO009", "reject",
                       "$.innovations[0]", False),
    "bad_date": ("35.77", _set(_inv0, trial_date="2023-02-30"), "INO010", "reject", "$.innovations[0]", False),
    "bad_evidence": ("35.78", _set(lambda s: spd_answer(s, "1"), evidence=["../../etc/passwd"]), "EVD001", "reject",
                     "$.spd[0].evidence[0]", False),
    "symlink": ("35.79", "symlink", "FIL010", "reject", "(file)", True),
    # an object or a text where the list of SID answers goes: its answers were dropped without a word
    "sid_object": ("32.02", _set(_inv0, sid={"indicator": "16", "level": 3, "evidence": ["perkada.pdf"]}), "INO013",
                   "reject", "$.innovations[0]", False),
    "sid_text": ("32.03", _set(_inv0, sid="16:3"), "INO013", "reject", "$.innovations[0]", False),
    # a number and a text among the innovations: each gave seven INO001 failures, one per required field
    "innovation_not_object": ("36.74", lambda s: {**s, "innovations": [42, "x", *s["innovations"]]}, "INO001",
                              "reject", "$.innovations[1]", False),
    "name_too_long": ("36.01", _set(_inv0, name="Inovasi " * 100), "INO012", "reject", "$.innovations[0]", False),
    "evidence_too_long": ("36.02", _set(lambda s: spd_answer(s, "1"), evidence=["a" * 3000 + ".pdf"]), "EVD002",
                          "reject", "$.spd[0].evidence[0]", False),
    # read as 1.5 beneficiaries (level 1) where 1,500 (level 3) was likely meant: said, not guessed
    "ambiguous_thousands": ("32.04", _set(lambda s: sid_answer(s, 0, "33"), level=1, value="1.500"), "ANS010", "warn",
                            "$.innovations[0].sid[17]", False),
    "xlsx_ambiguous_thousands": ("32.05", lambda s: xlsx_bytes(_set(lambda t: spd_answer(t, "13a"), level=1,
                                                                    value="1,500")(s)),
                                 "ANS010", "warn", "spd!18", False),
}


VERIFICATION_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "unknown_decision": ({"region_code": "33.01", "innovation_id": "33.01-A", "indicator": "16", "decision": "tolak",
                          "verified_level": "", "note": ""}, "VER001"),
    "adjust_without_level": ({"region_code": "33.01", "innovation_id": "33.01-A", "indicator": "17",
                              "decision": "adjust", "verified_level": "", "note": ""}, "VER001"),
    "no_target": ({"region_code": "33.01", "innovation_id": "33.01-404", "indicator": "", "decision": "reject",
                   "verified_level": "", "note": ""}, "VER002"),
    "raises_level": ({"region_code": "33.01", "innovation_id": "33.01-A", "indicator": "18", "decision": "adjust",
                      "verified_level": 3, "note": ""}, "VER003"),
    # an empty decision was let through (the rule skipped a missing value): accepted, and it changed nothing
    "no_decision": ({"region_code": "33.01", "innovation_id": "33.01-A", "indicator": "19", "decision": "  ",
                     "verified_level": "", "note": ""}, "VER001"),
    # an adjust on a whole innovation was accepted and capped nothing
    "adjust_whole_innovation": ({"region_code": "33.01", "innovation_id": "33.01-A", "indicator": "",
                                 "decision": "adjust", "verified_level": 1, "note": ""}, "VER005"),
}


@pytest.fixture(scope="module")
def year_db(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("rules")
    files: dict[str, Any] = {}
    for case, (code, change, *_rest) in CASES.items():
        sub = two_innovations(code)
        suffix = ".json"
        if isinstance(change, bytes):
            content: Any = change
            suffix = ".txt" if case == "unsupported" else ".json"
        elif change == "symlink":
            continue
        elif change is None:
            content = sub
        else:
            content = change(sub)
        if case.startswith("xlsx"):
            suffix = ".xlsx"
        files[f"{case}{suffix}"] = content
    v0 = two_innovations("33.01")
    for a in v0["innovations"][0]["sid"]:
        a["level"] = min(a["level"], 2)
    files["verification_target.json"] = v0
    home = write_home(root, YEAR, files, [row for row, _ in VERIFICATION_CASES.values()])
    os.symlink(home.raw_year(YEAR) / "bom.json", home.raw_year(YEAR) / "symlink.json")
    return score(home, YEAR)


def test_every_case_has_a_region_of_its_own() -> None:
    """Two cases on one region would make one file the other's correction (and one case pass unseen)."""
    codes = [code for code, *_ in CASES.values()]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("case", list(CASES))
def test_rule_fires_and_neighbours_are_scored(year_db: duckdb.DuckDBPyConnection, case: str) -> None:
    code, _change, rule, severity, locator, whole_file = CASES[case]
    table = "quarantine" if severity == "reject" else "data_quality"
    suffix = ".txt" if case == "unsupported" else ".xlsx" if case.startswith("xlsx") else ".json"
    hits = year_db.execute(f"select locator from {table} where source_file = ? and rule = ?",
                           [f"{case}{suffix}", rule]).fetchall()
    assert (locator,) in hits, f"{rule} not reported at {locator} for {case}: {hits}"
    submitted = year_db.execute("select submitted from region_scores where region_code = ?", [code]).fetchall()
    if whole_file:
        assert submitted in ([], [(False,)])
    else:
        assert submitted == [(True,)], f"{code} should still be scored"
        scored = year_db.execute("select count(*) from indicator_scores where region_code = ?", [code]).fetchall()
        assert scored[0][0] >= 39, f"{code}: the good answers of the file should be scored"


@pytest.mark.parametrize("case", list(VERIFICATION_CASES))
def test_verification_rules(year_db: duckdb.DuckDBPyConnection, case: str) -> None:
    row, rule = VERIFICATION_CASES[case]
    line = list(VERIFICATION_CASES).index(case) + 2
    hits = year_db.execute("select rule, value from quarantine where source_file = 'verification/verification.csv' "
                           "and locator = ?", [f"line {line}"]).fetchall()
    assert [r for r, _ in hits] == [rule]
    # the value is the row as written (the suite's value column), not the flag the rule checks
    assert hits[0][1].startswith(f"{row['innovation_id']} / "), hits
    # a rejected verification row changes nothing: the claimed levels stand
    changed = year_db.execute("select count(*) from indicator_scores where region_code = '33.01' "
                              "and credited_level <> claimed_level").fetchall()[0][0]
    assert changed == 0


# case id -> the value its failure shows: the text as written, not the empty value it did not convert to
WRITTEN_VALUES: dict[str, str] = {
    "level_text": "tiga", "text_in_number": "dua belas", "bad_date": "2023-02-30",
    "bad_timestamp": "kemarin sore", "level_4": "4", "out_of_range": "150 (the highest possible is 100.0)",
    "implementation_before_trial": "implementation 2023-01-01, trial 2023-05-01", "no_time_zone": "2024-07-30T09:12:00",
    "ambiguous_thousands": "1.500", "value_contradicts": "level 3; value 1 gives level 2",
    "name_differs": "Kab. Sidoarjo (the region master: Kabupaten Sidoarjo)",
}


@pytest.mark.parametrize("case", list(WRITTEN_VALUES))
def test_a_failure_shows_the_value_as_written(year_db: duckdb.DuckDBPyConnection, case: str) -> None:
    _code, _change, rule, severity, locator, _whole = CASES[case]
    table = "quarantine" if severity == "reject" else "data_quality"
    values = year_db.execute(f"select value from {table} where source_file = ? and rule = ? and locator = ?",
                             [f"{case}.json", rule, locator]).fetchall()
    assert values == [(WRITTEN_VALUES[case],)]


def test_quarantine_rows_never_carry_personal_data(year_db: duckdb.DuckDBPyConnection) -> None:
    for table in ("quarantine", "data_quality"):
        text = " ".join(str(r) for r in year_db.execute(f"select * from {table}").fetchall())
        assert "Siti Operator Rahasia" not in text and "siti.rahasia@" not in text and "081299990000" not in text


def test_a_rejected_workbook_is_quarantined_under_the_region_its_profil_names(
        year_db: duckdb.DuckDBPyConnection) -> None:
    """A workbook rejected as a whole had no region in quarantine, so the region's feedback said nothing was
    rejected; where its profil sheet was read, the region code there is kept (not where profil is unreadable)."""
    rows = year_db.execute("select source_file, rule, region_code from quarantine where locator = '(file)' "
                           "and source_file like 'xlsx%' order by 1").fetchall()
    assert rows == [("xlsx_missing_sheet.xlsx", "FIL006", "35.07"), ("xlsx_profil_field_twice.xlsx", "FIL009", "36.72"),
                    ("xlsx_unreadable_email.xlsx", "FIL006", None)]


def test_reconciliation_balances(year_db: duckdb.DuckDBPyConnection) -> None:
    assert year_db.execute("select count(*) from reconciliation where not balanced").fetchall()[0][0] == 0
    read, scored, quarantined, superseded, late = year_db.execute(
        "select sum(records_read), sum(records_scored), sum(records_quarantined), sum(records_superseded), "
        "sum(records_late) from reconciliation").fetchall()[0]
    assert read == scored + quarantined + superseded + late and quarantined > 0


def test_a_sid_that_is_not_a_list_rejects_its_innovation_with_what_was_written(
        year_db: duckdb.DuckDBPyConnection) -> None:
    """An innovation whose ``sid`` is an object or a text is INO013, with the kind and text written as the value;
    before, it was scored with no answers (maturity 0, counted in n) and its file reconciled without a word.
    Its file's other innovation counts, and the rejected one is its file's one quarantined record (of 83: the
    header, 20 SPD and 20 SID answers with an evidence item each, two innovations)."""
    reason = year_db.execute("select reason from quarantine where rule = 'INO013'").fetchall()[0][0]
    assert reason.startswith("sid (jawaban SID) is not a list of answers")
    assert year_db.execute("select source_file, locator, value, cascaded from quarantine where rule = 'INO013' "
                           "order by source_file").fetchall() == [
        ("sid_object.json", "$.innovations[0]", 'object {"indicator": "16", "level": 3, "evidence": ["perkada.pdf"]}',
         False),
        ("sid_text.json", "$.innovations[0]", 'string "16:3"', False)]
    assert year_db.execute("select region_code, n_innovations from region_scores where region_code in "
                           "('32.02', '32.03') order by 1").fetchall() == [("32.02", 1), ("32.03", 1)]
    assert year_db.execute("select source_file, records_read, records_quarantined, balanced from reconciliation "
                           "where source_file in ('sid_object.json', 'sid_text.json') order by 1").fetchall() == [
        ("sid_object.json", 83, 1, True), ("sid_text.json", 83, 1, True)]


def test_an_innovation_that_is_not_an_object_is_one_failure_saying_what_is_there(
        year_db: duckdb.DuckDBPyConnection) -> None:
    """``"innovations": [42, "x", {…}, {…}]``: each of the two is one INO001 failure (not one per required field)
    with its kind and text as the value, and the file's two innovations are scored."""
    failures = year_db.execute(
        "select i.locator, f.rule, f.value, f.reason from validation_failures f join landing_innovations i "
        "on f.suite = 'innovations' and f.record_id = i.record_id where i.source_file = 'innovation_not_object.json' "
        "order by 1").fetchall()
    assert [row[:3] for row in failures] == [("$.innovations[0]", "INO001", "number 42"),
                                             ("$.innovations[1]", "INO001", 'string "x"')]
    assert all(row[3].startswith("the innovation is not an object") for row in failures)
    assert year_db.execute("select n_innovations, sid_maturity_score from region_scores where region_code = '36.74'"
                           ).fetchall() == [(2, 10)]
