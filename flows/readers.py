"""Read one submission file (JSON here, XLSX in :mod:`flows.xlsx_reader`) into plain records with their
locators.

Nothing here touches the database: a reader turns bytes into a :class:`ParsedFile`, or into a
file-level error (``error_rule`` + detail) when the file cannot be read as a submission at all.
Locators say where a record sits: ``$.innovations[7].sid[4]`` in JSON, ``sid!120`` in XLSX.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from flows.values import kind_and_text, region_code_text

SCHEMA = "iid.submission/v1"
MAX_FILE_BYTES = 256 * 1024 * 1024  # a national year's largest real file is a few MB
XLSX_SHEETS = {
    "profil": ("field", "value"),
    "spd": ("indicator", "level", "value", "evidence"),
    "inovasi": ("id", "name", "unit", "form", "kind", "initiator", "affair", "stage", "trial_date",
                "implementation_date", "design", "goal", "benefit", "result"),
    "sid": ("innovation_id", "indicator", "level", "value", "evidence"),
}
INNOVATION_FIELDS = XLSX_SHEETS["inovasi"]
OPERATOR_FIELDS = ("name", "email", "phone")
# the fields of an XLSX template's 'profil' sheet (others there are ignored)
PROFILE_FIELDS = ("schema", "year", "region_code", "region_name", "submitted_at",
                  *(f"operator_{k}" for k in OPERATOR_FIELDS))


def max_file_bytes() -> int:
    """Largest file read (``$IID_MAX_FILE_BYTES`` overrides the default of 256 MiB)."""
    return int(os.environ.get("IID_MAX_FILE_BYTES", MAX_FILE_BYTES))


class FileRejected(Exception):
    """The file as a whole cannot be read as a submission (rule code + plain reason); ``region_hint`` is the
    region code the file names, where it could be read (a workbook's profil), to route feedback."""

    def __init__(self, rule: str, detail: str, region_hint: str | None = None) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail
        self.region_hint = region_hint


_REGION_CODE = re.compile(r"\d{2}(?:\.\d{2})?")


def region_code_hint(value: Any) -> str | None:
    """A region code as written in a file, when it has the shape of one (``35`` or ``35.78``): only such
    a text is kept beside a rejected file, never what else the field holds."""
    code = region_code_text(value)
    return code if code is not None and _REGION_CODE.fullmatch(code) else None


@dataclass(slots=True)
class Answers:
    """A list of answers as read: each one's locator and its raw object (a JSON object, or an XLSX row
    as {column: value}). The landing batch turns them into rows without an object per answer: a
    national year has ~650,000.

    Evidence item ``i`` of an answer sits at ``f"{locator}.evidence[{i}]"`` in JSON, where the
    evidence is a list (or one string), and at ``f"{locator}#evidence[{i}]"`` in XLSX, where it is one
    cell of items separated by ``;``. Anything but an object stands for an answer with no fields.
    ``places``: each answer's index in its JSON list, or its row of its sheet: what a SID answer lands with
    instead of its locator (``flows.landing.SCHEMAS``; the ``sid_locator`` macro writes the locator again).
    A JSON list's answers keep only its path (``prefix``): their locators are made when asked for
    (:attr:`locators`), which only the SPD answers' landing rows and the slow path do (a national year's
    ~650,000 SID locators took ~0.2 s of the parse workers' CPU, to be dropped).
    """

    raws: list[Any] = field(default_factory=list)
    json: bool = True
    prefix: str = ""  # JSON: the path of the list
    sheet_rows: list[int] = field(default_factory=list)  # XLSX: each answer's row
    sheet_locators: list[str] = field(default_factory=list)  # XLSX: each answer's ``sheet!row``

    @classmethod
    def from_json(cls, prefix: str, items: list[Any]) -> Answers:
        """The answers of a JSON list at path ``prefix`` (``$.spd``, ``$.innovations[7].sid``)."""
        return cls(items, True, prefix)

    @property
    def places(self) -> Sequence[int]:
        """Each answer's index in its JSON list, or its row of its sheet."""
        return range(len(self.raws)) if self.json else self.sheet_rows

    @property
    def locators(self) -> list[str]:
        """Each answer's locator: ``prefix[i]`` in JSON, ``sheet!row`` in XLSX."""
        if self.json:
            return [f"{self.prefix}[{i}]" for i in range(len(self.raws))]
        return self.sheet_locators

    def add(self, sheet: str, row: int, raw: Any) -> None:
        """An XLSX answer: row ``row`` of sheet ``sheet`` (its locator ``sheet!row``)."""
        self.sheet_locators.append(f"{sheet}!{row}")
        self.sheet_rows.append(row)
        self.raws.append(raw)

    def __len__(self) -> int:
        return len(self.raws)


def evidence_items(raw: Any, json_paths: bool) -> list[Any]:
    """An answer's evidence as a list of items: a JSON list as it is, one string as one item (in
    JSON) or items separated by ``;`` (in an XLSX cell), nothing for None, anything else as one item."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if json_paths else [part.strip() for part in raw.split(";") if part.strip()]
    if isinstance(raw, list):
        return raw
    return [raw]


@dataclass
class Innovation:
    """An innovation's locator, fields (INNOVATION_FIELDS; in JSON also ``sid`` where it is not a list of
    answers, as written, or only ``not_object``, its kind and text, where the innovation is no object) and
    SID answers."""

    locator: str
    fields: dict[str, Any]
    answers: Answers = field(default_factory=Answers)


@dataclass
class ParsedFile:
    """What a readable file holds: header fields, operator contact (private) and the records."""

    format: str
    header_locator: str
    header: dict[str, Any]
    operator: dict[str, Any]
    spd: Answers
    innovations: list[Innovation]
    has_bom: bool = False
    # SID rows of an XLSX file whose innovation_id matches no row of 'inovasi'
    orphan_answers: Answers = field(default_factory=Answers)
    # SID rows of an XLSX file whose innovation_id names two or more rows of 'inovasi', by that id: they
    # cannot be attributed to one innovation (INO007)
    shared_id_answers: dict[str, Answers] = field(default_factory=dict)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise FileRejected("FIL009", f"key {key!r} appears twice in one JSON object")
        out[key] = value
    return out


_KEY = re.compile(r'"[ \t\n\r]*:')
_SPACED_KEY = re.compile(r'"[ \t\n\r]+:')  # a key token with JSON's whitespace before its colon


def _key_tokens(text: str) -> int:
    """How many key tokens (``"…":``, :data:`_KEY`) a JSON text holds, counting a ``":`` inside a text as one too.

    Where no quote is followed by whitespace and a colon (JSON written compactly, with Python's default separators
    or indented by it) every such token is the two characters ``":``, which ``str.count`` counts without a match
    object each; otherwise :data:`_KEY` counts them. A national year's texts in one process: the search and the
    count ~0.42-0.46 s of CPU, the pattern's ``findall`` ~0.44-0.61 s.
    """
    if _SPACED_KEY.search(text) is None:
        return text.count('":')
    return len(_KEY.findall(text))


MAX_JSON_DEPTH = 100  # a submission is 6 levels deep; a fixed limit, not wherever Python's stack runs out


def _shape(doc: Any) -> tuple[int, int]:
    """How many object keys a parsed document holds (duplicates in the text collapse into one) and how
    deeply its objects and lists nest."""
    count, deepest = 0, 0
    todo: list[tuple[Any, int]] = [(doc, 1)] if type(doc) is dict or type(doc) is list else []
    pop, push = todo.pop, todo.append
    while todo:
        item, depth = pop()
        if depth > deepest:
            deepest = depth
        values: Any = item
        if type(item) is dict:
            count += len(item)
            values = item.values()
        for value in values:
            kind = type(value)
            if kind is dict or kind is list:
                push((value, depth + 1))
    return count, deepest


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(doc: Any) -> tuple[str, str] | None:
    """Where a text of the document holds half of a UTF-16 surrogate pair (an escape such as ``\\ud800``
    with no partner; JSON lets it through, but it is no character and cannot be stored as UTF-8): the
    JSON path and the escape, or None."""
    todo: list[tuple[str, Any]] = [("$", doc)]
    while todo:
        path, item = todo.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return path, f"\\u{ord(found.group()):04x}"
        elif isinstance(item, dict):
            for key, value in item.items():
                found = _SURROGATE.search(key)
                if found:
                    return f"a key of {path}", f"\\u{ord(found.group()):04x}"
                todo.append((f"{path}.{key}", value))
        elif isinstance(item, list):
            todo.extend((f"{path}[{i}]", value) for i, value in enumerate(item))
    return None


def _check_depth(depth: int) -> None:
    """FIL008 for a document nested deeper than MAX_JSON_DEPTH: the same answer in a parse worker and deep in
    a flow's stack (where converting such a value to text ran out of stack and stopped the year's ingest)."""
    if depth > MAX_JSON_DEPTH:
        raise FileRejected("FIL008", f"JSON nested {depth} levels deep, the limit is {MAX_JSON_DEPTH} "
                                     "(a submission is 6 levels deep)")


def _int_or_digits(digits: str) -> int | str:
    """A JSON integer as an int, or as its digits where it has more than Python converts to an int
    (``sys.get_int_max_str_digits()``, 4,300): such a number is no level, year or value any rule takes (its
    float is infinite), so its field is rejected (ANS002, ANS005, …) with the digits as the value."""
    try:
        return int(digits)
    except ValueError:
        return digits


def _loads(text: str) -> Any:
    """``json.loads`` refusing duplicate keys (FIL009) and lone surrogates (FIL002), with a fast path.

    orjson parses first; its result is taken only when every ``"…":`` in the text is a distinct key of
    the result (a duplicate key would leave fewer keys than key tokens). Anything else, including
    everything orjson refuses (NaN, huge integers, deep nesting, lone surrogates), goes through the
    standard library parser with the duplicate check, so results and error messages are the same; an
    integer of more than 4,300 digits, which ``int()`` refuses, is kept as its digits (:func:`_int_or_digits`). A
    text holding a lone surrogate escape is refused: it is no character, so no landing table (UTF-8)
    could hold it (it stopped the whole year's ingest before).
    """
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        keys, depth = _shape(doc)
        if keys == _key_tokens(text):
            _check_depth(depth)
            return doc
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer longer than int() converts: valid JSON, it stopped the year's ingest before
        doc = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_int=_int_or_digits)
    _check_depth(_shape(doc)[1])
    lone = _lone_surrogate(doc)
    if lone is not None:
        raise FileRejected("FIL002", f"{lone[0]} holds the escape {lone[1]}, half of a UTF-16 surrogate pair and "
                                     "not a character; write the character itself (or both halves of its pair)")
    return doc


def _json_list(doc: dict[str, Any], key: str) -> list[Any]:
    raw = doc.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FileRejected("FIL005", f"field {key!r} must be a list, found {type(raw).__name__}")
    return raw


def parse_json(data: bytes) -> ParsedFile:
    """Parse an ``iid.submission/v1`` JSON document."""
    has_bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data[3:].decode("utf-8") if has_bom else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRejected("FIL002", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    try:
        doc = _loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected("FIL004", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise FileRejected("FIL008", "JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise FileRejected("FIL005", f"top level is a {type(doc).__name__}, not an object")
    if doc.get("schema") != SCHEMA:
        raise FileRejected("FIL005", f"schema is {str(doc.get('schema'))[:60]!r}, expected {SCHEMA!r}")
    header = {k: doc.get(k) for k in ("year", "region_code", "region_name", "submitted_at")}
    operator_raw: dict[str, Any] = doc["operator"] if isinstance(doc.get("operator"), dict) else {}
    operator = {k: operator_raw.get(k) for k in OPERATOR_FIELDS}
    spd = Answers.from_json("$.spd", _json_list(doc, "spd"))
    innovations = []
    for i, inv in enumerate(_json_list(doc, "innovations")):
        loc = f"$.innovations[{i}]"
        if not isinstance(inv, dict):  # a number, a text, a list, null: one INO001 with what is there
            innovations.append(Innovation(loc, {"not_object": kind_and_text(inv) or "null"}))
            continue
        fields = {k: inv.get(k) for k in INNOVATION_FIELDS}
        sid = inv.get("sid")
        if not isinstance(sid, list):
            if sid is not None:  # an object or a text where the list of answers goes: the innovation is INO013
                fields["sid"] = sid
            sid = []
        innovations.append(Innovation(loc, fields, Answers.from_json(f"{loc}.sid", sid)))
    return ParsedFile("json", "$", header, operator, spd, innovations, has_bom)


def parse_bytes(name: str, data: bytes) -> ParsedFile:
    """Parse the bytes of a drop-zone file; raises :class:`FileRejected` for a bad file."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".json", ".xlsx"):
        raise FileRejected("FIL007", f"'{suffix or '(none)'}' files are not submissions; send .json or .xlsx")
    if not data:
        raise FileRejected("FIL001", "the file is empty (0 bytes); upload it again")
    if len(data) > max_file_bytes():
        raise FileRejected("FIL008", f"file has {len(data):,} bytes, the limit is {max_file_bytes():,}")
    if suffix == ".json":
        return parse_json(data)
    from flows.xlsx_reader import parse_xlsx

    return parse_xlsx(data)
