"""The ``iid`` command line: generate, run, backfill, copy, bench and serve here; the commands that read
what was published (snapshots, query, summary, feedback, diff, report) in ``flows.cli_results``.

Heavy libraries (Prefect, Great Expectations) are imported only by the commands that need them.
Errors end with one line naming the file or record and what to do, never a traceback.
"""

from __future__ import annotations

import math
import re
import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from flows import cli_results
from flows.cli_base import (
    CopyOpt,
    DaskOpt,
    HomeOpt,
    RunnerOpt,
    app,
    console,
    err,
    fail,
    server_answers,
    writable_folder,
    writable_home,
)
from flows.errors import first_line, interrupted, stop_exit_code, stop_reason, stop_signal
from flows.imports import collection_paused
from flows.process import terminated_as_interrupt
from flows.progress import displayed
from flows.settings import Home, configure_prefect_defaults, environment_restored

if TYPE_CHECKING:
    from flows.daskcluster import SharedCluster


def parse_years(values: list[str]) -> list[int]:
    """``2022 2023`` and ranges ``2022-2025``."""
    years: list[int] = []
    for value in values:
        for part in value.split(","):
            match = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", part)
            if not match:
                raise typer.BadParameter(f"{part!r} is not a year or a range like 2022-2025")
            first, last = int(match.group(1)), int(match.group(2) or match.group(1))
            if last < first:
                raise typer.BadParameter(f"range {part!r} runs backwards")
            years.extend(y for y in range(first, last + 1) if y not in years)
    return years


@app.command()
def generate(
    year: Annotated[int, typer.Option(help="measurement year")],
    home: HomeOpt = None,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 1,
    scale: Annotated[float, typer.Option(help="multiplies the number of innovations")] = 1.0,
    defect_rate: Annotated[float, typer.Option(help="share of submission files with an injected defect")] = 0.0,
    formats: Annotated[str, typer.Option(help="comma-separated: json,xlsx")] = "json,xlsx",
) -> None:
    """Write realistic synthetic submissions for every pemda into HOME/raw/YEAR/."""
    from rich.progress import Progress

    from flows.generator import generate_year

    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    if not chosen or any(f not in ("json", "xlsx") for f in chosen):
        fail(f"--formats {formats!r}: use json, xlsx or json,xlsx", 2)
    _check_scale(scale)
    if not 0 <= defect_rate <= 1:
        fail(f"--defect-rate {defect_rate:g}: use a share between 0 and 1 (0.05 = one file in twenty)", 2)
    _check_year(year)
    target = writable_home(home, lambda h: h.raw_year(year))
    try:
        with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:  # no blank line in a log
            job = bar.add_task(f"generating {year}", total=None)
            summary = generate_year(target, year, seed=seed, scale=scale, defect_rate=defect_rate, formats=chosen,
                                    progress=lambda done, total: bar.update(job, completed=done, total=total))
    except OSError as exc:  # e.g. the disk filled up
        fail(f"cannot write {exc.filename or target.raw_year(year)} ({exc.strerror or exc}); free space or fix "
             f"permissions, then generate {year} again")
    console.print(f"generated {year}: {summary.submitters} of {summary.regions} pemda submit, "
                  f"{summary.files} files ({summary.xlsx_files} xlsx), {summary.innovations:,} innovations, "
                  f"{summary.sid_answers:,} SID answers, {summary.defects} defects, "
                  f"{summary.raw_bytes / 1e6:.1f} MB in {summary.seconds:.1f} s → {target.raw_year(year)}")


def _check_scale(scale: float) -> None:
    """Fail in one line (exit 2) unless ``scale`` is a finite number above 0."""
    if not 0 < scale < math.inf:
        fail(f"--scale {scale:g}: use a finite number above 0 (1 = a national year, 0.05 = a small one)", 2)


def _check_year(year: int) -> None:
    """Fail in one line, touching nothing, when no methodology covers ``year`` or the one that does cannot score
    it (no divisor for it)."""
    from flows.methodology import MethodologyError, for_year

    try:
        for_year(year)
    except MethodologyError as exc:
        fail(str(exc), 2)


def _run_one(year: int, home: Home, from_stage: str = "ingest", force: bool = False, task_runner: str = "default",
             dask_address: str | None = None, copy_to: str | None = None,
             cluster: SharedCluster | None = None) -> dict[str, Any]:
    with environment_restored():  # PREFECT_API_URL and Prefect's defaults end with the run
        configure_prefect_defaults()
        with collection_paused():  # the start-up's imports, without the cyclic collector (flows.imports)
            from flows import pipeline, tempserver

            # Prefect's temporary server boots while the flow's code (and GX, if needed) is imported.
            tempserver.launch(lambda: pipeline.will_validate(home, year, from_stage, force), pipeline.STAGE_MODULES,
                              year)
            from flows.annual import console_without_tracebacks, run_annual

            tempserver.adopt()

        console_without_tracebacks()  # a failing step ends in one line here, not a traceback
        with displayed(str(year), err.is_terminal):  # what the run is doing, under Prefect's log (flows.progress)
            return run_annual(task_runner, dask_address, cluster, year=year, home=str(home.root), from_stage=from_stage,
                              force=force, copy_to=copy_to)


def _check_runner(task_runner: str, dask_address: str | None) -> None:
    if task_runner not in ("default", "dask"):
        fail(f"--task-runner {task_runner!r}: use default or dask", 2)
    if dask_address and task_runner != "dask":
        fail("--dask-address needs --task-runner dask", 2)
    if dask_address:  # before a year is locked or Prefect started (flows.daskcluster)
        from flows.daskcluster import scheduler_problem

        problem = scheduler_problem(dask_address)
        if problem:
            fail(*problem)


def _stopped(exc: BaseException) -> tuple[str, int]:
    """How a run stopped by Ctrl-C or SIGTERM (:func:`flows.errors.interrupted`) is told, and its exit code
    (128 + the signal). Prefect records the stage as failed or crashed, but the year is not at fault: the
    work the run committed is kept and the next run goes on from it. The signal is not known when only
    DuckDB's error tells of it (a query the signal ended)."""
    again = "run the same command again to finish: it goes on from what was kept"
    return f"{stop_reason(exc)}; {again}", stop_exit_code(exc)


# the order of submission statuses in the summary
SUBMISSION_ORDER = {"counting": 0, "superseded": 1, "late": 2, "rejected": 3}


def _print_run(result: dict[str, Any]) -> None:
    ing, val, tra, pub = result["ingest"], result["validate"], result["transform"], result["publish"]
    if result.get("set_aside"):
        err.print(f"[bold yellow]note:[/] {result['year']}: the work database was damaged; it is kept as "
                  f"{result['set_aside']} and the year was rebuilt from raw/{result['year']}", soft_wrap=True)
    if ing:
        console.print(f"[bold]{result['year']}[/]: {ing['files']} files ({ing['rejected_files']} rejected; "
                      f"{ing['files_parsed']} read now, {ing['files'] - ing['files_parsed']} unchanged)")
    if val:
        console.print(f"validation{' (unchanged)' if val['skipped'] else ''}: {val['quarantined']:,} records "
                      f"quarantined, {val['warnings']:,} warnings; submissions: "
                      + ", ".join(f"{n:,} {status}" for status, n in sorted(
                          val["submissions"].items(), key=lambda item: SUBMISSION_ORDER.get(item[0], 9))))
    if not tra["skipped"] and "files_scored" in tra:
        rebuilt = tra.get("rebuilt_for_deleted_rows")
        console.print(f"scoring: {tra['files_scored']} file(s) scored "
                      f"{'again, the others kept' if tra.get('incremental') else 'from scratch'}"
                      + (f" (a quarter of {', '.join(rebuilt)} had been replaced since the last full build)"
                         if rebuilt else ""))
    preds = tra["predicates"]
    order = ("Sangat Inovatif", "Inovatif", "Kurang Inovatif", "Tidak Dapat Dinilai")
    console.print("predicates: " + ", ".join(f"{p} {preds.get(p, 0)}" for p in order))
    console.print(pub["message"] + (f" → {pub['path']}" if pub.get("path") else ""))
    copied = result.get("copy")
    if copied and copied.get("failed"):
        err.print(f"[bold yellow]warning:[/] {copied['message']}")
    elif copied:
        console.print(copied["message"])


def _check_ready(home: Home, year: int, from_stage: str, force: bool) -> None:
    """A run from a later stage on a year whose earlier stages have not finished is refused before Prefect's
    server starts (~10 s to the same one line). The flow checks again; anything else found here (a damaged
    work database, which ``--force`` sets aside) is left to it."""
    if force or from_stage == "ingest":
        return
    from flows import pipeline

    try:
        pipeline.check_ready(home, year, from_stage)
    except pipeline.StageNotReady as exc:
        fail(str(exc))
    except Exception:
        return


class YearNotLockable(RuntimeError):
    """The year's lock file cannot be made or locked (permissions, space); the message says what to do."""


def _hold_year(held: ExitStack, target: Home, year: int) -> None:
    """Take the year's lock into ``held`` before Prefect starts, so it is held to the run's end (the flow, in
    this thread, takes it again): a run started meanwhile is refused at once. ``RunLocked`` when another run
    holds it; ``YearNotLockable`` when its folder cannot hold a lock."""
    from flows.locks import year_lock

    try:
        held.enter_context(year_lock(target.work_db(year).parent, year))
    except OSError as exc:
        raise YearNotLockable(f"cannot lock {year} in {target.work_db(year).parent} ({exc.strerror or exc}); fix "
                              "that folder's permissions or space, then run again") from None


@app.command()
def run(year: Annotated[int, typer.Option(help="measurement year")], home: HomeOpt = None,
        from_stage: Annotated[str, typer.Option(help="re-run from: ingest, validate, transform, publish")] = "ingest",
        force: Annotated[bool, typer.Option(help="redo every stage even when nothing changed")] = False,
        task_runner: RunnerOpt = "default", dask_address: DaskOpt = None, copy_to: CopyOpt = None) -> None:
    """The annual flow: ingest → validate → transform → publish."""
    if from_stage not in ("ingest", "validate", "transform", "publish"):
        fail(f"--from-stage {from_stage!r}: use ingest, validate, transform or publish", 2)
    _check_runner(task_runner, dask_address)
    _check_year(year)
    target = writable_home(home, lambda h: h.work_db(year).parent)
    from flows.locks import RunLocked

    with ExitStack() as held:
        held.enter_context(terminated_as_interrupt())  # SIGTERM (kill, a scheduler) stops the run as Ctrl-C does
        try:
            _hold_year(held, target, year)
        except RunLocked as exc:
            fail(str(exc), 3)
        except YearNotLockable as exc:
            fail(str(exc))
        _check_ready(target, year, from_stage, force)
        try:
            result = _run_one(year, target, from_stage, force, task_runner, dask_address, copy_to)
        except (KeyboardInterrupt, Exception) as exc:  # a one-line reason, not a traceback
            if interrupted(exc):  # Ctrl-C or SIGTERM, also in a DuckDB query: not a failure of the year
                how, code = _stopped(exc)
                fail(f"{year}: {how}", code)
            reason = first_line(exc)
            fail(reason if reason.startswith(str(year)) else f"{year}: {reason}")
    _print_run(result)
    console.print(f"catalog: {target.catalog}")
    cli_results.warn_hidden(target)  # another year's release the catalog it rebuilt does not show


def _option_years(ctx: typer.Context, values: list[str], option: str) -> list[int]:
    """The years of ``option`` (a list option) and of the command's extra arguments, which click leaves
    there when the option is given several values (``--years 2022 2023 2024``); a usage error otherwise."""
    try:
        return parse_years([*values, *ctx.args])
    except typer.BadParameter as exc:
        raise typer.BadParameter(f"{exc}; give years as {option} 2022 2023 2024 or {option} 2022-2024",
                                 ctx=ctx, param_hint=option) from None


# `--years 2022 2023 2024`: click gives an option one value, so the years after the first arrive as extra arguments
@app.command(context_settings={"allow_extra_args": True})
def backfill(ctx: typer.Context,
             years: Annotated[list[str], typer.Option(help="years: 2022 2023 2024, or ranges 2022-2025")],
             home: HomeOpt = None, task_runner: RunnerOpt = "default", dask_address: DaskOpt = None,
             copy_to: CopyOpt = None) -> None:
    """Run the annual flow for each year, oldest first; a failing year does not stop the others."""
    # oldest first: a year's report and coaching list read the latest release of the year before it
    chosen = sorted(_option_years(ctx, years, "--years"))
    _check_runner(task_runner, dask_address)
    from flows.locks import RunLocked
    from flows.methodology import MethodologyError, for_year

    failed: dict[int, str] = {}
    for year in chosen:  # a year no methodology can score fails first, touching nothing
        try:
            for_year(year)
        except MethodologyError as exc:
            failed[year] = str(exc)
            err.print(f"[red]{year} failed:[/] {escape(failed[year])}", soft_wrap=True)
    runnable = [year for year in chosen if year not in failed]
    if runnable:
        target = writable_home(home, lambda h: h.work_db(runnable[0]).parent)
    locked: list[int] = []
    from flows.daskcluster import shared_local_cluster

    # SIGTERM (kill, a scheduler) stops the backfill as Ctrl-C does; on Dask, the years share one local cluster
    with terminated_as_interrupt(), ExitStack() as shared:
        cluster = (shared.enter_context(shared_local_cluster()) if task_runner == "dask" and not dask_address
                   else None)
        for year in runnable:
            with ExitStack() as held:  # each year's lock, as iid run takes it: before Prefect starts, to the run's end
                try:
                    try:
                        _hold_year(held, target, year)
                    except RunLocked as exc:  # its flow is not started: the other run is left to finish
                        locked.append(year)
                        err.print(f"[yellow]{year} locked:[/] {escape(str(exc))}", soft_wrap=True)
                        continue
                    _print_run(_run_one(year, target, task_runner=task_runner, dask_address=dask_address,
                                        copy_to=copy_to, cluster=cluster))
                except (KeyboardInterrupt, Exception) as exc:  # YearNotLockable included
                    if interrupted(exc):  # Ctrl-C or SIGTERM, also in a DuckDB query: the backfill stops there
                        how, code = _stopped(exc)
                        if cluster is not None:  # its workers stop, and print nothing after the line below
                            cluster.close()
                        done = [y for y in runnable if y < year and y not in failed and y not in locked]
                        fail(f"backfill stopped at {year}: {how}; done before it: {done}, failed: "
                             f"{sorted(failed)}, not begun: {[y for y in runnable if y > year]}", code)
                    failed[year] = first_line(exc)
                    err.print(f"[red]{year} failed:[/] {escape(failed[year])}", soft_wrap=True)
    ok = [y for y in chosen if y not in failed and y not in locked]
    console.print(f"backfill: {len(ok)} succeeded {ok}, {len(failed)} failed {sorted(failed)}"
                  + (f", {len(locked)} locked by a run in progress {locked}" if locked else ""))
    if failed or locked:
        raise typer.Exit(1 if failed else 3)


@app.command(context_settings={"allow_extra_args": True})  # `--year 2023 2024`, as backfill's --years
def copy(ctx: typer.Context,
         to: Annotated[str | None, typer.Option("--to", help="folder or fsspec URL (s3://bucket/iid, gs://…); "
                                                 "default $IID_COPY_TO")] = None,
         years: Annotated[list[str] | None, typer.Option("--year", "--years", help="years: 2023 2024, or ranges "
                                                         "2022-2025 (default: every published year)")]
         = None, home: HomeOpt = None) -> None:
    """Copy published releases that a location lacks (manifest last), then write its catalog iid.duckdb."""
    from rich.progress import Progress

    from flows.cli_base import HOME_ADVICE, existing_home
    from flows.remote import CopyError, copy_location, copy_releases

    if ctx.args and not years:
        raise typer.BadParameter(f"unexpected extra argument(s) {' '.join(ctx.args)}: give years after it, as "
                                 "--year 2023 2024", ctx=ctx, param_hint="--year")
    chosen = _option_years(ctx, years, "--year") if years else None
    url = copy_location(to)
    if url is None:
        fail("say where to copy: --to DIR or URL (or set IID_COPY_TO)", 2)
    target = existing_home(home)  # the releases to copy are there: a mistyped --home is no new, empty home
    writable_folder(target.warehouse, HOME_ADVICE)  # the catalog lock is kept there
    from flows.releases import release_dirs, unreadable_folders

    for year in [y for y in chosen or [] if not release_dirs(target, y)]:
        err.print(f"[yellow]note:[/] no release of {year} in {target.published}: nothing of {year} to copy",
                  soft_wrap=True)
    for year, folder in unreadable_folders(target):  # not releases, so not copied: said, not passed over
        if chosen is None or year in chosen:
            err.print(f"[bold yellow]warning:[/] {escape(str(folder))}: its manifest.json is missing or cannot be "
                      "read, so it is not copied; restore that folder from a copy of the release", soft_wrap=True)
    try:
        with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:  # no blank line in a log
            job = bar.add_task(f"copying to {url}", total=None)
            result = copy_releases(target, url, chosen,
                                   progress=lambda done, total: bar.update(job, completed=done, total=total))
    except CopyError as exc:
        fail(str(exc))
    console.print(result.message)


# the commands that read what was published, registered here to keep the help's order
for _command in (cli_results.snapshots, cli_results.query, cli_results.summary, cli_results.feedback,
                 cli_results.diff, cli_results.report):
    app.command()(_command)


@app.command()
def bench(year: Annotated[int, typer.Option(help="measurement year")] = 2024,
          scale: Annotated[float, typer.Option(help="size of the generated year (1 = a national year)")] = 1.0,
          seed: Annotated[int, typer.Option(help="random seed of the generated year")] = 1,
          repeat: Annotated[int, typer.Option(min=1, help="times the full run, each re-run and the baseline "
                                                          "are measured (the median is reported); the start-up: "
                                                          "before each run")] = 3,
          full_repeat: Annotated[int | None, typer.Option(min=1, help="times the full run is measured, each "
                                                                      "from a fresh home (default: --repeat)")]
          = None,
          out: Annotated[Path | None, typer.Option(help="results file (default bench/results-<scale>.json)")]
          = None,
          workdir: Annotated[Path | None, typer.Option(help="temporary home (default: a new temp folder, "
                                                              "removed afterwards)")] = None,
          task_runner: RunnerOpt = "default", dask_address: DaskOpt = None) -> None:
    """Benchmark: generate a year, run it (full, no change, one region resubmitted), time the baseline SQL."""
    import json

    from rich.table import Table

    from flows.bench import run_bench
    from flows.bench_targets import default_results_path, pace_warning, summary_rows

    _check_scale(scale)
    _check_year(year)
    _check_runner(task_runner, dask_address)
    target = out or default_results_path(scale, task_runner)
    writable_folder(target.parent, "give --out a file in a folder you can write to")  # before the bench, not after
    if workdir is not None:
        writable_folder(workdir, "give --workdir a folder you can write to, or leave it out (a temporary one)")
    try:
        results = run_bench(year, scale, seed=seed, workdir=workdir, repeat=repeat, full_repeat=full_repeat,
                            progress=lambda m: err.print(f"[dim]{m}[/]"), task_runner=task_runner,
                            dask_address=dask_address)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (Terminated): the step running was stopped
        how = "stopped by SIGTERM" if stop_signal(stop) == signal.SIGTERM else "interrupted"
        kept = f"{workdir} is kept" if workdir is not None else "its temporary home is removed"
        fail(f"bench {how}; {kept}; nothing is written to {target}", stop_exit_code(stop))
    try:
        target.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        print(json.dumps(results))
        fail(f"cannot write {target} ({exc.strerror or exc}); the results are printed above")
    print(json.dumps(results))
    table = Table("", "measured", "target", "", title=f"bench, scale {scale:g}, {year}"
                  + (" (Dask)" if task_runner == "dask" else ""), title_justify="left")
    for what, value, limit, met in summary_rows(results):
        table.add_row(what, value, limit, f"[green]{met}[/]" if met in ("met", "steady") else f"[bold red]{met}[/]")
    err.print(table)
    warning = pace_warning(results)
    if warning is not None:
        err.print(f"[yellow]warning: {warning}[/]")
    err.print(f"written: {target}")


ANNUAL_CRON = "0 2 1 11 *"  # 1 November 02:00 WIB: after every deadline (≤ 17 September) and verification


@app.command()
def serve(home: HomeOpt = None,
          cron: Annotated[str, typer.Option(help="schedule, cron syntax")] = ANNUAL_CRON,
          timezone: Annotated[str, typer.Option(help="time zone of the schedule")] = "Asia/Jakarta",
          year: Annotated[int | None, typer.Option(help="fixed year (default: the year of the run date)")] = None,
          copy_to: CopyOpt = None) -> None:
    """Serve the annual flow as a Prefect deployment with a yearly schedule (needs PREFECT_API_URL)."""
    configure_prefect_defaults()
    import os

    # the environment's (as it is now: Prefect reads its settings once, as it is first imported, so it is not
    # imported for this), else the active profile's (prefect config set PREFECT_API_URL=…) or prefect.toml's
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
    if not url:
        fail("set PREFECT_API_URL to a running Prefect server (prefect server start), e.g. "
              "export PREFECT_API_URL=http://127.0.0.1:4200/api, or prefect config set PREFECT_API_URL=…", 2)
    target = writable_home(home, lambda h: h.warehouse / "work")
    server_answers(url)
    from prefect.schedules import Cron

    from flows.annual import annual

    parameters: dict[str, Any] = {"home": str(target.root)}
    if year is not None:
        parameters["year"] = year
    if copy_to:
        parameters["copy_to"] = copy_to  # otherwise each run reads $IID_COPY_TO of the serving process
    try:
        annual.serve(name="annual", schedules=[Cron(cron, timezone=timezone)], parameters=parameters,
                     description="Indeks Inovasi Daerah: ingest → validate → transform → publish one year")
    except Exception as exc:  # e.g. the server stopped answering: one line, not a traceback
        fail(f"serving stopped: {type(exc).__name__}: {first_line(exc)} (Prefect server "
             f"{url}); check PREFECT_API_URL and the server's log, then serve again")


def main() -> None:
    """Console-script entry point."""
    from flows.process import exit_now

    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit as done:  # how click ends every command
        code = done.code
        if isinstance(code, int) or code is None:
            exit_now(code or 0)
        raise


if __name__ == "__main__":
    main()
