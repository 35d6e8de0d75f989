"""``iid bench``: how long a year takes, where the time goes, and how far it is from the floor.

A year is generated at a scale (JSON only, no defects) into a temporary home, in a child process.
Every measured run is a fresh child process, as ``iid run`` would be, so each pays what a real run
pays (imports, Prefect's temporary server or the API at ``PREFECT_API_URL``):

- the fixed start-up: an empty ``annual`` flow (the same imports and Prefect settings, no stage);
- the full run, a no-change re-run and a one-region resubmission, through :func:`flows.annual.annual`;
  per-stage wall seconds come from the runs table, CPU seconds from the flow's run record;
- the baseline: ``bench/baseline.sql``, one DuckDB statement from the raw JSON to ``region_scores``.

With ``task_runner="dask"`` every run is on Dask (``iid run --task-runner dask``: a local cluster the run
starts, or the one at ``dask_address``): the cluster's start and its workers' imports are part of each
run's work, and a local cluster's workers of its memory (children of the run). The empty flow is the
same: it has no task to run.

The full run, both re-runs and the baseline are measured ``repeat`` times (default 3; the full run
``full_repeat`` times if given) and the median is reported with every repeat beside it: the re-runs
are short, the share of a re-run is a difference of two walls that each move by up to a second from
run to run, and every share and ratio divides by the full run's work. They are measured in cycles
(:func:`measure`): a full run, a no-change re-run, a one-region resubmission, a correction in place
and the baseline, then again: the machine's pace drifts over the minutes a benchmark takes, and so
every kind of run sees every part of it. Each full run starts from a fresh home: the generated drop
zone (the resubmissions and corrections of the cycle before taken back), with the warehouse and the
releases of the runs before removed. The fixed start-up is measured before every run (after one
warm-up) and its median is used.

Work is wall time minus the fixed start-up. Peak memory is the largest resident memory of the run
process and its workers together, sampled every 0.1 s (Prefect's temporary server, which a running
server replaces, is a child too and counts); the run process's own maximum and its largest child's
are reported beside it, and the target is checked against the largest peak of all full runs. The
generator's memory is never counted.

Stopped by Ctrl-C or SIGTERM (``kill``, a CI job's time limit), the benchmark stops the step running
(SIGTERM, then SIGKILL after :data:`STEP_GRACE_SECONDS`) and removes its temporary home, which holds the
generated year (~2 GB of JSON at scale 10) and its releases (:class:`flows.process.Terminated`).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.bench_inputs import DropZone, correct_in_place, fresh_home, resubmit_one_region
from flows.bench_targets import pace, targets
from flows.dropzone import drop_zone_files, file_name, verification_files
from flows.imports import collection_paused
from flows.process import terminated_as_interrupt
from flows.settings import PROJECT_ROOT, Home

BASELINE_SQL = PROJECT_ROOT / "bench" / "baseline.sql"
STAGES = ("ingest", "validate", "transform", "publish")


def _peak_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux reports KiB


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants now (Linux ``/proc``)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm", encoding="ascii") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    todo.extend(int(child) for child in handle.read().split())
        except (OSError, ValueError):
            continue
    return total


class TreeMemory:
    """Samples the resident memory of this process and its children (ingest workers, Prefect's
    temporary server) every ``interval`` seconds; ``peak_mb`` is the largest sum seen."""

    def __init__(self, interval: float = 0.1) -> None:
        import threading

        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)

    def _sample(self, interval: float) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(os.getpid()))
            self._stop.wait(interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)


def baseline_submissions(raw_year: Path) -> list[Path]:
    """The JSON files the pipeline reads in a year folder (:func:`flows.dropzone.drop_zone_files`: at any
    depth, no ``_`` or ``.`` name, no ``verification/``), for the baseline SQL: a glob would also read
    the files the pipeline ignores (an editor's ``.x.json`` backup) and miss those in subfolders.
    Symbolic links are left out, as the pipeline rejects them."""
    return [p for p in drop_zone_files(raw_year) if p.suffix.lower() == ".json" and not p.is_symlink()]


_GLOB = re.compile(r"[*?\[]")


def duckdb_paths(paths: list[Path], scratch: Path) -> list[str]:
    """``paths`` as DuckDB's readers read exactly those files. They take every path as a glob pattern, so
    ``aceh[1].json`` read ``aceh1.json`` where there was one, and ``a?b.json`` also ``axb.json``: a glob
    character is written as a class of itself (``[[]``, ``[?]``, ``[*]``), which DuckDB matches literally
    and reports under the file's own name. DuckDB's globbing sees no name with a backslash, and DuckDB
    takes no path that is not UTF-8 (``Pacit\\xe1n.json`` saved in Latin-1), so such a path is read
    through a symbolic link in ``scratch`` (its ``filename`` is then the link's)."""
    texts = []
    for path in paths:
        text = str(path)
        if (_GLOB.search(text) and "\\" in text) or text != file_name(text):
            link = scratch / str(len(os.listdir(scratch)))  # DuckDB's readers need no suffix
            link.symlink_to(path)
            text = str(link)
        texts.append(_GLOB.sub(lambda m: f"[{m.group(0)}]", text))
    return texts


def run_baseline(home: Home, year: int, target: Path) -> dict[str, float]:
    """Score the year with the baseline SQL into ``target`` (Parquet); wall and CPU seconds."""
    import duckdb

    from flows.methodology import for_year
    from flows.reference import regions_path

    raw = home.raw_year(year)
    started, cpu = time.perf_counter(), time.process_time()  # listing the files is timed, as the glob was
    with tempfile.TemporaryDirectory(prefix="iid-baseline-") as folder:
        scratch = Path(folder)
        params = {"year": year, "submissions": duckdb_paths(baseline_submissions(raw), scratch),
                  "verification": duckdb_paths(verification_files(raw), scratch),
                  "methodology": duckdb_paths([for_year(year).path], scratch)[0],
                  "regions": duckdb_paths([regions_path()], scratch)[0], "target": str(target)}
        con = duckdb.connect()
        con.execute(BASELINE_SQL.read_text(encoding="utf-8"), params).fetchall()
        con.close()
    return {"wall_seconds": round(time.perf_counter() - started, 3), "cpu_seconds": round(time.process_time() - cpu, 3)}


STEP_GRACE_SECONDS = 20.0  # a stopped step's time to end as a stopped `iid run` does, before SIGKILL


def _child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, dict[str, Any]]:
    """Run ``python -m flows.bench ARGS`` in a fresh process; its wall seconds and the JSON it printed.

    Interrupted meanwhile (Ctrl-C, :class:`flows.process.Terminated`), the child is sent SIGTERM and given
    :data:`STEP_GRACE_SECONDS` to end (a run stops as a stopped ``iid run`` does: its flow run marked
    crashed, its temporary server stopped), then killed; the interruption goes on up."""
    started = time.perf_counter()
    with subprocess.Popen([sys.executable, "-m", "flows.bench", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT, env=env or dict(os.environ)) as child:
        try:
            out, errors = child.communicate()
        except BaseException:
            child.terminate()
            try:
                child.communicate(timeout=STEP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
            raise
    wall = round(time.perf_counter() - started, 3)
    if child.returncode != 0:
        raise RuntimeError(f"bench step {args[0]} failed: {errors.strip()[-2000:]}")
    return wall, json.loads(out.strip().splitlines()[-1])


def _run_record(wall: float, fixed: float, out: dict[str, Any], full_work: float | None = None) -> dict[str, Any]:
    work = round(wall - fixed, 3)
    record = {"wall_seconds": wall, "work_seconds": work, **out}
    if full_work:
        record["share_of_full_work"] = round(work / full_work, 3)
    return record


def _lower_median(values: list[float]) -> float:
    """The middle of sorted values (the lower one of an even count): always one that was measured."""
    return sorted(values)[(len(values) - 1) // 2]


def median_baseline(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The baseline run with the median wall time (the lower one of an even count), with every run's
    wall beside it: one run of a second or two moved by a third from run to run on this machine, and
    every ratio divides by it."""
    wall = _lower_median([r["wall_seconds"] for r in runs])
    chosen = next(r for r in runs if r["wall_seconds"] == wall)
    return {**chosen, "runs_wall_seconds": [r["wall_seconds"] for r in runs]}


def _median_of(runs: list[tuple[float, dict[str, Any]]], fixed: float,
               full_work: float | None = None) -> dict[str, Any]:
    """The run with the median wall time (the lower one of an even count), with every run's wall, work,
    stages, peak memory and (given the full run's work) share beside it, and the largest peak of them
    all: a share is a difference of two walls and moves from run to run."""
    wall = _lower_median([w for w, _ in runs])
    out = next(o for w, o in runs if w == wall)
    record = _run_record(wall, fixed, out, full_work)
    record["repeats"] = [{"wall_seconds": w, "work_seconds": round(w - fixed, 3),
                          **({"share_of_full_work": round((w - fixed) / full_work, 3)} if full_work else {}),
                          "stage_seconds": o.get("stage_seconds"), "peak_rss_tree_mb": o.get("peak_rss_tree_mb")}
                         for w, o in runs]
    record["peak_rss_tree_mb_max"] = max(o.get("peak_rss_tree_mb") or 0.0 for _, o in runs)
    return record


@dataclass
class Timings:
    """What the measuring schedule collects: walls of empty flows and of the runs, in the order taken."""

    startups: list[float] = field(default_factory=list)
    full_runs: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    same_runs: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    one_runs: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    corrected_runs: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    corrected_codes: list[str] = field(default_factory=list)
    baselines: list[dict[str, float]] = field(default_factory=list)

    @property
    def fixed(self) -> float:
        """The fixed start-up: the median empty flow, the first (a warm-up) left out."""
        return _lower_median(self.startups[1:])


def measure(repeat: int, empty: Callable[[], float], run: Callable[[], tuple[float, dict[str, Any]]],
            resubmit: Callable[[], str], progress: Callable[[str], None] = lambda message: None,
            correct: Callable[[], str] | None = None,
            baseline: Callable[[], dict[str, float]] | None = None,
            reset: Callable[[], None] | None = None, full_repeat: int | None = None) -> Timings:
    """The schedule, in ``repeat`` cycles: an empty flow (a warm-up), then in each cycle a full run (in
    the first ``full_repeat`` cycles, default all, each but the first after ``reset``, back to the home as
    generated), a no-change re-run, a one-region resubmission, (with ``correct``) a correction of a file
    in place, each after an empty flow, and (with ``baseline``) a run of the baseline.

    The fixed start-up is thus measured across the whole benchmark, in the same conditions as the runs
    it is taken from, and each kind of run is measured in every part of it: this machine's pace drifts
    by 10-20 % over minutes, and a share divides one kind of run by another (measured one kind after the
    other, the re-runs of one benchmark found their empty flows 1.3 s slower than the full runs').
    A cycle without a full run goes on from the home the cycle before left.
    """
    fulls = repeat if full_repeat is None else full_repeat
    if not 1 <= fulls <= repeat or (fulls > 1 and reset is None):
        raise ValueError("a benchmark needs a full run, at most one per cycle, and a reset to a fresh home "
                         "to repeat it")
    timings = Timings()
    progress("fixed start-up: an empty annual flow (warm-up), then one before each run")
    timings.startups.append(empty())
    for cycle in range(1, repeat + 1):
        if cycle <= fulls:
            if cycle > 1 and reset is not None:
                reset()
            progress(f"full run ({cycle}/{fulls})")
            timings.startups.append(empty())
            timings.full_runs.append(run())
        progress(f"no-change re-run ({cycle}/{repeat})")
        timings.startups.append(empty())
        timings.same_runs.append(run())
        timings.codes.append(resubmit())
        progress(f"one-region resubmission ({timings.codes[-1]}, {cycle}/{repeat})")
        timings.startups.append(empty())
        timings.one_runs.append(run())
        if correct is not None:
            timings.corrected_codes.append(correct())
            progress(f"a file corrected in place ({timings.corrected_codes[-1]}, {cycle}/{repeat})")
            timings.startups.append(empty())
            timings.corrected_runs.append(run())
        if baseline is not None:
            progress(f"baseline SQL ({cycle}/{repeat})")
            timings.baselines.append(baseline())
    return timings


def run_bench(year: int, scale: float, seed: int = 1, workdir: Path | None = None, repeat: int = 3,
              progress: Callable[[str], None] = lambda message: None,
              full_repeat: int | None = None, task_runner: str = "default",
              dask_address: str | None = None) -> dict[str, Any]:
    """Everything ``iid bench`` reports, as one JSON-ready dict. The full run (``full_repeat`` times,
    default ``repeat``, each from a fresh home), the no-change re-run, the one-region resubmission, the
    correction in place and the baseline are measured ``repeat`` times and the median is used, the
    fixed start-up before each run (see :func:`measure`); every run on ``task_runner`` (``dask``: at
    ``dask_address``, or a local cluster each run starts)."""
    if repeat < 1 or (full_repeat is not None and full_repeat < 1):
        raise ValueError("repeat must be at least 1")
    with terminated_as_interrupt():  # SIGTERM, too, stops the step running and removes the temporary home
        root = workdir or Path(tempfile.mkdtemp(prefix="iid-bench-"))
        home = Home.resolve(root)
        try:
            progress(f"generating {year} at scale {scale:g} (JSON only) into {home.root}")
            gen_wall, data = _child(["generate", str(home.root), str(year), str(scale), str(seed)])
            drop = DropZone(home.raw_year(year))

            def reset() -> None:  # the home and its drop zone as generated
                fresh_home(home)
                drop.restore()

            timings = measure(repeat, lambda: _child(["empty"])[0],
                              lambda: _child(["run", str(home.root), str(year), task_runner, dask_address or ""]),
                              lambda: resubmit_one_region(home, year), progress,
                              lambda: correct_in_place(home, year, drop.keep),
                              lambda: _child(["baseline", str(home.root), str(year)])[1], reset, full_repeat)
        finally:
            if workdir is None:
                shutil.rmtree(root, ignore_errors=True)
    fixed = timings.fixed
    full_record = _median_of(timings.full_runs, fixed)
    full_wall, full_work = full_record["wall_seconds"], full_record["work_seconds"]
    records = full_record.pop("records")
    result: dict[str, Any] = {
        "year": year, "scale": scale, "seed": seed, "repeat": repeat,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "prefect_api": "server at PREFECT_API_URL" if os.environ.get("PREFECT_API_URL") else "temporary server",
        "task_runner": task_runner, **({"dask_address": dask_address} if dask_address else {}),
        "data": {**data, "landing_records": records, "generate_seconds": gen_wall},
        "fixed_startup_seconds": fixed, "startup_runs_seconds": timings.startups,
        "full_run": full_record,
        "rows_per_second": {stage: round(sum(records.values()) / seconds) if seconds else None
                            for stage, seconds in full_record["stage_seconds"].items()},
        "no_change_rerun": _median_of(timings.same_runs, fixed, full_work),
        "one_region_rerun": _median_of(timings.one_runs, fixed, full_work) | {"region_codes": timings.codes},
        "in_place_correction_rerun": _median_of(timings.corrected_runs, fixed, full_work)
        | {"region_codes": timings.corrected_codes},
        "baseline": (baseline := median_baseline(timings.baselines)),
    }
    result["ratios"] = {"full_run_to_baseline": round(full_wall / baseline["wall_seconds"], 2),
                        "work_to_baseline": round(full_work / baseline["wall_seconds"], 2)}
    result["targets"] = targets(result)
    result["pace"] = pace(timings.startups, baseline["runs_wall_seconds"])
    return result


def _generate(root: str, year: str, scale: str, seed: str) -> dict[str, Any]:
    from flows.generator import generate_year

    s = generate_year(Home.resolve(root), int(year), seed=int(seed), scale=float(scale), formats=("json",))
    return {"regions": s.regions, "submitters": s.submitters, "files": s.files, "innovations": s.innovations,
            "spd_answers": s.spd_answers, "sid_answers": s.sid_answers, "raw_bytes": s.raw_bytes}


def _empty() -> dict[str, Any]:
    from flows import tempserver
    from flows.settings import configure_prefect_defaults

    configure_prefect_defaults()
    with collection_paused():  # as `iid run` does
        tempserver.launch()  # as `iid run` does
        from prefect import flow

        from flows.annual import no_heartbeats_on_a_temporary_server  # and the imports a real run pays

        tempserver.adopt()

    tempserver.ready()

    @flow(name="annual", flow_run_name="annual-empty")
    def empty_annual() -> None:
        """The annual flow's fixed cost: Prefect's API, the flow run, no stage."""

    with no_heartbeats_on_a_temporary_server():  # as run_annual
        empty_annual()
    return {}


def _run(root: str, year: str, task_runner: str = "default", dask_address: str = "") -> dict[str, Any]:
    from flows import tempserver
    from flows.settings import configure_prefect_defaults

    configure_prefect_defaults()
    home = Home.resolve(root)
    with collection_paused():  # as `iid run` does
        from flows import pipeline

        tempserver.launch(lambda: pipeline.will_validate(home, int(year)), pipeline.STAGE_MODULES,  # as `iid run`
                          int(year))
        import duckdb

        from flows.annual import run_annual

        tempserver.adopt()

    with TreeMemory() as memory:
        result = run_annual(task_runner, dask_address or None, year=int(year), home=str(home.root))  # as `iid run`
    # read with DuckDB: pyarrow's Parquet reader would import pandas (~1 s) and bill it to the run
    cursor = duckdb.connect().execute("select * from read_parquet(?)",
                                      [str(home.warehouse / "runs" / f"{year}-{result['run_id']}.parquet")])
    row = dict(zip([d[0] for d in cursor.description], cursor.fetchall()[0], strict=True))
    ingest = result["ingest"] or {}
    return {"task_runner": json.loads(row["parameters"]).get("task_runner", "default"),
            "stage_seconds": json.loads(row["stage_seconds"]), "stage_cpu_seconds": result["stage_cpu_seconds"],
            "stages_skipped": json.loads(row["stages_skipped"]), "status": row["status"],
            "files_parsed": ingest.get("files_parsed"), "records": ingest.get("records", {}),
            "peak_rss_mb": _peak_mb(resource.RUSAGE_SELF), "peak_rss_workers_mb": _peak_mb(resource.RUSAGE_CHILDREN),
            "peak_rss_tree_mb": memory.peak_mb}


def _baseline(root: str, year: str) -> dict[str, Any]:
    home = Home.resolve(root)
    with tempfile.TemporaryDirectory() as tmp:
        timing = run_baseline(home, int(year), Path(tmp) / "region_scores.parquet")
    return {**timing, "peak_rss_mb": _peak_mb(resource.RUSAGE_SELF)}


if __name__ == "__main__":
    if sys.argv[1] in ("generate", "baseline"):  # stopped by the benchmark: its temporary files go (runs: Prefect's)
        signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    steps: dict[str, Callable[..., dict[str, Any]]] = {"generate": _generate, "empty": _empty, "run": _run,
                                                        "baseline": _baseline}
    print(json.dumps(steps[sys.argv[1]](*sys.argv[2:])))
    if sys.argv[1] in ("empty", "run"):
        from flows.process import exit_now

        exit_now()  # as `iid` does
