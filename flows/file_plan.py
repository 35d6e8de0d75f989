"""Which files of a year's drop zone an ingest reads again: those new or changed since the last ingest,
compared by sha256, the hash taken from a file's recorded stamp (size, times, inode) when the stamp is
unchanged, so that a re-run does not read every file to hash it."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from flows.dropzone import drop_zone_files, file_name
from flows.versioning import sha256_file

# A file whose last change is this close to the start of the ingest that read it is hashed again next
# time: file times advance in coarse ticks, so a second write within a tick could leave its stamp as is.
RECENT_CHANGE_NS = 2_000_000_000


def file_stamp(st: os.stat_result) -> str:
    """Size, modification and change times (ns), inode and device of a file, as one string."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}"


def _known_stamps(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    try:
        rows = con.execute("select source_file, stamp, sha256 from landing_file_stamps").fetchall()
    except duckdb.CatalogException:  # not there yet (an older work database): every file is hashed
        return {}
    return {f: (stamp, sha) for f, stamp, sha in rows}


def remember_stamps(con: duckdb.DuckDBPyConnection, raw_year: Path, started_ns: int) -> int:
    """Record each ingested file's stamp with its sha256 (from ``landing_files``), so that the next run
    takes the hash from the stamp instead of reading the file (~2 s at ten times a national year).

    Only files whose last change (modification or change time) came ``RECENT_CHANGE_NS`` before this
    ingest started are recorded: those were not written while the run read them, so the hash in
    ``landing_files``, made from what the run read, is the hash of the file the stamp describes. The
    change time moves on every write and cannot be set back, so a file edited later never keeps its
    stamp. Returns the number of stamps recorded.
    """
    hashes = dict(con.execute("select source_file, sha256 from landing_files").fetchall())
    rows: dict[str, list[str]] = {"source_file": [], "stamp": [], "sha256": []}
    for rel, sha in hashes.items():
        path = raw_year / rel
        if not sha or path.is_symlink() or not path.is_file():  # links and special files have no hash
            continue
        st = path.lstat()
        if max(st.st_mtime_ns, st.st_ctime_ns) < started_ns - RECENT_CHANGE_NS:
            rows["source_file"].append(rel)
            rows["stamp"].append(file_stamp(st))
            rows["sha256"].append(sha)
    # bound as lists, not an Arrow table: pyarrow would import pandas (~0.3 s) to build it from Python
    # values, in a no-change run that needs pandas nowhere else
    con.execute("create or replace table landing_file_stamps "
                "(source_file varchar, stamp varchar, sha256 varchar)")
    con.execute("insert into landing_file_stamps select unnest($source_file::varchar[]), "
                "unnest($stamp::varchar[]), unnest($sha256::varchar[])", rows)
    return len(rows["stamp"])


def plan_files(con: duckdb.DuckDBPyConnection, raw_year: Path, reuse: bool) -> tuple[list[tuple[int, str]], list[int]]:
    """Which files to parse (new or changed, with fresh file ids) and which file ids to drop.

    A file already ingested is compared by sha256; its hash is taken from its stamp when the stamp is
    the one recorded with it (:func:`remember_stamps`), and computed from its bytes otherwise.
    """
    paths = [p.relative_to(raw_year).as_posix() for p in drop_zone_files(raw_year)]
    known: dict[str, tuple[int, str]] = {}
    stamps: dict[str, tuple[str, str]] = {}
    if reuse:
        known = {f: (i, s) for i, f, s in con.execute("select file_id, source_file, sha256 from landing_files")
                 .fetchall()}
        stamps = _known_stamps(con)
    next_id = max((i for i, _ in known.values()), default=-1) + 1
    to_read: list[tuple[int, str]] = []
    keep: set[int] = set()
    for rel in paths:
        name = file_name(rel)
        old = known.get(name)
        if old is not None:
            path = raw_year / rel
            sha = ""
            if path.is_file() and not path.is_symlink():
                recorded = stamps.get(name)
                sha = recorded[1] if recorded and recorded[0] == file_stamp(path.lstat()) else sha256_file(path)
            if old[1] == sha:
                keep.add(old[0])
                continue
        to_read.append((next_id, rel))
        next_id += 1
    drop = sorted(i for i, _ in known.values() if i not in keep)
    return to_read, drop
