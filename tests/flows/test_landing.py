"""Landing rows built column by column (Arrow) are exactly the rows the scalar conversions give.

A file's answers and evidence go through Arrow when Arrow can type them (:meth:`LandingBatch._answers_in_bulk`)
and through :meth:`LandingBatch._answers` otherwise; innovations are converted field by field. These
tests compare both ways on arbitrary values, awkward texts and a generated year full of defects.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.dropzone import drop_zone_files
from flows.generator import generate_year
from flows.ingest import read_files
from flows.landing import (
    INNOVATION_ENUMS,
    INNOVATION_NARRATIVES,
    INNOVATION_TEXTS,
    RECORD_TABLES,
    LandingBatch,
    innovation_rows,
)
from flows.readers import SCHEMA, Answers, parse_json
from flows.settings import Home
from flows.values import enum_text, iso_date, text

SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]


def _tables(docs: list[dict[str, Any]], bulk: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, pa.Table]:
    """Landing tables of JSON documents, answers in bulk where possible or always one by one."""
    with monkeypatch.context() as patch:
        if not bulk:
            patch.setattr(LandingBatch, "_answers_in_bulk", lambda *_: False)
        batch = LandingBatch(dict.fromkeys(RECORD_TABLES, 0))
        for file_id, doc in enumerate(docs):
            records = batch.add_parsed(file_id, f"{file_id}.json", parse_json(json.dumps(doc).encode()))
            batch.add_file(file_id, f"{file_id}.json", "", 0, "json", None, None, False, records)
        return batch.tables()


def _record_bulk(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each file's answers go in bulk (True) or one by one, in order, from now on."""
    taken: list[bool] = []
    real = LandingBatch._answers_in_bulk

    def spy(self: LandingBatch, *args: Any) -> bool:
        taken.append(real(self, *args))
        return taken[-1]

    monkeypatch.setattr(LandingBatch, "_answers_in_bulk", spy)
    return taken


def _assert_same(a: dict[str, pa.Table], b: dict[str, pa.Table]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].schema == b[name].schema, name
        left, right = a[name].to_pylist(), b[name].to_pylist()
        assert len(left) == len(right), name
        for x, y in zip(left, right, strict=True):
            # NaN is not equal to itself; -0.0 must stay -0.0
            same = {k: v for k, v in x.items() if not (isinstance(v, float) and math.isnan(v))}
            assert same == {k: v for k, v in y.items() if k in same}, (name, x, y)
            for k, v in x.items():
                if isinstance(v, float):
                    assert math.copysign(1, v) == math.copysign(1, y[k]) or math.isnan(v), (name, k, x, y)


ODD_TEXT = st.text(alphabet=st.sampled_from(["a", "B", "3", " ", "é", "İ", "ß", *SPACES[:12], "\u3000", "\u200b"]),
                   max_size=6)
# values of one field in one file are drawn from one of these, so that Arrow can type most files
FIELD_KINDS: dict[str, list[st.SearchStrategy[Any]]] = {
    "indicator": [ODD_TEXT, st.sampled_from(["1", "2a", " 3 ", "SID 03", "Sid_03", ""]), st.integers(-5, 5)],
    "level": [st.integers(-3, 6), st.integers(-(2**63), 2**63 - 1), st.sampled_from([2**62 - 1, -(2**62) + 1, 2**62]),
              st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["3", "tiga", " 2 "]), st.booleans()],
    "value": [st.integers(-10**6, 10**6), st.integers(-(2**63), 2**63 - 1),
              st.sampled_from([2**53 - 1, 2**53, -(2**53) + 1, 0]),
              st.floats(allow_nan=False, allow_infinity=False, width=64),
              st.sampled_from([0.0, -0.0, 0.5, 1e-7, 1e15, 1e15 - 0.5, 999999999999999.0, 1e16, 2.5e-5, 3.0, 0.1]),
              st.sampled_from(["1,5", "2", "x"]), st.booleans()],
    "evidence": [st.lists(ODD_TEXT, max_size=3), st.lists(st.none(), max_size=2),
                 st.lists(st.one_of(ODD_TEXT, st.none()), max_size=3), ODD_TEXT,
                 st.lists(st.integers(0, 3), max_size=2)],
}


@st.composite
def answer_lists(draw: st.DrawFn) -> list[Any]:
    """One file's answers: each field absent, null or of one kind (sometimes mixed), some extra keys."""
    kinds = {name: draw(st.sampled_from(options)) for name, options in FIELD_KINDS.items()}
    mixed = draw(st.booleans()) and draw(st.booleans())

    def answer() -> Any:
        if mixed and draw(st.integers(0, 9)) == 0:
            return draw(st.sampled_from([None, 3, "x", [], {"level": "3"}]))
        out: dict[str, Any] = {}
        for name, kind in kinds.items():
            roll = draw(st.integers(0, 9))
            if roll == 0:
                continue  # absent
            out[name] = None if roll == 1 else draw(draw(st.sampled_from(FIELD_KINDS[name])) if mixed else kind)
        if draw(st.integers(0, 7)) == 0:
            out["catatan"] = draw(ODD_TEXT)
        return out

    return [answer() for _ in range(draw(st.integers(0, 8)))]


def _submission(spd: list[Any], sid: list[list[Any]]) -> dict[str, Any]:
    return {"schema": SCHEMA, "year": 2024, "region_code": "35.78", "spd": spd,
            "innovations": [{"id": f"I-{k}", "name": "n", "sid": answers} for k, answers in enumerate(sid)]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(st.tuples(answer_lists(), st.lists(answer_lists(), max_size=3)), min_size=1, max_size=3))
def test_answers_in_bulk_equal_answers_one_by_one(files: list[tuple[list[Any], list[list[Any]]]]) -> None:
    docs = [_submission(spd, sid) for spd, sid in files]
    with pytest.MonkeyPatch.context() as patch:
        _assert_same(_tables(docs, True, patch), _tables(docs, False, patch))


def test_bulk_conversions_are_taken_for_plain_and_awkward_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values Arrow types but writes differently from Python (non-integral numbers; texts with Python's
    spaces around them, empty or non-ASCII) go through bulk, not around it, and come out as Python
    writes them."""
    spaces = "".join(SPACES)
    spd = [{"indicator": " İSid 0" + str(i % 3) + "\u3000", "level": i - 3, "value": v,
            "evidence": [f"{spaces}bukti-{i}{spaces}", "", None, "x\u200b", spaces, "ok"]}
           for i, v in enumerate([0.5, -0.0, 1e-7, 2.5e-5, 123456789.125, 999999999999999.0, 3.0, 1e-300, 0.1, 7.0])]
    sid = [[{"indicator": "2a", "level": 2**62 - 1, "value": 12.0, "evidence": []}, {"level": None}, {}]]
    taken = _record_bulk(monkeypatch)
    bulk = _tables([_submission(spd, sid)], True, monkeypatch)
    assert taken == [True]
    _assert_same(bulk, _tables([_submission(spd, sid)], False, monkeypatch))
    assert bulk["spd_answers"].column("value_raw").to_pylist()[:4] == ["0.5", "0", "1e-07", "2.5e-05"]
    assert bulk["evidence"].column("item").to_pylist()[:6] == ["bukti-0", None, None, "x\u200b", None, "ok"]
    assert bulk["evidence"].column("position").to_pylist()[:8] == [0, 1, 2, 3, 4, 5, 0, 1]  # $.spd[1].evidence[1]
    assert bulk["evidence"].column("answer_record_id").to_pylist()[6:8] == [1, 1]
    # numbers written as numbers: none of them can be read two ways (ANS010 looks only at text)
    for table in ("spd_answers", "sid_answers"):
        assert set(bulk[table].column("value_is_text").to_pylist()) == {False}


def test_a_value_written_as_text_is_marked_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """``value_is_text`` says the value was written as text (``"1.500"``), not as a number (``1.125``) or not at
    all; a file with a text value goes one by one, a file of numbers in bulk, with the same flags either way."""
    spd = [{"indicator": "33", "level": 1, "value": v, "evidence": ["a.pdf"]} for v in ("1.500", 1.125, None, " 7 ")]
    numbers = [{"indicator": "33", "level": 1, "value": v, "evidence": ["a.pdf"]} for v in (1.125, 1500, None)]
    taken = _record_bulk(monkeypatch)
    tables = _tables([_submission(spd, [numbers]), _submission(numbers, [])], True, monkeypatch)
    assert taken == [False, True]
    assert tables["spd_answers"].select(["value", "value_raw", "value_is_text"]).to_pylist() == [
        {"value": v, "value_raw": r, "value_is_text": t} for v, r, t in
        [(1.5, "1.500", True), (1.125, "1.125", False), (None, None, False), (7.0, "7", True),
         (1.125, "1.125", False), (1500.0, "1500", False), (None, None, False)]]
    assert tables["sid_answers"].column("value_is_text").to_pylist() == [False, False, False]


def test_answers_arrow_cannot_type_go_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A level as text, a bool (also among floats, which Arrow would take for 1.0), numbers past 2**53,
    evidence as one string, an answer that is not an object: the file goes through the scalar
    conversions, with the same rows as ever."""
    odd: list[list[Any]] = [[{"level": "3"}], [{"level": True}], [{"value": 2**53}], [{"value": 1e15}],
                            [{"evidence": "satu"}], [3], [None], [{"level": 2**62}], [{"value": 2**64}],
                            [{"evidence": [["x"]]}], [{"indicator": 3}], [{"level": 1.5}],
                            [{"value": 2.5}, {"value": True}], [{"value": 1}, {"value": 2.5}, {"value": False}],
                            # Arrow, told a level is an integer, would cut 2.5 to 2 and take 3.0 for 3
                            [{"level": 2}, {"level": 3.0}], [{"level": 2.5}, {"level": 1}],
                            [{"value": 10**15}], [{"evidence": ["a", 3]}], [{"evidence": {"url": "x"}}],
                            [{"level": 1, "evidence": ["a"]}, []]]
    for answers in odd:
        doc = _submission(answers, [])
        batch = LandingBatch(dict.fromkeys(RECORD_TABLES, 0))
        parsed = parse_json(json.dumps(doc).encode())
        groups: list[tuple[Answers, Any]] = [(parsed.spd, None), (parsed.orphan_answers, (None, None))]
        assert not batch._answers_in_bulk(0, "0.json", groups), answers
        _assert_same(_tables([doc], True, monkeypatch), _tables([doc], False, monkeypatch))


INNOVATION_VALUES = st.one_of(
    st.none(), ODD_TEXT,
    st.sampled_from(["2024-02-29", "2023-02-29", " 2024-01-05 ", "5/1/24", "Daring", "  DARING  dan  luring "]),
    st.integers(-(2**70), 2**70), st.floats(), st.booleans(), st.lists(st.integers(), max_size=2))


@settings(max_examples=120, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["plain", "mixed"]), st.dictionaries(
    st.sampled_from(["id", "name", "unit", *INNOVATION_ENUMS, "trial_date", "implementation_date",
                     *INNOVATION_NARRATIVES]), INNOVATION_VALUES)), max_size=6))
def test_innovation_rows_equal_the_scalar_conversions(rows: list[tuple[str, dict[str, Any]]]) -> None:
    fields = [f if kind == "mixed" else {k: v for k, v in f.items() if v is None or isinstance(v, str)}
              for kind, f in rows]
    table = innovation_rows([(i, 9, "f.json", f"$.innovations[{i}]", f) for i, f in enumerate(fields)])
    for i, (row, f) in enumerate(zip(table.to_pylist(), fields, strict=True)):
        design = text(f.get("design"))
        expected: dict[str, Any] = {
            "record_id": i, "file_id": 9, "source_file": "f.json", "locator": f"$.innovations[{i}]",
            **{column: text(f.get(key)) for column, key in INNOVATION_TEXTS.items()},
            **{key: enum_text(f.get(key)) for key in INNOVATION_ENUMS},
            **{f"{key}_chars": len(text(f.get(key)) or "") or None for key in INNOVATION_NARRATIVES},
            "design_words": len(design.split()) if design else 0, "sid_not_list": None, "not_object": None}
        for key in ("trial_date", "implementation_date"):
            expected[key], expected[f"{key}_raw"] = iso_date(f.get(key)), text(f.get(key))
        assert row == expected


def test_a_defective_year_lands_the_same_either_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A generated year with defects (JSON and XLSX): every landing table, answers in bulk or one by one."""
    home = Home.resolve(tmp_path)
    generate_year(home, 2024, seed=11, scale=0.05, defect_rate=0.6)
    raw = home.raw_year(2024)
    items = [(i, p.relative_to(raw).as_posix()) for i, p in enumerate(drop_zone_files(raw))]
    taken = _record_bulk(monkeypatch)
    bulk = read_files(raw, items)
    assert taken.count(True) > 100 and taken.count(False) > 5  # both ways were taken
    monkeypatch.setattr(LandingBatch, "_answers_in_bulk", lambda *_: False)
    _assert_same(bulk, read_files(raw, items))
