"""Builders of small, hand-checkable submissions and homes for the tests."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from flows import pipeline
from flows.methodology import for_year
from flows.settings import Home

BASIC = ["pendidikan", "kesehatan", "pekerjaan umum dan penataan ruang", "perumahan rakyat dan kawasan permukiman",
         "ketenteraman, ketertiban umum, dan pelindungan masyarakat", "sosial"]


def levels_for(part: str, target: float, year: int = 2024) -> dict[str, int]:
    """Levels per row whose Σ weight × level equals ``target`` exactly (a small search in quarter points)."""
    rows = [r for r in for_year(year).method.rows if r.part == part]
    goal = round(target * 4)
    reach: dict[int, dict[str, int]] = {0: {}}
    for r in rows:
        step = round(r.weight * 4)
        reach = {total + step * lv: {**picked, r.code: lv} for total, picked in reach.items() for lv in (3, 2, 1, 0)}
    if goal not in reach:
        raise ValueError(f"cannot reach {target} with {part} weights")
    return reach[goal]


def answers(levels: dict[str, int], evidence: bool = True) -> list[dict[str, Any]]:
    return [{"indicator": code, "level": lv, "evidence": [f"bukti-{code}.pdf"] if evidence else []}
            for code, lv in levels.items()]


def innovation(ident: str, sid_total: float, *, affair: str = "kesehatan", stage: str = "penerapan",
               year: int = 2024, trial: str = "2022-03-01", implemented: str = "2023-01-10",
               **fields: Any) -> dict[str, Any]:
    inv = {"id": ident, "name": f"Inovasi {ident}", "unit": "Dinas Kesehatan", "form": "pelayanan publik",
           "kind": "digital", "initiator": "opd", "affair": affair, "stage": stage, "trial_date": trial,
           "implementation_date": implemented, "design": "rancang bangun " * 160, "goal": "tujuan",
           "benefit": "manfaat", "result": "hasil", "sid": answers(levels_for("sid", sid_total, year))}
    inv.update(fields)
    return inv


def submission(code: str, *, year: int = 2024, spd_total: float = 0, innovations: list[dict[str, Any]] | None = None,
               submitted_at: str | None = None, name: str | None = None) -> dict[str, Any]:
    from flows.reference import all_regions

    master = {r.code: r.name for r in all_regions()}
    return {"schema": "iid.submission/v1", "year": year, "region_code": code, "region_name": name or master.get(code),
            "submitted_at": submitted_at or f"{year}-07-01T10:00:00+07:00",
            "operator": {"name": "Siti Operator Rahasia", "email": "siti.rahasia@example.go.id",
                         "phone": "081299990000"},
            "spd": answers(levels_for("spd", spd_total, year)), "innovations": innovations or []}


def write_home(root: Path, year: int, files: dict[str, Any],
               verification: list[dict[str, Any]] | None = None) -> Home:
    raw = root / "raw" / str(year)
    raw.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = raw / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    if verification:
        (raw / "verification").mkdir(exist_ok=True)
        with (raw / "verification" / "verification.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["region_code", "innovation_id", "indicator", "decision",
                                             "verified_level", "note"])
            writer.writeheader()
            writer.writerows(verification)
    return Home.resolve(root)


def score(home: Home, year: int) -> duckdb.DuckDBPyConnection:
    """Ingest, validate and transform without Prefect; returns the work database (read-only)."""
    pipeline.ingest(home, year)
    pipeline.validate(home, year)
    pipeline.transform(home, year)
    return duckdb.connect(str(home.work_db(year)), read_only=True)


def region(con: duckdb.DuckDBPyConnection, code: str) -> dict[str, Any]:
    cur = con.execute("select * from region_scores where region_code = ?", [code])
    names = [d[0] for d in cur.description]
    row = cur.fetchall()
    assert row, f"{code} not in region_scores"
    return dict(zip(names, row[0], strict=True))


def xlsx_bytes(sub: dict[str, Any], drop_sheet: str | None = None,
               extra_sid: list[list[Any]] | None = None) -> bytes:
    """The manual XLSX template (CONTRACT.md §2) holding the same content as a JSON submission."""
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheets: dict[str, list[list[Any]]] = {
        "profil": [["field", "value"], ["schema", sub["schema"]], ["year", sub["year"]],
                   ["region_code", sub["region_code"]], ["region_name", sub["region_name"]],
                   ["submitted_at", sub["submitted_at"]], ["operator_name", sub["operator"]["name"]],
                   ["operator_email", sub["operator"]["email"]], ["operator_phone", sub["operator"]["phone"]]],
        "spd": [["indicator", "level", "value", "evidence"]] + [
            [a["indicator"], a["level"], a.get("value"), "; ".join(a["evidence"])] for a in sub["spd"]],
        "inovasi": [["id", "name", "unit", "form", "kind", "initiator", "affair", "stage", "trial_date",
                     "implementation_date", "design", "goal", "benefit", "result"]] + [
            [i["id"], i["name"], i["unit"], i["form"], i["kind"], i["initiator"], i["affair"], i["stage"],
             i["trial_date"], i["implementation_date"], i["design"], i["goal"], i["benefit"], i["result"]]
            for i in sub["innovations"]],
        "sid": [["innovation_id", "indicator", "level", "value", "evidence"]] + [
            [i["id"], a["indicator"], a["level"], a.get("value"), "; ".join(a["evidence"])]
            for i in sub["innovations"] for a in i["sid"]] + (extra_sid or []),
    }
    for name, rows in sheets.items():
        if name == drop_sheet:
            continue
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_patched(data: bytes, part: str, old: bytes, new: bytes) -> bytes:
    """A workbook with the first ``old`` of one part (e.g. a sheet's XML) replaced by ``new``."""
    import io
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info.filename, body.replace(old, new, 1) if info.filename == part else body)
    return out.getvalue()


@contextmanager
def year_locked_elsewhere(home: Home, year: int) -> Iterator[None]:
    """The year's lock held by another run while the block runs: a thread of its own (the thread holding a lock
    may take it again, as the CLI and its flow do)."""
    from flows.locks import year_lock

    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with year_lock(home.work_db(year).parent, year):
            held.set()
            done.wait(120)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(60)
    try:
        yield
    finally:
        done.set()
        holder.join()


def validation_results(root: Path, year: int = 2024) -> dict[str, dict[str, Any]]:
    """The GX validation results of a home of one small submission, ingested and validated (for Data Docs)."""
    from expectations.stage import RECORD_SUITES, _merged_results

    home = write_home(root, year, {"35.78.json": submission("35.78", year=year, spd_total=30)}, [])
    pipeline.ingest(home, year)
    pipeline.validate(home, year)
    con = duckdb.connect(str(home.work_db(year)), read_only=True)
    try:
        return _merged_results(con, RECORD_SUITES)[1]
    finally:
        con.close()


def workbook_bytes(book: Any) -> bytes:
    """An openpyxl workbook saved: the bytes of its .xlsx file."""
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def both_engines(data: bytes) -> list[Any]:
    """What each XLSX engine makes of a workbook: the parsed file, or the rejection."""
    from dataclasses import asdict

    from flows.readers import FileRejected
    from flows.xlsx_reader import parse_xlsx

    out: list[Any] = []
    for engine in ("calamine", "openpyxl"):
        try:
            out.append(asdict(parse_xlsx(data, engine)))
        except FileRejected as exc:
            out.append((exc.rule, exc.detail))
    return out


def defective_sample(generated: Home, year: int, target: Home, every: int = 8) -> None:
    """Into ``target``'s drop zone: the verification CSV of a generated year and the files of one region in
    ``every`` (by code) and of each region holding the first file with a defect of each kind in the
    generator's ledger, so every kind injected is there; ``every=1`` copies every file."""
    import shutil

    from flows.generator import LEDGER_FILE, VERIFICATION_FILE

    raw, out = generated.raw_year(year), target.raw_year(year)
    defects = json.loads((raw / LEDGER_FILE).read_text(encoding="utf-8"))["defects"]
    first_of_kind = {d["kind"]: d["file"] for d in reversed(defects)}
    files = sorted(p.name for p in raw.iterdir() if p.is_file())
    regions = sorted({name.rsplit("-", 1)[0] for name in files})
    kept = set(regions[::every]) | {name.rsplit("-", 1)[0] for name in first_of_kind.values()}
    (out / VERIFICATION_FILE).parent.mkdir(parents=True)
    shutil.copy(raw / VERIFICATION_FILE, out / VERIFICATION_FILE)
    for name in files:
        if name.rsplit("-", 1)[0] in kept:
            shutil.copy(raw / name, out / name)


def templates_parsed(monkeypatch: Any) -> list[str]:
    """The names of the Jinja templates parsed (compiled from source) from now on in this test, in order."""
    import jinja2

    parsed: list[str] = []
    real = jinja2.Environment._parse

    def parse(self: jinja2.Environment, source: str, name: str | None, filename: str | None) -> Any:
        parsed.append(str(name))
        return real(self, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "_parse", parse)
    return parsed
