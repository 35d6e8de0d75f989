"""The temporary Prefect server started before Prefect is imported (flows.tempserver)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from factory import submission, write_home
from prefectdb import prefect_home
from processes import alive, descendants, interruptible

from flows import tempserver
from flows.settings import PROJECT_ROOT

ROOT = Path(__file__).resolve().parents[2]


def test_iid_run_uses_the_early_server_and_stops_it(tmp_path: Path) -> None:
    """A real `iid run` in a fresh process, on a Prefect home never used (as on a fresh machine: its server migrates
    the database; the other tests' homes get a migrated copy, tests/prefectdb.py): the early server is adopted,
    the run publishes, and the server process is gone when the command returns. Its last step (a copy to a folder
    that cannot be made) fails: the release is published, so the command succeeds (CONTRACT.md), with one warning
    line saying what to do and no traceback anywhere."""
    home = write_home(tmp_path / "home", 2024, {"a.json": submission("35.78", spd_total=30)})
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_LOGGING_LEVEL="INFO", COLUMNS="200")
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--year", "2024", "--home", str(home.root),
                           "--copy-to", str(tmp_path / "a-file" / "copy")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "published release 1 of 2024" in output
    assert (f"warning: the release is published at home, but the copy failed: cannot copy to "
            f"{tmp_path / 'a-file' / 'copy'}: Not a directory") in output
    assert "Task run 'copy-2024' - Finished in state Failed" in output  # Prefect shows the step failed
    assert "Traceback" not in output and 'File "' not in output
    assert "Temporary server on http://127.0.0.1:" in output
    port = output.split("Temporary server on http://127.0.0.1:")[1].split()[0]
    assert f"Stopping temporary server on http://127.0.0.1:{port}" in output
    assert "Starting temporary server" not in output  # Prefect did not start a second one
    assert "connection attempts failed" not in output  # logs and events were sent before the server stopped
    con = duckdb.connect(str(home.catalog), read_only=True)
    try:
        assert con.execute("select count(*) from region_scores where submitted").fetchall() == [(1,)]
        status, message = con.execute("select status, message from runs").fetchall()[0]
        assert status == "published" and "copy failed: cannot copy to" in message
    finally:
        con.close()
    left = subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the temporary server outlived the run"


def test_no_early_server_when_one_is_configured_or_prefect_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempserver, "_EARLY", None)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert tempserver.spawn() is None
    monkeypatch.delenv("PREFECT_API_URL")
    import prefect  # noqa: F401 - the test process has Prefect loaded: too late to gain anything

    assert tempserver.spawn() is None
    monkeypatch.delitem(sys.modules, "prefect")  # as in a fresh `iid run`
    monkeypatch.setenv("IID_EARLY_SERVER", "0")
    assert tempserver.launch() is False
    assert tempserver.adopt() is False
    assert "PREFECT_API_URL" not in os.environ


def test_a_server_in_the_profile_is_used_and_the_launcher_exits(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """An API URL in the active Prefect profile (not the environment) is found by the launched
    process, which then exits: no temporary server, PREFECT_API_URL left alone."""
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('active = "ops"\n[profiles.ops]\nPREFECT_API_URL = "http://127.0.0.1:4299/api"\n')
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(profiles))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(tempserver, "_EARLY", None)
    monkeypatch.delitem(sys.modules, "prefect")
    from expectations import prefetch

    calls: list[str] = []  # with a running server there is no idle core: validation imports GX itself
    monkeypatch.setattr(prefetch, "start", lambda **kwargs: _record(calls, "start"))
    assert tempserver.launch(lambda: True) is True  # launched: its verdict is not known yet
    assert tempserver.adopt() is False
    assert calls == []
    assert "PREFECT_API_URL" not in os.environ and tempserver._EARLY is None


def _record(calls: list[str], call: str) -> bool:
    calls.append(call)
    return True


def _same(early: tempserver.EarlyServer) -> tempserver.EarlyServer:
    tempserver._EARLY = early  # as spawn does
    return early


class _Launched:
    """Stands in for the launched process, alive."""

    def poll(self) -> int | None:
        return None


def test_great_expectations_starts_importing_when_the_run_waits_for_the_server(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that will validate imports GX on a thread from ``ready`` on, once its own imports are done:
    not beside them in ``launch`` (it took the interpreter from them, and a core from the server).
    Every run imports what calling its flow imports while it waits there (after starting GX's thread)."""
    import prefect.context
    from prefect.settings import get_current_settings

    from expectations import prefetch

    # Prefect's settings as they are, back after the test (adopt makes Prefect read them again)
    monkeypatch.setattr(prefect.context, "GLOBAL_SETTINGS_CONTEXT", prefect.context.GLOBAL_SETTINGS_CONTEXT)
    calls: list[str] = []
    monkeypatch.setattr(prefetch, "start", lambda **kwargs: _record(calls, f"start {kwargs}"))
    monkeypatch.setattr(prefetch, "stop_warming", lambda: _record(calls, "stop warming"))
    monkeypatch.setattr(tempserver, "_import_flow_call", lambda preload: _record(calls, f"flow call {preload}"))
    monkeypatch.setenv("PREFECT_API_URL", "")  # recorded, so that what adopt sets is undone
    monkeypatch.delenv("PREFECT_API_URL")
    # and it warms the year's suites up until the server answers (expectations.prefetch)
    for validates, expected in ((True, ["start {'year': 2024}", "flow call ('m',)", "stop warming"]),
                                (False, ["flow call ('m',)", "stop warming"])):
        calls.clear()
        early = tempserver.EarlyServer(4299, _Launched())  # type: ignore[arg-type]
        monkeypatch.setattr(early, "verdict", lambda timeout: tempserver.SERVING)
        monkeypatch.setattr(early, "healthy", lambda timeout: True)
        monkeypatch.setattr(tempserver, "_EARLY", None)
        monkeypatch.setattr(tempserver, "spawn", functools.partial(_same, early))
        assert tempserver.launch(functools.partial(bool, validates), ["m"], 2024) is True
        tempserver.ready()  # before adopt: nothing (the run is importing Prefect and the flow)
        assert calls == [] and "PREFECT_API_URL" not in os.environ
        assert tempserver.adopt() is True
        assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:4299/api"
        assert get_current_settings().api.url == "http://127.0.0.1:4299/api"  # Prefect, loaded, read it again
        assert calls == []  # not while the run imports Prefect and the flow
        monkeypatch.setattr(tempserver, "_EARLY", early)
        tempserver.ready()
        assert calls == expected
        tempserver.ready()
        assert calls == [*expected, "stop warming"]  # started once
        del os.environ["PREFECT_API_URL"]


def test_a_run_gives_the_start_up_the_year_it_validates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``iid run`` (each year of a backfill) names its year to the start-up, whose GX thread warms that year's
    suites up (test_prefetch)."""
    from flows import annual, cli, pipeline
    from flows.settings import Home

    seen: list[tuple[bool, tuple[str, ...], int | None]] = []

    def launch(will_validate: object, preload: tuple[str, ...] = (), year: int | None = None) -> bool:
        seen.append((callable(will_validate), tuple(preload), year))
        return False

    monkeypatch.setattr(tempserver, "launch", launch)
    monkeypatch.setattr(tempserver, "adopt", lambda: False)
    monkeypatch.setattr(annual, "run_annual", lambda *args, **kwargs: {"year": kwargs["year"]})
    assert cli._run_one(2023, Home.resolve(tmp_path)) == {"year": 2023}
    assert seen == [(True, pipeline.STAGE_MODULES, 2023)]


def test_what_calling_a_flow_imports_is_imported_while_the_server_boots() -> None:
    """Prefect imports FastAPI's encoder as a flow run with parameters is created, and its flow engine
    and visualisation helpers as a flow is called; ``ready`` imports them while the server boots
    instead, and the run's stage modules (``pipeline.STAGE_MODULES``), which bring neither pandas nor GX nor
    openpyxl (a no-change run needs none of them). Fails when Prefect stops importing them there: then the
    imports are no longer worth making."""
    import inspect

    from prefect.flows import Flow

    assert "from fastapi.encoders import jsonable_encoder" in inspect.getsource(Flow.serialize_parameters)
    called = inspect.getsource(Flow.__call__)
    assert "from prefect.flow_engine import" in called and "from prefect.utilities.visualization import" in called
    probe = ("import sys\nfrom flows import tempserver\nassert 'fastapi' not in sys.modules\n"
             "assert 'prefect.flow_engine' not in sys.modules\n"
             "from flows.pipeline import STAGE_MODULES\n"
             "tempserver._import_flow_call(STAGE_MODULES)\n"
             "assert {'fastapi.encoders', 'prefect.flow_engine', 'prefect.utilities.visualization', *STAGE_MODULES} "
             "<= set(sys.modules)\n"
             "assert not {'pandas', 'great_expectations', 'openpyxl'} & set(sys.modules)\n")
    subprocess.run([sys.executable, "-c", probe], check=True, cwd=PROJECT_ROOT)


def test_a_server_that_dies_is_reported_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], stdout=subprocess.PIPE, text=True)
    dead.wait()
    monkeypatch.setattr(tempserver, "_EARLY", tempserver.EarlyServer(1, dead, serving=True))
    with pytest.raises(tempserver.EarlyServerError, match=r"did not start \(it exited with status 3\); run again"):
        tempserver.ready()


def _heartbeat_in_a_flow() -> int | None:
    """The heartbeat frequency a flow run sees (the flow engine reads it as the run starts)."""
    from prefect import flow
    from prefect.settings import get_current_settings

    @flow(name="heartbeat-probe")
    def probe() -> int | None:
        return get_current_settings().flows.heartbeat_frequency

    return probe()


def test_flows_on_a_temporary_server_send_no_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect's heartbeat thread costs up to 1 s at the end of every flow run, for a server that stops
    with the run: off there, on (as Prefect's settings say) with a configured server, and a frequency
    set in the environment always wins."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    from flows.annual import no_heartbeats_on_a_temporary_server

    for name in ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"):
        monkeypatch.delenv(name, raising=False)
    default = get_current_settings().flows.heartbeat_frequency
    assert default is not None  # Prefect's default sends them (180 s)
    monkeypatch.setattr(tempserver, "_EARLY", None)
    assert get_current_settings().api.url is None  # the tests' flows run on Prefect's own temporary server
    with no_heartbeats_on_a_temporary_server():
        assert _heartbeat_in_a_flow() is None
    assert get_current_settings().flows.heartbeat_frequency == default  # only inside
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4299/api"}):
        with no_heartbeats_on_a_temporary_server():  # a configured server: as configured
            assert get_current_settings().flows.heartbeat_frequency == default
        early = subprocess.Popen([sys.executable, "-c", "pass"], text=True)
        early.wait()
        monkeypatch.setattr(tempserver, "_EARLY", tempserver.EarlyServer(4299, early, serving=True))
        with no_heartbeats_on_a_temporary_server():  # the URL is the early temporary server's
            assert get_current_settings().flows.heartbeat_frequency is None
    monkeypatch.setattr(tempserver, "_EARLY", None)
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    with no_heartbeats_on_a_temporary_server():  # set by the user: left alone
        assert get_current_settings().flows.heartbeat_frequency == default


def test_the_server_stops_when_the_process_that_launched_it_is_killed(tmp_path: Path) -> None:
    """A run killed outright (SIGKILL, or an abort in a native library) never gets to stop its temporary
    server at exit; the server notices its launcher is gone and stops, instead of holding its port and
    the caller's output open (fuzzing left one running for ten minutes)."""
    import signal
    import subprocess
    import sys
    import time

    script = ("import os, signal, sys\n"
              "from flows import tempserver\n"
              "server = tempserver.spawn()\n"
              "print(server.process.pid, flush=True)\n"
              "assert server.verdict(120) == 'serving'\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")
    env = {**os.environ, "PREFECT_HOME": str(prefect_home(tmp_path / "prefect"))}
    env.pop("PREFECT_API_URL", None)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=180,
                         cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == -signal.SIGKILL, run.stderr
    pid = int(run.stdout.split()[0])
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    stopped = not alive(pid)
    if not stopped:
        os.kill(pid, signal.SIGKILL)
    assert stopped, "the temporary server outlived the process that launched it"


def test_the_cli_leaves_the_environment_as_it_found_it(tmp_path: Path) -> None:
    """`iid run` called in a process that goes on (a test, a notebook): the early server's PREFECT_API_URL
    and the Prefect defaults it set are gone from os.environ when the command returns, whether the run
    published or failed, and Prefect's settings say so. Before, PREFECT_API_URL stayed set, pointing the process's
    later flows at that server."""
    home = write_home(tmp_path / "home", 2024, {"a.json": submission("35.78", spd_total=30)})
    new = write_home(tmp_path / "new", 2024, {"a.json": submission("35.78", spd_total=30)})
    code = ("import json, os, sys\n"
            "from typer.testing import CliRunner\n"
            "from flows.cli import app\n"
            "out = []\n"
            "for args in (sys.argv[1:5], sys.argv[5:]):\n"
            "    before = dict(os.environ)\n"
            "    result = CliRunner().invoke(app, ['run', '--year', '2024', *args])\n"
            "    changed = sorted(k for k in {*before, *os.environ} if before.get(k) != os.environ.get(k))\n"
            "    from prefect.settings import get_current_settings\n"
            "    url = get_current_settings().api.url\n"
            "    out.append([result.exit_code, changed, 'has not been scored yet' in result.output, url])\n"
            "print(json.dumps(out))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "IID_EARLY_SERVER", "DO_NOT_TRACK",
                                                              "PREFECT_UI_ENABLED", "PREFECT_SERVER_ANALYTICS_ENABLED")}
    env.update(PREFECT_HOME=str(prefect_home(tmp_path / "prefect")), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code, "--home", str(home.root), "--from-stage", "ingest",
                           "--home", str(new.root), "--from-stage", "publish", "--force"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # the second run fails inside the flow: with --force the command leaves the check to it (a damaged work
    # database is set aside first), so the run's environment was set and had to be restored
    # and Prefect's own settings no longer name the early server (null: a temporary server of its own)
    assert done.stdout.strip().splitlines()[-1] == "[[0, [], false, null], [1, [], true, null]]", done.stdout[-3000:]


def test_the_launched_server_boots_without_the_cyclic_collector_and_turns_it_on_once_it_answers() -> None:
    """The launcher turns the collector off before anything is imported; the server's own thread turns it
    back on (what booting made frozen) once the server answers its health check, or after the time given
    for an answer. Here that thread's function runs against a stand-in server: 503, then 200."""
    import gc
    import http.server
    import threading
    import time
    from collections.abc import Callable
    from typing import cast

    assert tempserver._LAUNCHER.lstrip().startswith("import gc\ngc.disable()\n")
    answer = [503]

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the standard library's name
            self.send_response(answer[0] if self.path == "/api/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    namespace: dict[str, object] = {}
    exec(tempserver._COLLECT_ONCE_UP, namespace)  # the launcher's own code
    collect_once_up = cast(Callable[..., None], namespace["collect_once_up"])
    was = gc.isenabled()
    with http.server.HTTPServer(("127.0.0.1", 0), Health) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            gc.disable()
            waiting = threading.Thread(target=collect_once_up, args=(server.server_address[1],))
            waiting.start()
            time.sleep(0.3)
            assert waiting.is_alive() and not gc.isenabled()  # booting: not answering yet
            before = gc.get_freeze_count()
            answer[0] = 200
            waiting.join(10)
            assert not waiting.is_alive() and gc.isenabled()
            assert gc.get_freeze_count() > before
            gc.disable()
            collect_once_up(1, 0.2)  # nothing answers on port 1: on after the wait anyway
            assert gc.isenabled()
        finally:
            server.shutdown()
            (gc.enable if was else gc.disable)()


def test_the_launched_server_matches_a_run_s_routers_first_and_every_route_as_before() -> None:
    """The launched server puts the routers a run uses first among Prefect's (FastAPI builds a router's
    routes when a request is first matched against it). Checked against the installed Prefect: the six are
    there, they come first and the rest keep their order, and no route of a router moved ahead can match a
    path of one it passed, or the other way round, for a method both take: every request finds the route
    it found before. A list that is not as expected is left alone."""
    import re
    from collections.abc import Callable
    from typing import cast

    from prefect.server.api import server
    from starlette.routing import compile_path

    namespace: dict[str, object] = {}
    exec(tempserver._ROUTERS_FIRST, namespace)  # the launcher's own code
    routers_first = cast(Callable[[tuple[str, ...]], None], namespace["routers_first"])
    original = server.API_ROUTERS
    try:
        before = list(original)
        routers_first(tempserver.RUN_ROUTERS)
        after = list(server.API_ROUTERS)
        assert type(server.API_ROUTERS) is type(original)
        assert [r.prefix for r in after[:len(tempserver.RUN_ROUTERS)]] == list(tempserver.RUN_ROUTERS)
        assert after[len(tempserver.RUN_ROUTERS):] == [r for r in before if r.prefix not in tempserver.RUN_ROUTERS]
        assert sorted(map(id, after)) == sorted(map(id, before))

        def routes(router: object, at: int) -> list[tuple[int, str, set[str]]]:
            return [(at, f"{getattr(router, 'prefix', '')}{getattr(route, 'path', '')}",
                     set(getattr(route, "methods", None) or {"WEBSOCKET"})) for route in getattr(router, "routes", [])]
        every = [route for at, router in enumerate(before) for route in routes(router, at)]
        position = {id(router): at for at, router in enumerate(after)}
        flipped = [(a, b) for a in every for b in every if a[0] < b[0]  # matched in the other order now
                   and position[id(before[a[0]])] > position[id(before[b[0]])]]
        assert len(flipped) > 1000

        def matches(pattern: str, path: str) -> bool:
            return compile_path(pattern)[0].match(re.sub(r"\{[^}]*\}", "x1", path)) is not None
        clashes = [(a, b) for a, b in flipped if a[2] & b[2] and (matches(a[1], b[1]) or matches(b[1], a[1]))]
        assert clashes == []

        unexpected = tuple(r for r in before if r.prefix != "/logs")  # not the list it was written for
        setattr(server, "API_ROUTERS", unexpected)  # noqa: B010 - a stand-in of another type than Prefect's
        routers_first(tempserver.RUN_ROUTERS)
        assert server.API_ROUTERS is unexpected
    finally:
        server.API_ROUTERS = original


def test_backfill_runs_every_year_on_the_one_early_server(tmp_path: Path) -> None:
    """`iid backfill` runs its years in one process: the server started early for the first year is adopted
    again for the next ones (each year's settings end with it), rather than Prefect starting a second
    temporary server of its own."""
    home = write_home(tmp_path / "home", 2023, {"a.json": submission("35.78", year=2023, spd_total=30)})
    write_home(tmp_path / "home", 2024, {"a.json": submission("35.78", spd_total=30)})
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "IID_EARLY_SERVER")}
    env.update(PREFECT_HOME=str(prefect_home(tmp_path / "prefect")), PREFECT_LOGGING_LEVEL="INFO",
               COLUMNS="200")
    done = subprocess.run([sys.executable, "-m", "flows.cli", "backfill", "--years", "2023", "2024",
                           "--home", str(home.root)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "published release 1 of 2023" in output and "published release 1 of 2024" in output, output[-3000:]
    assert output.count("Temporary server on http://127.0.0.1:") == 1, output[-3000:]
    assert "Starting temporary server" not in output, output[-3000:]  # Prefect did not start one of its own
    assert output.count("Stopping temporary server on") == 1


def test_ctrl_c_stops_a_run_at_once_and_its_server_after_it(tmp_path: Path) -> None:
    """Ctrl-C in a terminal sends SIGINT to every process of the foreground group. The early server was one of
    them: it stopped first, and the interrupted run then tried to report its end to it for ~75 s ("Error
    logging to API", "Connection refused") before giving up. Now the server has a session of its own: the run
    reports its end, stops the server and exits at once, and nothing it started outlives it."""
    import signal
    import threading
    import time

    from flows.generator import generate_year
    from flows.settings import Home

    home = Home.resolve(tmp_path / "home")
    generate_year(home, 2024, seed=3, scale=0.05, formats=("json",))
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(prefect_home(tmp_path / "prefect")), PREFECT_LOGGING_LEVEL="INFO",
               COLUMNS="200")
    run = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--year", "2024", "--home", str(home.root)],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True,  # its own group, as a terminal's foreground job
                           preexec_fn=interruptible)  # Ctrl-C as a terminal has it
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(run.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while not any("Beginning flow run" in line for line in lines) and time.monotonic() < deadline:
            assert run.poll() is None, "".join(lines)[-3000:]
            time.sleep(0.02)
        below = descendants(run.pid)
        assert below, "".join(lines)[-3000:]
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C
        sent = time.monotonic()
        run.wait(timeout=60)
        took = time.monotonic() - sent
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    reader.join(10)
    output = "".join(lines)
    assert run.returncode == 130 and took < 20, (took, output[-3000:])
    # Ctrl-C (in a DuckDB query, DuckDB's error tells of it but not which signal) and what to do
    assert "error: 2024: interrupted (Ctrl-C" in output and "run the same command again" in output, output[-3000:]
    assert "Error logging to API" not in output and "Connection refused" not in output, output[-3000:]
    assert "Stopping temporary server" in output
    deadline = time.monotonic() + 30
    while [pid for pid in below if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in below if alive(pid)], "a process the run started outlived it"
