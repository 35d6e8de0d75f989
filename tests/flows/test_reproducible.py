"""A release depends on the drop zone only, not on the history of runs that led to it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from factory import innovation, submission, write_home
from rebuild import assert_same_as_rebuild, run_stages

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


def test_a_years_report_reads_the_earlier_years_releases_as_a_rebuild_does(tmp_path: Path) -> None:
    """A year's report (history, changes, the coaching list's previous year) reads the latest release of the
    years before it. Before, a re-run of 2024 after 2023 was first published, or published again, said
    'nothing changed' and kept 2024's pages and coaching list without 2023, or with 2023 as it was."""
    home = write_home(tmp_path / "home", YEAR, {"a.json": submission("35.78", spd_total=30)})
    write_home(tmp_path / "home", 2023, {"a.json": submission("35.78", year=2023, spd_total=20)})
    run_stages(home, YEAR)  # 2024 first: a backfill given the years in another order, or 2023 added later
    run_stages(home, 2023)
    assert run_stages(home, YEAR)["publish"]["published"]
    assert_same_as_rebuild(home, YEAR, tmp_path / "rebuilt-1")
    assert not run_stages(home, YEAR)["publish"]["published"]  # nothing changed since
    # 2023 corrected and published again
    (home.raw_year(2023) / "a.json").write_text(json.dumps(submission("35.78", year=2023, spd_total=45)))
    run_stages(home, 2023)
    assert run_stages(home, YEAR)["publish"]["published"]
    assert_same_as_rebuild(home, YEAR, tmp_path / "rebuilt-2")


def test_each_change_to_the_drop_zone_publishes_what_a_rebuild_does(tmp_path: Path) -> None:
    """A sequence of changes, each run incrementally and compared with a rebuild of the drop zone in a
    fresh home: tables, region pages, coaching list, report and the manifest's counts."""
    files = _files()
    home = write_home(tmp_path / "home", YEAR, {**files, "d.json": submission("35.15", spd_total=25)}, VERIFY)
    raw = home.raw_year(YEAR)
    run_stages(home, YEAR)

    def step(name: str, from_stage: str = "ingest") -> None:
        run_stages(home, YEAR, from_stage)
        assert_same_as_rebuild(home, YEAR, tmp_path / name)

    fixed = submission("35.79", spd_total=10, innovations=[innovation("35.79-1", 90)],
                       submitted_at=f"{YEAR}-07-20T10:00:00+07:00")
    (raw / "e.json").write_text(json.dumps(fixed), encoding="utf-8")  # a resubmission
    late = {**files["a.json"], "submitted_at": f"{YEAR}-08-05T10:00:00+07:00"}  # edited past the deadline
    (raw / "a.json").write_text(json.dumps(late), encoding="utf-8")
    step("resubmission-and-late")
    (raw / "d.json").write_text("{ broken", encoding="utf-8")  # a good file made bad
    (raw / "b.json").rename(raw / "z.json")
    verification = raw / "verification" / "verification.csv"
    verification.write_text(verification.read_text(encoding="utf-8").replace("reject", "accept"), encoding="utf-8")
    (raw / "c.json").unlink()
    step("broken-renamed-verified-deleted")
    stat, text = (raw / "e.json").stat(), (raw / "e.json").read_text(encoding="utf-8")
    assert '"level": 1' in text
    (raw / "e.json").write_text(text.replace('"level": 1', '"level": 2', 1), encoding="utf-8")
    os.utime(raw / "e.json", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same size and modification time
    step("same-size-and-time")
    (raw / "d.json").write_text(json.dumps(submission("35.15", spd_total=50)), encoding="utf-8")  # bad made good
    run_stages(home, YEAR, "validate")  # not ingested: the stages after it use ingest's tables as they are
    step("after-a-run-from-validate")
