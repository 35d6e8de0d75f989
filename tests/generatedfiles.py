"""What the generator tests read its output with, independently of the pipeline (a plugin of tests/conftest.py
for the ``small_reference`` fixture): an XLSX template back into the JSON shape, the documents a year's
pipeline would read and count, a level from a value by the cut-points, and a small region master."""

from __future__ import annotations

import io
import json
import shutil
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from flows.generator import LEDGER_FILE, generate_year
from flows.generator.regionfiles import plan
from flows.reference import load_regions
from flows.settings import PROJECT_ROOT, Home

YEAR = 2024
REFERENCE = PROJECT_ROOT / "data" / "reference"
METHOD_FILE = REFERENCE / "methodology" / "iid-2023.json"
WIB = timezone(timedelta(hours=7))


def read_xlsx(data: bytes) -> dict[str, Any]:
    """An XLSX template back into the JSON document shape."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    sheets = {}
    for name in ("profil", "spd", "inovasi", "sid"):
        rows = list(wb[name].iter_rows(values_only=True))
        header = rows[0]
        sheets[name] = [dict(zip(header, (*row, *[None] * (len(header) - len(row))), strict=True))
                        for row in rows[1:]]
    wb.close()
    profile = {r["field"]: r["value"] for r in sheets["profil"]}

    def answer(row: dict[str, Any]) -> dict[str, Any]:
        out = {"indicator": row["indicator"], "level": row["level"]}
        if row["value"] is not None:
            out["value"] = row["value"]
        out["evidence"] = [e.strip() for e in (row["evidence"] or "").split(";") if e.strip()]
        return out

    doc: dict[str, Any] = {k: profile[k] for k in ("schema", "year", "region_code", "region_name", "submitted_at")}
    doc["operator"] = {k: profile[f"operator_{k}"] for k in ("name", "email", "phone")}
    doc["spd"] = [answer(r) for r in sheets["spd"]]
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sheets["sid"]:
        by_id[row["innovation_id"]].append(answer({k: v for k, v in row.items() if k != "innovation_id"}))
    doc["innovations"] = [{**{k: v for k, v in r.items() if v is not None}, "sid": by_id[r["id"]]}
                          for r in sheets["inovasi"]]
    return doc


def read_doc(path: Path) -> dict[str, Any]:
    """A generated submission file (JSON or XLSX) as the JSON document."""
    data = path.read_bytes()
    return read_xlsx(data) if path.suffix == ".xlsx" else json.loads(data.decode("utf-8"))


def value_level(row: dict[str, Any], value: float) -> int:
    """The level a value earns on a methodology row by its cut-points (IID.md §6)."""
    cuts = [float(c) for c in row["cutpoints"]]
    if row["direction"] == "higher":
        return sum(1 for c in cuts if value >= c)
    return sum(1 for c in cuts if value < c)


def _small_reference(folder: Path) -> Path:
    """A region master with Jawa Timur, Papua Tengah and Jakarta (incl. its administrative units)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REFERENCE / "methodology", folder / "methodology", dirs_exist_ok=True)
    lines = (REFERENCE / "regions.csv").read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [line for line in lines[1:] if line.split(",")[3] in ("31", "35", "94")]
    (folder / "regions.csv").write_text("\n".join(keep) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def small_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The small region master in the test's folder, the one the generator reads (IID_REFERENCE)."""
    folder = _small_reference(tmp_path / "reference")
    monkeypatch.setenv("IID_REFERENCE", str(folder))
    return folder


def generate(home: Path, **kwargs: Any) -> Path:
    """The year generated into ``home`` (under the full region master unless ``reference`` is given); its raw
    folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IID_REFERENCE", str(kwargs.pop("reference", REFERENCE)))
        generate_year(Home(home), YEAR, **kwargs)
    return home / "raw" / str(YEAR)


def submission_files(raw: Path) -> list[Path]:
    """The submission files of a raw folder (not the ledger), by name."""
    return sorted(p for p in raw.iterdir() if p.suffix in (".json", ".xlsx") and p.name != LEDGER_FILE.name)


def readable_documents(raw: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Documents the pipeline would accept as submissions of the year (defective files skipped)."""
    autonomous = {r.code for r in autonomous_regions()}
    out = []
    for path in submission_files(raw):
        try:
            data = path.read_bytes()
            doc = read_xlsx(data) if path.suffix == ".xlsx" else json.loads(data.decode("utf-8-sig"))
        except Exception:  # any file the pipeline would reject as unreadable is skipped
            continue
        if doc.get("year") == YEAR and doc.get("region_code") in autonomous:
            out.append((path, doc))
    return out


def autonomous_regions() -> list[Any]:
    """The autonomous regions (pemda) of the full region master."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IID_REFERENCE", str(REFERENCE))
        return [r for r in load_regions(YEAR) if r.autonomous]


def instant(submitted_at: Any) -> datetime:
    """A time without a zone (a text, an XLSX date-time cell) is read as WIB (SUB008)."""
    moment = submitted_at if isinstance(submitted_at, datetime) else datetime.fromisoformat(submitted_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=WIB)


def counting_submissions(raw: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Each region's counting submission: its latest readable one on or before the deadline."""
    deadline = datetime.combine(date(2024, 8, 2), time(23, 59, 59), tzinfo=WIB)
    best: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path, doc in readable_documents(raw):  # by name: of two at the same instant, the later name counts (SUB009)
        moment = instant(doc["submitted_at"])
        code = doc["region_code"]
        if moment <= deadline and (code not in best or instant(best[code][1]["submitted_at"]) <= moment):
            best[code] = (path, doc)
    return best


def submitting_region(options: Any, level: str = "provinsi") -> Any:
    """The first region of ``level`` that submits more than two innovations under ``options``."""
    plans = (plan(options, r) for r in load_regions(YEAR) if r.autonomous and r.level == level)
    return next(p.region for p in plans if p.submits and p.n_innovations > 2)
