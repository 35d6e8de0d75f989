"""The report's inputs, read in bulk with DuckDB: one release's Parquet tables and earlier years' results.

Nothing here queries per region: every table is read once and grouped in Python. A region's innovations
are read only for the pages rendered (``load_innovations``); the others need only their digest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb

from flows.feedback import FINDINGS, FINDINGS_ORDER, NOT_COUNTING_FILES, Finding, findings_params
from flows.methodology import Methodology
from flows.releases import Release
from flows.scratch import scratch
from flows.settings import Home

if TYPE_CHECKING:
    import pyarrow as pa

LEVELS = ("provinsi", "kabupaten", "kota")


@dataclass(frozen=True)
class RegionScore:
    """One row of ``region_scores`` (the columns the report uses)."""

    code: str
    name: str
    level: str
    province_code: str
    tertinggal: bool
    perbatasan: bool
    submitted: bool
    n_innovations: int
    basic_service_affairs: int
    divisor_used: int
    spd_score: float
    sid_maturity_score: float
    innovation_count_score: float
    total_score: float
    iid: Decimal
    predicate: str
    rank_in_level: int


class Innovation(NamedTuple):
    """One scored innovation as the pages show it (a tuple: a national year has tens of thousands)."""

    innovation_id: str
    name: str
    unit: str
    form: str
    kind: str
    affair: str
    stage: str
    counts_in_n: bool
    rejected: bool
    maturity: float


FINDINGS_LISTED = 40  # findings a profile lists one by one; the rest are counted


@dataclass(frozen=True)
class RegionFindings:
    """What a profile shows of a region's findings (from ``quarantine`` and ``data_quality``)."""

    summary: list[tuple[str, str, str, int]]  # (severity, rule, reason, count): rejections first, then by rule
    listed: list[Finding]  # the first FINDINGS_LISTED, in the order of flows.feedback.findings
    total: int
    rejected: int
    warnings: int
    aside: int = 0  # in superseded or late files, not shown


@dataclass
class ReleaseData:
    """Everything one release contributes to its report."""

    year: int
    release: int
    regions: list[RegionScore]
    level_sums: dict[str, dict[str, float]]  # region → row code → Σ credited levels
    attained: dict[str, dict[str, float]]  # region → row code → level (SPD) or averaged level (SID)
    medians: dict[tuple[str, str], float]  # (level, row code) → median attained among submitted regions
    innovation_digests: dict[str, str]  # region → digest of its innovations as listed (``load_innovations``)
    innovation_counts: dict[str, dict[str, int]]  # affair, form, kind, stage → value → counting innovations
    findings_digests: dict[str, str]  # region → digest of its findings (``load_findings`` reads them)
    not_counting: dict[str, list[tuple[str, datetime | None]]]  # region → (status, submitted_at) of others
    innovations_path: Path  # where ``load_innovations`` reads a region's innovations
    findings_dir: Path  # the release folder ``load_findings`` reads a region's findings from
    province_names: dict[str, str] = field(default_factory=dict)

    def by_code(self) -> dict[str, RegionScore]:
        return {r.code: r for r in self.regions}


_REGION_COLUMNS = ("region_code, region_name, level, province_code, tertinggal, perbatasan, submitted, "
                   "n_innovations, basic_service_affairs, divisor_used, spd_score, sid_maturity_score, "
                   "innovation_count_score, total_score, iid, predicate, rank_in_level")


def _regions(con: duckdb.DuckDBPyConnection, path: Path) -> list[RegionScore]:
    rows = con.execute(f"select {_REGION_COLUMNS} from read_parquet($p) "  # noqa: S608
                       "order by level, rank_in_level, region_code", {"p": str(path)}).fetchall()
    out = []
    for r in rows:
        values: list[Any] = list(r)
        values[14] = Decimal(str(values[14]))
        out.append(RegionScore(*values))
    return out


def mean_iid(regions: list[RegionScore]) -> Decimal:
    """Mean IID of the given regions, rounded half up to 2 decimals (0 when there are none)."""
    if not regions:
        return Decimal("0.00")
    return (sum((r.iid for r in regions), Decimal(0)) / len(regions)).quantize(Decimal("0.01"), ROUND_HALF_UP)


# Σ credited levels per region, part and indicator of ``indicator_scores`` (the rows a profile shows are built
# from them): ``{source}`` is a release's file or, at publish, the work database's table (this module's constants)
_SUMS = ("select region_code, part, indicator, sum(credited_level)::double as level_sum "
         "from {source} group by all")


def indicator_sums(con: duckdb.DuckDBPyConnection, select: str) -> pa.Table:
    """The sums a report reads from ``indicator_scores.parquet`` (``_SUMS``), of the rows of ``select``: the
    publisher's query of the rows it writes into that file, so that its report is built while the file is
    written (``flows.publish``). The same rows give the same sums (tested)."""
    return con.sql(_SUMS.format(source=f"({select})")).to_arrow_table()


def _row_grid(con: duckdb.DuckDBPyConnection, release_dir: Path, method: Methodology,
              sums: pa.Table | None) -> list[tuple[Any, ...]]:
    con.execute("create or replace temp table method_rows (code varchar, part varchar)")
    con.executemany("insert into method_rows values (?, ?)", [(r.code, r.part) for r in method.rows])
    given = sums  # noqa: F841 - read by DuckDB's replacement scan
    source = "(select * from given)" if sums is not None else _SUMS.format(source="read_parquet($ind)")
    params = {"rs": str(release_dir / "region_scores.parquet")}
    if sums is None:
        params["ind"] = str(release_dir / "indicator_scores.parquet")
    return con.execute(
        "with rs as (select region_code, level, submitted, divisor_used from read_parquet($rs)), "  # noqa: S608
        f"sums as ({source}), "
        "grid as (select rs.region_code, rs.level, rs.submitted, m.code, "
        "                coalesce(s.level_sum, 0) as level_sum, "
        "                case when m.part = 'spd' then coalesce(s.level_sum, 0) "
        "                     else coalesce(s.level_sum, 0) / rs.divisor_used end as attained "
        "         from rs cross join method_rows m "
        "         left join sums s on s.region_code = rs.region_code and s.part = m.part and s.indicator = m.code) "
        "select region_code, level, code, level_sum, attained, "
        "       median(attained) filter (where submitted) over (partition by level, code) as level_median "
        "from grid", params).fetchall()


# Innovation's fields, as the pages show them, and the order a profile lists them in (the digest of a
# region's list and the list itself are read with the same expressions, so equal digests mean equal lists)
_INNOVATION_FIELDS = ("coalesce(innovation_id, '') as innovation_id, coalesce(name, '') as name, "
                      "coalesce(unit, '') as unit, coalesce(form, '') as form, coalesce(kind, '') as kind, "
                      "coalesce(affair, '') as affair, coalesce(stage, '') as stage, "
                      "coalesce(counts_in_n, false) as counts_in_n, "
                      "coalesce(verification_rejected, false) as rejected, "
                      "coalesce(maturity_score::double, 0) + 0.0 as maturity")  # + 0.0: no −0
_INNOVATION_ORDER = ("maturity_score desc, innovation_id, name, unit, form, kind, affair, stage, counts_in_n, "
                     "rejected")  # after the listing order, every field: ties come out the same each time
_INNOVATION_ROWS = f"select region_code, maturity_score, {_INNOVATION_FIELDS} from read_parquet($p)"  # noqa: S608
CHART_FIELDS = ("affair", "form", "kind", "stage")  # the national charts count counting innovations by these


def innovation_digests(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    """Per region, a digest of its innovations as a profile lists them (``load_innovations``), computed in
    DuckDB: a page whose inputs are unchanged is carried over without its innovations being read.

    A profile lists a region's innovations ordered by their own values (``_INNOVATION_ORDER``, every
    field), so the list is a function of the rows as a set with repeats: the digest is their count and
    the sum of DuckDB's 64-bit hash of each row, as ``flows.publish.content_hashes`` tells a changed table
    (10 times faster than a sha256 of the ordered rows as JSON: 0.01 against 0.1 s at scale 1). The
    hash is DuckDB's, so its version is part of every page's key (``flows.report.pages.key_prefix``).
    """
    fields = ", ".join(Innovation._fields)
    rows = con.execute(f"select region_code, count(*) || ':' || sum(hash(struct_pack({fields}))::hugeint) "  # noqa: S608
                       f"from ({_INNOVATION_ROWS}) group by region_code", {"p": str(path)}).fetchall()
    return {str(code): str(digest) for code, digest in rows}


def load_innovations(path: Path, codes: Iterable[str]) -> dict[str, list[Innovation]]:
    """The innovations of the regions ``codes``, in a profile's order (a region without any is left out).
    On a database of its own, closed after (see :func:`load_release`)."""
    con = duckdb.connect()
    try:
        fields = ", ".join(Innovation._fields)
        rows = con.execute(f"select region_code, {fields} from ({_INNOVATION_ROWS}) "  # noqa: S608
                           "where region_code in (select unnest($codes::varchar[])) "
                           f"order by region_code, {_INNOVATION_ORDER}",
                           {"p": str(path), "codes": list(codes)}).fetchall()
    finally:
        con.close()
    out: dict[str, list[Innovation]] = defaultdict(list)
    make = Innovation._make
    for row in rows:
        out[row[0]].append(make(row[1:]))
    return dict(out)


def _chart_counts(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, dict[str, int]]:
    """How many counting innovations have each affair, form, kind and stage."""
    rows = con.execute(f"select {', '.join(CHART_FIELDS)}, count(*) from ({_INNOVATION_ROWS}) "  # noqa: S608
                       f"where counts_in_n group by all", {"p": str(path)}).fetchall()
    counts: dict[str, dict[str, int]] = {name: defaultdict(int) for name in CHART_FIELDS}
    for row in rows:
        for name, value in zip(CHART_FIELDS, row[:-1], strict=True):
            counts[name][value] += int(row[-1])
    return {name: dict(found) for name, found in counts.items()}


def _not_counting(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, list[tuple[str, datetime | None]]]:
    rows = con.execute("select region_code, status, submitted_at from read_parquet($p) "
                       "where status <> 'counting' and region_code is not null "
                       "order by region_code, submitted_at", {"p": str(path)}).fetchall()
    out: dict[str, list[tuple[str, datetime | None]]] = defaultdict(list)
    for code, status, at in rows:
        out[str(code)].append((str(status), at))
    return dict(out)


# the findings of flows.feedback.findings, with whether their file counts (as in a region's letter, those of a
# superseded or late file are counted apart, not shown), of the regions named
_REGION_FINDINGS = (  # built from flows.feedback's constants, no data
    f"select *, source_file in ({NOT_COUNTING_FILES}) as aside from ({FINDINGS}) "  # noqa: S608
    "where region_code is not null and region_code <> ''"
)
# the same of the regions ``$codes``, numbered per region in flows.feedback.findings' order
_FINDINGS = (
    "create or replace temp table region_findings as select *, row_number() over (partition by region_code, aside "  # noqa: S608
    f"order by {FINDINGS_ORDER}) as i from ({_REGION_FINDINGS}) where region_code in (select unnest($codes::varchar[]))"
)


def _region_findings_params(release_dir: Path) -> dict[str, str | None]:
    """The parameters of :data:`_REGION_FINDINGS` for a release folder: its findings' files and its submissions."""
    return {**findings_params(release_dir), "s": str(release_dir / "submissions.parquet")}


def findings_digests(con: duckdb.DuckDBPyConnection, release_dir: Path) -> dict[str, str]:
    """Per region, a digest of its findings, computed in DuckDB: a page whose inputs are unchanged is carried over
    without its findings being read (a national year has ~46,000, which took 0.12-0.2 s to count, cut and turn
    into Python objects for every region at each publish, of a one-region re-run's ~0.6 s of report). What a
    profile shows of them (:class:`RegionFindings`) is a function of the rows as a set with repeats (the
    summary counts them, the list takes the first in their order), so the digest is their count and the sum of
    DuckDB's 64-bit hash of each row, as :func:`innovation_digests`."""
    rows = con.execute("select region_code, count(*) || ':' || sum(hash(struct_pack(source_file, locator, rule, "  # noqa: S608
                       f"severity, reason, value, aside)))::hugeint from ({_REGION_FINDINGS}) group by region_code",
                       _region_findings_params(release_dir)).fetchall()
    return {str(code): str(digest) for code, digest in rows}


def load_findings(release_dir: Path, codes: Iterable[str]) -> dict[str, RegionFindings]:
    """The findings of the regions ``codes`` as a profile shows them (a region without any is left out), counted
    and cut in SQL: a region can have thousands of warnings, of which a profile lists 40. On a database of its own,
    closed after (see :func:`load_release`)."""
    con = duckdb.connect()
    try:
        con.execute(_FINDINGS, {**_region_findings_params(release_dir), "codes": list(codes)})
        summary: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
        for code, severity, rule, reason, n in con.execute(
                "select region_code, severity, rule, reason, count(*) from region_findings where not aside "
                "group by region_code, severity, rule, reason "
                "order by region_code, severity <> 'rejected', rule, min(i)").fetchall():
            summary[code].append((severity, rule, reason, int(n)))
        listed: dict[str, list[Finding]] = defaultdict(list)
        make = Finding._make
        for row in con.execute("select region_code, source_file, locator, rule, severity, reason, value "
                               "from region_findings where not aside and i <= $n order by region_code, i",
                               {"n": FINDINGS_LISTED}).fetchall():
            listed[row[0]].append(make(row[1:]))
        counts = con.execute("select region_code, count(*) filter (where not aside), "
                             "count(*) filter (where severity = 'rejected' and not aside), "
                             "count(*) filter (where severity = 'warning' and not aside), "
                             "count(*) filter (where aside) from region_findings group by all").fetchall()
    finally:
        con.close()
    return {str(code): RegionFindings(summary[code], listed[code], int(total), int(rejected), int(warnings),
                                      int(aside)) for code, total, rejected, warnings, aside in counts}


def load_release(release_dir: Path, year: int, release: int, method: Methodology,
                 indicator_sums: pa.Table | None = None) -> ReleaseData:
    """Read one release folder (a staging folder without a manifest is fine). On a database of its own,
    closed after, as :func:`load_innovations`: the process's scratch database keeps memory its queries
    used, and with these reads on it a report of a year at ten times the national size peaked ~60-90 MB
    higher while it went on rendering. ``indicator_sums`` (:func:`indicator_sums`): the sums of
    ``indicator_scores``, given by a publisher that is still writing that file; otherwise read from it."""
    con = duckdb.connect()
    try:
        regions = _regions(con, release_dir / "region_scores.parquet")
        level_sums: dict[str, dict[str, float]] = defaultdict(dict)
        attained: dict[str, dict[str, float]] = defaultdict(dict)
        medians: dict[tuple[str, str], float] = {}
        for code, level, row, level_sum, value, median in _row_grid(con, release_dir, method, indicator_sums):
            level_sums[code][row] = float(level_sum)
            attained[code][row] = float(value)
            medians[(level, row)] = float(median or 0)
        innovations = release_dir / "innovation_scores.parquet"
        digests, charts = innovation_digests(con, innovations), _chart_counts(con, innovations)
        not_counting = _not_counting(con, release_dir / "submissions.parquet")
        found = findings_digests(con, release_dir)
    finally:
        con.close()
    provinces = {r.code: r.name for r in regions if r.level == "provinsi"}
    return ReleaseData(year, release, regions, dict(level_sums), dict(attained), medians, digests, charts, found,
                       not_counting, innovations, release_dir, provinces)


def load_history(home: Home, year: int, releases: Mapping[int, Release] | None = None) -> dict[int, list[RegionScore]]:
    """``region_scores`` of earlier years' releases (for history and changes): ``releases`` (year -> release),
    by default the latest release of every earlier published year (:func:`flows.releases.history_releases`)."""
    from flows.releases import history_releases

    history: dict[int, list[RegionScore]] = {}
    con = scratch()
    try:
        for earlier, found in sorted((history_releases(home, year) if releases is None else releases).items()):
            if (found.path / "region_scores.parquet").is_file():
                history[earlier] = _regions(con, found.path / "region_scores.parquet")
    finally:
        con.close()
    return history
