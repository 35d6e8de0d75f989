"""The JSON reader's fast path (orjson) gives exactly what the standard library parser gives."""

from __future__ import annotations

import json

import pytest
from factory import innovation, submission

from flows.readers import FileRejected, parse_json


def _reference(text: str) -> object:
    """What the standard library parser makes of a text, refusing duplicate keys."""
    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise FileRejected("FIL009", "duplicate")
        return dict(items)
    return json.loads(text, object_pairs_hook=pairs)


def _doc(**changes: object) -> dict[str, object]:
    doc = submission("35.78", spd_total=30, innovations=[innovation("35.78-1", 50)])
    doc.update(changes)
    return doc


@pytest.mark.parametrize("text", [
    json.dumps(_doc()),
    json.dumps(_doc(), indent=2),
    json.dumps(_doc(region_name='Kota "Batu": kota apel')),  # a quoted key-like text inside a value
    json.dumps(_doc(note={"a": {"b": [1, {"c": None}]}})),
    json.dumps(_doc(year=2**70)),  # beyond 64 bits: orjson refuses, the standard parser reads it
    json.dumps(_doc(level=float("nan"))),  # NaN is not JSON: orjson refuses, the standard parser reads it
    '{"schema": "iid.submission/v1", "year": 2024, "spd": [{"indicator": "1", "level": 1e309}]}',
    '{"schema": "iid.submission/v1", "region_name": "\\ud800"}',  # a lone surrogate
])
def test_fast_path_reads_what_the_standard_parser_reads(text: str) -> None:
    parsed = parse_json(text.encode())
    reference = _reference(text)
    assert isinstance(reference, dict)
    assert parsed.header == {k: reference.get(k) for k in ("year", "region_code", "region_name", "submitted_at")}
    assert [(a.indicator, a.level, a.value, a.evidence) for a in parsed.spd] == [
        (a.get("indicator"), a.get("level"), a.get("value"), a.get("evidence") or []) for a in reference.get("spd", [])]


@pytest.mark.parametrize("text", [
    '{"schema": "iid.submission/v1", "year": 2024, "year": 2025}',
    '{"schema": "iid.submission/v1", "spd": [{"indicator": "1", "level": 1, "level": 2}]}',
    '{"schema": "iid.submission/v1", "innovations": [{"id": "x", "sid": [{"evidence": [{"a": 1, "a" : 2}]}]}]}',
    '{"schema": "iid.submission/v1", "note": "say \\"a\\": b", "year": 1, "year": 2}',
])
def test_duplicate_keys_anywhere_are_refused(text: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json(text.encode())
    assert caught.value.rule == "FIL009"


def test_deep_nesting_is_refused_as_before() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json(("[" * 50_000 + "]" * 50_000).encode())
    assert caught.value.rule == "FIL008"


ODD_VALUES = [None, "", "  ", "3", " 3 ", "3.0", "tiga", 3, 3.0, 3.5, -0.0, True, False, 2**63, 1e309, float("nan"),
              "1,5", " Sid 03 ", "SID_03", "sid 03", {"a": 1}, [1, 2], "\u00a0x\u00a0", "é"]


def test_bulk_answer_rows_equal_the_general_conversions() -> None:
    """LandingBatch's short paths for plain values give exactly what text/whole_number/number/code_text give."""
    from flows.landing import LandingBatch, code_text, number, text, whole_number
    from flows.readers import Answer

    answers = [Answer(f"$.spd[{i}]", indicator, level, value, [level, value, indicator], value is not None)
               for i, (indicator, level, value) in enumerate(
                   (a, b, c) for a in ODD_VALUES for b in ODD_VALUES[:12] for c in ODD_VALUES[::5])]
    batch = LandingBatch({"spd_answers": 0, "evidence": 0})
    batch._answers("spd_answers", 7, "f.json", answers)
    rows, evidence = batch.columns["spd_answers"], batch.columns["evidence"]
    for i, a in enumerate(answers):
        assert rows["indicator"][i] == code_text(a.indicator)
        assert rows["level"][i] == whole_number(a.level) and rows["level_raw"][i] == text(a.level)
        value = number(a.value) if a.has_value else None
        assert rows["value"][i] == value or (value != value and rows["value"][i] != rows["value"][i])
        assert rows["value_raw"][i] == (text(a.value) if a.has_value else None)
    assert evidence["item"] == [text(item) for a in answers for item in a.evidence]
    assert evidence["locator"] == [f"$.spd[{i}].evidence[{j}]" for i in range(len(answers)) for j in range(3)]
    assert evidence["answer_record_id"] == [i for i in range(len(answers)) for _ in range(3)]
