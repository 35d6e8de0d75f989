"""Verification CSVs (``verification/*.csv``, from the technical team) into ``landing_verification``.

Read as ``csv.DictReader`` reads them, whatever Excel saved (``;`` or ``,``, UTF-8, UTF-16 or
Windows-1252, any line ending); a file that cannot be read at all is one row that VER004 rejects.
They are small, so they are hashed on every run and read again only when one changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from flows.dropzone import file_name, verification_files
from flows.values import code_text, enum_text, text, whole_number

VERIFICATION_COLUMNS = ("region_code", "innovation_id", "indicator", "decision", "verified_level", "note")
VERIFICATION_SCHEMA = pa.schema([
    ("record_id", pa.int64()), ("file_id", pa.int64()), ("source_file", pa.string()), ("locator", pa.string()),
    ("region_code", pa.string()), ("innovation_id", pa.string()), ("indicator", pa.string()),
    ("decision", pa.string()), ("verified_level", pa.int64()), ("verified_level_raw", pa.string()),
    ("note", pa.string()),
    # set on the one row of a verification file that could not be read as CSV (VER004): none of its rows
    # were read, so none of its decisions apply
    ("file_error", pa.string()),
])

VERIFICATION_FILES_SCHEMA = pa.schema([("source_file", pa.string()), ("sha256", pa.string()), ("bytes", pa.int64()),
                                       ("first_file_id", pa.int64())])


def csv_delimiter(text_: str) -> str:
    """``;`` when the header line has semicolons and no comma (Excel's "CSV" where the decimal mark is a
    comma, as in Indonesian settings), else ``,``."""
    header = re.split(r"[\r\n]", text_, maxsplit=1)[0]
    return ";" if ";" in header and "," not in header else ","


def verification_text(data: bytes) -> str:
    """A verification CSV's text: UTF-16 when it starts with a UTF-16 byte-order mark, UTF-8 (with or
    without a BOM) when it is UTF-8, else Windows-1252, Excel's "CSV" on Windows (accented letters were
    replaced by U+FFFD before)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# without one of these a row would be read as another decision: no indicator makes a decision on an
# answer one on the whole innovation, no innovation_id one on an SPD answer (note is optional)
REQUIRED_COLUMNS = ("region_code", "innovation_id", "indicator", "decision", "verified_level")


def column_key(name: str) -> str:
    """A header cell as the column name it stands for: case, surrounding spaces and spaces or hyphens
    between words ignored (``Region Code``, `` decision ``, ``verified-level``)."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def verification_columns(text_: str) -> tuple[int, dict[str, list[str | None]], list[str], list[int]]:
    """One verification CSV read as ``csv.DictReader`` reads it, its header names taken by
    :func:`column_key`: the number of rows (the first row is the header; blank rows, empty or every
    field blank as a spreadsheet leaves them (``,,,,,``), are skipped), the values of
    VERIFICATION_COLUMNS, column by column (a repeated column name: its last column; a row too short
    for a column: None), the REQUIRED_COLUMNS the header lacks, and each row's number as a spreadsheet
    numbers it (the header is 1, blank rows counted, a quoted line break inside a row not).

    Lines may end in ``\r\n``, ``\n`` or a bare ``\r`` (read as the csv module reads a file opened with
    ``newline=""``: a bare ``\r`` in an unquoted field stopped the year's ingest with csv.Error), and a
    field may be as long as the file (the csv module's own limit is 131,072 characters)."""
    csv.field_size_limit(max(csv.field_size_limit(), len(text_) + 1))
    reader = csv.reader(io.StringIO(text_, newline=""), delimiter=csv_delimiter(text_))
    header = next(reader, None) or []
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, row in enumerate(reader, 2):
        if any(field.strip() for field in row):
            rows.append(row)
            numbers.append(number)
    position = {column_key(name): i for i, name in enumerate(header)}
    columns: dict[str, list[str | None]] = {}
    for name in VERIFICATION_COLUMNS:
        i = position.get(name)
        columns[name] = [None] * len(rows) if i is None else [row[i] if i < len(row) else None for row in rows]
    return len(rows), columns, [name for name in REQUIRED_COLUMNS if name not in position], numbers


def _each(convert: Callable[[Any], Any], values: list[str | None]) -> list[Any]:
    """``convert`` of every value, worked out once per distinct value: a verification column repeats
    a few hundred region codes, some 40 indicators, three decisions and four levels over its rows
    (``convert`` is a pure function of a string)."""
    done = {value: convert(value) for value in set(values)}
    return [done[value] for value in values]


def verification_bytes(path: Path) -> tuple[bytes | None, str | None]:
    """A verification CSV's bytes, or why there are none: an entry that is not a regular file (a folder,
    a pipe that would block the run, a device) is never opened, and one that cannot be read is named."""
    try:
        status = path.lstat()
    except OSError as exc:
        return None, f"could not be read ({exc.strerror or type(exc).__name__})"
    if not stat.S_ISREG(status.st_mode):
        kind = "a folder" if stat.S_ISDIR(status.st_mode) else "a pipe, socket or device"
        return None, f"not a regular file ({kind}); put the CSV file itself in verification/"
    try:
        return path.read_bytes(), None
    except OSError as exc:
        return None, f"could not be read ({exc.strerror or type(exc).__name__}); check its permissions"


def read_verification(raw_year: Path, first_file_id: int) -> tuple[pa.Table, list[tuple[str, str, int]]]:
    """Rows of every ``verification/*.csv``; returns the table and (file, sha256, bytes) per CSV. A row's
    locator is ``line N``, N its row number as a spreadsheet shows the file (the header is line 1; blank
    rows are skipped but counted, so the number is the one the technical team sees)."""
    rows: dict[str, list[Any]] = {f.name: [] for f in VERIFICATION_SCHEMA}
    files: list[tuple[str, str, int]] = []
    record_id = 0
    for file_id, path in enumerate(verification_files(raw_year), first_file_id):
        rel = file_name(path.relative_to(raw_year).as_posix())
        try:
            data, problem = verification_bytes(path)
            if data is not None:
                count, found, missing, numbers = verification_columns(verification_text(data))
                if missing and count:  # its rows would be misread: none is
                    problem = f"header lacks {', '.join(missing)}"
        except csv.Error as exc:  # none of 20,000 random texts raised it as read here; kept so none stops the year
            problem = f"not readable as CSV ({exc}); save it as a UTF-8 CSV with the template's columns"
        files.append((rel, hashlib.sha256(data).hexdigest() if data is not None else "", len(data or b"")))
        if problem is not None:  # one row stands for the file: VER004 rejects it, and none of its decisions apply
            for name, values in rows.items():
                values.append({"record_id": record_id, "file_id": file_id, "source_file": rel, "locator": "(file)",
                               "file_error": problem}.get(name))
            record_id += 1
            continue
        levels = _each(text, found["verified_level"])
        rows["record_id"].extend(range(record_id, record_id + count))
        rows["file_id"].extend([file_id] * count)
        rows["source_file"].extend([rel] * count)
        rows["locator"].extend([f"line {line}" for line in numbers])
        rows["region_code"].extend(_each(text, found["region_code"]))
        rows["innovation_id"].extend(_each(text, found["innovation_id"]))
        rows["indicator"].extend(_each(code_text, found["indicator"]))
        rows["decision"].extend(_each(enum_text, found["decision"]))
        rows["verified_level"].extend(_each(whole_number, levels))
        rows["verified_level_raw"].extend(levels)
        rows["note"].extend(_each(text, found["note"]))
        rows["file_error"].extend([None] * count)
        record_id += count
    return pa.Table.from_pydict(rows, schema=VERIFICATION_SCHEMA), files


def _verification_sha256(path: Path) -> str:
    """A verification CSV's sha256, as ``read_verification`` records it ("" for what it could not read)."""
    data, _problem = verification_bytes(path)
    return hashlib.sha256(data).hexdigest() if data is not None else ""


def verification_unchanged(con: duckdb.DuckDBPyConnection, raw_year: Path, first_file_id: int) -> bool:
    """Whether the verification CSVs are those already in ``landing_verification`` (same names, same
    sha256): then they are not read again, only renumbered after the submission files."""
    now = [(file_name(p.relative_to(raw_year).as_posix()), _verification_sha256(p))
           for p in verification_files(raw_year)]
    try:
        kept = con.execute("select source_file, sha256, first_file_id from landing_verification_files "
                           "order by source_file").fetchall()
    except duckdb.Error:  # not there yet (or from an older layout)
        return False
    if not now or [(f, s) for f, s, _ in kept] != now:
        return False
    shift = first_file_id - int(kept[0][2])
    if shift:
        con.execute("update landing_verification set file_id = file_id + ?", [shift])
        con.execute("update landing_verification_files set first_file_id = ?", [first_file_id])
    return True


def store_verification(con: duckdb.DuckDBPyConnection, read: tuple[pa.Table, list[tuple[str, str, int]]],
                       first_file_id: int) -> None:
    """Replace ``landing_verification`` with the rows ``read`` (:func:`read_verification`, numbered from
    file id ``first_file_id``, after the submission files) and record which CSVs they came from."""
    verification, vfiles = read  # noqa: RUF059 - read by DuckDB
    con.execute("delete from landing_verification")
    con.execute("insert into landing_verification select * from verification")
    vfile_table = pa.Table.from_pylist(  # noqa: F841 - read by DuckDB's replacement scan
        [{"source_file": f, "sha256": s, "bytes": n, "first_file_id": first_file_id} for f, s, n in vfiles],
        schema=VERIFICATION_FILES_SCHEMA)
    con.execute("create or replace table landing_verification_files as select * from vfile_table")
