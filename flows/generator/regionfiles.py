"""Everything one region contributes to a generated year: its files, defects and verification rows.

A region draws from RNGs of its own (plan, content, defects, verification), so its files do not
depend on any other region, and the clean content does not depend on the defect rate.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from random import Random
from typing import Any

from flows.generator import defects, verification, writers
from flows.generator.profile import RegionPlan, plan_region, region_rng
from flows.generator.submission import YearSpec, final_submission, other_version
from flows.reference import Region


@dataclass(frozen=True)
class RunOptions:
    """The knobs of one generation run, with the year's method."""

    spec: YearSpec
    seed: int
    scale: float
    defect_rate: float
    formats: tuple[str, ...]
    xlsx_share: float
    administrative: tuple[tuple[str, str], ...] = ()

    @property
    def row_codes(self) -> frozenset[str]:
        return frozenset(r.code for r in self.spec.method.rows)

    @property
    def numeric_codes(self) -> frozenset[str]:
        return frozenset(r.code for r in self.spec.method.rows if r.kind == "numeric")


@dataclass
class RegionResult:
    """Files written for a region and the figures of its counting submission."""

    files: list[str] = field(default_factory=list)
    json_files: int = 0
    xlsx_files: int = 0
    raw_bytes: int = 0
    counts: bool = False  # has a counting submission (on time, readable)
    innovations: int = 0
    spd_answers: int = 0
    sid_answers: int = 0
    ledger: list[dict[str, Any]] = field(default_factory=list)
    verification: list[list[str]] = field(default_factory=list)


@dataclass
class _Version:
    doc: dict[str, Any]
    on_time: bool
    kind: defects.DefectKind | None = None
    injection: defects.Injection | None = None
    injected_doc: dict[str, Any] | None = None


def plan(options: RunOptions, region: Region, force_format: str | None = None) -> RegionPlan:
    xlsx_allowed = "xlsx" in options.formats
    share = options.xlsx_share if "json" in options.formats else 1.0
    drawn = plan_region(region, options.spec.year, options.seed, options.scale, options.spec.deadline,
                        xlsx_share=share, xlsx_allowed=xlsx_allowed)
    if force_format is not None:
        drawn = replace(drawn, xlsx=force_format == "xlsx")
    return drawn


def _versions(options: RunOptions, region_plan: RegionPlan) -> list[_Version]:
    spec = options.spec
    rng = region_rng(options.seed, spec.year, region_plan.region.code, "content")
    final = final_submission(rng, spec, region_plan)
    versions = [_Version(final, region_plan.late != "only")]
    if region_plan.resubmits:
        versions.insert(0, _Version(other_version(rng, final, region_plan.times[0], earlier=True), True))
    if region_plan.late == "correction":
        versions.append(_Version(other_version(rng, final, region_plan.times[-1], earlier=False), False))
    return versions


def _inject(options: RunOptions, version: _Version, fmt: str, rng: Random, forced: str | None,
            counts: bool) -> None:
    kinds = [defects.BY_NAME[forced]] if forced else defects.applicable(fmt)
    order = list(kinds)
    rng.shuffle(order)
    for kind in order:
        doc = copy.deepcopy(version.doc)
        target = defects.Target(doc, fmt, options.spec.deadline, options.row_codes, options.numeric_codes,
                                options.administrative, counts)
        injection = kind.inject(target, rng)
        if injection is not None:
            version.kind, version.injection, version.injected_doc = kind, injection, doc
            return
    if forced:
        raise ValueError(f"defect {forced!r} cannot be injected into this submission")


def _render(doc: dict[str, Any], fmt: str, injection: defects.Injection | None) -> bytes:
    omit = injection.omit_sheets if injection else ()
    data = writers.render_json(doc) if fmt == "json" else writers.render_xlsx(doc, omit_sheets=omit)
    return injection.transform(data) if injection and injection.transform else data


def write_region(options: RunOptions, region: Region, out: Path, *, force_defect: str | None = None,
                 force_format: str | None = None) -> RegionResult:
    """Write a region's files into ``out`` and return what it contributed.

    ``force_defect`` injects that defect kind into the counting version (tests use it).
    """
    result = RegionResult()
    region_plan = plan(options, region, force_format)
    if not region_plan.times:
        return result
    fmt = "xlsx" if region_plan.xlsx else "json"
    versions = _versions(options, region_plan)
    defect_rng = region_rng(options.seed, options.spec.year, region.code, "defects")
    on_time = [v for v in versions if v.on_time]
    last_on_time = on_time[-1] if on_time else None
    forced_version = last_on_time or versions[-1]
    for version in versions:
        drawn = defect_rng.random() < options.defect_rate
        if force_defect is None and drawn:
            _inject(options, version, fmt, defect_rng, None, version is last_on_time)
        elif force_defect is not None and version is forced_version:
            _inject(options, version, fmt, defect_rng, force_defect, version is last_on_time)

    def emit(doc: dict[str, Any], injection: defects.Injection | None) -> str:
        name = f"{region.code}-{len(result.files) + 1}.{fmt}"
        data = _render(doc, fmt, injection)
        (out / name).write_bytes(data)
        result.files.append(name)
        result.raw_bytes += len(data)
        result.json_files += fmt == "json"
        result.xlsx_files += fmt == "xlsx"
        return name

    counting: _Version | None = None
    for version in versions:
        kind, injection = version.kind, version.injection
        if kind is None or injection is None or version.injected_doc is None:
            emit(version.doc, None)
        elif injection.copy_first:
            emit(version.injected_doc, injection)
            name = emit(version.doc, None)
        elif injection.as_copy:
            emit(version.doc, None)
            name = emit(version.injected_doc, injection)
        else:
            name = emit(version.injected_doc, injection)
        if kind is not None and injection is not None:
            result.ledger.append({"kind": kind.name, "rule": kind.rule, "severity": kind.severity, "file": name,
                                  "locator": injection.locator, "region_code": injection.region_code or region.code})
        if version.on_time and not (kind and injection and not injection.as_copy and kind.loses_submission):
            counting = version
    if counting is not None:
        _count(options, region, counting, result)
    return result


def _count(options: RunOptions, region: Region, counting: _Version, result: RegionResult) -> None:
    injection = counting.injection if counting.injection and not counting.injection.as_copy else None
    doc = counting.injected_doc if injection and counting.injected_doc is not None else counting.doc
    result.counts = True
    result.innovations = len(doc["innovations"])
    result.spd_answers = len(doc["spd"])
    result.sid_answers = sum(len(inv["sid"]) for inv in doc["innovations"])
    rng = region_rng(options.seed, options.spec.year, region.code, "verification")
    result.verification = list(verification.decisions(
        rng, options.spec.method, doc,
        skip_spd=injection.touched_spd if injection else frozenset(),
        skip_innovations=injection.touched_innovations if injection else frozenset()))
