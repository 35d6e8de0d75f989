"""``iid report``: rebuild the pages of an existing release into another folder (the release stays as it is)."""

from __future__ import annotations

from pathlib import Path

from flows.methodology import LoadedMethodology
from flows.releases import Release, latest_release, no_release, release_dirs
from flows.report import ReportSummary, build_release_report
from flows.settings import Home


class ReportError(ValueError):
    """The release does not exist or the output folder is not allowed; the message says what to do."""


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
    raise ReportError(f"release {release} of {year} does not exist (published releases: {numbers})")


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
    return methodology_named(release.year, release.manifest.get("methodology"),
                             f"release {release.number} of {release.year}")


def methodology_named(year: int, entry: object, whose: str, remedy: str = "then run again") -> LoadedMethodology:
    """The methodology file ``entry`` names (a manifest's ``{"file", "sha256"}``): that file in the reference
    folder when its sha256 matches, else any methodology file there with that sha256 (a kept earlier version);
    the file in force for ``year`` when ``entry`` has no sha256 (a manifest of before methodologies were
    hashed). :class:`ReportError` naming ``whose`` tables, both sha256 and what to restore (and ``remedy``)
    when no file has it: a report under another file would not be theirs."""
    from flows.methodology import MethodologyError, for_year, load_file
    from flows.settings import reference_dir
    from flows.versioning import sha256_file

    if not isinstance(entry, dict) or not entry.get("sha256"):
        return for_year(year)
    folder = reference_dir() / "methodology"
    named = folder / Path(str(entry.get("file") or "")).name
    candidates = [named, *sorted(p for p in folder.glob("*.json") if p != named and p.name != "index.json")]
    for path in candidates:
        if path.is_file() and sha256_file(path) == entry["sha256"]:
            try:
                return load_file(path)
            except MethodologyError as exc:
                raise ReportError(str(exc)) from None
    now = sha256_file(named)[:12] if named.is_file() else "missing"
    raise ReportError(f"{whose} was scored under {entry.get('file')} sha256 {str(entry['sha256'])[:12]}…, and "
                      f"{named} is now {now}: no methodology file in {folder} has that sha256; restore that version "
                      f"(e.g. from git history) beside the others, {remedy}")


def rebuild(year: int, release: int | None, out: Path | None, home: Home) -> ReportSummary:
    found = find_release(home, year, release)
    method = scored_under(found)
    target = report_folder(year, found.number, out, home)
    target.mkdir(parents=True, exist_ok=True)
    return build_release_report(found.path, home, year, found.number, out_dir=target, methodology=method)


def report_command(year: int, release: int | None, out: Path | None, home: Home) -> Path:
    """Rebuild the report of a release (default: the latest of the year) into ``out``; returns the index page."""
    return rebuild(year, release, out, home).index
