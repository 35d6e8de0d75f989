"""The JSON reader: orjson's fast path reads what the standard library parser reads, what no table can hold
(duplicate keys, a lone surrogate, nesting past the limit) rejects the file, an integer too long for Python is
kept as its digits, and the landing batch's bulk answer rows equal the general conversions."""

from __future__ import annotations

import json
from typing import Any

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
    '{"schema": "iid.submission/v1", "region_name": "\\ud83d\\ude00"}',  # a surrogate pair: one character
])
def test_fast_path_reads_what_the_standard_parser_reads(text: str) -> None:
    parsed = parse_json(text.encode())
    reference = _reference(text)
    assert isinstance(reference, dict)
    assert parsed.header == {k: reference.get(k) for k in ("year", "region_code", "region_name", "submitted_at")}
    assert parsed.spd.raws == reference.get("spd", [])
    assert parsed.spd.locators == [f"$.spd[{i}]" for i in range(len(parsed.spd))]


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


@pytest.mark.parametrize("text", [
    '{"schema":"iid.submission/v1","year":2024,"year"\t:2025}',  # compact but for one key: the general count
    '{"schema":"iid.submission/v1","spd":[{"level":1,"level"\n:2}]}',
    '{"schema":"iid.submission/v1","note":"a\\":b","year":1,"year":2}',  # a ":" in a text, counted as a key token
])
def test_duplicate_keys_in_compact_json_are_refused(text: str) -> None:
    """Compact JSON, where the key tokens are counted without the pattern; one key spaced from its colon."""
    with pytest.raises(FileRejected) as caught:
        parse_json(text.encode())
    assert caught.value.rule == "FIL009"


@pytest.mark.parametrize("text", [
    json.dumps(_doc()), json.dumps(_doc(), separators=(",", ":")), json.dumps(_doc(), indent=2),
    json.dumps(_doc(region_name='Kota "Batu": kota apel')), '{"a" :1,"b":2}', '{"a"\r\n\t :1}', '{"a":"b" , "c":1}',
    '{"a":"\\"","b":1}', '{"a":"\\":x"}', '""', '":', '" :', "", '"":"":', '{"x":"\\" \\":"}',
])
def test_key_tokens_are_counted_as_the_pattern_counts_them(text: str) -> None:
    from flows.readers import _KEY, _key_tokens

    assert _key_tokens(text) == len(_KEY.findall(text))


@pytest.mark.parametrize(("text", "where"), [
    ('{"schema": "iid.submission/v1", "region_name": "Kota \\ud800"}', "$.region_name holds the escape \\ud800"),
    ('{"schema": "iid.submission/v1", "spd": [{"evidence": ["a", "\\udc01b"]}]}', "$.spd[0].evidence[1] holds"),
    ('{"schema": "iid.submission/v1", "innovations": [{"x\\ud83d": 1}]}', "a key of $.innovations[0] holds"),
    ('{"schema": "iid.submission/v1", "region_name": "\\ude00\\ud83d"}', "holds the escape \\ude00"),  # reversed pair
])
def test_a_lone_surrogate_rejects_the_file_and_says_where(text: str, where: str) -> None:
    """Half of a UTF-16 surrogate pair is valid JSON but no character: no UTF-8 table can hold it, so the
    file is rejected (FIL002) with the place, instead of stopping the year's ingest."""
    with pytest.raises(FileRejected) as caught:
        parse_json(text.encode())
    assert caught.value.rule == "FIL002"
    assert where in caught.value.detail


def test_nesting_past_the_limit_is_refused_wherever_it_is_parsed() -> None:
    """A document 101 levels deep is refused (FIL008) also when orjson reads it (its limit is 1,024) and
    deep in a flow's stack, where turning the value into text ran out of stack and stopped the year's
    ingest; 100 levels are read."""
    from flows.landing import RECORD_TABLES, LandingBatch
    from flows.readers import MAX_JSON_DEPTH

    def doc(depth: int) -> bytes:  # the object itself is the first level
        return ('{"schema": "iid.submission/v1", "region_name": ' + "[" * (depth - 1) + "]" * (depth - 1)
                + "}").encode()

    def in_deep_stack(frames: int, data: bytes) -> str:
        if frames:
            return in_deep_stack(frames - 1, data)
        try:
            batch = LandingBatch(dict.fromkeys(RECORD_TABLES, 0))
            batch.add_parsed(0, "f.json", parse_json(data))
            batch.tables()
        except FileRejected as exc:
            return f"{exc.rule}: {exc.detail}"
        return "read"

    assert in_deep_stack(0, doc(MAX_JSON_DEPTH)) == "read"
    assert in_deep_stack(0, doc(MAX_JSON_DEPTH + 1)).startswith("FIL008: JSON nested 101 levels deep")
    assert in_deep_stack(150, doc(900)).startswith("FIL008: JSON nested 900 levels deep")


def test_deep_nesting_is_refused_as_before() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json(("[" * 50_000 + "]" * 50_000).encode())
    assert caught.value.rule == "FIL008"


def test_an_integer_longer_than_python_converts_is_kept_as_its_digits() -> None:
    """A JSON integer of 5,001 digits is valid JSON, but ``int()`` refuses more than 4,300 digits: the
    ValueError stopped the year's ingest. The number is kept as its digits, which convert to no level,
    year or value (the answer is ANS005, a level ANS002), with the digits as the text shown; every other
    number of the file is read as before, and 1e400 stays an infinite float."""
    from flows.landing import RECORD_TABLES, LandingBatch

    digits = "1" + "0" * 5000
    text = json.dumps(_doc(year=2024, region_name="x")).replace('"region_name": "x"', f'"region_name": -{digits}')
    text = text.replace('"level": ', f'"value": {digits}, "level": ', 1).replace('"year": 2024', '"year": 1e400')
    parsed = parse_json(text.encode())
    assert parsed.header["region_name"] == "-" + digits and parsed.header["year"] == float("inf")
    first, second = parsed.spd.raws[:2]
    assert first["value"] == digits and type(first["level"]) is int and "value" not in second
    batch = LandingBatch(dict.fromkeys(RECORD_TABLES, 0))
    batch.add_parsed(0, "f.json", parsed)
    answer = batch.tables()["spd_answers"].slice(0, 1).to_pylist()[0]
    assert (answer["value"], answer["value_raw"], answer["level"]) == (None, digits, first["level"])


ODD_VALUES: list[Any] = [None, "", "  ", "3", " 3 ", "3.0", "tiga", 3, 3.0, 3.5, -0.0, True, False, 2**63, 1e309,
                         float("nan"), "1,5", " Sid 03 ", "SID_03", "sid 03", {"a": 1}, [1, 2], "\u00a0x\u00a0", "é"]


def test_bulk_answer_rows_equal_the_general_conversions() -> None:
    """LandingBatch's short paths for plain values give exactly what text/whole_number/number/code_text give."""
    from flows.landing import LandingBatch
    from flows.readers import Answers
    from flows.values import code_text, number, text, whole_number

    raws = [{"indicator": indicator, "level": level, "value": value, "evidence": [level, value, indicator]}
            for indicator, level, value in ((a, b, c) for a in ODD_VALUES for b in ODD_VALUES[:12]
                                            for c in ODD_VALUES[::5])]
    batch = LandingBatch({"spd_answers": 0, "evidence": 0})
    batch._answers("spd_answers", 7, "f.json", Answers.from_json("$.spd", raws))
    rows, evidence = batch.columns["spd_answers"], batch.columns["evidence"]
    for i, a in enumerate(raws):
        assert rows["locator"][i] == f"$.spd[{i}]"
        assert rows["indicator"][i] == code_text(a["indicator"])
        assert rows["level"][i] == whole_number(a["level"]) and rows["level_raw"][i] == text(a["level"])
        value = number(a["value"]) if a["value"] is not None else None
        assert rows["value"][i] == value or (value != value and rows["value"][i] != rows["value"][i])
        assert rows["value_raw"][i] == (text(a["value"]) if a["value"] is not None else None)
    assert evidence["item"] == [text(item) for a in raws for item in a["evidence"]]
    assert evidence["position"] == [j for _ in range(len(raws)) for j in range(3)]  # item j of answer i
    assert evidence["answer_record_id"] == [i for i in range(len(raws)) for _ in range(3)]
