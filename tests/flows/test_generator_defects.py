"""Defects and verification: every defect kind injected where its ledger entry says, the ledger of a year
at a defect rate, and verification decisions that lower answers of the counting submission."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from generatedfiles import (
    METHOD_FILE,
    YEAR,
    counting_submissions,
    generate,
    instant,
    read_doc,
    submission_files,
    submitting_region,
    value_level,
)

from flows.generator import LEDGER_FILE, VERIFICATION_FILE, run_options
from flows.generator.defects import BY_NAME, CATALOGUE
from flows.generator.regionfiles import write_region


@pytest.fixture(scope="module")
def defective_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 546 pemda at scale 0.06 with a defect in 30 % of the files."""
    return generate(tmp_path_factory.mktemp("defective"), seed=8, scale=0.06, defect_rate=0.3)


LOCATOR = {
    "file": re.compile(r"^\(file\)$"),
    "submission": re.compile(r"^(\$|profil)$"),
    "record": re.compile(r"^(\$\.spd\[\d+\]|\$\.innovations\[\d+\](\.sid\[\d+\])?|(spd|inovasi|sid)!\d+)$"),
}


def _located(doc: dict[str, Any], locator: str, data: bytes) -> dict[str, Any]:
    """The record a JSON locator or an XLSX ``sheet!row`` locator points at."""
    if locator in ("$", "profil"):
        return doc
    if locator.startswith("$"):
        node: Any = doc
        for key, index in re.findall(r"\.(\w+)\[(\d+)\]", locator):
            node = node[key][int(index)]
        return node
    sheet, row = locator.split("!")
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = list(wb[sheet].iter_rows(min_row=1, max_row=int(row), values_only=True))
    wb.close()
    return dict(zip(cells[0], (*cells[-1], *[None] * (len(cells[0]) - len(cells[-1]))), strict=True))


def _check_defect(kind: str, path: Path, locator: str, year_deadline: date) -> None:
    data = path.read_bytes()
    if kind == "zero_byte":
        assert data == b""
        return
    if kind == "byte_order_mark":
        assert data.startswith(b"\xef\xbb\xbf") and json.loads(data[3:])["schema"] == "iid.submission/v1"
        return
    if kind == "latin1_encoded":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert "é" in data.decode("latin-1") or "ü" in data.decode("latin-1")
        return
    if kind in ("truncated_json", "not_json"):
        data.decode("utf-8")
        with pytest.raises(json.JSONDecodeError):
            json.loads(data)
        return
    if kind == "xlsx_missing_sheet":
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        assert "sid" not in wb.sheetnames
        return
    doc = read_doc(path)
    record = _located(doc, locator, data)
    tied = [other for other in path.parent.glob(f"*{path.suffix}") if kind == "same_instant_tie" and other != path
            and instant(read_doc(other)["submitted_at"]) == instant(doc["submitted_at"])]
    checks = {
        "unknown_region_code": lambda: doc["region_code"].startswith("99."),
        "jakarta_admin_code": lambda: doc["region_code"] in ("31.01", "31.71", "31.72", "31.73", "31.74", "31.75"),
        "wrong_year": lambda: doc["year"] != YEAR,
        "missing_required_field": lambda: not record.get("name") or not record.get("affair"),
        "level_out_of_range": lambda: record["level"] in (4, -1),
        "unknown_indicator": lambda: str(record["indicator"]) in ("36x", "99", "2c", "16b", "0"),
        "duplicate_innovation_id": lambda: [i["id"] for i in doc["innovations"]].index(record["id"])
        < int(re.findall(r"\d+", locator)[0]) - (0 if locator.startswith("$") else 2),
        "implementation_before_trial": lambda: str(record["implementation_date"]) < str(record["trial_date"]),
        "future_date": lambda: str(record["implementation_date"]) > year_deadline.isoformat(),
        "wrong_type_level": lambda: record["level"] in ("tiga", 2.5),
        "text_in_number": lambda: isinstance(record["value"], str),
        "empty_evidence": lambda: not record["evidence"],
        "thousands_separator": lambda: re.fullmatch(r"-?[1-9]\d{0,2}[.,]\d{3}", record["value"]) is not None,
        "no_time_zone": lambda: isinstance(doc["submitted_at"], str if path.suffix == ".json" else datetime)
        and datetime.fromisoformat(str(doc["submitted_at"])).tzinfo is None,
        "same_instant_tie": lambda: len(tied) == 1 and tied[0].name < path.name and tied[0].read_bytes() != data,
    }
    assert checks[kind](), (kind, locator)


@pytest.mark.parametrize(("kind", "file_format"), [(k.name, f) for k in CATALOGUE for f in k.formats])
def test_every_defect_kind_is_injected_and_recorded(kind: str, file_format: str, tmp_path: Path,
                                                    small_reference: Path) -> None:
    options = run_options(YEAR, seed=2, scale=0.2)
    defect = BY_NAME[kind]
    region = submitting_region(options)
    result = write_region(options, region, tmp_path, force_defect=kind, force_format=file_format)
    assert len(result.ledger) == 1
    entry = result.ledger[0]
    assert (entry["kind"], entry["rule"], entry["severity"]) == (kind, defect.rule, defect.severity)
    assert entry["file"] in result.files and (tmp_path / entry["file"]).is_file()
    assert LOCATOR[defect.scope].match(entry["locator"]), entry["locator"]
    if defect.scope != "file":
        assert entry["locator"].startswith("$") == (file_format == "json")
    _check_defect(kind, tmp_path / entry["file"], entry["locator"], date(2024, 8, 2))
    if kind in ("unknown_region_code", "jakarta_admin_code", "same_instant_tie"):
        assert len(result.files) >= 2 and result.counts  # a relabelled copy or a tied draft; the original counts
    elif defect.loses_submission:
        assert not result.counts or len(result.files) >= 2


def test_ledger_at_a_defect_rate(defective_year: Path) -> None:
    ledger = json.loads((defective_year / LEDGER_FILE).read_text(encoding="utf-8"))
    assert ledger["seed"] == 8 and ledger["defect_rate"] == 0.3
    files = submission_files(defective_year)
    entries = ledger["defects"]
    assert 0.22 <= len(entries) / len(files) <= 0.38
    assert {e["kind"] for e in entries} == {k.name for k in CATALOGUE}
    for entry in entries:
        kind = BY_NAME[entry["kind"]]
        assert entry["rule"] == kind.rule and entry["severity"] == kind.severity
        assert (defective_year / entry["file"]).is_file()
        assert LOCATOR[kind.scope].match(entry["locator"])


def test_verification_lowers_existing_answers_of_the_counting_submission(defective_year: Path) -> None:
    counting = counting_submissions(defective_year)
    method = json.loads(METHOD_FILE.read_text())
    rows = {r["code"]: r for r in method["rows"]}
    with (defective_year / VERIFICATION_FILE).open(encoding="utf-8") as handle:
        decisions = list(csv.DictReader(handle))
    assert list(decisions[0]) == ["region_code", "innovation_id", "indicator", "decision", "verified_level", "note"]
    tally: Counter[str] = Counter()
    for d in decisions:
        _, doc = counting[d["region_code"]]
        tally[d["decision"]] += 1
        if not d["innovation_id"]:
            answers = [a for a in doc["spd"] if a["indicator"] == d["indicator"]]
        else:
            innovations = [i for i in doc["innovations"] if i["id"] == d["innovation_id"]]
            assert len(innovations) == 1, d
            if d["decision"] == "reject":
                assert d["indicator"] == "" and d["verified_level"] == ""
                continue
            answers = [a for a in innovations[0]["sid"] if a["indicator"] == d["indicator"]]
        assert len(answers) == 1, d
        assert d["note"]
        if d["decision"] == "adjust":
            answer = answers[0]
            level = answer["level"]
            if "value" in answer:
                level = min(level, value_level(rows[answer["indicator"]], answer["value"]))
            assert 0 <= int(d["verified_level"]) < level
    sid_answers = sum(len(i["sid"]) for _, doc in counting.values() for i in doc["innovations"])
    innovation_count = sum(len(doc["innovations"]) for _, doc in counting.values())
    sid_adjusts = sum(1 for d in decisions if d["decision"] == "adjust" and d["innovation_id"])
    assert 0.05 <= sid_adjusts / sid_answers <= 0.11
    assert 0.005 <= tally["reject"] / innovation_count <= 0.03
    assert tally["accept"] > 0
