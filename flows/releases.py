"""Find published releases: a folder ``release=N`` with a ``manifest.json`` is a release."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.settings import Home

# folder names of the published layout: year=<Y>/release=<N>
RELEASE_FOLDER = re.compile(r"release=(\d+)")
YEAR_FOLDER = re.compile(r"year=(\d{4})")


@dataclass(frozen=True)
class Release:
    year: int
    number: int
    path: Path
    manifest: dict[str, Any]


def release_dirs(home: Home, year: int) -> list[Release]:
    """Complete releases of a year, oldest first (folders without a readable manifest are skipped)."""
    out: list[Release] = []
    year_dir = home.published_year(year)
    if not year_dir.is_dir():
        return out
    for path in year_dir.iterdir():
        match = RELEASE_FOLDER.fullmatch(path.name)
        manifest_path = path / "manifest.json"
        if not match or not manifest_path.is_file():
            continue
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        out.append(Release(year, int(match.group(1)), path, manifest))
    return sorted(out, key=lambda r: r.number)


def latest_release(home: Home, year: int) -> Release | None:
    releases = release_dirs(home, year)
    return releases[-1] if releases else None


def published_years(home: Home) -> list[int]:
    if not home.published.is_dir():
        return []
    years = (YEAR_FOLDER.fullmatch(p.name) for p in home.published.iterdir())
    return sorted(int(m.group(1)) for m in years if m)


def all_releases(home: Home) -> list[Release]:
    return [r for year in published_years(home) for r in release_dirs(home, year)]
