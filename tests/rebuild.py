"""Compare what a home published after a sequence of incremental runs with a rebuild from scratch.

``run_stages`` runs the annual flow's stages as the flow does (``--from-stage``, ``--force``) without
Prefect; ``assert_same_as_rebuild`` copies the home's drop zone of a year (and of the years before it)
into a fresh home, runs each once, and compares the latest releases of the year: every published table
(rows in the order written, the release column left out), every region page byte for byte, the coaching
list, the yearly report (its release number aside) and the manifest's counts, inputs and validation
outcome.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb

from flows import pipeline
from flows.publish import TABLES
from flows.releases import latest_release
from flows.settings import Home


def run_stages(home: Home, year: int, from_stage: str = "ingest", force: bool = False) -> dict[str, Any]:
    """The stages from ``from_stage`` then publish, with the force each gets in the flow (annual._stages)."""
    first = pipeline.STAGES.index(from_stage)
    stages: dict[str, Callable[..., dict[str, Any]]] = {
        "ingest": pipeline.ingest, "validate": pipeline.validate, "transform": pipeline.transform}
    results: dict[str, Any] = {}
    for position, stage in enumerate(pipeline.STAGES[:-1]):
        if position >= first:
            results[stage] = stages[stage](home, year, force=force or (position == first and first > 0))
    results["publish"] = pipeline.publish(home, year, {"run_id": "rebuild-test"})
    return results


def published_content(home: Home, year: int) -> dict[str, Any]:
    """The latest release of ``year``: each table's rows as written (no release column), each region
    page's bytes and the coaching list's."""
    release = latest_release(home, year)
    assert release is not None, f"no release of {year} in {home.root}"
    folder = Path(release.path)
    content: dict[str, Any] = {}
    con = duckdb.connect()
    try:
        for name in TABLES:
            content[name] = con.execute("select * exclude (release) from read_parquet(?)",
                                        [str(folder / f"{name}.parquet")]).fetchall()
    finally:
        con.close()
    for page in sorted((folder / "report" / "region").glob("*.html")):
        content[f"page {page.stem}"] = page.read_bytes()
    content["coaching.csv"] = (folder / "coaching.csv").read_bytes()
    # the yearly report names its release (and links the one before): that is all it may differ in
    index = (folder / "report" / "index.html").read_text(encoding="utf-8")
    content["report/index.html"] = re.sub(r"(rilis|release\)) \d+", r"\1 N", index)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for part in ("inputs", "counts", "reconciliation", "content_hashes", "methodology", "region_master"):
        content[f"manifest {part}"] = manifest[part]
    # what this run validated depends on the runs before; what validation found must not
    content["manifest validation"] = {k: v for k, v in manifest["validation"].items()
                                      if k not in ("files_validated", "rows_validated")}
    return content


def differences(left: dict[str, Any], right: dict[str, Any], limit: int = 3) -> list[str]:
    """What differs between two ``published_content``: a line per table or page, with a few rows."""
    found = []
    for name in sorted(set(left) | set(right)):
        a, b = left.get(name), right.get(name)
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list):
            only_a = [r for r in a if r not in b][:limit]
            only_b = [r for r in b if r not in a][:limit]
            how = "order only" if sorted(map(repr, a)) == sorted(map(repr, b)) else f"{len(a)} vs {len(b)} rows"
            found.append(f"{name}: {how}; incremental only {only_a}; rebuild only {only_b}")
        else:
            found.append(f"{name}: differs" if a is not None and b is not None else f"{name}: only on one side")
    return found


def copy_drop_zones(home: Home, years: Iterable[int], root: Path) -> Home:
    """A fresh home at ``root`` holding a copy of ``home``'s drop zones of ``years`` and nothing else."""
    fresh = Home.resolve(root)
    for year in years:
        shutil.copytree(home.raw_year(year), fresh.raw_year(year), symlinks=True)
    return fresh


def rebuild(home: Home, year: int, root: Path) -> Home:
    """A fresh home at ``root`` with a copy of ``home``'s drop zones of ``year`` and the years before it
    (whose releases its report reads), each run once, oldest first."""
    years = sorted(int(p.name) for p in home.raw.iterdir() if p.name.isdigit() and int(p.name) <= year)
    fresh = copy_drop_zones(home, years, root)
    for each in years:
        run_stages(fresh, each)
    return fresh


def assert_same_as_rebuild(home: Home, year: int, root: Path) -> None:
    """The latest release of ``home`` equals what a rebuild from its drop zone in a fresh home at ``root``
    publishes."""
    fresh = rebuild(home, year, root)
    diff = differences(published_content(home, year), published_content(fresh, year))
    assert not diff, "incremental release differs from a rebuild:\n" + "\n".join(diff)
