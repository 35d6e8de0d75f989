"""Read one submission file (JSON or XLSX) into plain records with their locators.

Nothing here touches the database: a reader turns bytes into a :class:`ParsedFile`, or into a
file-level error (``error_rule`` + detail) when the file cannot be read as a submission at all.
Locators say where a record sits: ``$.innovations[7].sid[4]`` in JSON, ``sid!120`` in XLSX.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any

import orjson

SCHEMA = "iid.submission/v1"
MAX_FILE_BYTES = 256 * 1024 * 1024  # a national year's largest real file is a few MB
MAX_XLSX_UNPACKED = 256 * 1024 * 1024  # uncompressed size of a workbook's parts (zip bombs)
# cells a sheet may span, from A1 to its last row and column (a template's SID sheet at ten times a national
# year spans ~100,000): calamine makes the whole span at once, and a cell at XFD1048576 asked it for
# 512 GB, which aborts the process (no exception to catch)
MAX_SHEET_CELLS = 4_000_000
XLSX_SHEETS = {
    "profil": ("field", "value"),
    "spd": ("indicator", "level", "value", "evidence"),
    "inovasi": ("id", "name", "unit", "form", "kind", "initiator", "affair", "stage", "trial_date",
                "implementation_date", "design", "goal", "benefit", "result"),
    "sid": ("innovation_id", "indicator", "level", "value", "evidence"),
}
INNOVATION_FIELDS = XLSX_SHEETS["inovasi"]
OPERATOR_FIELDS = ("name", "email", "phone")


def max_file_bytes() -> int:
    """Largest file read (``$IID_MAX_FILE_BYTES`` overrides the default of 256 MiB)."""
    return int(os.environ.get("IID_MAX_FILE_BYTES", MAX_FILE_BYTES))


class FileRejected(Exception):
    """The file as a whole cannot be read as a submission (rule code + plain reason)."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


@dataclass(slots=True)
class Answers:
    """A list of answers as read: each one's locator and its raw object (a JSON object, or an XLSX row
    as {column: value}). The landing batch turns them into rows without an object per answer: a
    national year has ~650,000.

    Evidence item ``i`` of an answer sits at ``f"{locator}.evidence[{i}]"`` in JSON, where the
    evidence is a list (or one string), and at ``f"{locator}#evidence[{i}]"`` in XLSX, where it is one
    cell of items separated by ``;``. Anything but an object stands for an answer with no fields.
    """

    locators: list[str] = field(default_factory=list)
    raws: list[Any] = field(default_factory=list)
    json: bool = True

    @classmethod
    def from_json(cls, prefix: str, items: list[Any]) -> Answers:
        """The answers of a JSON list at path ``prefix`` (``$.spd``, ``$.innovations[7].sid``)."""
        return cls([f"{prefix}[{i}]" for i in range(len(items))], items, True)

    def add(self, locator: str, raw: Any) -> None:
        self.locators.append(locator)
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


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise FileRejected("FIL009", f"key {key!r} appears twice in one JSON object")
        out[key] = value
    return out


_KEY = re.compile(r'"[ \t\n\r]*:')


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


def _loads(text: str) -> Any:
    """``json.loads`` refusing duplicate keys (FIL009) and lone surrogates (FIL002), with a fast path.

    orjson parses first; its result is taken only when every ``"…":`` in the text is a distinct key of
    the result (a duplicate key would leave fewer keys than key tokens). Anything else, including
    everything orjson refuses (NaN, huge integers, deep nesting, lone surrogates), goes through the
    standard library parser with the duplicate check, so results and error messages are the same. A
    text holding a lone surrogate escape is refused: it is no character, so no landing table (UTF-8)
    could hold it (it stopped the whole year's ingest before).
    """
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        keys, depth = _shape(doc)
        if keys == len(_KEY.findall(text)):
            _check_depth(depth)
            return doc
    doc = json.loads(text, object_pairs_hook=_no_duplicate_keys)
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
        if not isinstance(inv, dict):
            innovations.append(Innovation(loc, {}))
            continue
        sid: list[Any] = inv["sid"] if isinstance(inv.get("sid"), list) else []
        innovations.append(Innovation(loc, {k: inv.get(k) for k in INNOVATION_FIELDS},
                                      Answers.from_json(f"{loc}.sid", sid)))
    return ParsedFile("json", "$", header, operator, spd, innovations, has_bom)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        stripped = value.strip()
        return stripped if stripped else None
    return value


def _grid_rows(name: str, grid: Iterable[Sequence[Any]]) -> list[tuple[int, dict[str, Any]]]:
    """A sheet's rows (the first is the header) as (row number, {column: value}); empty rows skipped."""
    rows = iter(grid)
    header_row = next(rows, None)
    header = [str(h).strip().lower() if h is not None else "" for h in (header_row or ())]
    missing = [c for c in XLSX_SHEETS[name] if c not in header]
    if missing:
        raise FileRejected("FIL006", f"sheet {name!r} lacks column(s) {missing}")
    out = []
    for number, row in enumerate(rows, start=2):
        if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        # every column of the header, also where the reader ends a row at its last value (openpyxl)
        out.append((number, {h: _cell(v) for h, v in zip_longest(header, row) if h}))
    return out


class _Workbook:
    """The four sheets of a template as grids of cell values, from calamine (fast) or openpyxl."""

    def __init__(self, data: bytes, engine: str) -> None:
        self.engine = engine
        if engine == "calamine":
            from python_calamine import CalamineWorkbook

            self.book: Any = CalamineWorkbook.from_filelike(io.BytesIO(data))
            self.names: list[str] = list(self.book.sheet_names)
        else:
            import openpyxl

            self.book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            self.names = list(self.book.sheetnames)

    def grid(self, name: str) -> Iterable[Sequence[Any]]:
        if self.engine != "calamine":
            sheet = self.book[name]
            # its rows as they are, not as far as the sheet's <dimension> says: a dimension smaller than
            # the data cut rows off without a word (calamine ignores it)
            sheet.reset_dimensions()
            return sheet.iter_rows(values_only=True)  # type: ignore[no-any-return]
        # from A1, as openpyxl reads it (not from the first used cell)
        rows = self.book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        # calamine reads every number as a float; openpyxl a whole number written without a decimal
        # point (the file stores 3, not 3.0) as an int: the same values either way
        return [[int(v) if type(v) is float and v.is_integer() and abs(v) < 2**53 else v for v in row]
                for row in rows]

    def close(self) -> None:
        self.book.close()


# what calamine reads differently from openpyxl: error cells (#N/A, #DIV/0!: calamine gives an
# empty cell, openpyxl the error's text), ISO 8601 date cells, and _xHHHH_ escapes in text (calamine
# decodes them, openpyxl keeps them); a workbook with any of them is read with openpyxl
_OPENPYXL_ONLY = re.compile(rb"""\st\s*=\s*["'][ed]["']|_x[0-9A-Fa-f]{4}_""")
_CELL_REF = re.compile(rb"""<(?:\w+:)?c\s[^>]*?\br\s*=\s*["']([A-Za-z]{1,7})([0-9]{1,12})["']""")
_ROW_REF = re.compile(rb"""<(?:\w+:)?row\s[^>]*?\br\s*=\s*["']([0-9]{1,12})["']""")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def sheet_span(xml: bytes) -> tuple[int, int]:
    """The last row and column a sheet's XML puts a cell or row in (cells' ``r="C12"``, rows' ``r="12"``)."""
    rows = max((int(r) for r in _ROW_REF.findall(xml)), default=0)
    columns = 0
    for letters, row in _CELL_REF.findall(xml):
        columns = max(columns, _column_number(letters))
        rows = max(rows, int(row))
    return rows, columns


def _sheet_name(archive: zipfile.ZipFile, part: str) -> str:
    """The name a workbook gives the sheet stored in ``part``, quoted (its part name when that cannot be told)."""
    from xml.etree import ElementTree

    try:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): "xl/" + str(rel.get("Target", "")).lstrip("/").removeprefix("xl/") for rel in rels}
        for sheet in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
            ids = [v for k, v in sheet.attrib.items() if k.endswith("}id")]
            if sheet.tag.endswith("}sheet") and ids and targets.get(ids[0]) == part:
                return repr(sheet.get("name", ""))
    except (KeyError, ElementTree.ParseError):
        pass
    return part.rsplit("/", 1)[-1]


def _check_span(archive: zipfile.ZipFile, part: str, xml: bytes) -> None:
    """FIL008 for a sheet spanning more than MAX_SHEET_CELLS cells from A1."""
    rows, columns = sheet_span(xml)
    if rows * columns > MAX_SHEET_CELLS:
        raise FileRejected("FIL008", f"sheet {_sheet_name(archive, part)} reaches row {rows:,} and column "
                                     f"{columns:,}, {rows * columns:,} cells from A1; the limit is "
                                     f"{MAX_SHEET_CELLS:,}: clear the cells far outside the table")


def _open_workbook(data: bytes, engine: str) -> _Workbook:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > MAX_XLSX_UNPACKED:
                raise FileRejected("FIL008", f"workbook unpacks to {unpacked} bytes (zip bomb?)")
            only_openpyxl = False
            for name in archive.namelist():  # each part read once, for both checks
                if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml":
                    xml = archive.read(name)
                    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                        _check_span(archive, name, xml)
                    only_openpyxl = only_openpyxl or (engine == "calamine" and bool(_OPENPYXL_ONLY.search(xml)))
            if only_openpyxl:
                engine = "openpyxl"
        return _Workbook(data, engine)
    except FileRejected:
        raise
    except Exception as exc:  # the readers raise many kinds for a broken workbook
        raise FileRejected("FIL006", f"not a readable XLSX workbook ({type(exc).__name__})") from None


def parse_xlsx(data: bytes, engine: str = "calamine") -> ParsedFile:
    """Parse the manual XLSX template (sheets profil, spd, inovasi, sid).

    Read with calamine (Rust, ~20 times faster than openpyxl); a workbook calamine cannot read is
    read with openpyxl, and only a workbook neither can read is rejected. Both give the same values
    (a test compares them on generated and awkward workbooks).
    """
    try:
        wb = _open_workbook(data, engine)
    except FileRejected as exc:
        if engine != "calamine" or exc.rule != "FIL006":
            raise
        return parse_xlsx(data, "openpyxl")
    try:
        return _read_sheets(wb)
    except _Unreadable as exc:  # calamine reads a sheet lazily: what it cannot read, openpyxl may
        if engine == "calamine":
            return parse_xlsx(data, "openpyxl")
        raise FileRejected("FIL006", f"sheet {exc.sheet!r} is unreadable ({exc.reason})") from None
    finally:
        wb.close()


class _Unreadable(Exception):
    """A sheet the reader failed on while reading its cells (bad cell XML, a value it cannot convert)."""

    def __init__(self, sheet: str, error: Exception) -> None:
        super().__init__(sheet)
        self.sheet, self.reason = sheet, f"{type(error).__name__}: {str(error)[:100]}"


def _sheet_rows(wb: _Workbook, name: str) -> list[tuple[int, dict[str, Any]]]:
    """:func:`_grid_rows` of a sheet; what the reader raises on its cells, as :class:`_Unreadable`."""
    try:
        return _grid_rows(name, wb.grid(name))
    except FileRejected:
        raise
    except Exception as exc:  # the readers raise many kinds (CalamineError, XmlError, ValueError, OverflowError …)
        raise _Unreadable(name, exc) from None


def _read_sheets(wb: _Workbook) -> ParsedFile:
    """The template's four sheets of an open workbook."""
    absent = [s for s in XLSX_SHEETS if s not in wb.names]
    if absent:
        raise FileRejected("FIL006", f"workbook lacks sheet(s) {absent}")
    profile = {str(r.get("field") or "").strip().lower(): r.get("value")
               for _, r in _sheet_rows(wb, "profil")}
    if profile.get("schema") not in (None, SCHEMA):
        raise FileRejected("FIL005", f"schema is {str(profile.get('schema'))[:60]!r}, expected {SCHEMA!r}")
    header = {k: profile.get(k) for k in ("year", "region_code", "region_name", "submitted_at")}
    operator = {k: profile.get(f"operator_{k}") for k in OPERATOR_FIELDS}
    spd = Answers(json=False)
    for n, r in _sheet_rows(wb, "spd"):
        spd.add(f"spd!{n}", r)
    innovations: list[Innovation] = [Innovation(f"inovasi!{n}", {k: r.get(k) for k in INNOVATION_FIELDS},
                                                Answers(json=False))
                                     for n, r in _sheet_rows(wb, "inovasi")]
    by_id: dict[str, Innovation] = {}
    for inv in innovations:
        key = str(inv.fields.get("id") or "").strip()
        by_id.setdefault(key, inv)
    orphans = Answers(json=False)
    for n, r in _sheet_rows(wb, "sid"):
        owner = by_id.get(str(r.get("innovation_id") or "").strip())
        (owner.answers if owner else orphans).add(f"sid!{n}", r)
    return ParsedFile("xlsx", "profil", header, operator, spd, innovations, False, orphans)


def parse_bytes(name: str, data: bytes) -> ParsedFile:
    """Parse the bytes of a drop-zone file; raises :class:`FileRejected` for a bad file."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".json", ".xlsx"):
        raise FileRejected("FIL007", f"'{suffix or '(none)'}' files are not submissions; send .json or .xlsx")
    if not data:
        raise FileRejected("FIL001", "the file is empty (0 bytes); upload it again")
    if len(data) > max_file_bytes():
        raise FileRejected("FIL008", f"file has {len(data):,} bytes, the limit is {max_file_bytes():,}")
    return parse_json(data) if suffix == ".json" else parse_xlsx(data)
