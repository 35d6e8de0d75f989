"""The synthetic-year generator: determinism, shape, calibration, formats, defects, verification.

The calibration test scores the generated year with a tiny scorer written here from IID.md §3/§6,
independent of the pipeline's SQL.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from flows.generator import LEDGER_FILE, VERIFICATION_FILE, generate_year, run_options
from flows.generator.defects import BY_NAME, CATALOGUE
from flows.generator.regionfiles import plan, write_region
from flows.reference import load_regions
from flows.settings import PROJECT_ROOT, Home

YEAR = 2024
REFERENCE = PROJECT_ROOT / "data" / "reference"
METHOD_FILE = REFERENCE / "methodology" / "iid-2023.json"
WIB = timezone(timedelta(hours=7))


# --- an independent reading of the two formats ------------------------------------------------------

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
    data = path.read_bytes()
    return read_xlsx(data) if path.suffix == ".xlsx" else json.loads(data.decode("utf-8"))


# --- an independent scorer (IID.md §3 and §6, method iid-2023) -------------------------------------

def value_level(row: dict[str, Any], value: float) -> int:
    cuts = [float(c) for c in row["cutpoints"]]
    if row["direction"] == "higher":
        return sum(1 for c in cuts if value >= c)
    return sum(1 for c in cuts if value < c)


def score_year(raw: Path, year: int) -> dict[str, dict[str, Any]]:
    """iid, predicate and n of every region with a counting submission in ``raw``."""
    method = json.loads(METHOD_FILE.read_text())
    rows = {r["code"]: r for r in method["rows"]}
    deadline = datetime.combine(date.fromisoformat(method["deadlines"]["by_year"][str(year)]),
                                time(23, 59, 59), tzinfo=WIB)
    latest: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for path in sorted(raw.glob("*.*")):
        if path.suffix not in (".json", ".xlsx") or path.name == LEDGER_FILE.name:
            continue
        doc = read_doc(path)
        moment = datetime.fromisoformat(doc["submitted_at"])
        if doc["year"] == year and moment <= deadline:
            code = doc["region_code"]
            if code not in latest or latest[code][0] < moment:
                latest[code] = (moment, doc)
    caps: dict[tuple[str, str, str], int] = {}
    rejected: set[tuple[str, str]] = set()
    with (raw / VERIFICATION_FILE).open(encoding="utf-8") as handle:
        for v in csv.DictReader(handle):
            if v["decision"] == "reject":
                rejected.add((v["region_code"], v["innovation_id"]))
            elif v["decision"] == "adjust":
                caps[(v["region_code"], v["innovation_id"], v["indicator"])] = int(v["verified_level"])

    def credited(code: str, innovation_id: str, answer: dict[str, Any]) -> float:
        row = rows[answer["indicator"]]
        level = answer["level"]
        if row["kind"] == "numeric" and answer.get("value") is not None:
            level = value_level(row, float(answer["value"]))
        if not answer["evidence"]:
            level = 0
        level = min(level, caps.get((code, innovation_id, answer["indicator"]), 3))
        return row["weight"] * level

    scores = {}
    for code, (_, doc) in latest.items():
        spd = sum(credited(code, "", a) for a in doc["spd"])
        n = len(doc["innovations"])
        maturity = sum(credited(code, inv["id"], a) for inv in doc["innovations"]
                       if (code, inv["id"]) not in rejected for a in inv["sid"])
        total = spd + maturity / max(10, n) + 0.38 * min(n, 200)
        iid = float(Decimal(repr(total / 250 * 100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        predicate = ("Sangat Inovatif" if iid >= 60.01 else "Inovatif" if iid >= 35 else
                     "Kurang Inovatif" if iid >= 0.01 else "Tidak Dapat Dinilai")
        scores[code] = {"iid": iid, "predicate": predicate, "n": n}
    return scores


# --- fixtures ------------------------------------------------------------------------------------------

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
    folder = _small_reference(tmp_path / "reference")
    monkeypatch.setenv("IID_REFERENCE", str(folder))
    return folder


def _generate(home: Path, **kwargs: Any) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IID_REFERENCE", str(kwargs.pop("reference", REFERENCE)))
        generate_year(Home(home), YEAR, **kwargs)
    return home / "raw" / str(YEAR)


@pytest.fixture(scope="module")
def national_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 546 pemda at scale 0.12, no defects."""
    return _generate(tmp_path_factory.mktemp("national"), seed=3, scale=0.12)


@pytest.fixture(scope="module")
def national_counting(national_year: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    return _counting(national_year)


@pytest.fixture(scope="module")
def defective_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 546 pemda at scale 0.06 with a defect in 30 % of the files."""
    return _generate(tmp_path_factory.mktemp("defective"), seed=8, scale=0.06, defect_rate=0.3)


def _submission_files(raw: Path) -> list[Path]:
    return sorted(p for p in raw.iterdir() if p.suffix in (".json", ".xlsx") and p.name != LEDGER_FILE.name)


def _readable(raw: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Documents the pipeline would accept as submissions of the year (defective files skipped)."""
    autonomous = {r.code for r in _regions()}
    out = []
    for path in _submission_files(raw):
        try:
            data = path.read_bytes()
            doc = read_xlsx(data) if path.suffix == ".xlsx" else json.loads(data.decode("utf-8-sig"))
        except Exception:  # any file the pipeline would reject as unreadable is skipped
            continue
        if doc.get("year") == YEAR and doc.get("region_code") in autonomous:
            out.append((path, doc))
    return out


def _regions() -> list[Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IID_REFERENCE", str(REFERENCE))
        return [r for r in load_regions(YEAR) if r.autonomous]


def _instant(submitted_at: Any) -> datetime:
    """A time without a zone (a text, an XLSX date-time cell) is read as WIB (SUB008)."""
    moment = submitted_at if isinstance(submitted_at, datetime) else datetime.fromisoformat(submitted_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=WIB)


def _counting(raw: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    deadline = datetime.combine(date(2024, 8, 2), time(23, 59, 59), tzinfo=WIB)
    best: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path, doc in _readable(raw):  # by file name: of two at the same instant, the later name counts (SUB009)
        moment = _instant(doc["submitted_at"])
        code = doc["region_code"]
        if moment <= deadline and (code not in best or _instant(best[code][1]["submitted_at"]) <= moment):
            best[code] = (path, doc)
    return best


# --- determinism and the drop zone ----------------------------------------------------------------------

def test_same_seed_gives_identical_bytes(tmp_path: Path, small_reference: Path) -> None:
    options = {"scale": 0.15, "defect_rate": 0.3, "xlsx_share": 0.3, "reference": small_reference}
    first = _generate(tmp_path / "a", seed=7, **options)
    second = _generate(tmp_path / "b", seed=7, **options)
    other = _generate(tmp_path / "c", seed=8, **options)
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    assert any(n.endswith(".xlsx") for n in names) and "verification/verification.csv" in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / VERIFICATION_FILE).read_bytes() != (other / VERIFICATION_FILE).read_bytes()
    common = [n for n in names if (other / n).is_file() and n.endswith((".json", ".xlsx")) and n != LEDGER_FILE.name]
    assert common and all((first / n).read_bytes() != (other / n).read_bytes() for n in common)


def test_rerun_replaces_only_generated_files(tmp_path: Path, small_reference: Path) -> None:
    raw = _generate(tmp_path, seed=1, scale=0.1, defect_rate=0.5, reference=small_reference)
    (raw / "README.md").write_text("kept")
    (raw / "verification" / "manual-2024.csv").write_text("kept")
    before = {p.name for p in _submission_files(raw)}
    raw_again = _generate(tmp_path, seed=2, scale=0.1, reference=small_reference)
    after = {p.name for p in _submission_files(raw_again)}
    assert (raw / "README.md").read_text() == "kept"
    assert (raw / "verification" / "manual-2024.csv").read_text() == "kept"
    assert json.loads((raw / LEDGER_FILE).read_text())["defects"] == []
    assert after and before != after
    assert {p.name for p in _submission_files(raw)} == after


def test_progress_is_reported_per_region(tmp_path: Path, small_reference: Path) -> None:
    calls: list[tuple[int, int]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IID_REFERENCE", str(small_reference))
        summary = generate_year(Home(tmp_path), YEAR, scale=0.05, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(i, summary.regions) for i in range(1, summary.regions + 1)]
    assert summary.files == summary.json_files + summary.xlsx_files == len(_submission_files(tmp_path / "raw/2024"))


# --- shape of a national year -----------------------------------------------------------------------------

def test_distribution_shape(national_counting: dict[str, tuple[Path, dict[str, Any]]]) -> None:
    counting = national_counting
    regions = {r.code: r for r in _regions()}
    assert 0.95 <= len(counting) / len(regions) <= 0.99
    absent = [regions[c] for c in regions if c not in counting]
    assert sum(r.level == "kabupaten" for r in absent) >= 0.8 * len(absent)
    n = {code: len(doc["innovations"]) for code, (_, doc) in counting.items()}
    assert min(n.values()) >= 1
    assert max(n.values()) / statistics.median(n.values()) > 3
    strong = [n[c] for c in n if regions[c].level in ("provinsi", "kota")]
    assert statistics.mean(strong) > statistics.mean(n[c] for c in n if regions[c].level == "kabupaten")
    stages = Counter(" ".join(inv["stage"].split()).lower() for _, doc in counting.values()
                     for inv in doc["innovations"])
    total = sum(stages.values())
    assert 0.025 <= stages["inisiatif"] / total <= 0.06
    assert 0.025 <= stages["uji coba"] / total <= 0.06
    assert 0.89 <= stages["penerapan"] / total <= 0.95


def test_every_submitter_has_an_innovation_at_a_tiny_scale(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IID_REFERENCE", str(REFERENCE))
        summary = generate_year(Home(tmp_path), YEAR, scale=0.05, formats=("json",))
    assert 515 <= summary.submitters <= 540 and summary.xlsx_files == 0
    counting = _counting(tmp_path / "raw" / str(YEAR))
    assert len(counting) == summary.submitters
    assert all(doc["innovations"] for _, doc in counting.values())


def test_fields_are_plausible(national_counting: dict[str, tuple[Path, dict[str, Any]]]) -> None:
    method = json.loads(METHOD_FILE.read_text())
    rows = {r["code"]: r for r in method["rows"]}
    affairs = {a["name"] for a in method["affairs"]}
    enums = method["enumerations"]
    deadline = date(2024, 8, 2)
    numeric = agree = empty = answers = 0
    for _, doc in national_counting.values():
        assert doc["schema"] == "iid.submission/v1" and doc["submitted_at"].endswith("+07:00")
        assert "2024-06-01" <= doc["submitted_at"][:10] <= "2024-08-02"
        assert doc["operator"]["phone"].startswith("08") and "@" in doc["operator"]["email"]
        assert len(doc["spd"]) >= 18
        for inv in doc["innovations"]:
            for key in ("form", "kind", "initiator", "stage"):
                assert " ".join(str(inv[key]).split()).lower() in enums[key]
            assert " ".join(inv["affair"].split()).lower() in affairs
            assert inv["trial_date"] <= inv["implementation_date"] <= deadline.isoformat()
            assert 150 <= len(inv["design"].split()) <= 650
            assert len(inv["sid"]) >= 19
        for answer in doc["spd"] + [a for inv in doc["innovations"] for a in inv["sid"]]:
            row = rows[answer["indicator"]]
            answers += 1
            empty += not answer["evidence"]
            assert answer["level"] in (0, 1, 2, 3) and len(answer["evidence"]) <= 3
            for item in answer["evidence"]:
                extension = item.rsplit(".", 1)[1]
                assert ".go.id/" in item if item.startswith("https://") else extension in (
                    method["evidence"]["allowed_extensions"])
            if "value" in answer:
                low, high = row["value_range"]
                assert (low is None or answer["value"] >= low) and (high is None or answer["value"] <= high)
                numeric += 1
                agree += value_level(row, answer["value"]) == answer["level"]
    assert 0.85 <= agree / numeric <= 0.95
    assert 0.01 <= empty / answers <= 0.03


def test_resubmissions_and_late_files(national_year: Path) -> None:
    deadline = datetime.combine(date(2024, 8, 2), time(23, 59, 59), tzinfo=WIB)
    versions: dict[str, list[datetime]] = defaultdict(list)
    for _, doc in _readable(national_year):
        versions[doc["region_code"]].append(datetime.fromisoformat(doc["submitted_at"]))
    on_time_twice = [c for c, ts in versions.items() if sum(t <= deadline for t in ts) >= 2]
    late = [c for c, ts in versions.items() if any(t > deadline for t in ts)]
    assert 0.02 <= len(on_time_twice) / len(versions) <= 0.09
    assert 1 <= len(late) <= 15
    assert sum(all(t > deadline for t in versions[c]) for c in late) < len(late) / 2 + 1


# --- calibration at scale 1 ---------------------------------------------------------------------------------

def test_calibrated_to_published_figures(tmp_path: Path) -> None:
    """Scale 1 (JSON only, to keep the suite fast) lands near IID.md §5: 2022 predicates, 2024 counts."""
    raw = _generate(tmp_path, seed=1, scale=1.0, formats=("json",))
    scores = score_year(raw, YEAR)
    predicates = Counter(s["predicate"] for s in scores.values())
    assert 529 * 0.98 <= len(scores) <= 529 * 1.02
    assert 31_719 * 0.9 <= sum(s["n"] for s in scores.values()) <= 31_719 * 1.1
    for predicate, published in (("Sangat Inovatif", 44), ("Inovatif", 365), ("Kurang Inovatif", 101)):
        assert published * 0.85 <= predicates[predicate] <= published * 1.15, predicates
    assert 43 <= statistics.mean(s["iid"] for s in scores.values()) <= 49
    regions = {r.code: r for r in _regions()}
    by_level = defaultdict(list)
    for code, s in scores.items():
        by_level[regions[code].level].append(s["iid"])
    assert statistics.mean(by_level["kota"]) > statistics.mean(by_level["kabupaten"])
    assert statistics.mean(by_level["provinsi"]) > statistics.mean(by_level["kabupaten"])


# --- the XLSX template --------------------------------------------------------------------------------------

def _submitting_region(options: Any, level: str = "provinsi") -> Any:
    plans = (plan(options, r) for r in load_regions(YEAR) if r.autonomous and r.level == level)
    return next(p.region for p in plans if p.submits and p.n_innovations > 2)


def test_xlsx_holds_the_same_content_as_json(tmp_path: Path, small_reference: Path) -> None:
    options = run_options(YEAR, seed=4, scale=0.2)
    region = _submitting_region(options, "kota")
    (tmp_path / "j").mkdir()
    (tmp_path / "x").mkdir()
    as_json = write_region(options, region, tmp_path / "j", force_format="json")
    as_xlsx = write_region(options, region, tmp_path / "x", force_format="xlsx")
    assert as_json.verification == as_xlsx.verification and as_json.innovations == as_xlsx.innovations
    for json_name, xlsx_name in zip(as_json.files, as_xlsx.files, strict=True):
        data = (tmp_path / "x" / xlsx_name).read_bytes()
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        assert wb.sheetnames == ["profil", "spd", "inovasi", "sid"]
        headers = {name: next(wb[name].iter_rows(max_row=1, values_only=True)) for name in wb.sheetnames}
        wb.close()
        assert headers["profil"] == ("field", "value")
        assert headers["spd"] == ("indicator", "level", "value", "evidence")
        assert headers["inovasi"][:3] == ("id", "name", "unit") and headers["inovasi"][-1] == "result"
        assert headers["sid"] == ("innovation_id", "indicator", "level", "value", "evidence")
        doc = json.loads((tmp_path / "j" / json_name).read_bytes())
        assert read_xlsx(data) == doc


# --- defects ---------------------------------------------------------------------------------------------------

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
            and _instant(read_doc(other)["submitted_at"]) == _instant(doc["submitted_at"])]
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
    region = _submitting_region(options)
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
    files = _submission_files(defective_year)
    entries = ledger["defects"]
    assert 0.22 <= len(entries) / len(files) <= 0.38
    assert {e["kind"] for e in entries} == {k.name for k in CATALOGUE}
    for entry in entries:
        kind = BY_NAME[entry["kind"]]
        assert entry["rule"] == kind.rule and entry["severity"] == kind.severity
        assert (defective_year / entry["file"]).is_file()
        assert LOCATOR[kind.scope].match(entry["locator"])


# --- verification -----------------------------------------------------------------------------------------

def test_verification_lowers_existing_answers_of_the_counting_submission(defective_year: Path) -> None:
    counting = _counting(defective_year)
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
