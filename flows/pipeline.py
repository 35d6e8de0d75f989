"""The stages of the annual run as plain functions (the Prefect flow wraps each in a task).

Each stage opens the year's private work database, reads what the stage before it wrote and
writes its own tables: ingest → validate → transform → publish.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from flows.methodology import LoadedMethodology, for_year, methodology_named
from flows.privacy import QUOTES_TABLE, register_shown_files
from flows.reference import regions_path, regions_sha256
from flows.releases import Release, history_record, whole_history
from flows.settings import Home
from flows.versioning import code_version
from flows.workdb import work_database

if TYPE_CHECKING:
    from expectations.stage import ChunkValidator
    from flows.ingest import ChunkParser

STAGES = ("ingest", "validate", "transform", "publish")
# what the stages import as they start (pyarrow among them, ~0.2 s), which a run imports while it waits for
# Prefect's temporary server instead (flows.tempserver.launch)
STAGE_MODULES = ("flows.ingest", "expectations.stage", "transforms.runner", "flows.publish")


class ReconciliationError(RuntimeError):
    """Records read do not equal records scored + quarantined + not counting: nothing is published."""


STATE_DDL = ("create table if not exists stage_state (stage varchar primary key, key varchar, summary varchar, "
             "finished_at timestamptz)")


def _state(con: duckdb.DuckDBPyConnection, stage: str) -> tuple[str, dict[str, Any]] | None:
    con.execute(STATE_DDL)
    row = con.execute("select key, summary from stage_state where stage = ?", [stage]).fetchall()
    return (str(row[0][0]), json.loads(row[0][1])) if row else None


def _save_state(con: duckdb.DuckDBPyConnection, stage: str, key: str, summary: dict[str, Any]) -> None:
    con.execute(STATE_DDL)
    con.execute("insert or replace into stage_state values (?, ?, ?, now())", [stage, key, json.dumps(summary)])


def _forget_state(con: duckdb.DuckDBPyConnection, stages: tuple[str, ...]) -> None:
    con.execute(STATE_DDL)
    con.execute("delete from stage_state where stage in (select unnest(?))", [list(stages)])


class StageNotReady(RuntimeError):
    """A run from a later stage, on a year whose earlier stages have not finished."""


# what a run from each stage needs to have been done to the year before
NEEDS = {"validate": ("ingest", "ingested"), "transform": ("validate", "validated"), "publish": ("transform", "scored")}


def check_ready(home: Home, year: int, from_stage: str) -> None:
    """A run from ``from_stage`` uses the tables of the stage before it as they are: that stage must have
    finished (each stage forgets the state of the later ones when it runs again)."""
    if from_stage not in NEEDS:
        return
    stage, done = NEEDS[from_stage]
    ready = False
    if home.work_db(year).exists():
        with work_database(home, year, "ingest") as con:
            ready = _state(con, stage) is not None
    if not ready:
        raise StageNotReady(f"{year} has not been {done} yet in {home.root}: run 'iid run --year {year}' "
                            f"(from ingest) first: --from-stage {from_stage} starts from what {stage} left")


def inputs_key(con: duckdb.DuckDBPyConnection, year: int) -> str:
    """What the scores depend on: every input file's content, the method, the region master and the code."""
    files = con.execute("select source_file, sha256 from landing_files union all "
                        "select source_file, sha256 from landing_verification_files order by all").fetchall()
    return hashlib.sha256(json.dumps([validation_key(year), files]).encode()).hexdigest()


def validation_key(year: int) -> str:
    """What a file's validation depends on besides its own content: the method, region master and code."""
    return hashlib.sha256(json.dumps([year, for_year(year).sha256, regions_sha256(), code_version()])
                          .encode()).hexdigest()


def forget_validation(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the kept per-file validation results, the kept verification frame and the quotes: every file is
    validated again."""
    for table in ("validation_batches", "validation_results", "validation_failures", "verification_frame",
                  "verification_frame_regions", QUOTES_TABLE):
        con.execute(f"drop table if exists {table}")


def forget_scoring(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the record of the last scoring: the next one builds every table (see :func:`transform`)."""
    con.execute("drop table if exists transform_year")
    con.execute("drop table if exists transform_verification")


def _fingerprint_path(home: Home, year: int) -> Path:
    return home.work_db(year).with_name(f"{year}.validated")


def drop_zone_fingerprint(home: Home, year: int) -> str:
    """Names, sizes and modification times of the year's input files, with the validation key.

    A cheap guess (no file is read) of whether validation will have anything to do: used only to
    start importing GX early, never to decide what is validated (that goes by content).
    """
    from flows.dropzone import drop_zone_files, verification_files

    raw = home.raw_year(year)
    entries = []
    if raw.is_dir():
        for path in [*drop_zone_files(raw), *verification_files(raw)]:
            stat = path.lstat()
            entries.append((path.relative_to(raw).as_posix(), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(json.dumps([validation_key(year), entries]).encode()).hexdigest()


def validation_expected(home: Home, year: int) -> bool:
    """Whether the input files look changed since the last validation (see :func:`drop_zone_fingerprint`)."""
    marker = _fingerprint_path(home, year)
    try:
        return marker.read_text(encoding="utf-8").strip() != drop_zone_fingerprint(home, year)
    except OSError:
        return True


def will_validate(home: Home, year: int, from_stage: str = "ingest", force: bool = False) -> bool:
    """Whether a run from ``from_stage`` will likely validate (to import GX ahead of time)."""
    return force or (from_stage in ("ingest", "validate") and validation_expected(home, year))


def _remember_validated(home: Home, year: int) -> None:
    marker = _fingerprint_path(home, year)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(drop_zone_fingerprint(home, year), encoding="utf-8")
    os.replace(tmp, marker)


def ingest(home: Home, year: int, progress: Callable[[int, int], None] | None = None,
           force: bool = False, parse: ChunkParser | None = None,
           chunk_bytes: Callable[[int], int] | None = None) -> dict[str, Any]:
    """Bring the landing tables in line with the drop zone; files already ingested (same sha256, same
    code and method) are not read again. ``parse`` maps the parsing of file chunks (default: local), and
    ``chunk_bytes`` gives a chunk's bytes for the bytes to read (default: ``flows.ingest.CHUNK_BYTES``)."""
    from flows.ingest import ingest_year, parse_locally

    key = hashlib.sha256(json.dumps([code_version(), for_year(year).sha256]).encode()).hexdigest()
    with work_database(home, year, "ingest") as con:
        state = _state(con, "ingest")
        reuse = not force and state is not None and state[0] == key
        if not reuse:
            _forget_state(con, STAGES)
            forget_validation(con)  # file and record ids start again: nothing built from the old ones is kept
            forget_scoring(con)
        summary = asdict(ingest_year(home, year, con, progress, reuse=reuse, parse=parse or parse_locally,
                                     chunk_bytes=chunk_bytes))
        summary["skipped"] = reuse and summary["files_parsed"] == 0 and summary["files_dropped"] == 0
        _save_state(con, "ingest", key, summary)
    return summary


def validate(home: Home, year: int, now: datetime | None = None, force: bool = False,
             validate_chunks: ChunkValidator | None = None) -> dict[str, Any]:
    """Run the suites; skipped when the inputs, method, region master and code are those of the last run.
    ``validate_chunks`` maps the validation of frame chunks (default: in this process)."""
    from expectations.stage import clock_dependent_failures, validate_year

    method = for_year(year).method
    with work_database(home, year, "validate") as con:
        key = inputs_key(con, year)
        state = _state(con, "validate")
        if (not force and state is not None and state[0] == key and home.docs_dir(year).is_dir()
                and not clock_dependent_failures(con)):  # e.g. a submission dated in the future may be valid now
            _remember_validated(home, year)
            return {**state[1], "skipped": True}
        _forget_state(con, ("validate", "transform"))
        if force:
            from transforms.runner import allow_compaction

            forget_validation(con)
            allow_compaction(con)  # validated from scratch: what earlier runs left deleted may go
        summary = asdict(validate_year(con, year, method, now, home.docs_dir(year),
                                       validate=validate_chunks, key=validation_key(year)))
        con.execute("create or replace table validation_summary as select ? as summary", [json.dumps(summary)])
        _save_state(con, "validate", key, summary)
    _remember_validated(home, year)
    return {**summary, "skipped": False}


def transform_params(year: int) -> dict[str, Any]:
    """Every value the models may bind, from the year's methodology."""
    from decimal import Decimal

    loaded = for_year(year)
    m = loaded.method
    return {
        "year": year,
        "methodology": m.id,
        "divisor": m.divisor_for(year),
        "ji_rate": Decimal(str(m.innovation_count.per_innovation)),
        "ji_cap": m.innovation_count.cap,
        "ji_min_basic_affairs": m.innovation_count.min_basic_service_affairs,
        "max_total": int(m.max_total),
        "implementation_window": m.implementation_window_years,
        "deadline": m.deadline_for(year),
    }


# What the scores of one submission file depend on besides year-wide inputs: its content, its status
# (counting, superseded, late), its region, which of its records validation rejected, and the accepted
# verification decisions of its region (what stg_verification gives the scoring models for it).
FILE_FINGERPRINTS = """
with rejected as (
    select file_id, count(*) as n, sum(hash(record_type, record_id, rule)) as h from rejected_records group by all
),
decisions as (
    select region_code, count(*) as n, sum(hash(innovation_id, indicator, innovation_rejected, level_cap)) as h
    from stg_verification group by all
)
select f.file_id,
       hash(f.sha256, f.error_rule, s.record_id, s.status, s.region_code, coalesce(r.n, 0), coalesce(r.h, 0),
            coalesce(d.n, 0), coalesce(d.h, 0))
from landing_files f
left join submission_status s using (file_id)
left join rejected r using (file_id)
left join decisions d on d.region_code = s.region_code
"""
SCORED_STATE_DDL = ("create table if not exists transform_files (file_id bigint, fingerprint ubigint)",
                    "create table if not exists transform_year (key varchar)",
                    "create table if not exists transform_verification (key varchar)")
# What stg_verification is built from: the decisions and which of them validation rejected
VERIFICATION_INPUTS = (
    "select (select count(*) || ':' || coalesce(sum(hash(v)), 0) "
    " from (select * exclude (file_id) from landing_verification) v), "  # its id moves as submissions come
    "(select count(*) || ':' || coalesce(sum(hash(record_id, rule, severity)), 0) from validation_failures "
    " where suite = 'verification')")


def _current_decisions(con: duckdb.DuckDBPyConnection, year: int, year_key: str) -> None:
    """Build stg_verification again when its inputs (or the code, method, region master) changed since
    it was built: ~0.1 s at scale 1, which an incremental run without such a change does not pay."""
    from transforms.runner import run_model

    key = json.dumps([year_key, *con.execute(VERIFICATION_INPUTS).fetchall()[0]])
    built = con.execute("select key from transform_verification").fetchall()
    exists = con.execute("select count(*) from duckdb_tables() where table_name = 'stg_verification' "
                         "and schema_name = 'main' and not temporary").fetchall()[0][0]
    if built == [(key,)] and exists:
        return
    con.execute("delete from transform_verification")  # until it is built
    run_model(con, "staging/stg_verification", transform_params(year))
    con.execute("insert into transform_verification values (?)", [key])


def year_wide_key(year: int) -> str:
    """What every file's scores depend on: method, region master, code and the model parameters. While it
    is unchanged, a run need only score the files whose fingerprint changed (a verification decision
    acts on its own region's files only: it is part of their fingerprints)."""
    return hashlib.sha256(json.dumps([validation_key(year), transform_params(year)], default=str).encode()).hexdigest()


def _transform_scope(con: duckdb.DuckDBPyConnection, year: int,
                     year_key: str) -> tuple[list[int] | None, list[tuple[int, int]]]:
    """The files to score again (None: all, the tables are built from scratch) and every file's
    fingerprint now (the verification decisions built first). Scoring is incremental only when the
    last scoring finished with the same year-wide key; its record is dropped before the tables change,
    so an interrupted run rebuilds."""
    for ddl in SCORED_STATE_DDL:
        con.execute(ddl)
    _current_decisions(con, year, year_key)
    now = [(int(f), int(h)) for f, h in con.execute(FILE_FINGERPRINTS).fetchall()]
    before_key = con.execute("select key from transform_year").fetchall()
    if before_key != [(year_key,)]:
        return None, now
    before = {(int(f), int(h)) for f, h in con.execute("select file_id, fingerprint from transform_files").fetchall()}
    changed = sorted({f for f, _ in before.symmetric_difference(now)})
    return changed, now


def _remember_scored(con: duckdb.DuckDBPyConnection, year_key: str | None, files: list[tuple[int, int]]) -> None:
    con.execute("delete from transform_year")
    con.execute("delete from transform_files")
    if year_key is not None:
        con.execute("insert into transform_files select unnest(?::bigint[]), unnest(?::ubigint[])",
                    [[f for f, _ in files], [h for _, h in files]])
        con.execute("insert into transform_year values (?)", [year_key])


def transform(home: Home, year: int, force: bool = False) -> dict[str, Any]:
    """Run the SQL models and check reconciliation; skipped when validation's inputs did not change.

    When only some submission files changed, or the verification decisions of some regions (and nothing
    year-wide: method, region master, code), only the rows of those files and regions' files are scored
    again (see transforms.runner), until the rows so replaced reach a quarter of a table; ``force`` scores
    everything.
    """
    from flows.publish import content_hashes
    from transforms.runner import rebuild_due, run_models

    with work_database(home, year, "transform") as con:
        key = inputs_key(con, year)
        state = _state(con, "transform")
        if not force and state is not None and state[0] == key:
            return {**state[1], "skipped": True}
        year_key = year_wide_key(year)
        scope, fingerprints = _transform_scope(con, year, year_key)
        # an incremental run leaves the rows it replaces deleted; at a quarter of a table, all is built again
        rebuilt = rebuild_due(con) if scope is not None and not force else []
        if force or rebuilt:
            scope = None
        _remember_scored(con, None, [])  # until this run finishes, the next one rebuilds
        counts = run_models(con, transform_params(year), scope=scope, built=("staging/stg_verification",))
        unbalanced = con.execute("select source_file, records_read, records_scored, records_quarantined, "
                                 "records_superseded, records_late, records_unaccounted from reconciliation "
                                 "where not balanced limit 5").fetchall()
        if unbalanced:
            raise ReconciliationError(f"records do not add up for {len(unbalanced)} file(s), e.g. {unbalanced[0]}; "
                                      "nothing was published")
        predicates = dict(con.execute("select predicate, count(*) from region_scores group by all").fetchall())
        summary = {"tables": counts, "predicates": {str(k): int(v) for k, v in predicates.items()},
                   "content_hashes": content_hashes(con, year), **reference_files(year),
                   "files_scored": len(fingerprints) if scope is None else len(scope), "incremental": scope is not None,
                   **({"rebuilt_for_deleted_rows": rebuilt} if rebuilt else {})}
        _remember_scored(con, year_key, fingerprints)
        _save_state(con, "transform", key, summary)
    return {**summary, "skipped": False}


def reference_files(year: int) -> dict[str, dict[str, str]]:
    """The methodology and region master files in force, as a manifest names them."""
    loaded = for_year(year)
    return {"methodology": {"id": loaded.method.id, "sha256": loaded.sha256, "file": loaded.path.name},
            "region_master": {"file": regions_path().name, "sha256": regions_sha256()}}


def _report_builder(home: Home, year: int, history: Mapping[int, Release], methodology: LoadedMethodology,
                    con: duckdb.DuckDBPyConnection) -> Callable[[Path, int], dict[str, str]]:
    """The yearly report, region profiles and coaching list, built into the release before its manifest
    from the earlier years' releases ``history`` and the methodology file ``methodology`` (those its
    manifest names); returns the sha256 of the region pages (hashed as they were written). The sums of
    ``indicator_scores`` come from the rows the publisher is writing into that file meanwhile, through the
    work database ``con`` (``flows.publish.WRITTEN_BESIDE_THE_REPORT``)."""
    def build(staging: Path, number: int) -> dict[str, str]:
        from flows.publish import TABLES
        from flows.report import build_release_report
        from flows.report.data import indicator_sums

        sums = indicator_sums(con, TABLES["indicator_scores"])  # the rows published (sums name no file)
        return build_release_report(staging, home, year, number, history_from=history, methodology=methodology,
                                    indicator_sums=sums).sha256
    return build


def publish(home: Home, year: int, run: dict[str, Any]) -> dict[str, Any]:
    from flows.publish import publish_release

    history = whole_history(home, year)  # a damaged one stops the publish here, in one line
    with work_database(home, year, "publish") as con:
        scored = (_state(con, "transform") or ("", {}))[1]
        # the files the tables were scored under (a run --from-stage publish after one changed keeps them)
        references = {k: scored.get(k, v) for k, v in reference_files(year).items()}
        # the report shows that methodology file too (by sha256: the file named, or a kept earlier version)
        method = methodology_named(year, references["methodology"], f"the last transform of {year}",
                                   f"then run again; or score them under the file in force: iid run --year {year}")
        validation = json.loads(con.execute("select summary from validation_summary").fetchall()[0][0])
        register_shown_files(con)  # a file named with a contact is listed by its shown name, as in the tables
        inputs = con.execute("select iid_shown(source_file), sha256, bytes from (select source_file, sha256, bytes "
                             "from landing_files union all select source_file, sha256, bytes "
                             "from landing_verification_files) order by source_file").fetchall()
        totals = con.execute("select sum(records_read), sum(records_scored), sum(records_quarantined), "
                             "sum(records_superseded), sum(records_late) from reconciliation").fetchall()[0]
        counts = con.execute("select count(*), count(*) filter (where submitted), sum(n_innovations) "
                             "from region_scores").fetchall()[0]
        predicates = dict(con.execute("select predicate, count(*) from region_scores group by all").fetchall())
        manifest = {
            "run_id": run.get("run_id"),
            "flow_run_id": run.get("flow_run_id"),
            "started_at": run.get("started_at"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "code_version": code_version(),
            **references,
            "inputs": [{"file": f, "sha256": s, "bytes": b} for f, s, b in inputs],
            "counts": {"pemda": counts[0], "submitted": counts[1], "innovations": int(counts[2] or 0),
                       "predicates": {str(k): int(v) for k, v in predicates.items()}},
            "reconciliation": dict(zip(("read", "scored", "quarantined", "superseded", "late"),
                                       (int(x or 0) for x in totals), strict=True)),
            "validation": validation,
            # the earlier years' releases the report reads (history, previous predicate): a new one is a new release
            "history": history_record(history),
        }
        docs = home.docs_dir(year)
        hashes = scored.get("content_hashes")
        # the run's row (in the release and the run log) names the method of what it published, as the manifest
        scored_under = {"methodology": method.method.id, "methodology_sha256": method.sha256}
        result = publish_release(con, home, year, manifest, {"validation": docs} if docs.is_dir() else None,
                                 hashes=hashes, run={**run, **scored_under},
                                 before_manifest=_report_builder(home, year, history, method, con))
    return {"release": result.release, "path": str(result.path) if result.path else None,
            "published": result.published, "message": result.message, "scored_under": scored_under}
