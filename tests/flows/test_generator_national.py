"""The shape of a generated national year (all 546 pemda, no defects): who submits, how many innovations,
plausible fields, resubmissions and late files."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from generatedfiles import (
    METHOD_FILE,
    REFERENCE,
    WIB,
    YEAR,
    autonomous_regions,
    counting_submissions,
    generate,
    readable_documents,
    value_level,
)

from flows.generator import generate_year
from flows.settings import Home


@pytest.fixture(scope="module")
def national_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 546 pemda at scale 0.12, no defects."""
    return generate(tmp_path_factory.mktemp("national"), seed=3, scale=0.12)


@pytest.fixture(scope="module")
def national_counting(national_year: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    return counting_submissions(national_year)


def test_distribution_shape(national_counting: dict[str, tuple[Path, dict[str, Any]]]) -> None:
    counting = national_counting
    regions = {r.code: r for r in autonomous_regions()}
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
    counting = counting_submissions(tmp_path / "raw" / str(YEAR))
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
    for _, doc in readable_documents(national_year):
        versions[doc["region_code"]].append(datetime.fromisoformat(doc["submitted_at"]))
    on_time_twice = [c for c, ts in versions.items() if sum(t <= deadline for t in ts) >= 2]
    late = [c for c, ts in versions.items() if any(t > deadline for t in ts)]
    assert 0.02 <= len(on_time_twice) / len(versions) <= 0.09
    assert 1 <= len(late) <= 15
    assert sum(all(t > deadline for t in versions[c]) for c in late) < len(late) / 2 + 1
