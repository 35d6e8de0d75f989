"""What the benchmark does to a year's home between runs: a region's corrected resubmission, a file
corrected in place, and taking both back (the drop zone as generated, the warehouse and releases gone)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows.settings import Home

RESUBMISSION = "-bench-resubmission.json"  # the name a bench resubmission ends with, after the code


def _counting_json(home: Home, year: int, before: datetime, last: bool) -> tuple[str, Path, dict[str, Any]]:
    """The first (or ``last``) region by code whose counting submission, in the latest release, is a JSON
    file submitted before ``before`` and not a bench resubmission: its code, file and parsed content."""
    import duckdb

    from flows.releases import latest_release

    release = latest_release(home, year)
    if release is None:
        raise RuntimeError(f"no release of {year} to change")
    rows = duckdb.connect().execute(
        "select region_code, source_file from read_parquet(?) where status = 'counting' and format = 'json' "
        "and submitted_at < ? and source_file not like ? order by region_code",
        [str(release.path / "submissions.parquet"), before, f"%{RESUBMISSION}"]).fetchall()
    if not rows:
        raise RuntimeError("no region to change")
    code, source = rows[-1 if last else 0]
    path = home.raw_year(year) / source
    return str(code), path, json.loads(path.read_text(encoding="utf-8"))


def _change_one_answer(doc: dict[str, Any]) -> str:
    """Change the first SPD answer's level (3 ↔ 0): called twice, it changes it back. Returns the JSON."""
    first = doc["spd"][0]
    first["level"] = 0 if first.get("level") else 3
    first.pop("value", None)
    return json.dumps(doc)


def resubmit_one_region(home: Home, year: int) -> str:
    """A corrected, complete resubmission of one region an hour after its counting one; returns its code."""
    from flows.methodology import for_year

    deadline = for_year(year).method.deadline_for(year)
    code, _, doc = _counting_json(home, year, deadline - timedelta(hours=1), last=False)
    doc["submitted_at"] = (datetime.fromisoformat(doc["submitted_at"]) + timedelta(hours=1)).isoformat()
    (home.raw_year(year) / f"{code}{RESUBMISSION}").write_text(_change_one_answer(doc), encoding="utf-8")
    return code


def correct_in_place(home: Home, year: int, keep: Callable[[Path], None] | None = None) -> str:
    """A region's counting JSON file rewritten in place with one answer changed (same name, same
    submission time), as an operator fixing a file would; returns the region's code. Called again, it
    changes the answer back, so every call changes the file. ``keep`` is given the file first."""
    code, path, doc = _counting_json(home, year, datetime.max.replace(tzinfo=UTC), last=True)
    if keep is not None:
        keep(path)
    path.write_text(_change_one_answer(doc), encoding="utf-8")
    return code


def fresh_home(home: Home) -> None:
    """Back to the home as generated: the warehouse (work databases, catalog, runs) and the releases go,
    the drop zone stays."""
    for folder in (home.warehouse, home.published):
        shutil.rmtree(folder, ignore_errors=True)  # a release's files are read-only, its folders are not


@dataclass
class DropZone:
    """What the benchmark changes in a year's drop zone, to take back: the resubmissions it adds and the
    files it corrects in place (their bytes as generated)."""

    folder: Path
    originals: dict[Path, bytes] = field(default_factory=dict)

    def keep(self, path: Path) -> None:
        """Remember ``path`` as generated before it is first changed."""
        self.originals.setdefault(path, path.read_bytes())

    def restore(self) -> None:
        for path, data in self.originals.items():
            path.write_bytes(data)
        self.originals.clear()
        for added in self.folder.glob(f"*{RESUBMISSION}"):
            added.unlink()
