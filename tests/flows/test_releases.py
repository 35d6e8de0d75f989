"""Releases you can trust: idempotent, incremental, diffable, numbered once, read-only (crashes, locks and readers
during a publish: test_release_concurrency; the fixtures: releasefixtures.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from factory import innovation, submission, write_home
from homecopy import copy_home
from releasehome import YEAR
from releasehome import run_release as _run

from flows import pipeline
from flows.diff import diff_releases
from flows.methodology import for_year
from flows.releases import release_dirs
from flows.settings import Home, reference_dir
from flows.versioning import sha256_file


def test_identical_rerun_publishes_nothing_and_skips_work(home: Home) -> None:
    first = _run(home)
    second = _run(home)
    assert first["publish"]["published"] and first["publish"]["release"] == 1
    assert not second["publish"]["published"] and "nothing changed" in second["publish"]["message"]
    assert second["ingest"]["files_parsed"] == 0 and second["ingest"]["skipped"]
    assert second["validate"]["skipped"] and second["transform"]["skipped"]
    assert [r.number for r in release_dirs(home, YEAR)] == [1]


def test_resubmission_publishes_next_release_and_diff_names_the_region(published_once: Home) -> None:
    home = published_once
    changed = submission("35.15", spd_total=45, innovations=[innovation("35.15-1", 80), innovation("35.15-2", 70)],
                         submitted_at="2024-07-20T10:00:00+07:00")
    (home.raw_year(YEAR) / "35.15-correction.json").write_text(json.dumps(changed), encoding="utf-8")
    second = _run(home)
    assert second["ingest"]["files_parsed"] == 1
    assert second["publish"]["published"] and second["publish"]["release"] == 2
    result = diff_releases(home, YEAR)
    assert (result.old, result.new) == (1, 2)
    assert [r[result.columns.index("region_code")] for r in result.scored_changes()] == ["35.15"]
    manifest = json.loads((home.published_year(YEAR) / "release=2" / "manifest.json").read_text())
    assert manifest["previous_release"] == 1
    assert "35.15-correction.json" in {i["file"] for i in manifest["inputs"]}


def test_diff_to_the_first_release_says_there_is_none_before_it(tmp_path: Path) -> None:
    """'iid diff --to 1' said '2024 has no release -1'."""
    from flows.diff import DiffError

    home = Home.resolve(tmp_path)
    for number in (1, 2):
        folder = home.published_year(YEAR) / f"release={number}"
        folder.mkdir(parents=True)
        scores = folder / "region_scores.parquet"
        duckdb.execute(f"copy (select '35.78' as region_code, 'Kota Surabaya' as region_name, 'kota' as level, "
                       f"{number}.0 as iid, 'Inovatif' as predicate, 1 as rank_in_level, 1 as n_innovations, "
                       f"'x' as submission_sha256) to '{scores}' (format parquet)")
        files = {scores.name: {"sha256": sha256_file(scores), "bytes": scores.stat().st_size}}
        (folder / "manifest.json").write_text(json.dumps({"files": files}), encoding="utf-8")
    with pytest.raises(DiffError, match=r"^release 1 is the first of 2024: there is none before it to compare with "
                                        r"\(published: \[1, 2\]\); give --from N$"):
        diff_releases(home, YEAR, new=1)
    with pytest.raises(DiffError, match=r"^2024 has no release 3 \(published: \[1, 2\]\)$"):
        diff_releases(home, YEAR, old=3)
    assert len(diff_releases(home, YEAR, old=2, new=1).rows) == 1


def test_an_edited_methodology_file_is_a_new_release_even_with_the_same_scores(
        published_once: Home, first_run: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A methodology file changed where no score moves (here a row's English name) is a new release that
    names the file in force, and shows its text; before, 'nothing changed since release 1' kept the old
    file's sha256 as the latest release's methodology."""
    home = published_once
    reference = tmp_path / "reference"
    shutil.copytree(reference_dir(), reference)
    method_file = reference / "methodology" / "iid-2023.json"
    text = method_file.read_text(encoding="utf-8")
    assert "Vision & mission of the head of region include innovation" in text
    method_file.write_text(text.replace("Vision & mission of the head of region include innovation",
                                        "Vision and mission name innovation (edited)"), encoding="utf-8")
    monkeypatch.setenv("IID_REFERENCE", str(reference))
    second = _run(home)
    assert second["publish"]["published"] and second["publish"]["release"] == 2
    old, new = (json.loads((home.published_year(YEAR) / f"release={n}" / "manifest.json").read_text())
                for n in (1, 2))
    assert new["methodology"]["sha256"] == sha256_file(method_file) != old["methodology"]["sha256"]
    assert new["content_hashes"] == old["content_hashes"]  # the scores did not move
    assert "(edited)" in (home.published_year(YEAR) / "release=2" / "report" / "index.html").read_text()
    assert diff_releases(home, YEAR).rows == []
    third = _run(home)  # the same file again: nothing new
    assert not third["publish"]["published"] and "nothing changed since release 2" in third["publish"]["message"]
    assert first_run["publish"]["release"] == 1


def test_a_publish_names_the_methodology_its_tables_were_scored_under(
        rescored_35_01: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'iid run --from-stage publish' after the methodology file changed publishes the tables transform left,
    scored under the file before: the manifest named the file in force (the new one) as theirs, the report
    built at publish showed the new file's text under the old file's sha256, and the run's rows (in the release
    and the run log) named the new file. All are now the file they were scored under; when no methodology file
    has its sha256 any more, publish stops in one line."""
    from flows.methodology import MethodologyError
    from flows.runs import final_row

    home = copy_home(rescored_35_01.root, tmp_path / "home")  # release 1, then 35.01 changed and scored
    scored_under = for_year(YEAR).sha256
    reference = tmp_path / "reference"
    shutil.copytree(reference_dir(), reference)
    method_file = reference / "methodology" / "iid-2023.json"
    original = method_file.read_text(encoding="utf-8")
    method_file.write_text(original.replace("Vision & mission of", "Vision and mission of"), encoding="utf-8")
    monkeypatch.setenv("IID_REFERENCE", str(reference))
    assert for_year(YEAR).sha256 == sha256_file(method_file) != scored_under
    with pytest.raises(MethodologyError, match=rf"^the last transform of {YEAR} was scored under "
                                          rf"iid-2023.json sha256 {scored_under[:12]}…, .* restore that version .*; "
                                          rf"or score them under the file in force: iid run --year {YEAR}$"):
        pipeline.publish(home, YEAR, {"run_id": "from-stage-publish"})
    assert [r.number for r in release_dirs(home, YEAR)] == [1]
    (reference / "methodology" / "iid-2023-as-scored.json").write_text(original, encoding="utf-8")  # kept beside
    # the flow's run names the file in force when it started; its rows name the one the tables were scored under
    run = {"run_id": "from-stage-publish", "methodology": "iid-2023", "methodology_sha256": for_year(YEAR).sha256}
    published = pipeline.publish(home, YEAR, run)
    assert published["release"] == 2
    release = home.published_year(YEAR) / "release=2"
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["methodology"]["sha256"] == scored_under
    assert duckdb.connect().execute("select methodology_sha256 from read_parquet(?)",
                                    [str(release / "runs.parquet")]).fetchall() == [(scored_under,)]
    assert final_row(run, {"publish": published})["methodology_sha256"] == scored_under  # the run log's row
    index = (release / "report" / "index.html").read_text(encoding="utf-8")
    assert "Vision &amp; mission of" in index and "Vision and mission of" not in index
    assert _run(home)["publish"]["release"] == 3  # scored again under the edited file
    release = home.published_year(YEAR) / "release=3"
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["methodology"]["sha256"] == sha256_file(method_file)
    assert "Vision and mission of" in (release / "report" / "index.html").read_text(encoding="utf-8")


def test_a_release_whose_manifest_cannot_be_read_is_never_overwritten(rescored_35_01: Home, tmp_path: Path) -> None:
    """Release 2's manifest damaged (a bad restore, a disk fault): the next publish said 'Directory not empty'
    renaming its staging folder onto release=2 (the number of the last release it could read + 1), again at
    every run. Now it stops before writing, naming the folder and what to do, and leaves it as it is."""
    from flows.publish import PublishError

    home = copy_home(rescored_35_01.root, tmp_path / "home")  # release 1, then 35.01 changed and scored
    assert _run(home)["publish"]["release"] == 2
    manifest = home.published_year(YEAR) / "release=2" / "manifest.json"
    manifest.chmod(0o644)
    manifest.write_text("{ damaged", encoding="utf-8")
    (home.raw_year(YEAR) / "35.01.json").write_text(json.dumps(submission("35.01", spd_total=61)), encoding="utf-8")
    for stage in (pipeline.ingest, pipeline.validate, pipeline.transform):
        stage(home, YEAR)
    with pytest.raises(PublishError, match=r"release=2: its manifest.json is missing or cannot be read.*restore "
                                           r"that folder from a copy of the release.*nothing was published$"):
        pipeline.publish(home, YEAR, {"run_id": "test"})
    assert sorted(p.name for p in home.published_year(YEAR).iterdir()) == ["release=1", "release=2"]
    assert manifest.read_text(encoding="utf-8") == "{ damaged"


def test_a_release_that_lost_its_manifest_is_never_removed(rescored_35_01: Home, tmp_path: Path) -> None:
    """A release=N folder without manifest.json (deleted by mistake, a restore not finished) was removed with
    all its files by the next publish, which then reused its number. Now publish stops and names it."""
    from flows.publish import PublishError

    home = copy_home(rescored_35_01.root, tmp_path / "home")  # release 1, then 35.01 changed and scored
    (home.published_year(YEAR) / "release=1" / "manifest.json").unlink()  # scoring reads no release: after it
    with pytest.raises(PublishError, match=r"release=1: its manifest.json is missing or cannot be read"):
        pipeline.publish(home, YEAR, {"run_id": "test"})
    assert sorted(p.name for p in home.published_year(YEAR).iterdir()) == ["release=1"]
    assert (home.published_year(YEAR) / "release=1" / "region_scores.parquet").is_file()


def _coached(release: Path) -> dict[str, dict[str, str]]:
    import csv

    with (release / "coaching.csv").open(encoding="utf-8") as handle:
        return {row["region_code"]: row for row in csv.DictReader(handle)}


def test_a_year_published_later_is_read_by_the_next_release(published_once: Home, first_run: dict) -> None:
    """'iid run --year 2024' then '--year 2023': 2024's coaching list had no previous_predicate, and running
    2024 again said 'nothing changed' (its tables had not), so no release of 2024 ever showed 2023. Now a
    manifest names the earlier years' releases its report read (year -> release and manifest sha256), and a
    change there is a new release, as a changed table is."""
    home = published_once
    assert first_run["publish"]["release"] == 1
    first = home.published_year(YEAR) / "release=1"
    assert _coached(first)["35.15"]["previous_predicate"] == ""
    best = [innovation(f"35.15-{i}", 100, year=2023) for i in range(10)]
    write_home(home.root, 2023, {"35.15.json": submission("35.15", year=2023, spd_total=60, innovations=best)})
    for stage in (pipeline.ingest, pipeline.validate, pipeline.transform):
        stage(home, 2023)
    assert pipeline.publish(home, 2023, {"run_id": "2023"})["release"] == 1
    earlier = home.published_year(2023) / "release=1"
    again = _run(home)["publish"]
    assert again["published"] and again["release"] == 2, again
    assert json.loads((first / "manifest.json").read_text())["history"] == {}
    second = home.published_year(YEAR) / "release=2"
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["history"] == {"2023": {"release": 1, "manifest_sha256": sha256_file(earlier / "manifest.json")}}
    assert manifest["content_hashes"] == json.loads((first / "manifest.json").read_text())["content_hashes"]
    assert _coached(second)["35.15"]["previous_predicate"] == "Sangat Inovatif"
    assert "nothing changed since release 2" in _run(home)["publish"]["message"]
    # a release of before this record: what it read is told by the time it was published
    from flows.releases import Release, history_read_by

    for number, read in ((1, {}), (2, manifest["history"])):
        old = release_dirs(home, YEAR)[number - 1]
        without = Release(old.year, old.number, old.path, {k: v for k, v in old.manifest.items() if k != "history"})
        assert history_read_by(home, without) == read


def _publish_2023(home: Home, files: dict[str, dict]) -> int:
    write_home(home.root, 2023, files)
    for stage in (pipeline.ingest, pipeline.validate, pipeline.transform):
        stage(home, 2023)
    return int(pipeline.publish(home, 2023, {"run_id": "2023"})["release"])


def test_report_of_a_release_reads_the_earlier_releases_it_recorded(home: Home, tmp_path: Path) -> None:
    """'iid report --year 2024 --release 1' read the latest release of 2023 today: after 2023 release 2 was
    published, release 1's rebuilt coaching list and pages showed release 2's 2023 predicates, which release 1
    never read. Now it reads the releases its manifest's history names; a release without that record reads
    the latest ones, and a note says so."""
    from flows.report.cli import ReportError, report_command

    best = [innovation(f"35.15-{i}", 100, year=2023) for i in range(10)]
    assert _publish_2023(home, {"35.15.json": submission("35.15", year=2023, spd_total=60, innovations=best)}) == 1
    assert _run(home)["publish"]["release"] == 1
    first = home.published_year(YEAR) / "release=1"
    assert _coached(first)["35.15"]["previous_predicate"] == "Sangat Inovatif"
    assert _publish_2023(home, {"35.15.json": submission("35.15", year=2023, spd_total=5)}) == 2
    notes: list[str] = []
    rebuilt = report_command(YEAR, 1, tmp_path / "r1", home, notes.append).parent.parent
    assert notes == []
    assert _coached(rebuilt)["35.15"]["previous_predicate"] == "Sangat Inovatif"
    for page in ("coaching.csv", "report/region/35.15.html"):
        assert (rebuilt / page).read_bytes() == (first / page).read_bytes(), page
    # a release of before manifests recorded history: the latest releases, and a note
    manifest = first / "manifest.json"
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.chmod(0o644)
    manifest.write_text(json.dumps({k: v for k, v in recorded.items() if k != "history"}), encoding="utf-8")
    rebuilt = report_command(YEAR, 1, tmp_path / "old", home, notes.append).parent.parent
    assert _coached(rebuilt)["35.15"]["previous_predicate"] not in ("", "Sangat Inovatif")
    assert notes == [f"release 1 of {YEAR} records no history (published before manifests did): its report is "
                     "rebuilt from the latest release of each earlier year, which may not be those it read"]
    # a recorded release that is gone: one line naming it
    manifest.write_text(json.dumps({**recorded, "history": {"2023": {"release": 7, "manifest_sha256": "ab" * 32}}}),
                        encoding="utf-8")
    with pytest.raises(ReportError, match=rf"^release 1 of {YEAR} read release 7 of 2023 \(manifest sha256 "
                                          r"abababababab…\), which is missing in .*year=2023: restore that release"):
        report_command(YEAR, 1, tmp_path / "gone", home)


def test_a_deleted_release_keeps_its_number(rescored_35_01: Home, first_run: dict, tmp_path: Path) -> None:
    """Release 2 deleted whole (folder and all): the next publish was release 2 again, so two different
    releases had had the same number. Now the number is one past the highest of the folders and of the run
    log (warehouse/runs/, where the run that published release 2 is), and the message says why."""
    from flows.runs import final_row, record_run

    home = copy_home(rescored_35_01.root, tmp_path / "home")  # release 1, then 35.01 changed and scored
    assert first_run["publish"]["release"] == 1
    record_run(home, final_row({"run_id": "run-1", "year": YEAR}, first_run))  # as the flow records its run
    out = _run(home)
    assert out["publish"]["release"] == 2
    record_run(home, final_row({"run_id": "run-2", "year": YEAR}, out))
    second = home.published_year(YEAR) / "release=2"
    for path in [second, *second.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(second)
    (home.raw_year(YEAR) / "35.01.json").write_text(json.dumps(submission("35.01", spd_total=61)), encoding="utf-8")
    third = _run(home)["publish"]
    assert third["release"] == 3 and [r.number for r in release_dirs(home, YEAR)] == [1, 3]
    assert "(not 2: the run log" in third["message"] and "records release 2" in third["message"]
    manifest = json.loads((home.published_year(YEAR) / "release=3" / "manifest.json").read_text())
    assert manifest["release"] == 3 and manifest["previous_release"] == 1
    (home.raw_year(YEAR) / "35.01.json").write_text(json.dumps(submission("35.01", spd_total=62)), encoding="utf-8")
    assert _run(home)["publish"]["message"] == f"published release 4 of {YEAR}"  # one past the folders: no note


def test_manifests_are_parsed_once_and_again_when_they_change(published_once: Home,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A publish scans the releases several times; each manifest is parsed once while its file is
    unchanged, and again after it changed (or is gone)."""
    import flows.releases as releases

    home = published_once
    parsed: list[str] = []
    loads = json.loads

    def counting(text: str | bytes) -> object:
        parsed.append(str(text)[:20])
        return loads(text)

    monkeypatch.setattr(releases, "_MANIFESTS", {})
    monkeypatch.setattr(releases.json, "loads", counting)
    first = release_dirs(home, YEAR)
    assert len(parsed) == 1 and [r.number for r in first] == [1]
    assert release_dirs(home, YEAR)[0].manifest == first[0].manifest and len(parsed) == 1
    assert [r.number for r in releases.all_releases(home)] == [1] and len(parsed) == 1
    manifest = home.published_year(YEAR) / "release=1" / "manifest.json"
    os.chmod(manifest, 0o644)
    changed = {**first[0].manifest, "run_id": "changed"}
    manifest.write_text(json.dumps(changed), encoding="utf-8")
    assert release_dirs(home, YEAR)[0].manifest["run_id"] == "changed" and len(parsed) == 2
    manifest.write_text("not json", encoding="utf-8")
    assert release_dirs(home, YEAR) == []
    manifest.unlink()
    assert release_dirs(home, YEAR) == []


def test_removed_file_is_dropped_from_landing(published_once: Home) -> None:
    home = published_once
    (home.raw_year(YEAR) / "35.01.json").unlink()
    again = _run(home)
    assert again["ingest"]["files_dropped"] == 1 and again["publish"]["release"] == 2
    con = duckdb.connect(str(home.catalog), read_only=True)
    assert con.execute("select submitted from region_scores where region_code = '35.01'").fetchall() == [(False,)]


def test_force_redoes_every_stage(published_once: Home) -> None:
    home = published_once
    forced = _run(home, force=True)
    assert forced["ingest"]["files_parsed"] == 4
    assert not forced["validate"]["skipped"] and not forced["transform"]["skipped"]
    assert not forced["publish"]["published"]


def test_published_files_are_read_only(released: tuple[Home, dict]) -> None:
    home = released[0]  # read, not changed: the files as the publish left them
    release = home.published_year(YEAR) / "release=1"
    for path in release.rglob("*"):
        if path.is_file():
            assert not os.access(path, os.W_OK) or (os.geteuid() == 0 and not (path.stat().st_mode & 0o222))
