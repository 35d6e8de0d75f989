"""Typed landing tables: the rows of every file as read, with source file and locator (a SID answer and an
evidence item with their place in their innovation's or answer's list instead: see ``SCHEMAS``).

Each typed field keeps its raw text beside it (``level`` and ``level_raw``) so validation can say
what was wrong with a value that did not convert. Operator contact data goes to a separate private
table and never into these.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa

from flows.arrow_columns import each_distinct, evidence_column, indicator_column, level_columns, value_columns
from flows.readers import Answers, ParsedFile, evidence_items
from flows.values import (
    code_text,
    enum_text,
    iso_date,
    kind_and_text,
    number,
    region_code_text,
    text,
    timestamp,
    whole_number,
)

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
    # value_is_text: the value was written as text (a JSON string, an XLSX text cell), not as a number; only
    # text can be ambiguous (``"1.500"`` reads as 1.5, an Indonesian writer may mean 1500: ANS010)
    "spd_answers": pa.schema([
        ("record_id", pa.int64()), ("file_id", pa.int64()), ("source_file", pa.string()), ("locator", pa.string()),
        ("indicator", pa.string()), ("level", pa.int64()), ("level_raw", pa.string()),
        ("value", pa.float64()), ("value_raw", pa.string()), ("value_is_text", pa.bool_()),
        ("n_evidence", pa.int64()),
    ]),
    "innovations": pa.schema([
        ("record_id", pa.int64()), ("file_id", pa.int64()), ("source_file", pa.string()), ("locator", pa.string()),
        ("innovation_id", pa.string()), ("name", pa.string()), ("unit", pa.string()), ("form", pa.string()),
        ("kind", pa.string()), ("initiator", pa.string()), ("affair", pa.string()), ("stage", pa.string()),
        ("trial_date", pa.date32()), ("trial_date_raw", pa.string()),
        ("implementation_date", pa.date32()), ("implementation_date_raw", pa.string()),
        # the narratives are kept as what the method and the suites read of them, their length in
        # characters and the design's words: their text (over half of a year's raw bytes) is published
        # nowhere, and carrying it through the work database cost a year at ten times the national size
        # ~1.1 GB of memory, spill and compression (see INNOVATION_NARRATIVES)
        ("design_chars", pa.int64()), ("goal_chars", pa.int64()), ("benefit_chars", pa.int64()),
        ("result_chars", pa.int64()), ("design_words", pa.int64()),
        # JSON: ``sid`` where it is not a list of answers (an object, a text …), as its kind and text (INO013)
        ("sid_not_list", pa.string()),
        # JSON: the innovation itself where it is not an object (``number 42``, ``string "x"``, ``null``: INO001)
        ("not_object", pa.string()),
    ]),
    # a SID answer's file name and locator are not kept with it either (616,000 answers in a national year): its
    # ``position`` is its place in its innovation's ``sid`` list in JSON (the locator is the innovation's with
    # ``.sid[position]`` after it) and its row of the sheet ``sid`` in XLSX (``sid!position``): the ``sid_locator``
    # macro (transforms/runner.py)
    "sid_answers": pa.schema([
        ("record_id", pa.int64()), ("file_id", pa.int64()), ("position", pa.int32()),
        ("innovation_record_id", pa.int64()), ("innovation_id", pa.string()),
        ("indicator", pa.string()), ("level", pa.int64()), ("level_raw", pa.string()),
        ("value", pa.float64()), ("value_raw", pa.string()), ("value_is_text", pa.bool_()),
        ("n_evidence", pa.int64()),
    ]),
    # an evidence item's file name and locator are not kept with it (a national year has 1.1 million items, where
    # the two texts took ~40 % of inserting them): ``position`` is the item's place in its answer's evidence, and
    # the locator is the answer's with ``.evidence[position]`` (JSON) or ``#evidence[position]`` (XLSX) after it
    # (the ``evidence_locator`` macro, transforms/runner.py), worked out for the few items a locator is shown for
    "evidence": pa.schema([
        ("record_id", pa.int64()), ("file_id", pa.int64()), ("position", pa.int32()),
        ("answer_table", pa.string()), ("answer_record_id", pa.int64()), ("item", pa.string()),
    ]),
    "operators": pa.schema([
        ("file_id", pa.int64()), ("source_file", pa.string()),
        ("name", pa.string()), ("email", pa.string()), ("phone", pa.string()),
    ]),
}
RECORD_TABLES = ("submissions", "spd_answers", "innovations", "sid_answers", "evidence")
ANSWER_TABLES = ("spd_answers", "sid_answers", "evidence")  # built file by file as Arrow tables


INNOVATION_TEXTS = {"innovation_id": "id", "name": "name", "unit": "unit"}
INNOVATION_ENUMS = ("form", "kind", "initiator", "affair", "stage")
# An innovation's narratives (rancang bangun, tujuan, manfaat, hasil) land as their length in characters
# (``<field>_chars``, of the text as :func:`text` gives it; None when empty) and the design's word count:
# the suites check those (INO011, INO012) and nothing else reads them. The texts stay in the raw files.
INNOVATION_NARRATIVES = ("design", "goal", "benefit", "result")


# A JSON answer's fields as Arrow takes a file's answers at once (:meth:`LandingBatch._answers_in_bulk`),
# and the kinds of Python value each may hold for that (None: absent or null)
ANSWER_TYPE = pa.struct([("indicator", pa.string()), ("level", pa.int64()), ("value", pa.float64()),
                         ("evidence", pa.list_(pa.string()))])
_BULK_KINDS: dict[str, set[type]] = {"level": {int, type(None)}, "value": {int, float, type(None)},
                                     "evidence": {list, type(None)}}


def text_chars(value: Any) -> int | None:
    """The length in characters of :func:`text` of a value (None when that is None)."""
    if type(value) is str:  # the same as len(text(value)), without a copy: strip() returns the text itself
        return len(value.strip()) or None
    converted = text(value)
    return None if converted is None else len(converted)


def innovation_rows(pending: list[tuple[int, int, str, str, dict[str, Any]]]) -> pa.Table:
    """The ``innovations`` rows of (record id, file id, source file, locator, fields), converted field by
    field with :func:`text`, :func:`enum_text` and :func:`iso_date`, once per distinct text; a ``sid`` among
    the fields (not a list of answers) as :func:`kind_and_text`."""
    fields = [p[4] for p in pending]
    columns: dict[str, Any] = {"record_id": [p[0] for p in pending], "file_id": [p[1] for p in pending],
                               "source_file": [p[2] for p in pending], "locator": [p[3] for p in pending]}
    for column, key in INNOVATION_TEXTS.items():
        columns[column] = each_distinct([f.get(key) for f in fields], text, pa.string())
    for key in INNOVATION_ENUMS:
        columns[key] = each_distinct([f.get(key) for f in fields], enum_text, pa.string())
    for key in ("trial_date", "implementation_date"):
        raws = [f.get(key) for f in fields]
        columns[key] = each_distinct(raws, iso_date, pa.date32())
        columns[f"{key}_raw"] = each_distinct(raws, text, pa.string())
    for key in INNOVATION_NARRATIVES:
        columns[f"{key}_chars"] = [text_chars(f.get(key)) for f in fields]
    # words as str.split counts them (Arrow's split is slower); the same count with or without the spaces
    # around the text that text() strips; none for an innovation that is no object (its one failure is INO001)
    columns["design_words"] = [len(v.split()) if type(v) is str else
                               None if "not_object" in f else len((text(v) or "").split())
                               for f in fields for v in (f.get("design"),)]
    columns["sid_not_list"] = [None if (sid := f.get("sid")) is None else kind_and_text(sid) for f in fields]
    columns["not_object"] = [f.get("not_object") for f in fields]
    return pa.Table.from_pydict(columns, schema=SCHEMAS["innovations"])


class LandingBatch:
    """The landing rows of a batch of files, as Arrow tables for the database: a file's header, operator
    and file rows in column lists, its answers and evidence as Arrow tables (:meth:`_answers_in_bulk`,
    or :meth:`_answers` and :meth:`_flush_answers`), the innovations converted when the tables are made."""

    def __init__(self, next_ids: dict[str, int]) -> None:
        self.next_ids = next_ids
        # one row per file (files, submissions, operators), and answers that go one by one (_answers)
        self.columns: dict[str, dict[str, list[Any]]] = {
            name: {f.name: [] for f in schema} for name, schema in SCHEMAS.items() if name != "innovations"
        }
        # answers and evidence, one Arrow table per file (see add_parsed), in record id order
        self.chunks: dict[str, list[pa.Table]] = {name: [] for name in ANSWER_TABLES}
        # innovations as (record id, file id, source file, locator, fields), converted column by column
        self.innovations: list[tuple[int, int, str, str, dict[str, Any]]] = []
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
        indicators: list[str | None] = []
        levels: list[int | None] = []
        level_raws: list[str | None] = []
        values: list[float | None] = []
        value_raws: list[str | None] = []
        value_texts: list[bool] = []
        n_evidence: list[int] = []
        ev_positions: list[int] = []
        ev_owner: list[int] = []
        ev_items: list[str | None] = []
        for record_id, raw in zip(range(first, first + len(answers)), answers.raws, strict=True):
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
            value_texts.append(type(value) is str)
            n_evidence.append(len(items))
            if items:
                ev_positions.extend(range(len(items)))
                ev_owner.extend([record_id] * len(items))
                ev_items.extend([item.strip() or None if type(item) is str else text(item) for item in items])
        count, ev_count = len(answers), len(ev_items)
        self.next_ids[table] = first + count
        self.next_ids["evidence"] = first_ev + ev_count
        cols["record_id"].extend(range(first, first + count))
        cols["file_id"].extend([file_id] * count)
        if table == "sid_answers":
            cols["position"].extend(answers.places)
        else:
            cols["source_file"].extend([source_file] * count)
            cols["locator"].extend(answers.locators)
        cols["indicator"].extend(indicators)
        cols["level"].extend(levels)
        cols["level_raw"].extend(level_raws)
        cols["value"].extend(values)
        cols["value_raw"].extend(value_raws)
        cols["value_is_text"].extend(value_texts)
        cols["n_evidence"].extend(n_evidence)
        if owner is not None:
            cols["innovation_record_id"].extend([owner[0]] * count)
            cols["innovation_id"].extend([owner[1]] * count)
        ev["record_id"].extend(range(first_ev, first_ev + ev_count))
        ev["file_id"].extend([file_id] * ev_count)
        ev["position"].extend(ev_positions)
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
                  region_code=region_code_text(h.get("region_code")), region_name=text(h.get("region_name")),
                  submitted_at=timestamp(h.get("submitted_at")), submitted_at_raw=text(h.get("submitted_at")),
                  n_spd=len(parsed.spd), n_innovations=len(parsed.innovations))
        op = parsed.operator
        self._add("operators", file_id=file_id, source_file=source_file,
                  name=text(op.get("name")), email=text(op.get("email")), phone=text(op.get("phone")))
        groups: list[tuple[Answers, tuple[int | None, str | None] | None]] = [(parsed.spd, None)]
        first = self.next_ids["innovations"]
        self.next_ids["innovations"] += len(parsed.innovations)
        self.rows += len(parsed.innovations)
        for inv_id, inv in enumerate(parsed.innovations, first):
            self.innovations.append((inv_id, file_id, source_file, inv.locator, inv.fields))
            groups.append((inv.answers, (inv_id, text(inv.fields.get("id")))))
        groups.append((parsed.orphan_answers, (None, None)))
        groups.extend((answers, (None, key)) for key, answers in parsed.shared_id_answers.items())
        if not self._answers_in_bulk(file_id, source_file, groups):
            for answers, owner in groups:
                self._answers("spd_answers" if owner is None else "sid_answers", file_id, source_file, answers, owner)
            self._flush_answers()
        return self.rows - before - 1  # the operator row is not a record

    def _flush_answers(self) -> None:
        """The answer and evidence rows gathered in Python lists so far, as one Arrow table each."""
        for name in ANSWER_TABLES:
            cols = self.columns[name]
            if cols["record_id"]:
                self.chunks[name].append(pa.Table.from_pydict(cols, schema=SCHEMAS[name]))
                for column in cols.values():
                    column.clear()

    def _answers_in_bulk(self, file_id: int, source_file: str,
                         groups: list[tuple[Answers, tuple[int | None, str | None] | None]]) -> bool:
        """A JSON file's answers (SPD, then each innovation's SID) and their evidence, converted by Arrow
        instead of one by one (with the innovations by :func:`innovation_rows`: ingest alone at scale 10,
        the parse workers' CPU 122-128 s -> 81-84 s).

        Arrow reads the answer objects into a struct array of :data:`ANSWER_TYPE`; the conversions then run on columns,
        and Python works out only values Arrow would write differently: non-integral numbers (Python
        writes them with ``repr``), and indicators and evidence items, once per distinct text. Answers
        Arrow cannot type this way (a level as text, a value as bool, evidence as one string, an answer
        that is not an object, numbers past 2**53 …) return False, and the file goes through
        :meth:`_answers`: the same rows (a test compares both on generated and odd answers).
        """
        raws: list[Any] = []
        lengths: list[int] = []
        for answers, _ in groups:
            if not answers.json:
                return False
            raws.extend(answers.raws)
            lengths.append(len(answers))
        n = len(raws)
        if n == 0:
            return True
        if set(map(type, raws)) != {dict}:  # an answer that is no object: no fields
            return False
        # Arrow is given the answer's type rather than left to infer it (half the time): what it would
        # convert differently from Python (a level 2.5 cut to 2, a bool as 1.0, one string as a list
        # of evidence) is kept out by the kinds each field holds; other kinds (a level as text, an
        # indicator as a number, evidence items that are not texts, integers past 2**53 as values)
        # Arrow refuses
        for key, allowed in _BULK_KINDS.items():
            if not set(map(type, map(dict.get, raws, repeat(key)))) <= allowed:
                return False
        try:
            arr = pa.array(raws, ANSWER_TYPE)
        except (pa.ArrowException, OverflowError, ValueError, TypeError):
            return False
        levels, values = level_columns(arr.field("level")), value_columns(arr.field("value"), n)
        if levels is None or values is None:
            return False
        indicator = indicator_column(arr.field("indicator"))
        (level, level_raw), (value, value_raw, value_is_text) = levels, values
        items, parents, counts = evidence_column(arr.field("evidence"))
        n_spd = lengths[0]
        first = {t: self.next_ids[t] for t in ("spd_answers", "sid_answers", "evidence")}
        n_sid, n_ev = n - n_spd, len(items)
        record_ids = np.concatenate([np.arange(first["spd_answers"], first["spd_answers"] + n_spd),
                                     np.arange(first["sid_answers"], first["sid_answers"] + n_sid)])
        common = {"file_id": pa.repeat(pa.scalar(file_id, pa.int64()), n),
                  "indicator": indicator, "level": level, "level_raw": level_raw,
                  "value": value, "value_raw": value_raw, "value_is_text": value_is_text,
                  "n_evidence": pa.array(counts, pa.int64())}
        owner_of = np.repeat(np.arange(len(groups) - 1), lengths[1:])
        owners = [owner or (None, None) for _, owner in groups[1:]]
        owner_ids = pa.array([o[0] for o in owners], pa.int64())
        owner_keys = pa.array([o[1] for o in owners], pa.string())
        for name, start, stop in (("spd_answers", 0, n_spd), ("sid_answers", n_spd, n)):
            if stop == start:
                continue
            row = {"record_id": pa.array(record_ids[start:stop])}
            row.update({k: v.slice(start, stop - start) for k, v in common.items()})
            if name == "spd_answers":
                row["source_file"] = pa.repeat(pa.scalar(source_file, pa.string()), n_spd)
                # only the SPD answers' locators are made (a SID answer lands with its place, SCHEMAS)
                row["locator"] = pa.array(groups[0][0].locators, pa.string())
            else:
                # each answer's place in its innovation's list: 0, 1, … again from each innovation's first
                group_starts = np.cumsum(lengths[1:]) - lengths[1:]
                row["position"] = pa.array((np.arange(n_sid) - group_starts[owner_of]).astype(np.int32))
                row["innovation_record_id"] = owner_ids.take(owner_of)
                row["innovation_id"] = owner_keys.take(owner_of)
            self.chunks[name].append(pa.Table.from_pydict(row, schema=SCHEMAS[name]))
        if n_ev:
            starts = np.cumsum(counts) - counts
            self.chunks["evidence"].append(pa.Table.from_pydict({
                "record_id": pa.array(np.arange(first["evidence"], first["evidence"] + n_ev)),
                "file_id": pa.repeat(pa.scalar(file_id, pa.int64()), n_ev),
                "position": pa.array((np.arange(n_ev) - starts[parents]).astype(np.int32)),
                "answer_table": pa.array(["spd_answers", "sid_answers"]).take(pa.array(parents >= n_spd, pa.int8())),
                "answer_record_id": pa.array(record_ids[parents]), "item": items,
            }, schema=SCHEMAS["evidence"]))
        self.next_ids["spd_answers"] += n_spd
        self.next_ids["sid_answers"] += n_sid
        self.next_ids["evidence"] += n_ev
        self.rows += n + n_ev
        return True

    def tables(self) -> dict[str, pa.Table]:
        self._flush_answers()
        out = {name: pa.Table.from_pydict(cols, schema=SCHEMAS[name]) for name, cols in self.columns.items()
               if name not in ANSWER_TABLES}
        out["innovations"] = innovation_rows(self.innovations)
        for name in ANSWER_TABLES:
            chunks = self.chunks[name]
            # one chunk per column: the run process takes in many small chunks more slowly (pickle, insert)
            out[name] = pa.concat_tables(chunks).combine_chunks() if chunks else SCHEMAS[name].empty_table()
        return {name: out[name] for name in SCHEMAS}
