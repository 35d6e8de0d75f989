"""Ingest: every file of ``<home>/raw/<year>/`` into typed landing tables of the year's work database.

Files are read in a fixed order (by path) and each gets a ``files`` row with its sha256; a file
that cannot be read as a submission gets its rule code there and no records. Operator contact
data is written to the private area only. Verification CSVs (``verification/*.csv``) land in
``landing_verification``.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from flows.dropzone import drop_zone_files, file_name
from flows.faults import pause_point
from flows.file_plan import plan_files, remember_stamps
from flows.imports import hidden
from flows.landing import RECORD_TABLES, SCHEMAS, LandingBatch
from flows.readers import FileRejected, max_file_bytes, parse_bytes
from flows.settings import Home
from flows.verification_csv import (
    VERIFICATION_FILES_SCHEMA,
    VERIFICATION_SCHEMA,
    read_verification,
    store_verification,
    verification_unchanged,
)
from flows.versioning import sha256_file

# raw bytes parsed per chunk: big enough to pay for sending it, small enough for memory. A parse worker
# holds a chunk's parsed objects and its Arrow tables, and the run process up to two chunks per worker.
# At ten times a national year, ingest alone: 16 MB chunks peaked at 1.61-1.63 GB for the run process
# and its workers, 8 MB chunks at 1.45-1.48 GB (the workers 560-600 MB against 660-720 MB), as fast
# (56.5 s against 56.8-57.1 s; at scale 1 5.1-5.7 s against 5.2-5.4 s).
CHUNK_BYTES = 8 * 1024 * 1024
# On a Dask cluster each chunk is a Prefect task, which costs ~0.2 s of wall more than its parsing (on a worker:
# Prefect's settings built again and a new API client, with its TLS context, for every task run; in the flow:
# the task and its context serialized). Chunks sent there are about a quarter of what each of the cluster's
# task slots (its workers' threads) gets, so that every slot has work to the end, within 16-64 MB. Ten times a
# national year on the local cluster of two workers, ingest (one run each, same hour): 16 MB chunks (136 tasks)
# 115-121 s, 48 MB (40) 87-103 s, 96 MB (20) 84 s; then, alternating, 64 MB (30) 86.9 and 90.3 s against 16 MB
# 105.8 and 132.6 s. The peak of the run and its workers was 2.78-2.90 GB in all of them.
CLUSTER_CHUNK_BYTES = (16 * 1024 * 1024, 64 * 1024 * 1024)
CHUNKS_PER_SLOT = 4
POOL_MIN_BYTES = 16 * 1024 * 1024  # below this a worker pool costs more than it saves
# raw bytes inserted per transaction: a run killed mid-ingest reads the uncommitted files again. A
# commit writes DuckDB's write-ahead log (large inserts go straight to the database file; the log holds
# where); past the checkpoint threshold it also checkpoints, which ingest defers to its end (see
# ingest_year). Measured at scale 10 (1.9 GB), one run each, ingest alone: committing every 64 MB with
# a checkpoint each time, 88.6 s wall, 64 s of CPU in the run process, 1.42 GB peak for it and its
# workers; every 256 MB, 76.1 s, 52 s and 1.72 GB (uncommitted rows are held in memory); every 64 MB
# with one checkpoint at the end, 75.8 s (7.0 s of it the checkpoint), 57 s and 1.44 GB.
COMMIT_BYTES = 64 * 1024 * 1024
CHECKPOINT_THRESHOLD = "64GB"  # DuckDB's checkpoint threshold while ingest inserts: in effect never


@dataclass(frozen=True)
class IngestSummary:
    year: int
    files: int
    rejected_files: int
    records: dict[str, int]
    verification_rows: int
    files_parsed: int = 0
    files_dropped: int = 0


_REGION_IN_TEXT = re.compile(rb'"region_code"\s*:\s*"(\d{2}(?:\.\d{2})?)"')


def region_hint(data: bytes) -> str | None:
    """The region code written near the top of a JSON text that could not be read, to route feedback (a
    workbook's reader gives the one its profil names, where that sheet was read)."""
    match = _REGION_IN_TEXT.search(data[:65536])
    return match.group(1).decode("ascii") if match else None


def create_landing_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The landing tables, empty (those of an earlier ingest replaced)."""
    for name, schema in [*SCHEMAS.items(), ("verification", VERIFICATION_SCHEMA)]:
        empty = schema.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(f"create or replace table landing_{name} as select * from empty")  # noqa: S608
    # with landing_verification empty, its CSVs must be read again: the list of those read goes too
    files = VERIFICATION_FILES_SCHEMA.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
    con.execute("create or replace table landing_verification_files as select * from files")


def read_files(raw_year: Path, items: list[tuple[int, str]]) -> dict[str, pa.Table]:
    """Parse drop-zone files into landing rows with record ids local to this chunk (from 0).

    A pure function of the files: it can run in another process (Dask) and the caller offsets the
    ids when inserting (:func:`insert_chunk`).
    """
    batch = LandingBatch(dict.fromkeys(RECORD_TABLES, 0))
    for file_id, real in items:
        path, rel = raw_year / real, file_name(real)
        if path.is_symlink():
            batch.add_file(file_id, rel, "", 0, "symlink", "FIL010", "symbolic link, not followed", False, 0)
            continue
        if not path.is_file():
            batch.add_file(file_id, rel, "", 0, "special", "FIL007", "not a regular file (device, pipe or socket)",
                           False, 0)
            continue
        size = path.stat().st_size
        if size > max_file_bytes():
            batch.add_file(file_id, rel, sha256_file(path), size, path.suffix.lower().lstrip(".") or "none", "FIL008",
                           f"file has {size:,} bytes, the limit is {max_file_bytes():,}", False, 0)
            continue
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        fmt = path.suffix.lower().lstrip(".") or "none"
        try:
            parsed = parse_bytes(path.name, data)
        except FileRejected as exc:
            batch.add_file(file_id, rel, sha, len(data), fmt, exc.rule, exc.detail, data.startswith(b"\xef\xbb\xbf"), 0,
                           exc.region_hint or region_hint(data))
        else:
            records = batch.add_parsed(file_id, rel, parsed)
            batch.add_file(file_id, rel, sha, len(data), fmt, None, None, parsed.has_bom, records)
    return batch.tables()


# landing table -> id columns to offset: column -> table whose offset applies
_OFFSETS: dict[str, dict[str, str]] = {
    "submissions": {"record_id": "submissions"},
    "spd_answers": {"record_id": "spd_answers"},
    "innovations": {"record_id": "innovations"},
    "sid_answers": {"record_id": "sid_answers", "innovation_record_id": "innovations"},
}


def next_record_ids(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The first free record id of each landing record table."""
    return {name: int(con.execute(f"select coalesce(max(record_id) + 1, 0) from landing_{name}")  # noqa: S608
                      .fetchall()[0][0]) for name in RECORD_TABLES}


def insert_chunk(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], offsets: dict[str, int]) -> None:
    """Insert a parsed chunk, shifting its local record ids (0, 1, … in each table) past the ids already
    in the tables: ``offsets``, from :func:`next_record_ids`, is moved past the chunk, so a run of
    chunks does not look the ids up again."""
    for name, table in tables.items():
        if table.num_rows == 0:
            continue
        con.register("chunk_rows", table)
        if name == "evidence":
            select = ("select * replace (record_id + $evidence as record_id, answer_record_id + case answer_table "
                      "when 'spd_answers' then $spd_answers else $sid_answers end as answer_record_id) "
                      "from chunk_rows")
            params = {k: offsets[k] for k in ("evidence", "spd_answers", "sid_answers")}
        elif name in _OFFSETS:
            shifts = ", ".join(f"{col} + ${target} as {col}" for col, target in _OFFSETS[name].items())
            select = f"select * replace ({shifts}) from chunk_rows"  # noqa: S608
            params = {target: offsets[target] for target in set(_OFFSETS[name].values())}
        else:
            select, params = "select * from chunk_rows", {}
        con.execute(f"insert into landing_{name} {select}", params)
        con.unregister("chunk_rows")
    for name in RECORD_TABLES:
        if name in tables:
            offsets[name] += tables[name].num_rows


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The block's statements in one transaction: committed when it ends, rolled back when it raises. The
    block's own error is the one raised: a rollback that fails (DuckDB has ended the transaction already, as
    when a signal interrupted a query or the block's commit) does not replace it."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("rollback")
        raise
    con.execute("commit")


def _has_landing(con: duckdb.DuckDBPyConnection) -> bool:
    names = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    return all(f"landing_{n}" in names for n in (*SCHEMAS, "verification"))


def _drop_files(con: duckdb.DuckDBPyConnection, file_ids: list[int]) -> None:
    if not file_ids:
        return
    for name in (*RECORD_TABLES, "files", "operators"):
        con.execute(f"delete from landing_{name} where file_id in (select unnest($ids))", {"ids": file_ids})  # noqa: S608


ChunkParser = Callable[[Path, list[list[tuple[int, str]]]], Iterable[dict[str, pa.Table]]]


def cluster_chunk_bytes(total: int, slots: int) -> int:
    """Bytes per chunk for ``total`` bytes to parse on a cluster that runs ``slots`` tasks at once: about
    :data:`CHUNKS_PER_SLOT` chunks for each slot, within :data:`CLUSTER_CHUNK_BYTES`."""
    low, high = CLUSTER_CHUNK_BYTES
    return min(high, max(low, total // (CHUNKS_PER_SLOT * max(1, slots))))


def _file_bytes(path: Path) -> int:
    """A drop-zone file's size as chunks count it: 0 for what is no regular file (read as a rejected file)."""
    return path.lstat().st_size if path.is_file() else 0


def plan_chunks(raw_year: Path, to_read: list[tuple[int, str]], chunk_files: int,
                chunk_bytes: int | Callable[[int], int] = CHUNK_BYTES) -> list[list[tuple[int, str]]]:
    """Consecutive runs of files to parse together: at most ``chunk_files`` files and about ``chunk_bytes``
    (or what ``chunk_bytes`` gives for the bytes of all of them, asked only when there is a file to read)."""
    if not to_read:
        return []
    sizes = [_file_bytes(raw_year / rel) for _, rel in to_read]
    if callable(chunk_bytes):
        chunk_bytes = chunk_bytes(sum(sizes))
    chunks: list[list[tuple[int, str]]] = []
    size = 0
    for item, nbytes in zip(to_read, sizes, strict=True):
        if not chunks or len(chunks[-1]) >= chunk_files or (size + nbytes > chunk_bytes and chunks[-1]):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += nbytes
    return chunks


def ingest_workers() -> int:
    """Worker processes that parse file chunks (``$IID_INGEST_WORKERS``, default one per core)."""
    return max(1, int(os.environ.get("IID_INGEST_WORKERS", "0")) or os.cpu_count() or 1)


def _parse_worker_start() -> None:
    """Tell pyarrow, in a parse worker, that pandas is not there. pyarrow imports pandas, when it can,
    the first time it builds an array from Python values, only to recognise pandas objects, which a
    parsed file never holds; that import cost each worker ~1 s of CPU. pyarrow asks once and
    remembers the answer, so pandas is hidden while it asks and importable again afterwards: pyarrow
    works the same without it (an optional dependency), and anything else may still import it. The
    pool test checks that the rows are identical and that parsing did not import pandas."""
    with hidden("pandas"):
        pa.array([0])  # pyarrow looks for pandas here, finds none, and does not look again
    fewer_collections()


def fewer_collections() -> None:
    """Python's cyclic collector, in a parse worker, every 50,000 net allocations instead of 700.

    Parsing makes a container per JSON object and frees it with its file (reference counting, no
    cycles); the collector, started every 700 of them, walked them ~230 times per 64 files: ~10 % of
    parsing a chunk (0.60 -> 0.54 s). The imports so far are frozen, out of every collection."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def parse_pool(workers: int) -> ProcessPoolExecutor:
    """The worker processes that parse file chunks: spawned (no inherited threads or locks); pyarrow there
    does without pandas."""
    import multiprocessing

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_parse_worker_start)


def parse_locally(raw_year: Path, chunks: list[list[tuple[int, str]]]) -> Iterator[dict[str, pa.Table]]:
    """Parsed chunks in order; a large drop zone is parsed on a pool of worker processes.

    At most two chunks per worker are in flight, so memory stays bounded however large the year is.
    Workers are spawned: a script that calls the pipeline needs the usual ``if __name__ == "__main__":``
    guard; if the pool cannot work, the remaining chunks are parsed here.
    """
    total = sum(_file_bytes(raw_year / rel) for chunk in chunks for _, rel in chunk)
    workers = min(len(chunks), ingest_workers())
    done = 0
    if workers > 1 and total >= POOL_MIN_BYTES:
        from concurrent.futures.process import BrokenProcessPool

        try:
            with parse_pool(workers) as pool:
                pending: deque[Future[dict[str, pa.Table]]] = deque()
                for items in chunks:
                    pending.append(pool.submit(read_files, raw_year, items))
                    if len(pending) >= 2 * workers:
                        yield pending.popleft().result()
                        done += 1
                while pending:
                    yield pending.popleft().result()
                    done += 1
        except BrokenProcessPool:
            pass
    for items in chunks[done:]:
        yield read_files(raw_year, items)


def ingest_year(home: Home, year: int, con: duckdb.DuckDBPyConnection,
                progress: Callable[[int, int], None] | None = None, reuse: bool = True,
                chunk_files: int | None = None, parse: ChunkParser = parse_locally,
                chunk_bytes: int | Callable[[int], int] | None = None) -> IngestSummary:
    """Bring the ``landing_*`` tables in line with the year's drop zone.

    Files already ingested with the same sha256 are kept (when ``reuse``); new or changed files are
    parsed (by ``parse``, chunk by chunk: in this process, a local pool or mapped tasks) and inserted
    in file order, so record ids do not depend on where a chunk was parsed. Removed files are dropped.
    Verification CSVs are always read again (they are small). ``chunk_bytes``: the bytes of a chunk, or
    what gives them for the bytes to read (:func:`plan_chunks`; default :data:`CHUNK_BYTES`; a cluster's
    parser gives :func:`cluster_chunk_bytes`).
    """
    raw_year = home.raw_year(year)
    if not raw_year.is_dir():
        raise FileNotFoundError(f"{raw_year}: no submissions folder for {year}; put the files there or run "
                                f"'iid generate --year {year}'")
    if next(drop_zone_files(raw_year), None) is None:  # a wrong folder or one emptied by mistake, not a year
        raise FileNotFoundError(f"{raw_year}: no submission file for {year} (the folder holds none, its "
                                f"verification/ aside); nothing is scored or published: put the year's JSON and "
                                f"XLSX files there, or check --year and --home")
    chunk_files = chunk_files or int(os.environ.get("IID_INGEST_CHUNK_FILES", "64"))
    reuse = reuse and _has_landing(con)
    if not reuse:
        from transforms.runner import allow_compaction

        allow_compaction(con)  # built from scratch: what earlier runs left deleted may go
        create_landing_tables(con)
    started_ns = time.time_ns()
    to_read, drop = plan_files(con, raw_year, reuse)
    with transaction(con):
        _drop_files(con, drop)
    done = 0
    chunks = plan_chunks(raw_year, to_read, chunk_files, chunk_bytes or CHUNK_BYTES)
    # a file is in landing whole or not at all, whatever kills the process: chunks (whole files) are
    # committed together up to COMMIT_BYTES, and a run killed meanwhile reads the uncommitted ones again
    pending = 0
    commit_bytes = int(os.environ.get("IID_INGEST_COMMIT_BYTES", "0")) or COMMIT_BYTES
    # commits only write the log meanwhile; one checkpoint follows (a checkpoint per commit rewrote the
    # tables' metadata each time: 13 s more at scale 10). A killed run's log is replayed on the next open.
    con.execute("set checkpoint_threshold = ?", [CHECKPOINT_THRESHOLD])
    # DuckDB inserts on one thread while chunks come in: the parse workers have the cores, and a second
    # thread cost the run process more CPU than it saved (scale 10: ingest 59-61 s -> 54-55 s, the run
    # process's CPU 48-52 s -> 40-41 s; scale 1: 7.1-7.2 s -> 6.7-7.0 s). The checkpoint has them all again.
    threads = con.execute("select current_setting('threads')").fetchall()[0][0]
    con.execute("set threads = 1")
    try:
        with transaction(con):
            offsets = next_record_ids(con)
            for items, tables in zip(chunks, parse(raw_year, chunks), strict=True):
                insert_chunk(con, tables, offsets)
                pending += sum(_file_bytes(raw_year / rel) for _, rel in items)
                if pending >= commit_bytes:
                    con.execute("commit")
                    con.execute("begin transaction")
                    pending = 0
                pause_point("ingest:after-chunk")
                done += len(items)
                if progress:
                    progress(done, len(to_read))
    finally:
        con.execute("reset checkpoint_threshold")
        con.execute("set threads = ?", [threads])
    next_file = int(con.execute("select coalesce(max(file_id) + 1, 0) from landing_files").fetchall()[0][0])
    with ThreadPoolExecutor(1, thread_name_prefix="verification") as pool:
        # changed verification CSVs are read on a thread while DuckDB checkpoints (which lets go of
        # the interpreter lock) instead of after it. Scale 1: the end of ingest 1.49-1.55 -> 1.30-1.41 s.
        # Scale 10: the read (2.4-2.5 s alone) takes 3.3-4.5 s beside the checkpoint, which uses both
        # cores at times, and the checkpoint's own 7.5-11 s vary more than the gain (bench/HISTORY.md)
        verification = (None if verification_unchanged(con, raw_year, next_file)
                        else pool.submit(read_verification, raw_year, next_file))
        if to_read:
            con.execute("checkpoint")
        with transaction(con):
            remember_stamps(con, raw_year, started_ns)
        return finish_ingest(home, year, con, len(to_read), len(drop),
                             verification.result() if verification is not None else None, next_file)


def finish_ingest(home: Home, year: int, con: duckdb.DuckDBPyConnection, parsed: int, dropped: int,
                  read: tuple[pa.Table, list[tuple[str, str, int]]] | None, next_file: int) -> IngestSummary:
    """The verification CSVs ``read`` (None: unchanged, kept; numbered from file id ``next_file``, after
    the submission files), the private operator export and the summary, after the files are in."""
    if read is not None:
        store_verification(con, read, next_file)
    private = home.private_dir(year)
    private.mkdir(parents=True, exist_ok=True)
    # personal data: the operator export and the work database that holds it are the owner's alone
    for folder in (private.parent, private, home.work_db(year).parent):
        if folder.is_dir():  # (a work database elsewhere, as some tests open, has no such folder)
            os.chmod(folder, 0o700)
    _export_private(con, private)
    files, rejected = con.execute("select count(*), count(error_rule) from landing_files").fetchall()[0]
    counts = {name: int(con.execute(f"select count(*) from landing_{name}").fetchall()[0][0])  # noqa: S608
              for name in RECORD_TABLES}
    verification_rows = int(con.execute("select count(*) from landing_verification").fetchall()[0][0])
    return IngestSummary(year, int(files), int(rejected), counts, verification_rows, parsed, dropped)


def _export_private(con: duckdb.DuckDBPyConnection, private: Path) -> None:
    """Operator contacts go to the private area (and stay in the private work database)."""
    target = private / "operators.parquet"
    tmp = target.with_suffix(".parquet.tmp")
    con.execute("copy landing_operators to ? (format parquet)", [str(tmp)])
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
