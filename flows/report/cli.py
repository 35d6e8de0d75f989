"""``iid report``: rebuild the pages of an existing release into another folder (the release stays as it is)."""

from __future__ import annotations

from pathlib import Path

from flows.releases import Release, latest_release, release_dirs
from flows.report import ReportSummary, build_release_report
from flows.settings import Home


class ReportError(ValueError):
    """The release does not exist or the output folder is not allowed; the message says what to do."""


def find_release(home: Home, year: int, release: int | None) -> Release:
    if release is None:
        found = latest_release(home, year)
        if found is None:
            raise ReportError(f"no release of {year} in {home.published}; run 'iid run --year {year}' first")
        return found
    for candidate in release_dirs(home, year):
        if candidate.number == release:
            return candidate
    numbers = [r.number for r in release_dirs(home, year)] or "none"
    raise ReportError(f"release {release} of {year} does not exist (published releases: {numbers})")


def report_folder(year: int, release: int, out: Path | None, home: Home) -> Path:
    """``out``, or ``./report-<year>-r<N>``; never a folder inside the published releases."""
    target = (out if out is not None else Path.cwd() / f"report-{year}-r{release}").expanduser().resolve()
    published = home.published.resolve()
    if target == published or published in target.parents:
        raise ReportError(f"{target} is inside the published releases, which are immutable; choose another --out")
    return target


def rebuild(year: int, release: int | None, out: Path | None, home: Home) -> ReportSummary:
    found = find_release(home, year, release)
    target = report_folder(year, found.number, out, home)
    target.mkdir(parents=True, exist_ok=True)
    return build_release_report(found.path, home, year, found.number, out_dir=target)


def report_command(year: int, release: int | None, out: Path | None, home: Home) -> Path:
    """Rebuild the report of a release (default: the latest of the year) into ``out``; returns the index page."""
    return rebuild(year, release, out, home).index
