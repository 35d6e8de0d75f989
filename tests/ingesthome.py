"""The ingest tests' smallest drop zone: one submission with one innovation, and a verification CSV rejecting
that innovation."""

from __future__ import annotations

from pathlib import Path

from factory import innovation, submission, write_home

from flows.settings import Home

YEAR = 2024
REJECT = {"region_code": "35.78", "innovation_id": "35.78-1", "indicator": "", "decision": "reject",
          "verified_level": "", "note": "tidak ada"}


def home_rejecting_one_innovation(tmp_path: Path) -> Home:
    """One submission with one innovation, and a verification CSV rejecting that innovation."""
    return write_home(tmp_path, YEAR, {"35.78.json": submission("35.78", spd_total=30,
                                                                 innovations=[innovation("35.78-1", 50)])}, [REJECT])
