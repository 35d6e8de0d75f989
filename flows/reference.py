"""The region master (``data/reference/regions.csv``): every pemda with its Kemendagri code.

Checked on load: a tampered or malformed file is refused with a message naming it.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flows.settings import reference_dir

COLUMNS = ["code", "name", "level", "province_code", "autonomous", "tertinggal", "perbatasan", "active_from"]
LEVELS = ("provinsi", "kabupaten", "kota")


class ReferenceError(ValueError):
    """The region master is missing or malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class Region:
    """One regional government (or a Jakarta administrative unit, ``autonomous`` false)."""

    code: str
    name: str
    level: str
    province_code: str
    autonomous: bool
    tertinggal: bool
    perbatasan: bool
    active_from: int | None


def _flag(path: Path, line: int, field: str, raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ReferenceError(f"{path}: line {line}, field {field}: {raw!r} is not true/false")
    return raw == "true"


def _parse_row(path: Path, line: int, row: dict[str, str]) -> Region:
    code, level = row["code"], row["level"]
    if level not in LEVELS:
        raise ReferenceError(f"{path}: line {line}, field level: {level!r} is not one of {LEVELS}")
    pattern = r"\d{2}" if level == "provinsi" else r"\d{2}\.\d{2}"
    if not re.fullmatch(pattern, code):
        raise ReferenceError(f"{path}: line {line}, field code: {code!r} is not a {level} code")
    if level != "provinsi":
        kk = int(code[3:])
        if (level == "kabupaten") != (1 <= kk <= 69) or not 1 <= kk <= 99:
            raise ReferenceError(f"{path}: line {line}, field code: {code!r} does not fit level {level}")
    if row["province_code"] != code[:2]:
        raise ReferenceError(f"{path}: line {line}, field province_code: {row['province_code']!r}")
    active = row["active_from"].strip()
    if active and not active.isdigit():
        raise ReferenceError(f"{path}: line {line}, field active_from: {active!r} is not a year")
    return Region(
        code=code,
        name=row["name"].strip(),
        level=level,
        province_code=row["province_code"],
        autonomous=_flag(path, line, "autonomous", row["autonomous"]),
        tertinggal=_flag(path, line, "tertinggal", row["tertinggal"]),
        perbatasan=_flag(path, line, "perbatasan", row["perbatasan"]),
        active_from=int(active) if active else None,
    )


@lru_cache(maxsize=4)
def _load(path_text: str) -> tuple[tuple[Region, ...], str]:
    path = Path(path_text)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReferenceError(f"{path}: region master not found") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReferenceError(f"{path}: not UTF-8; restore it from git") from None
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != COLUMNS:
        raise ReferenceError(f"{path}: header is {reader.fieldnames}, expected {COLUMNS}")
    regions = [_parse_row(path, i, row) for i, row in enumerate(reader, start=2)]
    codes = [r.code for r in regions]
    if len(set(codes)) != len(codes):
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        raise ReferenceError(f"{path}: field code: duplicate codes {dupes[:5]}")
    provinces = {r.code for r in regions if r.level == "provinsi"}
    orphans = [r.code for r in regions if r.province_code not in provinces]
    if orphans:
        raise ReferenceError(f"{path}: field province_code: no province row for {orphans[:5]}")
    return tuple(regions), hashlib.sha256(data).hexdigest()


def regions_path() -> Path:
    return reference_dir() / "regions.csv"


def all_regions() -> list[Region]:
    """Every row of the master, autonomous or not, whatever the year."""
    return list(_load(str(regions_path()))[0])


def regions_sha256() -> str:
    """sha256 of the region master file, recorded in every release."""
    return _load(str(regions_path()))[1]


def load_regions(year: int) -> list[Region]:
    """The rows that exist in a measurement year (``active_from`` ≤ year), autonomous or not."""
    return [r for r in all_regions() if r.active_from is None or r.active_from <= year]


def pemda(year: int) -> list[Region]:
    """The autonomous regional governments measured in a year (546 from 2023, 542 before)."""
    return [r for r in load_regions(year) if r.autonomous]
