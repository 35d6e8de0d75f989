"""Operating the pipeline: backfill, the README's analyst queries, a real Prefect server with a served flow."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from factory import innovation, score, submission, write_home, year_locked_elsewhere
from prefectdb import prefect_home
from typer.testing import CliRunner

from flows import pipeline
from flows.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_backfill_keeps_going_after_a_failing_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IID_EARLY_SERVER", "0")  # the test process's Prefect server, not one more per run
    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    write_home(tmp_path, 2023, {"a.json": submission("35.78", year=2023, spd_total=20)})
    result = CliRunner().invoke(app, ["backfill", "--years", "2022-2024", "--home", str(tmp_path)],
                                env={"COLUMNS": "500"})
    output = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "2022 failed" in output and "no submissions folder for 2022" in output
    assert "2 succeeded [2023, 2024], 1 failed [2022]" in output
    assert (home.published_year(2023) / "release=1" / "manifest.json").is_file()
    assert (home.published_year(2024) / "release=1" / "manifest.json").is_file()


def test_backfill_runs_the_years_oldest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'--years 2024 2023' ran 2024 first: its release was built before 2023 had one, so its coaching list had
    no previous predicate, and no later run could add it (the tables are unchanged: nothing is published)."""
    monkeypatch.setenv("IID_EARLY_SERVER", "0")  # the test process's Prefect server, not a second one
    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    write_home(tmp_path, 2023, {"a.json": submission("35.78", year=2023, spd_total=20)})
    result = CliRunner().invoke(app, ["backfill", "--years", "2024", "2023", "--home", str(tmp_path)],
                                env={"COLUMNS": "500"})
    assert result.exit_code == 0, result.output
    assert "2 succeeded [2023, 2024], 0 failed []" in " ".join(result.output.split())
    with (home.published_year(2024) / "release=1" / "coaching.csv").open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["region_code"] == "35.78")
    assert row["previous_predicate"] == "Kurang Inovatif", row


def test_backfill_reports_a_locked_year_as_locked_and_runs_the_others(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Backfill takes each year's lock before that year's flow starts, as iid run does. Before, a year that
    another run held started its flow, failed inside it and was reported as '2023 failed' (exit 1)."""

    monkeypatch.setenv("IID_EARLY_SERVER", "0")  # else a second server, until the test process ends
    home = write_home(tmp_path, 2024, {"a.json": submission("35.78", spd_total=30)})
    write_home(tmp_path, 2023, {"a.json": submission("35.78", year=2023, spd_total=20)})
    with year_locked_elsewhere(home, 2023):
        result = CliRunner().invoke(app, ["backfill", "--years", "2023", "2024", "--home", str(tmp_path)],
                                    env={"COLUMNS": "500"})
    output = " ".join(result.output.split())
    assert result.exit_code == 3, result.output
    assert "2023 locked: a run of 2023 is already running (pid" in output and "2023 failed" not in output
    assert "1 succeeded [2024], 0 failed [], 1 locked by a run in progress [2023]" in output
    assert (home.published_year(2024) / "release=1" / "manifest.json").is_file()
    assert not home.published_year(2023).exists()
    assert [p.name for p in (home.warehouse / "runs").iterdir() if p.name.startswith("2023")] == []  # no flow


def test_readme_queries_run(tmp_path: Path) -> None:
    home = write_home(tmp_path, 2024, {
        "a.json": submission("35.78", spd_total=20, innovations=[innovation("A", 30)]),
        "b.json": submission("35.15", spd_total=5),
        "c.json": "{ broken",
    })
    score(home, 2024).close()
    pipeline.publish(home, 2024, {})
    queries = re.findall(r'^iid query "(.*?)"', (ROOT / "README.md").read_text(encoding="utf-8"), re.S | re.M)
    assert len(queries) >= 3
    for sql in queries:
        result = CliRunner().invoke(app, ["query", sql, "--home", str(tmp_path)], env={"COLUMNS": "300"})
        assert result.exit_code == 0, f"{sql}\n{result.output}"
        data_rows = [line for line in result.output.splitlines() if line.startswith("│")]
        assert data_rows, f"{sql} returned no rows"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: object, seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()  # type: ignore[operator]
            if last:
                return last
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{what} not ready after {seconds} s (last: {last})")


def test_served_flow_runs_on_a_real_prefect_server(tmp_path: Path) -> None:
    home = write_home(tmp_path / "home", 2024, {"a.json": submission("35.78", spd_total=30)})
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(prefect_home(tmp_path / "prefect")), PREFECT_API_URL=api,
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="WARNING",
               PREFECT_UI_ENABLED="false")
    bin_dir = Path(sys.executable).parent
    logs = tmp_path / "logs"
    logs.mkdir()
    server = subprocess.Popen([str(bin_dir / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, stdout=(logs / "server.log").open("w"), stderr=subprocess.STDOUT)
    served = None
    try:
        try:
            _wait(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 150, "prefect server")
        except TimeoutError as exc:
            pytest.skip(f"a local Prefect server could not start here: {exc}; see {logs / 'server.log'}")
        served = subprocess.Popen([str(bin_dir / "iid"), "serve", "--home", str(home.root), "--year", "2024"],
                                  env=env, cwd=ROOT, stdout=(logs / "serve.log").open("w"), stderr=subprocess.STDOUT)

        def deployment() -> dict | None:
            response = httpx.get(f"{api}/deployments/name/annual/annual", timeout=5)
            return response.json() if response.status_code == 200 else None

        found = _wait(deployment, 120, "served deployment")
        assert isinstance(found, dict)
        schedule = found["schedules"][0]["schedule"]
        assert schedule["cron"] == "0 2 1 11 *" and schedule["timezone"] == "Asia/Jakarta"
        def created() -> dict | None:
            # a busy server (SQLite) may answer with an error: ask again, as a client would
            response = httpx.post(f"{api}/deployments/{found['id']}/create_flow_run", json={}, timeout=10)
            body = response.json() if response.status_code in (200, 201) else None
            return body if isinstance(body, dict) and "id" in body else None

        run = _wait(created, 60, "flow run creation")
        assert isinstance(run, dict)

        def finished() -> str | None:
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]["type"]
            return state if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        assert _wait(finished, 240, "flow run") == "COMPLETED", (logs / "serve.log").read_text()[-3000:]
        manifest = home.published_year(2024) / "release=1" / "manifest.json"
        assert manifest.is_file()
        assert run["id"] in manifest.read_text()
    finally:
        for process in (served, server):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(tmp_path / "prefect", ignore_errors=True)


def test_a_year_whose_folder_holds_no_submission_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty drop zone (a wrong --home or --year, or a folder emptied by mistake) published release 1 with
    every region Tidak Dapat Dinilai and exit 0; a year whose files were all removed after a release published
    the same over it. Now the run ends in one line naming the folder, and nothing is published."""
    monkeypatch.setenv("IID_EARLY_SERVER", "0")  # the test process's Prefect server, not one more per run
    home = write_home(tmp_path, 2024, {})
    (home.raw_year(2024) / "verification").mkdir()
    (home.raw_year(2024) / "verification" / "v.csv").write_text(
        "region_code,innovation_id,indicator,decision,verified_level,note\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--year", "2024", "--home", str(tmp_path)], env={"COLUMNS": "500"})
    assert result.exit_code != 0
    assert "no submission file for 2024" in result.output.strip().splitlines()[-1]  # the run's last line says it
    assert not home.published_year(2024).exists() or not any(home.published_year(2024).iterdir())
    (home.raw_year(2024) / "a.json").write_text(json.dumps(submission("35.78", spd_total=30)), encoding="utf-8")
    assert CliRunner().invoke(app, ["run", "--year", "2024", "--home", str(tmp_path)]).exit_code == 0
    (home.raw_year(2024) / "a.json").unlink()
    result = CliRunner().invoke(app, ["run", "--year", "2024", "--home", str(tmp_path)], env={"COLUMNS": "500"})
    assert result.exit_code != 0 and "no submission file for 2024" in " ".join(result.output.split())
    assert sorted(p.name for p in home.published_year(2024).iterdir()) == ["release=1"]
