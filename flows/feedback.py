"""Feedback to regions: what was rejected or warned in a region's submissions, and why.

Built from the latest release of a year (``submissions``, ``quarantine`` and ``data_quality``), in the
words a regional operator understands: which of its files counts and why the others do not, then for the
files that count or were rejected which record, where in it, what rule, what to correct.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from flows.releases import Release
from flows.scratch import scratch
from flows.values import WIB

_PART = re.compile(r"\.?(spd|innovations|sid|evidence)\[(\d+)\]")
_NAMES = {"spd": "SPD answer", "innovations": "innovation", "sid": "SID answer", "evidence": "evidence item"}


def describe_locator(locator: str) -> str:
    """``$.innovations[7].sid[4]`` → ``innovation no. 8, SID answer no. 5``; ``sid!120`` → ``sheet sid, row 120``."""
    if locator == "(file)":
        return "the whole file"
    if locator in ("$", "profil"):
        return "the submission header (profil)"
    if locator.startswith("line "):
        return f"verification file, {locator}"
    if "!" in locator:
        sheet, _, rest = locator.partition("!")
        row, _, evidence = rest.partition("#")
        text = f"sheet {sheet}, row {row}"
        match = re.search(r"evidence\[(\d+)\]", evidence)
        return text + (f", evidence item {int(match.group(1)) + 1}" if match else "")
    parts = [f"{_NAMES[name]} no. {int(index) + 1}" for name, index in _PART.findall(locator)]
    return ", ".join(parts) or locator


class Finding(NamedTuple):
    """One rejected or warned item (a tuple: a national year has tens of thousands)."""

    source_file: str
    locator: str
    rule: str
    severity: str
    reason: str
    value: str | None


class SubmissionFile(NamedTuple):
    """One of a region's files as ``submissions`` has it: whether it counts, and when it was submitted."""

    source_file: str
    status: str  # counting, superseded, late or rejected
    submitted_at: datetime | None


# What each status means to the region; a finding in a file that does not count changes nothing
STATUS_WORDS = {
    "counting": "counts (dihitung): this is the submission scored",
    "superseded": "superseded (digantikan) by a later submission: not scored",
    "late": "late (terlambat): received after the deadline, not scored",
    "rejected": "rejected (ditolak) as a whole: not scored (see below)",
}
NOT_COUNTING = ("superseded", "late")  # files whose findings are not listed: they change nothing
# those files of a release (parameter $s: its submissions.parquet)
NOT_COUNTING_FILES = f"select source_file from read_parquet($s) where status in {NOT_COUNTING}"  # noqa: S608 - ours


def submission_files(release: Release, region_code: str | None = None) -> dict[str, list[SubmissionFile]]:
    """Each region's files in a release's ``submissions``, in the order they were submitted."""
    con = scratch()
    try:
        rows = con.execute("select region_code, source_file, status, submitted_at from read_parquet($p) "
                           "where region_code is not null and ($code is null or region_code = $code) "
                           "order by region_code, submitted_at nulls first, source_file",
                           {"p": str(release.path / "submissions.parquet"), "code": region_code}).fetchall()
    finally:
        con.close()
    out: dict[str, list[SubmissionFile]] = {}
    for code, *row in rows:
        out.setdefault(str(code), []).append(SubmissionFile(*row))
    return out


# A release's findings (region_code, source_file, locator, rule, severity, reason, value): the records
# rejected on their own (not those rejected with their file or innovation) and the warnings
FINDINGS = """
select region_code, source_file, locator, rule, 'rejected' as severity, reason, value
from read_parquet($q) where not cascaded and record_type <> 'verification' and ($code is null or region_code = $code)
union all
select region_code, source_file, locator, rule, 'warning', reason, value
from read_parquet($w) where $code is null or region_code = $code
"""
FINDINGS_ORDER = "source_file, severity, rule, locator"  # within a region
FINDINGS_FILES = ("quarantine.parquet", "data_quality.parquet")  # the files of a release it reads


def findings_params(release_dir: Path, region_code: str | None = None) -> dict[str, str | None]:
    """The parameters of :data:`FINDINGS` for a release folder (and one region, or all)."""
    return {"q": str(release_dir / FINDINGS_FILES[0]), "w": str(release_dir / FINDINGS_FILES[1]),
            "code": region_code}


def findings(release: Release, region_code: str | None = None) -> dict[str, list[Finding]]:
    """Findings per region code (rejections first, then warnings), from a release's Parquet files."""
    con = scratch()
    try:
        rows = con.execute(f"{FINDINGS} order by region_code, {FINDINGS_ORDER}",
                           findings_params(release.path, region_code)).fetchall()
    finally:
        con.close()
    out: dict[str, list[Finding]] = {}
    make = Finding._make
    for row in rows:
        if row[0]:
            out.setdefault(str(row[0]), []).append(make(row[1:]))
    return out


def render(year: int, code: str, name: str, items: list[Finding], files: Sequence[SubmissionFile] = (),
           deadline: datetime | None = None, now: datetime | None = None) -> str:
    """A plain-text (Markdown) letter for one region: its files (``files``, from ``submissions``) and what each
    is, then the findings (``items``) of the files that count or were rejected; those of a superseded or late
    file are counted, not listed, as they change nothing. With the year's ``deadline``, the letter says by when
    to submit again or, written after it (``now``, default the present), that this year's scores stand."""
    lines = [f"# Umpan balik IID {year} — {name} ({code})", "",
             f"Feedback on the submissions of {name} for the Regional Innovation Index {year}.", ""]
    if files:
        lines += ["## Submissions (penyampaian)", ""]
        for sent in files:
            at = f", submitted {sent.submitted_at.astimezone(WIB):%Y-%m-%d %H:%M} WIB" if sent.submitted_at else ""
            lines.append(f"- `{sent.source_file}`{at}: {STATUS_WORDS.get(sent.status, sent.status)}")
        lines.append("")
        if not any(sent.status == "counting" for sent in files):
            lines += [f"None of these submissions counts, so {name} has no score for {year} (Tidak Dapat Dinilai).",
                      ""]
    elif not items:
        lines.append(f"No submission of {name} for {year} was received. / Tidak ada penyampaian.")
        return "\n".join(lines) + "\n"
    aside = {sent.source_file for sent in files if sent.status in NOT_COUNTING}
    unlisted = sum(1 for f in items if f.source_file in aside)
    items = [f for f in items if f.source_file not in aside]
    rejected = [f for f in items if f.severity == "rejected"]
    warned = [f for f in items if f.severity == "warning"]
    if not items:
        if not files or any(sent.status == "counting" for sent in files):
            lines.append("Nothing was rejected or flagged: thank you. / Tidak ada temuan.")
    else:
        lines.append(f"{len(rejected)} item(s) were rejected (ditolak) and do not count; "
                     f"{len(warned)} item(s) were accepted with a warning (peringatan).")
        lines.append(_what_to_do(year, deadline, now))
    if unlisted:
        lines.append(f"{unlisted} finding(s) in the files that are superseded or late are not listed: those files "
                     "are not scored.")
    for title, group in (("Rejected (ditolak)", rejected), ("Warnings (peringatan)", warned)):
        if not group:
            continue
        lines += ["", f"## {title}", ""]
        for f in group:
            value = f" — value: `{f.value}`" if f.value else ""
            lines.append(f"- **{f.rule}** in `{f.source_file}`, {describe_locator(f.locator)}: {f.reason}{value}")
    return "\n".join(lines) + "\n"


def _what_to_do(year: int, deadline: datetime | None, now: datetime | None) -> str:
    if deadline is None:
        return "Please correct them and submit the whole submission again before the deadline."
    day = f"{deadline:%Y-%m-%d %H:%M} UTC{deadline.isoformat()[-6:]}"  # 2024-08-02 23:59 UTC+07:00
    if (now or datetime.now(deadline.tzinfo)) <= deadline:
        return f"Please correct them and submit the whole submission again before the deadline, {day}."
    return (f"The deadline for {year}, {day}, has passed, so these stay as scored this year; please correct them "
            "in your next submission.")


def write_letters(year: int, letters: dict[str, str], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for code, text in sorted(letters.items()):
        path = out / f"feedback-{year}-{code}.md"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
