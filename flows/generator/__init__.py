"""Realistic synthetic submissions for a measurement year: ``raw/<year>/`` as the regions would fill it.

:func:`generate_year` writes one file per submission (JSON, or the XLSX template for a share of
regions), the technical team's ``verification/verification.csv`` and a ledger of injected defects
(``defects.json``). Output is deterministic for a seed and is produced region by region, so memory
stays flat however large ``scale`` is. Calibration: see :mod:`flows.generator.profile`.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flows.generator.regionfiles import RegionResult, RunOptions, write_region
from flows.generator.submission import YearSpec
from flows.generator.verification import COLUMNS as VERIFICATION_COLUMNS
from flows.methodology import for_year
from flows.reference import load_regions
from flows.settings import Home

__all__ = ["LEDGER_FILE", "VERIFICATION_FILE", "GenerateSummary", "generate_year"]

LEDGER_FILE = Path("_generator") / "defects.json"  # "_" entries are not read by ingest
VERIFICATION_FILE = Path("verification") / "verification.csv"
_OWN_SUFFIXES = (".json", ".xlsx")


@dataclass(frozen=True)
class GenerateSummary:
    """What a generation run wrote (``seconds`` is the only figure that varies between runs)."""

    year: int
    regions: int
    submitters: int  # regions with a counting submission (on time, readable)
    files: int
    json_files: int
    xlsx_files: int
    innovations: int  # in the counting submissions; likewise the answers
    spd_answers: int
    sid_answers: int
    raw_bytes: int
    defects: int
    seconds: float


def _clear_previous(out: Path) -> None:
    """Remove what an earlier run wrote (submission files, ledger, verification file), nothing else."""
    for path in out.iterdir():
        if path.is_file() and path.suffix.lower() in _OWN_SUFFIXES:
            path.unlink()
    (out / LEDGER_FILE).unlink(missing_ok=True)
    verification_file = out / VERIFICATION_FILE
    if verification_file.is_file():
        verification_file.unlink()
    if verification_file.parent.is_dir() and not any(verification_file.parent.iterdir()):
        verification_file.parent.rmdir()


def run_options(year: int, *, seed: int = 1, scale: float = 1.0, defect_rate: float = 0.0,
                formats: tuple[str, ...] = ("json", "xlsx"), xlsx_share: float = 0.1) -> RunOptions:
    """The options of a run, with the year's method and the non-autonomous codes of the region master."""
    if not formats or any(f not in ("json", "xlsx") for f in formats):
        raise ValueError(f"formats must be a non-empty subset of ('json', 'xlsx'), not {formats!r}")
    if scale <= 0 or not 0 <= defect_rate <= 1 or not 0 <= xlsx_share <= 1:
        raise ValueError("scale must be > 0; defect_rate and xlsx_share between 0 and 1")
    method = for_year(year).method
    administrative = tuple((r.code, r.name) for r in load_regions(year) if not r.autonomous)
    return RunOptions(YearSpec(year, method, method.deadline_for(year)), seed, scale, defect_rate,
                      tuple(formats), xlsx_share, administrative)


def generate_year(home: Home, year: int, *, seed: int = 1, scale: float = 1.0, defect_rate: float = 0.0,
                  formats: tuple[str, ...] = ("json", "xlsx"), xlsx_share: float = 0.1,
                  progress: Callable[[int, int], None] | None = None) -> GenerateSummary:
    """Write a synthetic year into ``home.raw_year(year)``; ``progress(done, total)`` after each region."""
    started = time.perf_counter()
    options = run_options(year, seed=seed, scale=scale, defect_rate=defect_rate, formats=formats,
                          xlsx_share=xlsx_share)
    regions = [r for r in load_regions(year) if r.autonomous]
    out = home.raw_year(year)
    out.mkdir(parents=True, exist_ok=True)
    _clear_previous(out)
    (out / VERIFICATION_FILE).parent.mkdir(exist_ok=True)
    totals = RegionResult()
    submitters = 0
    with (out / VERIFICATION_FILE).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(VERIFICATION_COLUMNS)
        for done, region in enumerate(regions, start=1):
            result = write_region(options, region, out)
            writer.writerows(result.verification)
            submitters += result.counts
            totals.files += result.files
            totals.ledger += result.ledger
            for name in ("json_files", "xlsx_files", "raw_bytes", "innovations", "spd_answers", "sid_answers"):
                setattr(totals, name, getattr(totals, name) + getattr(result, name))
            if progress is not None:
                progress(done, len(regions))
    ledger = {"seed": seed, "defect_rate": defect_rate, "defects": totals.ledger}
    (out / LEDGER_FILE).parent.mkdir(exist_ok=True)
    (out / LEDGER_FILE).write_text(json.dumps(ledger, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return GenerateSummary(year, len(regions), submitters, len(totals.files), totals.json_files,
                           totals.xlsx_files, totals.innovations, totals.spd_answers, totals.sid_answers,
                           totals.raw_bytes, len(totals.ledger), round(time.perf_counter() - started, 3))
