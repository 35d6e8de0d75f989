"""Typed landing tables: the rows of every file as read, with source file and locator.

Each typed field keeps its raw text beside it (``level`` and ``level_raw``) so validation can say
what was wrong with a value that did not convert. Operator contact data goes to a separate private
table and never into these.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa

from flows.readers import Answers, ParsedFile, evidence_items

WIB = timezone(timedelta(hours=7))
_NUMBER = re.compile(r"^[-+]?\d+([.,]\d+)?([eE][-+]?\d+)?$")
_SPACES = re.compile(r"\s+")

SCHEMAS: dict[str, pa.Schema] = {
    "files": pa.schema([
        ("file_id", pa.int64()), ("source_file", pa.string()), ("sha256", pa.string()), ("bytes", pa.int64()),
        ("format", pa.string()), ("error_rule", pa.string()), ("error_detail", pa.string()),
        ("has_bom", pa.bool_()), ("records", pa.int64()), ("region_hint", pa.string()),
    ]),
    "submissions": pa.schema([
        ("record_id", pa.int64()), ("file_id", pa.int64()), ("source_file", pa.string()), ("locator", pa.string()),
        ("year", pa.int64()), ("year_raw", pa.string()), ("region_code", pa.string()), ("region_name", pa.string()),
        ("submitted_at", pa.timestamp("us", tz="UTC")), ("submitted_at_raw", pa.string()),
        ("n_spd", pa.int64()), ("n_innovations", pa.int64()),
    ]),
    "spd_answers": pa.schema([
        ("record_id", pa.int64()), ("file_id", pa.int64()), ("source_file", pa.string()), ("locator", pa.string()),
        ("indicator", pa.string()), ("level", pa.int64()), ("level_raw", pa.string()),
        ("value", pa.float64()), ("value_raw", pa.string()), ("n_evidence", pa.int64()),
    ]),
    "innovations": pa.schema([
        ("record_id", pa.int64()), ("file_id", pa.int64()), ("source_file", pa.string()), ("locator", pa.string()),
        ("innovation_id", pa.string()), ("name", pa.string()), ("unit", pa.string()), ("form", pa.string()),
        ("kind", pa.string()), ("initiator", pa.string()), ("affair", pa.string()), ("stage", pa.string()),
        ("trial_date", pa.date32()), ("trial_date_raw", pa.string()),
        ("implementation_date", pa.date32()), ("implementation_date_raw", pa.string()),
        ("design", pa.string()), ("goal", pa.string()), ("benefit", pa.string()), ("result", pa.string()),
        ("design_words", pa.int64()),
    ]),
    "sid_answers": pa.schema([
        ("record_id", pa.int64()), ("file_id", pa.int64()), ("source_file", pa.string()), ("locator", pa.string()),
        ("innovation_record_id", pa.int64()), ("innovation_id", pa.string()),
        ("indicator", pa.string()), ("level", pa.int64()), ("level_raw", pa.string()),
        ("value", pa.float64()), ("value_raw", pa.string()), ("n_evidence", pa.int64()),
    ]),
    "evidence": pa.schema([
        ("record_id", pa.int64()), ("file_id", pa.int64()), ("source_file", pa.string()), ("locator", pa.string()),
        ("answer_table", pa.string()), ("answer_record_id", pa.int64()), ("item", pa.string()),
    ]),
    "operators": pa.schema([
        ("file_id", pa.int64()), ("source_file", pa.string()),
        ("name", pa.string()), ("email", pa.string()), ("phone", pa.string()),
    ]),
}
RECORD_TABLES = ("submissions", "spd_answers", "innovations", "sid_answers", "evidence")


def text(value: Any) -> str | None:
    """A field as text: strings stripped, numbers as written, structures as JSON, empty as None."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def enum_text(value: Any) -> str | None:
    """Enumerations match ignoring case and surrounding or repeated spaces (CONTRACT.md §2)."""
    raw = text(value)
    return _SPACES.sub(" ", raw).lower() if raw is not None else None


def code_text(value: Any) -> str | None:
    raw = text(value)
    return raw.lower().replace(" ", "") if raw is not None else None


def whole_number(value: Any) -> int | None:
    """An int from an int, an integral float or a digit string; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if abs(value) < 2**62 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() and abs(value) < 2**62 else None
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d{1,15}\s*", value):
        return int(value)
    return None


def number(value: Any) -> float | None:
    """A finite float from a number or a numeric string (a decimal comma is accepted)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        result = float(value) if not isinstance(value, int) or abs(value) < 2**62 else math.inf
    elif isinstance(value, str) and _NUMBER.match(value.strip()):
        result = float(value.strip().replace(",", "."))
    else:
        return None
    return result if math.isfinite(result) else None


def iso_date(value: Any) -> date | None:
    raw = text(value)
    if raw is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 instant in UTC; a time without offset is read as WIB (UTC+7)."""
    raw = text(value)
    if raw is None or len(raw) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=WIB)
    return parsed.astimezone(UTC)


class LandingBatch:
    """Column lists for a batch of files, turned into Arrow tables for the database."""

    def __init__(self, next_ids: dict[str, int]) -> None:
        self.next_ids = next_ids
        self.columns: dict[str, dict[str, list[Any]]] = {
            name: {f.name: [] for f in schema} for name, schema in SCHEMAS.items()
        }
        self.rows = 0

    def _add(self, table: str, **values: Any) -> int:
        cols = self.columns[table]
        record_id = -1
        if "record_id" in cols:
            record_id = self.next_ids[table]
            self.next_ids[table] += 1
            values["record_id"] = record_id
        for name, column in cols.items():
            column.append(values.get(name))
        self.rows += 1
        return record_id

    def add_file(self, file_id: int, source_file: str, sha256: str, size: int, fmt: str,
                 error_rule: str | None, error_detail: str | None, has_bom: bool, records: int,
                 region_hint: str | None = None) -> None:
        self._add("files", file_id=file_id, source_file=source_file, sha256=sha256, bytes=size, format=fmt,
                  error_rule=error_rule, error_detail=error_detail, has_bom=has_bom, records=records,
                  region_hint=region_hint)

    def _answers(self, table: str, file_id: int, source_file: str, answers: Answers,
                 owner: tuple[int | None, str | None] | None = None) -> None:
        """Answer rows and their evidence rows, the hot path of a national year: plain values take a
        short path, anything else goes through the general conversions (:func:`text`, :func:`number` …).
        ``owner`` is (innovation record id, innovation id) for SID answers."""
        if not answers:
            return
        cols, ev = self.columns[table], self.columns["evidence"]
        first, first_ev = self.next_ids[table], self.next_ids["evidence"]
        json_paths = answers.json
        evidence_path = ".evidence[" if json_paths else "#evidence["
        indicators: list[str | None] = []
        levels: list[int | None] = []
        level_raws: list[str | None] = []
        values: list[float | None] = []
        value_raws: list[str | None] = []
        n_evidence: list[int] = []
        ev_locators: list[str] = []
        ev_owner: list[int] = []
        ev_items: list[str | None] = []
        for record_id, locator, raw in zip(range(first, first + len(answers)), answers.locators, answers.raws,
                                           strict=True):
            if type(raw) is dict:
                indicator, level, value, items = raw.get("indicator"), raw.get("level"), raw.get("value"), \
                    raw.get("evidence")
                if type(items) is not list:
                    items = evidence_items(items, json_paths)
            else:  # not an object: an answer with no fields
                indicator = level = value = None
                items = []
            indicators.append(indicator.lower().replace(" ", "") or None if type(indicator) is str and
                              indicator == indicator.strip() else code_text(indicator))
            if type(level) is int and abs(level) < 2**62:
                levels.append(level)
                level_raws.append(str(level))
            else:
                levels.append(whole_number(level))
                level_raws.append(text(level))
            if value is not None:
                values.append(number(value))
                value_raws.append(text(value))
            else:
                values.append(None)
                value_raws.append(None)
            n_evidence.append(len(items))
            if items:
                prefix = locator + evidence_path
                ev_locators.extend([f"{prefix}{i}]" for i in range(len(items))])
                ev_owner.extend([record_id] * len(items))
                ev_items.extend([item.strip() or None if type(item) is str else text(item) for item in items])
        locators = answers.locators
        count, ev_count = len(answers), len(ev_items)
        self.next_ids[table] = first + count
        self.next_ids["evidence"] = first_ev + ev_count
        cols["record_id"].extend(range(first, first + count))
        cols["file_id"].extend([file_id] * count)
        cols["source_file"].extend([source_file] * count)
        cols["locator"].extend(locators)
        cols["indicator"].extend(indicators)
        cols["level"].extend(levels)
        cols["level_raw"].extend(level_raws)
        cols["value"].extend(values)
        cols["value_raw"].extend(value_raws)
        cols["n_evidence"].extend(n_evidence)
        if owner is not None:
            cols["innovation_record_id"].extend([owner[0]] * count)
            cols["innovation_id"].extend([owner[1]] * count)
        ev["record_id"].extend(range(first_ev, first_ev + ev_count))
        ev["file_id"].extend([file_id] * ev_count)
        ev["source_file"].extend([source_file] * ev_count)
        ev["locator"].extend(ev_locators)
        ev["answer_table"].extend([table] * ev_count)
        ev["answer_record_id"].extend(ev_owner)
        ev["item"].extend(ev_items)
        self.rows += count + ev_count

    def add_parsed(self, file_id: int, source_file: str, parsed: ParsedFile) -> int:
        """Add every record of a parsed file; returns the number of records added."""
        before = self.rows
        h = parsed.header
        self._add("submissions", file_id=file_id, source_file=source_file, locator=parsed.header_locator,
                  year=whole_number(h.get("year")), year_raw=text(h.get("year")),
                  region_code=text(h.get("region_code")), region_name=text(h.get("region_name")),
                  submitted_at=timestamp(h.get("submitted_at")), submitted_at_raw=text(h.get("submitted_at")),
                  n_spd=len(parsed.spd), n_innovations=len(parsed.innovations))
        op = parsed.operator
        self._add("operators", file_id=file_id, source_file=source_file,
                  name=text(op.get("name")), email=text(op.get("email")), phone=text(op.get("phone")))
        self._answers("spd_answers", file_id, source_file, parsed.spd)
        for inv in parsed.innovations:
            f = inv.fields
            design = text(f.get("design"))
            inv_id = self._add(
                "innovations", file_id=file_id, source_file=source_file, locator=inv.locator,
                innovation_id=text(f.get("id")), name=text(f.get("name")), unit=text(f.get("unit")),
                form=enum_text(f.get("form")), kind=enum_text(f.get("kind")), initiator=enum_text(f.get("initiator")),
                affair=enum_text(f.get("affair")), stage=enum_text(f.get("stage")),
                trial_date=iso_date(f.get("trial_date")), trial_date_raw=text(f.get("trial_date")),
                implementation_date=iso_date(f.get("implementation_date")),
                implementation_date_raw=text(f.get("implementation_date")),
                design=design, goal=text(f.get("goal")), benefit=text(f.get("benefit")), result=text(f.get("result")),
                design_words=len(design.split()) if design else 0)
            self._answers("sid_answers", file_id, source_file, inv.answers, (inv_id, text(f.get("id"))))
        self._answers("sid_answers", file_id, source_file, parsed.orphan_answers, (None, None))
        return self.rows - before - 1  # the operator row is not a record

    def tables(self) -> dict[str, pa.Table]:
        return {name: pa.Table.from_pydict(cols, schema=SCHEMAS[name]) for name, cols in self.columns.items()}
