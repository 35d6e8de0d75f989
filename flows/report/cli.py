"""``iid report``: rebuild the pages of an existing release into another folder (the release stays as it is)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

from flows.errors import first_line
from flows.methodology import LoadedMethodology, MethodologyError, methodology_named
from flows.releases import (
    REGION_SCORES,
    DamagedRelease,
    Release,
    check_release,
    history_releases,
    latest_release,
    lost_manifest,
    no_release,
    release_dirs,
    repair_advice,
)
from flows.report import ReportSummary, build_release_report
from flows.settings import Home


class ReportError(ValueError):
    """The release does not exist or is damaged, or the output folder is not allowed; the message says what to do."""


# the files of a release its report reads
REPORT_FILES = (REGION_SCORES, "indicator_scores.parquet", "innovation_scores.parquet", "submissions.parquet",
                "quarantine.parquet", "data_quality.parquet")


def find_release(home: Home, year: int, release: int | None) -> Release:
    if release is None:
        found = latest_release(home, year)
        if found is None:
            raise ReportError(no_release(home, year))
        return found
    for candidate in release_dirs(home, year):
        if candidate.number == release:
            return candidate
    numbers = [r.number for r in release_dirs(home, year)] or "none"
    raise ReportError(f"release {release} of {year} does not exist (published releases: {numbers})"
                      + lost_manifest(home, year, release))


def report_folder(year: int, release: int, out: Path | None, home: Home) -> Path:
    """``out``, or ``./report-<year>-r<N>``; never a folder inside the published releases."""
    target = (out if out is not None else Path.cwd() / f"report-{year}-r{release}").expanduser().resolve()
    published = home.published.resolve()
    if target == published or published in target.parents:
        raise ReportError(f"{target} is inside the published releases, which are immutable; choose another --out")
    return target


def scored_under(release: Release) -> LoadedMethodology:
    """The methodology file a release was scored under, as its manifest names it (file and sha256): that
    file in the reference folder, or any methodology file there with that sha256 (a kept earlier version).
    :class:`ReportError` when none has it: a report under another file would not be that release's."""
    try:
        return methodology_named(release.year, release.manifest.get("methodology"),
                                 f"release {release.number} of {release.year}")
    except MethodologyError as exc:
        raise ReportError(str(exc)) from None


def history_of(home: Home, release: Release) -> dict[int, Release] | None:
    """The earlier years' releases the report of ``release`` read, as its manifest's ``history`` names them
    (year -> release number and that release's manifest sha256), each checked against its manifest;
    None for a release without that record (its report is rebuilt from the latest release of each
    earlier year). :class:`ReportError` when a recorded release is missing or its manifest changed."""
    from flows.versioning import sha256_file

    recorded = release.manifest.get("history")
    if not isinstance(recorded, dict):
        return None
    read: dict[int, Release] = {}
    for key, entry in sorted(recorded.items()):
        try:
            year, number, sha = int(key), int(entry["release"]), str(entry["manifest_sha256"])
        except (KeyError, TypeError, ValueError):
            raise ReportError(f"release {release.number} of {release.year}: its manifest's history entry {key!r} is "
                              f"not a year with a release and manifest_sha256 ({entry!r}); restore manifest.json "
                              "from a copy of the release (e.g. the --copy-to location)") from None
        found = next((r for r in release_dirs(home, year) if r.number == number), None)
        if found is None or sha256_file(found.path / "manifest.json") != sha:
            state = "is missing" if found is None else "has another manifest"
            raise ReportError(f"release {release.number} of {release.year} read release {number} of {year} (manifest "
                              f"sha256 {sha[:12]}…), which {state} in {home.published_year(year)}: restore that "
                              "release from a copy (e.g. the --copy-to location), then run again")
        read[year] = found
    return read


def _checked(release: Release, names: tuple[str, ...], role: str = "") -> None:
    """:class:`ReportError` naming the release, the file and what to do when its files do not match its manifest."""
    try:
        check_release(release, names)
    except DamagedRelease as exc:
        raise ReportError(f"{role}{exc}") from None


def rebuild(year: int, release: int | None, out: Path | None, home: Home,
            note: Callable[[str], None] | None = None) -> ReportSummary:
    """Rebuild a release's report under the methodology file and earlier years' releases it was built with;
    ``note`` is told, in one line, when the release records no history (the latest releases are read)."""
    found = find_release(home, year, release)
    method = scored_under(found)
    _checked(found, REPORT_FILES)
    history = history_of(home, found)
    if history is None and note is not None:
        note(f"release {found.number} of {year} records no history (published before manifests did): its report "
             "is rebuilt from the latest release of each earlier year, which may not be those it read")
    for earlier in (history_releases(home, year) if history is None else history).values():
        _checked(earlier, (REGION_SCORES,), f"the report of {year} reads it as history: ")
    target = report_folder(year, found.number, out, home)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        return build_release_report(found.path, home, year, found.number, out_dir=target, methodology=method,
                                    history_from=history)
    except (duckdb.Error, OSError) as exc:  # a file changed since it was checked, the output disk full…
        if created:
            shutil.rmtree(target, ignore_errors=True)
        advice = repair_advice(year) if isinstance(exc, duckdb.Error) else "free space or fix permissions"
        raise ReportError(f"cannot rebuild the report of release {found.number} of {year} ({found.path}) into "
                          f"{target}: {first_line(exc)}; {advice}") from None


def report_command(year: int, release: int | None, out: Path | None, home: Home,
                   note: Callable[[str], None] | None = None) -> Path:
    """Rebuild the report of a release (default: the latest of the year) into ``out``; returns the index page."""
    return rebuild(year, release, out, home, note).index
