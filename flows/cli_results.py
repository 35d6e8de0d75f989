"""The ``iid`` commands that read what was published: snapshots, query, summary, feedback, diff and
report. Registered on the app by ``flows.cli``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

from flows.cli_base import HomeOpt, console, err, existing_home, fail
from flows.errors import first_line
from flows.settings import Home

if TYPE_CHECKING:
    import duckdb

    from flows.releases import Release


def snapshots(home: HomeOpt = None) -> None:
    """List published releases per year with row counts and content hashes."""
    from flows.releases import all_releases

    table = Table("year", "release", "published", "methodology", "regions", "quarantine", "content")
    target = existing_home(home)
    releases = all_releases(target)
    warn_hidden(target)
    for r in releases:
        files = r.manifest.get("files", {})
        content = "".join(sorted(r.manifest.get("content_hashes", {}).values()))
        table.add_row(str(r.year), str(r.number), str(r.manifest.get("published_at", "")),
                      str(r.manifest.get("methodology", {}).get("id", "")),
                      str(files.get("region_scores.parquet", {}).get("rows", "")),
                      str(files.get("quarantine.parquet", {}).get("rows", "")),
                      hashlib.sha256(content.encode()).hexdigest()[:16])
    if not releases:
        console.print("no releases published yet: run 'iid run --year YEAR'")
        return
    console.print(table)


def query(sql: Annotated[str, typer.Argument(help="one statement that reads (SELECT, WITH, DESCRIBE, SHOW, "
                                                "SUMMARIZE, EXPLAIN) against the catalog views")],
          home: HomeOpt = None) -> None:
    """Run read-only SQL against the analyst catalog and print a table (it reads only the releases)."""
    import duckdb

    from flows.sandbox import QueryRefused, read_statement

    target = existing_home(home)
    con = _open_catalog(target)
    try:
        cursor = con.execute(read_statement(con, sql))
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except QueryRefused as exc:
        fail(str(exc))
    except duckdb.PermissionException as exc:
        fail(f"query failed: {first_line(exc)} (iid query reads only the releases under {target.published})")
    except duckdb.Error as exc:
        fail(f"query failed: {first_line(exc)}")
    finally:
        con.close()
    # values and names as they are, not as Rich markup: a quote '[phone]' or a file '[e-mail] (sha256 …)' was blank
    table = Table(*(Column(Text(c)) for c in columns))
    for row in rows[:1000]:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    console.print(table)
    if len(rows) > 1000:
        console.print(f"… {len(rows) - 1000} more rows")


def _open_catalog(home: Home) -> duckdb.DuckDBPyConnection:
    """The home's catalog for reading (rebuilt first when it does not show this home's releases: a note on
    stderr says so), or a one-line error."""
    from flows.catalog import CatalogError, open_catalog

    try:
        con, note = open_catalog(home)
    except CatalogError as exc:
        fail(str(exc))
    if note:
        err.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    warn_hidden(home)
    return con


def warn_hidden(home: Home) -> None:
    """A warning line on stderr for each release folder the catalog does not show (its manifest lost)."""
    from flows.catalog import hidden_releases

    for line in hidden_releases(home):
        err.print(f"[bold yellow]warning:[/] {escape(line)}", soft_wrap=True)


def summary(year: Annotated[int, typer.Option(help="measurement year")], home: HomeOpt = None,
            top: Annotated[int, typer.Option(min=0, help="regions listed per level")] = 5) -> None:
    """Predicate counts per level, the top regions of each level, and where the snapshot is."""
    import duckdb

    target = existing_home(home)
    release = _latest_whole(target, year, ("region_scores.parquet",))
    con = _open_catalog(target)
    try:
        _print_summary(con, year, top)
    except duckdb.Error as exc:
        fail(f"{target.catalog}: {first_line(exc)}")
    finally:
        con.close()
    console.print(f"snapshot: {release.path}")
    report_index = release.path / "report" / "index.html"
    if report_index.is_file():
        console.print(f"report:   {report_index}")
    example = 'iid query "select * from region_scores limit 5"'
    console.print(f"catalog:  {target.catalog}  ({example})")


def _latest_whole(home: Home, year: int, names: tuple[str, ...]) -> Release:
    """The latest release of ``year``, its files ``names`` as its manifest records them; else a one-line error
    naming the release, the file and what to do (or that the year has none)."""
    from flows.releases import DamagedRelease, check_release, latest_release, no_release

    release = latest_release(home, year)
    if release is None:
        fail(no_release(home, year))
    try:
        check_release(release, names)
    except DamagedRelease as exc:
        fail(str(exc))
    return release


def _print_summary(con: duckdb.DuckDBPyConnection, year: int, top: int) -> None:
    levels = ("provinsi", "kabupaten", "kota")
    order = ("Sangat Inovatif", "Inovatif", "Kurang Inovatif", "Tidak Dapat Dinilai")
    counts = con.execute("select level, predicate, count(*) from region_scores where year = ? group by all",
                         [year]).fetchall()
    table = Table("predicate", *levels, "total", title=f"IID {year}: predicates per level")
    for predicate in order:
        per = [sum(n for lv, p, n in counts if lv == level and p == predicate) for level in levels]
        table.add_row(predicate, *map(str, per), str(sum(per)))
    console.print(table)
    mean = con.execute("select round(avg(iid), 2), count(*) filter (where submitted), sum(n_innovations) "
                       "from region_scores where year = ?", [year]).fetchall()[0]
    console.print(f"{mean[1]} pemda assessed, {int(mean[2] or 0):,} innovations, mean IID of all pemda {mean[0]}")
    for level in levels:
        best = Table("rank", "code", "region", "IID", "predicate", title=f"top {top} {level}")
        for row in con.execute("select rank_in_level, region_code, region_name, iid, predicate from region_scores "
                               "where year = ? and level = ? order by rank_in_level, region_code limit ?",
                               [year, level, top]).fetchall():
            best.add_row(*(Text(str(v)) for v in row))
        console.print(best)


def feedback(year: Annotated[int, typer.Option(help="measurement year")],
             region: Annotated[str | None, typer.Option(help="region code, e.g. 35.78")] = None,
             out: Annotated[Path | None, typer.Option(help="write one file per region into this folder")] = None,
             home: HomeOpt = None) -> None:
    """What was rejected or warned in a region's submissions and why, for the region's operator."""
    from flows.feedback import FINDINGS_FILES, findings, render, submission_files, write_letters
    from flows.methodology import for_year
    from flows.reference import pemda

    target = existing_home(home)
    release = _latest_whole(target, year, (*FINDINGS_FILES, "submissions.parquet"))
    names = {r.code: r.name for r in pemda(year)}
    region = region.strip() if region is not None else None  # as pasted: ' 35.78'
    if region is not None and region not in names:
        fail(f"--region {region!r} is not a pemda of {year} in the region master")
    if region is None and out is None:
        fail("give --region CODE to print one region, or --out DIR to write a file per region")
    found, files = findings(release, region), submission_files(release, region)
    codes = [region] if region else sorted(names)  # a letter to every pemda: one that sent nothing is told so
    deadline = for_year(year).method.deadline_for(year)  # by when to submit again, or that it has passed
    letters = {c: render(year, c, names[c], found.get(c, []), files.get(c, []), deadline) for c in codes}
    if out is not None:
        paths = write_letters(year, letters, out)
        console.print(f"wrote {len(paths)} feedback file(s) to {out}")
        # files claiming a code outside the master (SUB001) or a non-autonomous region (SUB002): no pemda to
        # write to, and the code (any text the file gave) is no file name
        others = sorted(c for c in found if c not in names)
        if others:
            shown = ", ".join(repr(c) for c in others[:5]) + (", …" if len(others) > 5 else "")
            err.print(f"[yellow]note:[/] {escape(str(sum(len(found[c]) for c in others)))} finding(s) under "
                      f"{len(others)} region code(s) that are not pemda of {year} ({escape(shown)}) have no letter: "
                      "no pemda to send them to; they are in the quarantine view", soft_wrap=True)
    else:
        console.print(letters[codes[0]], markup=False, highlight=False)


def diff(year: Annotated[int, typer.Option(help="measurement year")],
         from_release: Annotated[int | None, typer.Option("--from", help="older release (default: the one before)")]
         = None,
         to_release: Annotated[int | None, typer.Option("--to", help="newer release (default: the latest)")] = None,
         home: HomeOpt = None) -> None:
    """Regions whose score, predicate or rank changed between two releases."""
    from flows.diff import DiffError, diff_releases

    try:
        result = diff_releases(existing_home(home), year, from_release, to_release)
    except DiffError as exc:
        fail(str(exc))
        return
    scored = result.scored_changes()
    console.print(f"{year}: release {result.old} → {result.new}: {len(scored)} region(s) changed score or predicate, "
                  f"{len(result.rows) - len(scored)} only moved in rank")
    table = Table("code", "region", "level", "IID", "predicate", "rank", "innovations")
    i = result.columns.index
    for row in result.rows[:200]:
        def pair(a: str, b: str, r: tuple[Any, ...] = row) -> str:
            return str(r[i(a)]) if r[i(a)] == r[i(b)] else f"{r[i(a)]} → {r[i(b)]}"
        table.add_row(str(row[i("region_code")]), Text(str(row[i("region_name")])), str(row[i("level")]),
                      pair("old_iid", "new_iid"), pair("old_predicate", "new_predicate"),
                      pair("old_rank", "new_rank"), pair("old_innovations", "new_innovations"))
    console.print(table)


def report(year: Annotated[int, typer.Option(help="measurement year")],
           release: Annotated[int | None, typer.Option(help="release number (default: latest)")] = None,
           out: Annotated[Path | None, typer.Option(help="output folder (default ./report-Y-rN)")] = None,
           home: HomeOpt = None) -> None:
    """Rebuild the report pages and coaching list of a release into another folder (the release stays as is)."""
    from flows.report.cli import ReportError, report_command

    try:
        index = report_command(year, release, out, existing_home(home),
                               lambda text: err.print(f"[yellow]note:[/] {escape(text)}", soft_wrap=True))
    except ReportError as exc:
        fail(str(exc))
        return
    console.print(f"report written: {index}")
