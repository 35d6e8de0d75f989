"""A generated year at scale 1 lands near the published figures (IID.md §5).

The year is scored with a tiny scorer written here from IID.md §3/§6, independent of the pipeline's SQL."""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from generatedfiles import METHOD_FILE, WIB, YEAR, autonomous_regions, generate, read_doc, value_level

from flows.generator import LEDGER_FILE, VERIFICATION_FILE


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


def test_calibrated_to_published_figures(tmp_path: Path) -> None:
    """Scale 1 (JSON only, to keep the suite fast) lands near IID.md §5: 2022 predicates, 2024 counts."""
    raw = generate(tmp_path, seed=1, scale=1.0, formats=("json",))
    scores = score_year(raw, YEAR)
    predicates = Counter(s["predicate"] for s in scores.values())
    assert 529 * 0.98 <= len(scores) <= 529 * 1.02
    assert 31_719 * 0.9 <= sum(s["n"] for s in scores.values()) <= 31_719 * 1.1
    for predicate, published in (("Sangat Inovatif", 44), ("Inovatif", 365), ("Kurang Inovatif", 101)):
        assert published * 0.85 <= predicates[predicate] <= published * 1.15, predicates
    assert 43 <= statistics.mean(s["iid"] for s in scores.values()) <= 49
    regions = {r.code: r for r in autonomous_regions()}
    by_level = defaultdict(list)
    for code, s in scores.items():
        by_level[regions[code].level].append(s["iid"])
    assert statistics.mean(by_level["kota"]) > statistics.mean(by_level["kabupaten"])
    assert statistics.mean(by_level["provinsi"]) > statistics.mean(by_level["kabupaten"])
