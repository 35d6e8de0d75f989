"""Faults: a real child process killed (kill -9) mid-run, a full disk, a read-only output folder.

After each fault the previous release and the catalog are intact and readable, and the next run
completes and publishes what a clean run would have published.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from factory import innovation, submission, write_home
from homecopy import copy_home
from prefectdb import server_of_this_process
from processes import paused_iid_run
from typer.testing import CliRunner

from flows import pipeline
from flows.cli import app
from flows.publish import PublishError
from flows.releases import release_dirs
from flows.settings import Home

YEAR = 2024
ROOT = Path(__file__).resolve().parents[2]
CODES = [f"{p}.{k:02d}" for p in ("33", "35") for k in range(1, 30)] + ["35.71", "35.72", "35.73", "35.78"]


def _files(bonus: int = 0) -> dict[str, dict]:
    return {f"{code}.json": submission(code, spd_total=10 + (i % 20) + (bonus if code == "35.78" else 0),
                                       innovations=[innovation(f"{code}-1", 20 + i % 50)])
            for i, code in enumerate(CODES)}


def _full_run(home: Home) -> dict:
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    pipeline.transform(home, YEAR)
    return pipeline.publish(home, YEAR, {"run_id": "test"})


def _scores(home: Home) -> list[tuple]:
    con = duckdb.connect(str(home.catalog), read_only=True)
    try:
        return con.execute("select region_code, iid, predicate, rank_in_level from region_scores "
                           "order by region_code").fetchall()
    finally:
        con.close()


def _kill_run_at(home: Home, point: str, tmp_path: Path, extra_env: dict[str, str] | None = None) -> None:
    """Run the annual stages in a child process and kill -9 it when it reaches ``point``."""
    marker = tmp_path / "paused.pid"
    marker.unlink(missing_ok=True)
    code = ("from flows import pipeline; from flows.settings import Home; "
            f"h = Home.resolve({str(home.root)!r}); pipeline.ingest(h, {YEAR}); pipeline.validate(h, {YEAR}); "
            f"pipeline.transform(h, {YEAR}); pipeline.publish(h, {YEAR}, {{'run_id': 'killed'}})")
    env = {**os.environ, "IID_PAUSE_AT": point, "IID_PAUSE_FILE": str(marker), "IID_INGEST_CHUNK_FILES": "8",
           **(extra_env or {})}
    child = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, f"the run ended before reaching {point}"
        assert time.monotonic() < deadline, f"{point} not reached"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()


@pytest.fixture(scope="module")
def first_release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A home of ``_files()`` with release 1 published, built once for the module; tests change copies."""
    home = write_home(tmp_path_factory.mktemp("published"), YEAR, _files())
    assert _full_run(home)["release"] == 1
    return home


@pytest.fixture()
def published(first_release: Home, tmp_path: Path) -> Home:
    """A copy of ``first_release``: release 1 published, the catalog reading it."""
    return copy_home(first_release.root, tmp_path / "home")


@pytest.fixture(scope="module")
def next_scored(first_release: Home, tmp_path_factory: pytest.TempPathFactory) -> Home:
    """``first_release`` with a new file ingested, validated and scored (``_next_content``), not yet published."""
    home = copy_home(first_release.root, tmp_path_factory.mktemp("next") / "home")
    _next_content(home)
    return home


@pytest.fixture()
def to_publish(next_scored: Home, tmp_path: Path) -> Home:
    """A copy of ``next_scored``."""
    return copy_home(next_scored.root, tmp_path / "home")


def _changed_files() -> dict[str, dict]:
    files = _files(bonus=25)  # every file changes: ingest needs several chunks
    for content in files.values():
        content["submitted_at"] = "2024-07-15T10:00:00+07:00"
    return files


@pytest.fixture(scope="module")
def clean_scores(tmp_path_factory: pytest.TempPathFactory) -> list[tuple]:
    """What a clean run on the changed files publishes."""
    clean = write_home(tmp_path_factory.mktemp("clean"), YEAR, _changed_files())
    _full_run(clean)
    return _scores(clean)


@pytest.mark.parametrize("point", ["ingest:after-chunk", "transform:after-indicator_scores",
                                   "publish:before-rename", "catalog:before-replace"])
def test_kill_mid_run_then_next_run_publishes_correctly(published: Home, tmp_path: Path, point: str,
                                                        clean_scores: list[tuple]) -> None:
    home = published
    before = _scores(home)
    for name, content in _changed_files().items():
        (home.raw_year(YEAR) / name).write_text(json.dumps(content), encoding="utf-8")
    _kill_run_at(home, point, tmp_path)
    # the previous release and the catalog are intact and readable
    assert _scores(home) == before
    assert 1 in [r.number for r in release_dirs(home, YEAR)]
    # the next run completes and publishes what a clean run publishes
    result = _full_run(home)
    assert result["release"] == 2
    assert _scores(home) == clean_scores
    assert sorted(p.name for p in home.published_year(YEAR).iterdir()) == ["release=1", "release=2"]


def test_kill_after_a_commit_mid_ingest_keeps_the_committed_files(published: Home, tmp_path: Path,
                                                                  clean_scores: list[tuple]) -> None:
    """Ingest commits files as it goes and checkpoints only at its end: a run killed in between leaves
    the committed files in DuckDB's log, the next run replays it, keeps them and reads the rest."""
    home = published
    for name, content in _changed_files().items():
        (home.raw_year(YEAR) / name).write_text(json.dumps(content), encoding="utf-8")
    _kill_run_at(home, "ingest:after-chunk", tmp_path, {"IID_INGEST_COMMIT_BYTES": "1"})  # a commit per chunk
    summary = pipeline.ingest(home, YEAR)
    assert 0 < summary["files_parsed"] < len(_changed_files())  # the first chunk's files were kept
    assert _full_run(home)["release"] == 2
    assert _scores(home) == clean_scores


@contextmanager
def _mounted(target: Path, options: list[str]) -> Iterator[None]:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *options, str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a test filesystem here ({done.stderr.strip()}); needs root")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _next_content(home: Home) -> None:
    content = submission("35.78", spd_total=55, submitted_at="2024-07-20T10:00:00+07:00")
    (home.raw_year(YEAR) / "35.78-new.json").write_text(json.dumps(content), encoding="utf-8")
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    pipeline.transform(home, YEAR)


def test_full_disk_gives_a_clear_error_and_no_partial_release(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home", YEAR, _files())
    _next_content(home)
    with _mounted(home.published, ["-t", "tmpfs", "-o", "size=64k", "tmpfs"]):
        with pytest.raises(PublishError, match=r"No space left on device.*nothing was published"):
            pipeline.publish(home, YEAR, {})
        assert not [p for p in home.published.rglob("*") if p.is_file()]
    assert _full_run(home)["release"] == 1


def test_read_only_output_gives_a_clear_error(to_publish: Home, tmp_path: Path) -> None:
    home = to_publish  # release 1, then a new file scored (_next_content)
    before = _scores(home)
    year_dir = home.published_year(YEAR)
    with _mounted(year_dir, ["--bind", str(year_dir)]):
        subprocess.run(["mount", "-o", "remount,bind,ro", str(year_dir)], check=True)
        with pytest.raises(PublishError, match="Read-only file system"):
            pipeline.publish(home, YEAR, {})
    assert [r.number for r in release_dirs(home, YEAR)] == [1]
    assert _scores(home) == before
    shutil.rmtree(tmp_path / "unused", ignore_errors=True)


def _cli_run_stopped(home: Home, tmp_path: Path, sig: signal.Signals,
                     env: dict[str, str] | None = None) -> tuple[int, str]:
    """``iid run`` in a child process (``env`` added to its environment), sent ``sig`` when it is about to
    rename its release into place: its exit code and output."""
    log = tmp_path / f"paused-{sig.name}.log"
    child, paused = paused_iid_run(["--year", str(YEAR), "--home", str(home.root)], "publish:before-rename",
                                   tmp_path / f"paused-{sig.name}.pid", log, env=env)
    os.kill(paused, sig)
    try:
        child.wait(timeout=120)
    except subprocess.TimeoutExpired:
        child.kill()
        raise AssertionError(f"the run did not end 120 s after {sig.name}; its output:\n{log.read_text()}") from None
    return child.returncode, log.read_text()


def test_a_report_that_fails_while_tables_are_written_beside_it_publishes_nothing(
        to_publish: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report is built while indicator_scores and reconciliation are written on a thread (flows.publish):
    when it fails, its error is raised once that thread is done, no release is published, and the next run
    publishes as usual."""
    import threading

    import flows.report

    home = to_publish
    before = _scores(home)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the report failed")

    monkeypatch.setattr(flows.report, "build_release_report", broken)
    with pytest.raises(RuntimeError, match="the report failed"):
        pipeline.publish(home, YEAR, {})
    assert not [t for t in threading.enumerate() if t.name.startswith("publish-tables")]
    assert [r.number for r in release_dirs(home, YEAR)] == [1] and _scores(home) == before
    monkeypatch.undo()
    assert pipeline.publish(home, YEAR, {})["release"] == 2
    assert not list(home.published_year(YEAR).glob(".staging-*"))  # the failed run's folder is cleaned up


def _shown_limit(limit: str) -> str:
    """How DuckDB shows a memory limit (``current_setting``)."""
    con = duckdb.connect(config={"memory_limit": limit})
    try:
        return str(con.execute("select current_setting('memory_limit')").fetchall()[0][0])
    finally:
        con.close()


def test_duckdb_has_less_memory_while_the_report_is_built_beside_the_last_tables(
        to_publish: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's memory and DuckDB's sort of indicator_scores add up while both run: DuckDB's limit is lowered
    meanwhile (flows.workdb.STAGE_MEMORY), and IID_DUCKDB_MEMORY still sets it."""
    from flows.report import data

    seen: list[str] = []
    sums = data.indicator_sums

    def spy(con: duckdb.DuckDBPyConnection, select: str) -> object:
        seen.append(con.execute("select current_setting('memory_limit')").fetchall()[0][0])
        return sums(con, select)

    monkeypatch.setattr(data, "indicator_sums", spy)
    assert pipeline.publish(to_publish, YEAR, {})["release"] == 2
    assert seen == [_shown_limit("512MB")] and _shown_limit("512MB") != _shown_limit("768MB")  # the stage's own
    monkeypatch.setenv("IID_DUCKDB_MEMORY", "300MB")
    (to_publish.raw_year(YEAR) / "35.78-new.json").unlink()
    pipeline.ingest(to_publish, YEAR)
    pipeline.validate(to_publish, YEAR)
    pipeline.transform(to_publish, YEAR)
    assert pipeline.publish(to_publish, YEAR, {})["release"] == 3
    assert seen[1] == _shown_limit("300MB")


def test_a_table_that_cannot_be_written_beside_the_report_gives_a_clear_error(
        to_publish: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails on the thread (here indicator_scores, as a full disk would fail it) is the publish's
    error, in its words, once the report is built: nothing is published."""
    from flows import publish

    home = to_publish
    written = publish._write_table

    def failing(con: duckdb.DuckDBPyConnection, staging: Path, name: str, *args: object) -> dict[str, object]:
        if name == "indicator_scores":
            raise duckdb.IOException(f'Could not write file "{staging / name}.parquet": No space left on device')
        return written(con, staging, name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "_write_table", failing)
    with pytest.raises(PublishError, match=r"No space left on device.*nothing was published"):
        pipeline.publish(home, YEAR, {})
    assert [r.number for r in release_dirs(home, YEAR)] == [1]
    assert not list(home.published_year(YEAR).glob(".staging-*"))


def test_a_run_that_never_ended_is_not_left_running_in_the_runs_view(to_publish: Home, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed (kill -9) is recorded as interrupted by the next run of its year, which names itself; one
    stopped with Ctrl-C or SIGTERM records itself as interrupted, and says so in one line with what to do.
    Before, the first two stayed 'running' in the runs view forever; SIGTERM (a scheduler stopping the job)
    ended the process there and then, by the signal, with Prefect's 'Crashed' line and no word of ours."""
    home = to_publish  # release 1, then a new file scored (_next_content)
    # the killed run reports to this process's server (not the subject here; Ctrl-C and SIGTERM: its own)
    _cli_run_stopped(home, tmp_path, signal.SIGKILL, {"PREFECT_API_URL": server_of_this_process()})
    again = "run the same command again to finish: it goes on from what was kept"
    for sig, code, told in ((signal.SIGINT, 130, "interrupted (Ctrl-C)"), (signal.SIGTERM, 143, "stopped by SIGTERM")):
        returncode, output = _cli_run_stopped(home, tmp_path, sig)
        assert returncode == code and f"error: {YEAR}: {told}; {again}" in output, output
        assert "Traceback" not in output, output
    # the next run in this process, on its Prefect server (started once per test process), not a third one
    monkeypatch.setenv("IID_EARLY_SERVER", "0")
    done = CliRunner().invoke(app, ["run", "--year", str(YEAR), "--home", str(home.root)])
    assert done.exit_code == 0, done.output
    con = duckdb.connect()
    rows = con.execute("select run_id, status, message, release from read_parquet(?) order by started_at",
                       [str(home.warehouse / "runs" / "*.parquet")]).fetchall()
    assert [r[1] for r in rows] == ["interrupted", "interrupted", "interrupted", "published"], rows
    killed, stopped, terminated, last = rows
    assert killed[2] == f"did not finish: its process ended (killed, crashed or the machine stopped); found by run " \
                        f"{stopped[0]}"
    assert stopped[2] == "interrupted (Ctrl-C)" and terminated[2] == "stopped by SIGTERM" and last[3] == 2
    assert not home.work_db(YEAR).with_name(f"{YEAR}.run").exists()  # no run of the year in progress
