"""The baseline SQL (bench/baseline.sql) and the pipeline agree on every region: a cross-check of the scoring."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from prefectdb import server_of_this_process
from processes import alive, descendants, interruptible

from flows import pipeline
from flows.bench import run_baseline
from flows.bench_inputs import correct_in_place, resubmit_one_region
from flows.generator import generate_year
from flows.settings import Home

YEAR = 2024
ROOT = Path(__file__).resolve().parents[2]
COLUMNS = "region_code, iid, predicate, rank_in_level, n_innovations, submitted"


def _pipeline_scores(home: Home) -> list[tuple]:
    con = duckdb.connect(str(home.work_db(YEAR)), read_only=True)
    try:
        return con.execute(f"select {COLUMNS} from region_scores order by region_code").fetchall()
    finally:
        con.close()


def _baseline_scores(home: Home, target: Path) -> list[tuple]:
    run_baseline(home, YEAR, target)
    return duckdb.connect().execute(f"select {COLUMNS} from read_parquet(?) order by region_code",
                                    [str(target)]).fetchall()


def _run(home: Home) -> None:
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    pipeline.transform(home, YEAR)


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A small JSON-only year without defects, scored by the pipeline (no Prefect)."""
    home = Home.resolve(tmp_path_factory.mktemp("bench"))
    generate_year(home, YEAR, seed=11, scale=0.05, formats=("json",))
    _run(home)
    return home


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The drop zone of a small JSON-only year (seed 5), generated once: the tests that change a copy of it
    take one (``_copy_of``)."""
    home = Home.resolve(tmp_path_factory.mktemp("generated"))
    generate_year(home, YEAR, seed=5, scale=0.02, formats=("json",))
    return home.raw_year(YEAR)


def _copy_of(generated: Path, root: Path) -> Home:
    """A home at ``root`` whose drop zone is a copy of ``generated``, as if the year had been generated there."""
    home = Home.resolve(root)
    shutil.copytree(generated, home.raw_year(YEAR), symlinks=True)
    return home


def test_baseline_and_pipeline_agree_on_every_region(scored: Home, tmp_path: Path) -> None:
    ours, floor = _pipeline_scores(scored), _baseline_scores(scored, tmp_path / "baseline.parquet")
    assert len(ours) == 546
    assert ours == floor
    predicates = {row[2] for row in ours}
    assert {"Inovatif", "Tidak Dapat Dinilai"} <= predicates  # the year exercises more than one band
    assert any(row[4] > 10 for row in ours)  # and MAX(divisor, n) with n above the divisor


def test_a_resubmission_moves_one_region_in_both(scored: Home, tmp_path: Path) -> None:
    before = {row[0]: row for row in _pipeline_scores(scored)}
    pipeline.publish(scored, YEAR, {"run_id": "bench-test"})
    code = resubmit_one_region(scored, YEAR)
    _run(scored)
    ours, floor = _pipeline_scores(scored), _baseline_scores(scored, tmp_path / "baseline.parquet")
    assert ours == floor
    changed = [row[0] for row in ours if before[row[0]][1] != row[1]]
    assert changed == [code]
    # a repeat resubmits another region as a new file (not the resubmission again, in place)
    pipeline.publish(scored, YEAR, {"run_id": "bench-test"})
    files = len(list(scored.raw_year(YEAR).iterdir()))
    assert resubmit_one_region(scored, YEAR) != code
    assert len(list(scored.raw_year(YEAR).iterdir())) == files + 1
    _run(scored)  # the module's year stays scored for the tests after this one


def test_a_file_corrected_in_place_moves_one_region_in_both(scored: Home, tmp_path: Path) -> None:
    pipeline.publish(scored, YEAR, {"run_id": "bench-test"})
    before = {row[0]: row for row in _pipeline_scores(scored)}
    files = sorted(p.name for p in scored.raw_year(YEAR).iterdir())
    code = correct_in_place(scored, YEAR)
    assert sorted(p.name for p in scored.raw_year(YEAR).iterdir()) == files  # the same file, new content
    _run(scored)
    ours, floor = _pipeline_scores(scored), _baseline_scores(scored, tmp_path / "baseline.parquet")
    assert ours == floor
    assert [row[0] for row in ours if before[row[0]][1] != row[1]] == [code]


def test_the_baseline_reads_the_files_the_pipeline_reads(generated: Path, tmp_path: Path) -> None:
    """Files and folders starting with . or _ are ignored by the pipeline at any depth, and files in
    subfolders are read (flows.dropzone); the baseline's glob raw/<year>/*.json read the first and
    missed the second, and verification/*.csv read macOS's ._ twin."""
    import json

    from flows.dropzone import ignored

    home = _copy_of(generated, tmp_path)
    raw = home.raw_year(YEAR)
    first, second = sorted(p for p in raw.glob("*.json") if not ignored(p.name))[:2]
    backup = json.loads(first.read_text(encoding="utf-8"))  # a later, better-scored copy: counts if read
    backup["submitted_at"] = "2024-08-02T20:00:00+07:00"
    backup["spd"] = [{**answer, "level": 3, "evidence": ["backup.pdf"]} for answer in backup["spd"]]
    (raw / f".{first.name}").write_text(json.dumps(backup), encoding="utf-8")
    (raw / "_drafts").mkdir()
    (raw / "_drafts" / first.name).write_text(json.dumps(backup), encoding="utf-8")
    (raw / "batch-2").mkdir()
    second.rename(raw / "batch-2" / second.name)  # still read by the pipeline
    (raw / "verification" / "._verification.csv").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    _run(home)
    ours, floor = _pipeline_scores(home), _baseline_scores(home, tmp_path / "baseline.parquet")
    assert ours == floor
    submitted = {row[0] for row in ours if row[5]}
    assert backup["region_code"] in submitted and json.loads((raw / "batch-2" / second.name).read_text(
        encoding="utf-8"))["region_code"] in submitted


def test_the_baseline_reads_files_whose_names_are_glob_patterns(generated: Path, tmp_path: Path) -> None:
    """DuckDB takes every path it is given as a glob pattern: the baseline read ``aceh1.json`` (an earlier
    submission of the region) for ``aceh[1].json``, the symbolic link ``bx.json`` (rejected by the
    pipeline) beside ``b?.json``, and ``verification1.csv`` (one of the decisions) for ``verification[1].csv``."""
    import json
    import os

    from flows.dropzone import ignored

    home = _copy_of(generated, tmp_path / "home")
    raw = home.raw_year(YEAR)
    first, second = sorted(p for p in raw.glob("*.json") if not ignored(p.name))[:2]
    earlier = json.loads(first.read_text(encoding="utf-8"))
    earlier["submitted_at"] = "2024-05-01T08:00:00+07:00"
    earlier["spd"] = [{**answer, "level": 0} for answer in earlier["spd"]]
    (raw / "aceh1.json").write_text(json.dumps(earlier), encoding="utf-8")  # superseded by aceh[1].json
    first.rename(raw / "aceh[1].json")
    better = json.loads(second.read_text(encoding="utf-8"))
    better["submitted_at"] = "2024-08-02T20:00:00+07:00"
    better["spd"] = [{**answer, "level": 3, "evidence": ["better.pdf"]} for answer in better["spd"]]
    (tmp_path / "better.json").write_text(json.dumps(better), encoding="utf-8")
    second.rename(raw / "b?.json")
    os.symlink(tmp_path / "better.json", raw / "bx.json")  # FIL010: never read
    verification = raw / "verification"
    lines = (verification / "verification.csv").read_text(encoding="utf-8").splitlines()
    again = next(line for line in lines if '"' in line)  # a quoted note: DuckDB sniffs the first file's quoting
    (verification / "verification1.csv").write_text(f"{lines[0]}\n{again}\n", encoding="utf-8")  # one decision, again
    (verification / "verification.csv").rename(verification / "verification[1].csv")
    _run(home)
    ours, floor = _pipeline_scores(home), _baseline_scores(home, tmp_path / "baseline.parquet")
    assert ours == floor
    assert {earlier["region_code"], better["region_code"]} <= {row[0] for row in ours if row[5]}


def test_the_baseline_reads_every_verification_csv_in_the_pipelines_dialect(generated: Path, tmp_path: Path) -> None:
    """DuckDB sniffed the CSV dialect from the first verification file only: a first file holding just the header
    (no quoted field) made a later file's quoted note with a comma fail ("Expected Number of Columns: 6 Found: 7")."""
    home = _copy_of(generated, tmp_path / "home")
    verification = home.raw_year(YEAR) / "verification"
    lines = (verification / "verification.csv").read_text(encoding="utf-8").splitlines()
    assert any('"' in line and "," in line.split('"')[1] for line in lines[1:]), "a quoted note with a comma"
    (verification / "a.csv").write_text(f"{lines[0]}\n", encoding="utf-8")  # read first: a header alone
    _run(home)
    ours, floor = _pipeline_scores(home), _baseline_scores(home, tmp_path / "baseline.parquet")
    assert ours == floor


def test_duckdb_reads_each_path_as_it_is(tmp_path: Path) -> None:
    """Each file once, under its own name, whatever glob characters or backslashes its path holds (DuckDB's
    globbing sees no name with a backslash: such a path is read through a link)."""
    import json

    from flows.bench import duckdb_paths

    names = ["a[1].json", "a1.json", "a?b.json", "axb.json", "c*.json", "cc.json", "f\\g.json", "f\\[g].json",
             "fg.json", "h].json"]
    paths = []
    for folder in (tmp_path / "plain", tmp_path / "d[x]"):
        folder.mkdir()
        for name in names:
            (folder / name).write_text(json.dumps({"name": f"{folder.name}/{name}"}), encoding="utf-8")
            paths.append(folder / name)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    read = duckdb.connect().execute("select name, filename from read_json(?, filename = true) order by all",
                                    [duckdb_paths(paths, scratch)]).fetchall()
    assert sorted(name for name, _ in read) == sorted(f"{p.parent.name}/{p.name}" for p in paths)
    assert {filename for name, filename in read if "\\" not in name} == {str(p) for p in paths if "\\" not in p.name}


def test_duckdb_reads_a_path_that_is_not_utf8(tmp_path: Path) -> None:
    """The pipeline reads a file whose name was saved in Latin-1 (``Pacit\\xe1n.json``); DuckDB refused the path
    ('cannot encode str as UTF-8'), so the baseline stopped on such a drop zone."""
    import os

    from flows.bench import duckdb_paths

    path = Path(os.fsdecode(bytes(tmp_path) + b"/Pacit\xe1n.json"))
    path.write_text('{"name": "pacitan"}', encoding="utf-8")
    read = duckdb.connect().execute("select name from read_json(?)", [duckdb_paths([path], tmp_path)]).fetchall()
    assert read == [("pacitan",)]


def test_tree_memory_counts_child_processes() -> None:
    """The peak the benchmark reports includes worker processes (here a child holding ~200 MB)."""
    import os
    import subprocess
    import sys
    import time

    from flows.bench import TreeMemory, _tree_rss_bytes

    alone = _tree_rss_bytes(os.getpid())
    with TreeMemory(interval=0.05) as memory:
        child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(200 * 2**20); time.sleep(3)"])
        time.sleep(1.5)
        child.wait()
    assert memory.peak - alone > 150 * 2**20


def test_repeated_runs_report_the_median_and_every_repeat() -> None:
    from flows.bench import _median_of

    runs = [(12.0, {"status": "a"}), (10.0, {"status": "b"}), (11.0, {"status": "c"}), (30.0, {"status": "d"})]
    record = _median_of(runs, fixed=8.0, full_work=20.0)
    assert record["status"] == "c"  # the lower median of four walls (10, 11, 12, 30)
    assert record["wall_seconds"] == 11.0
    assert record["work_seconds"] == 3.0
    assert record["share_of_full_work"] == 0.15
    assert [r["wall_seconds"] for r in record["repeats"]] == [12.0, 10.0, 11.0, 30.0]  # in the order run
    assert record["repeats"][3]["share_of_full_work"] == 1.1


def test_the_start_up_is_measured_before_every_run_and_its_median_used() -> None:
    from flows.bench import measure

    log: list[str] = []
    empties = iter([30.0, 9.0, 8.0, 10.0, 8.5, 9.5, 12.0, 8.8, 9.1])

    def empty() -> float:
        log.append("empty")
        return next(empties)

    def run() -> tuple[float, dict]:
        log.append("run")
        return 20.0, {}

    def resubmit() -> str:
        log.append("resubmit")
        return "11"

    timings = measure(3, empty, run, resubmit, full_repeat=1)
    # one full run, then cycles of a no-change re-run and a resubmission, each run after an empty flow
    assert log == ["empty", "empty", "run"] + ["empty", "run", "resubmit", "empty", "run"] * 3
    assert timings.startups == [30.0, 9.0, 8.0, 10.0, 8.5, 9.5, 12.0, 8.8, 9.1][:8]
    assert timings.fixed == 9.0  # the lower median of the seven after the warm-up (30 s)
    assert len(timings.full_runs) == 1
    assert len(timings.same_runs) == len(timings.one_runs) == 3 and timings.codes == ["11"] * 3
    assert timings.corrected_runs == []

    def correct() -> str:
        log.append("correct")
        return "35.78"

    log.clear()
    empties = iter([30.0, 9.0, 8.0, 10.0, 8.5, 9.5, 12.0, 8.8, 9.1, 9.2, 9.3, 9.4])
    timings = measure(3, empty, run, resubmit, correct=correct, full_repeat=1)
    assert log[3:] == ["empty", "run", "resubmit", "empty", "run", "correct", "empty", "run"] * 3
    assert len(timings.corrected_runs) == 3 and timings.corrected_codes == ["35.78"] * 3
    assert timings.fixed == 9.1  # the lower median of the ten after the warm-up
    assert timings.baselines == []

    log.clear()
    empties = iter([30.0, 9.0, 8.0, 10.0, 8.5, 9.5, 12.0, 8.8, 9.1, 9.2, 9.3, 9.4])
    walls = iter([1.9, 1.4, 1.5])

    def baseline() -> dict[str, float]:
        log.append("baseline")
        return {"wall_seconds": next(walls)}

    timings = measure(3, empty, run, resubmit, correct=correct, baseline=baseline, full_repeat=1)
    assert log[3:] == ["empty", "run", "resubmit", "empty", "run", "correct", "empty", "run", "baseline"] * 3
    assert [b["wall_seconds"] for b in timings.baselines] == [1.9, 1.4, 1.5]


def test_the_full_run_is_repeated_from_a_fresh_home_and_its_median_used(tmp_path: Path) -> None:
    """Every share and ratio divides by the full run's work: it is measured ``repeat`` times, in cycles
    with the re-runs, each after a reset to the home as generated, and the median run is reported with
    every run beside it; the memory target is checked against the largest peak."""
    from flows.bench import _median_of, measure
    from flows.bench_inputs import DropZone, fresh_home

    log: list[str] = []
    walls = iter([27.0, 8.0, 8.0, 24.0, 8.0, 8.0, 31.0, 8.0, 8.0])

    def run() -> tuple[float, dict]:
        log.append("run")
        wall = next(walls)
        return wall, {"stage_seconds": {"ingest": wall / 3}, "peak_rss_tree_mb": 1000 + wall, "records": {}}

    def empty() -> float:
        log.append("empty")
        return 7.0

    def resubmit() -> str:
        log.append("resubmit")
        return "11"

    timings = measure(3, empty, run, resubmit, reset=lambda: log.append("reset"))
    cycle = ["empty", "run", "empty", "run", "resubmit", "empty", "run"]
    assert log == ["empty", *cycle, "reset", *cycle, "reset", *cycle]
    assert [w for w, _ in timings.full_runs] == [27.0, 24.0, 31.0]
    record = _median_of(timings.full_runs, fixed=7.0)
    assert record["wall_seconds"] == 27.0 and record["work_seconds"] == 20.0  # the median of 24, 27, 31
    assert record["stage_seconds"] == {"ingest": 9.0} and record["peak_rss_tree_mb"] == 1027.0  # that run's own
    assert [r["wall_seconds"] for r in record["repeats"]] == [27.0, 24.0, 31.0]  # in the order run
    assert record["peak_rss_tree_mb_max"] == 1031.0
    assert "share_of_full_work" not in record and "share_of_full_work" not in record["repeats"][0]
    with pytest.raises(ValueError, match="reset"):
        measure(2, lambda: 7.0, run, lambda: "11")  # repeating the full run needs a way back to a fresh home
    with pytest.raises(ValueError, match="one per cycle"):
        measure(2, lambda: 7.0, run, lambda: "11", reset=lambda: None, full_repeat=3)

    home = Home.resolve(tmp_path)
    drop = home.raw_year(2024) / "11.json"
    drop.parent.mkdir(parents=True)
    drop.write_text("{}", encoding="utf-8")
    release = home.published_year(2024) / "release=1"
    release.mkdir(parents=True)
    (release / "region_scores.parquet").write_bytes(b"x")
    (release / "region_scores.parquet").chmod(0o444)
    home.work_db(2024).parent.mkdir(parents=True)
    home.work_db(2024).write_bytes(b"x")
    fresh_home(home)
    assert not home.published.exists() and not home.warehouse.exists()
    assert drop.read_text(encoding="utf-8") == "{}"
    fresh_home(home)  # nothing to remove is fine

    # the drop zone as generated again: a corrected file's bytes back, the resubmissions gone
    zone = DropZone(home.raw_year(2024))
    zone.keep(drop)
    drop.write_text('{"corrected": 1}', encoding="utf-8")
    zone.keep(drop)  # changed again: the bytes as generated are kept, not these
    (home.raw_year(2024) / "11-bench-resubmission.json").write_text("{}", encoding="utf-8")
    zone.restore()
    assert sorted(p.name for p in home.raw_year(2024).iterdir()) == ["11.json"]
    assert drop.read_text(encoding="utf-8") == "{}" and zone.originals == {}


def test_the_baseline_is_the_median_of_its_runs_with_every_run_beside_it() -> None:
    from flows.bench import median_baseline

    runs = [{"wall_seconds": 1.9, "cpu_seconds": 3.2}, {"wall_seconds": 1.4, "cpu_seconds": 2.5},
            {"wall_seconds": 1.5, "cpu_seconds": 2.6}, {"wall_seconds": 2.8, "cpu_seconds": 3.0}]
    record = median_baseline(runs)
    assert record["wall_seconds"] == 1.5 and record["cpu_seconds"] == 2.6  # the lower median, one measured run
    assert record["runs_wall_seconds"] == [1.9, 1.4, 1.5, 2.8]  # in the order run
    assert median_baseline(runs[:1])["wall_seconds"] == 1.9


def test_the_summary_says_which_targets_are_met() -> None:
    from flows.bench_targets import summary_rows, targets

    result: dict[str, Any] = {
        "scale": 1, "fixed_startup_seconds": 4.0, "baseline": {"wall_seconds": 1.25},
        "full_run": {"wall_seconds": 14.0, "work_seconds": 10.0, "peak_rss_tree_mb_max": 900.0},
        "ratios": {"work_to_baseline": 8.0, "full_run_to_baseline": 11.2},
        "no_change_rerun": {"share_of_full_work": 0.05}, "one_region_rerun": {"share_of_full_work": 0.3},
    }
    result["targets"] = targets(result)
    rows = summary_rows(result)
    assert rows[:2] == [("full run: wall (work)", "14.0 s (10.0 s)", "", ""),
                        ("fixed start-up; baseline", "4.0 s; 1.25 s", "", "")]
    assert rows[2:] == [("no-change re-run ÷ full run's work", "5.0%", "≤ 10.0%", "met"),
                        ("one-region re-run ÷ full run's work", "30.0%", "≤ 25.0%", "NOT met"),
                        ("full run's work ÷ baseline", "8.0 ×", "≤ 6.0 ×", "NOT met"),
                        ("full run, wall", "14.0 s", "≤ 45.0 s", "met")]


def test_the_summary_says_whether_the_machine_s_pace_held_during_the_benchmark() -> None:
    """The same empty flow and the same baseline, run again and again: how far apart their walls are tells whether
    the machine's pace moved (round 44's benchmark at scale 1: empty flows 4.3-7.1 s, its last cycle's one-region
    re-run 56 % against 24 % in the first two). The first empty flow, a warm-up, is left out."""
    from flows.bench_targets import PACE_LIMIT, pace, pace_warning, summary_rows

    steady = pace([9.0, 4.29, 4.66, 4.51, 4.92], [1.035, 1.056, 1.064])
    assert steady["empty_flow"] == {"fastest_seconds": 4.29, "slowest_seconds": 4.92, "slowest_over_fastest": 1.15}
    assert steady["baseline"]["slowest_over_fastest"] == 1.03 and steady["limit"] == PACE_LIMIT
    assert steady["steady"] is True
    moved = pace([5.29, 4.29, 4.66, 5.83, 7.06], [1.339, 1.014, 1.483])
    assert moved["empty_flow"]["slowest_over_fastest"] == 1.65 and moved["steady"] is False
    assert pace([4.3, 4.4], [1.0, 1.6])["steady"] is False  # a baseline that moved is enough
    result: dict[str, Any] = {"full_run": {"wall_seconds": 14.0, "work_seconds": 10.0},
                              "fixed_startup_seconds": 4.0, "baseline": {"wall_seconds": 1.25}, "targets": {}}
    assert pace_warning(result) is None and len(summary_rows(result)) == 2  # results written before the check
    result["pace"] = steady
    assert summary_rows(result)[-1] == ("machine's pace: empty flows; baselines", "4.3–4.9 s; 1.03–1.06 s",
                                        "≤ 1.25 × apart", "steady")
    assert pace_warning(result) is None
    result["pace"] = moved
    assert summary_rows(result)[-1][1:] == ("4.3–7.1 s; 1.01–1.48 s", "≤ 1.25 × apart", "MOVED")
    warning = pace_warning(result)
    assert warning is not None and "4.3–7.1 s" in warning and "1.01–1.48 s" in warning and "run it again" in warning


def test_a_benchmark_s_results_say_how_steady_the_machine_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``run_bench`` puts the pace of the empty flows and baselines it measured beside the targets (its steps
    here stand-ins that return walls: the steps themselves are measured by the tests above and below)."""
    from flows import bench

    empties = iter([6.0, 4.3, 4.4, 4.5, 4.4, 7.1, 4.4, 4.3, 4.4, 4.5, 4.4, 4.3, 4.4])
    baselines = iter([1.0, 1.1, 1.05])
    stages = {"ingest": 1.0, "validate": 1.0, "transform": 1.0, "publish": 1.0}

    def child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, dict[str, Any]]:
        if args[0] == "generate":
            (tmp_path / "home" / "raw" / "2024").mkdir(parents=True)
            return 2.0, {"regions": 546}
        if args[0] == "empty":
            return next(empties), {}
        if args[0] == "baseline":
            wall = next(baselines)
            return wall, {"wall_seconds": wall, "cpu_seconds": 2 * wall}
        return 12.0, {"stage_seconds": stages, "records": {"sid_answers": 1000}, "peak_rss_tree_mb": 900.0}

    monkeypatch.setattr(bench, "_child", child)
    monkeypatch.setattr(bench, "resubmit_one_region", lambda home, year: "11")
    monkeypatch.setattr(bench, "correct_in_place", lambda home, year, keep: "35.78")
    result = bench.run_bench(2024, 1, workdir=tmp_path / "home")
    assert result["startup_runs_seconds"] == [6.0, 4.3, 4.4, 4.5, 4.4, 7.1, 4.4, 4.3, 4.4, 4.5, 4.4, 4.3, 4.4]
    assert result["pace"]["empty_flow"] == {"fastest_seconds": 4.3, "slowest_seconds": 7.1,
                                            "slowest_over_fastest": 1.65}  # the warm-up (6.0 s) left out
    assert result["pace"]["baseline"]["slowest_over_fastest"] == 1.1 and result["pace"]["steady"] is False
    assert result["fixed_startup_seconds"] == 4.4 and result["baseline"]["wall_seconds"] == 1.05
    assert set(result["targets"]) == {"no_change_share_of_work", "one_region_share_of_work", "work_to_baseline",
                                      "full_run_wall_seconds"}


@pytest.mark.parametrize(("sent", "to_group", "said"), [
    ("SIGTERM", False, "bench stopped by SIGTERM"),  # `kill`, a CI job's time limit: the benchmark's process alone
    ("SIGINT", True, "bench interrupted"),  # Ctrl-C: every process of the terminal's foreground group
])
def test_a_stopped_benchmark_stops_its_step_and_removes_its_temporary_home(tmp_path: Path, sent: str, to_group: bool,
                                                                          said: str) -> None:
    """SIGTERM used to end `iid bench` at once, leaving its temporary home (a generated year: ~2 GB at scale 10)
    and the step it had started running. Stopped either way, it now stops the step (and the temporary
    Prefect server below it), removes the home, writes no results and says so in one line. Sent once the
    year is generated and a measured step runs with its server (a fresh Prefect home's server takes ~20 s
    to come up; the step is stopped before that)."""
    import signal
    import subprocess
    import sys
    import time

    signum = getattr(signal, sent)
    temp, out = tmp_path / "tmp", tmp_path / "results.json"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    bench = subprocess.Popen([sys.executable, "-m", "flows.cli", "bench", "--scale", "0.01", "--year", str(YEAR),
                              "--out", str(out)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=interruptible)  # Ctrl-C as a terminal has it
    try:
        below: set[int] = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # a step after the generator's (a child, with its server below it)
            homes = list(temp.glob("iid-bench-*"))
            below = descendants(bench.pid)
            if homes and (homes[0] / "raw").is_dir() and len(below) >= 2:
                break
            time.sleep(0.05)
        assert homes and len(below) >= 2, "the benchmark did not reach a measured step"
        if to_group:
            os.killpg(bench.pid, signum)
        else:
            bench.send_signal(signum)
        _, errors = bench.communicate(timeout=60)
    finally:
        if bench.poll() is None:
            os.killpg(bench.pid, signal.SIGKILL)
    assert bench.returncode == 128 + signum, errors
    lines = [line for line in errors.splitlines() if line.startswith("error:")]
    assert lines == [f"error: {said}; its temporary home is removed; nothing is written to {out}"], errors
    assert "Traceback" not in errors
    assert not list(temp.glob("iid-bench-*")) and not out.exists()
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in below if alive(pid)], "a process the benchmark started outlived it"


def test_a_benchmark_run_on_dask_is_on_dask(generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``iid bench --task-runner dask`` measures runs on Dask: each run step is a fresh process that runs the
    year on that runner (the run's record says which) and publishes it; its results go to their own file. The
    step reports to this process's Prefect server rather than starting one (not the subject here)."""
    from flows.bench import _child
    from flows.bench_targets import default_results_path

    monkeypatch.setenv("PREFECT_API_URL", server_of_this_process())
    home = _copy_of(generated, tmp_path / "home")
    wall, out = _child(["run", str(home.root), str(YEAR), "dask", ""])
    assert out["task_runner"] == "dask" and out["status"] == "published", out
    assert set(out["stage_seconds"]) == set(pipeline.STAGES) and wall > sum(out["stage_seconds"].values())
    assert out["peak_rss_tree_mb"] > out["peak_rss_mb"]  # the cluster's workers are the run's children
    assert default_results_path(1, "dask").name == "results-1-dask.json"
    assert default_results_path(1).name == default_results_path(1, "default").name == "results-1.json"
