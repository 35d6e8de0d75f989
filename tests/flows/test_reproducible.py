"""A release depends on the drop zone only, not on the history of runs that led to it."""

from __future__ import annotations

import json
from pathlib import Path

from factory import innovation, submission, write_home

from flows import pipeline
from flows.settings import Home

YEAR = 2024
VERIFY = [{"region_code": "35.78", "innovation_id": "35.78-2", "indicator": "", "decision": "reject",
           "verified_level": "", "note": "bukti tidak sah"}]


def _files() -> dict[str, dict]:
    late_fix = submission("35.78", spd_total=40, innovations=[innovation("35.78-1", 70), innovation("35.78-2", 30)],
                          submitted_at=f"{YEAR}-07-03T10:00:00+07:00")
    next(a for a in late_fix["spd"] if a["level"] > 0)["evidence"] = []  # a warning in data_quality (ANS008)
    return {
        "b.json": submission("35.78", spd_total=30, innovations=[innovation("35.78-1", 50), innovation("35.78-2", 20)]),
        "c.json": submission("35.79", spd_total=45, innovations=[innovation("35.79-1", 80)]),
        "a.json": late_fix,
    }


def _publish(home: Home) -> dict:
    for stage in (pipeline.ingest, pipeline.validate, pipeline.transform):
        stage(home, YEAR)
    return pipeline.publish(home, YEAR, {"run_id": "test"})


def test_a_release_built_step_by_step_equals_one_built_at_once(tmp_path: Path) -> None:
    files = _files()
    # step by step: two files, a forced re-ingest, then a resubmission whose name sorts first (its
    # records get later ids than in a build at once)
    stepwise = write_home(tmp_path / "stepwise", YEAR, {k: v for k, v in files.items() if k != "a.json"}, VERIFY)
    _publish(stepwise)
    pipeline.ingest(stepwise, YEAR, force=True)
    _publish(stepwise)
    (stepwise.raw_year(YEAR) / "a.json").write_text(json.dumps(files["a.json"]), encoding="utf-8")
    last = _publish(stepwise)
    assert last["published"]
    # at once
    at_once = write_home(tmp_path / "at_once", YEAR, files, VERIFY)
    first = _publish(at_once)

    def manifest(release: dict) -> dict:
        return json.loads((Path(release["path"] or "") / "manifest.json").read_text(encoding="utf-8"))

    latest = manifest(last)
    assert latest["content_hashes"] == manifest(first)["content_hashes"]
    assert manifest(first)["counts"]["predicates"] == latest["counts"]["predicates"]
    assert latest["reconciliation"] == manifest(first)["reconciliation"]
