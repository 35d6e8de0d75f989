"""The scoring method as data: versioned files under ``data/reference/methodology/``.

A method file holds rows (weights, levels, cut-points with direction), divisor, the rule of the
innovation-count score (JI), bands, deadlines and the lists of urusan and enumerations. The index
maps years to methods. Files are checked on load; a malformed file is a :class:`MethodologyError`
naming the file and the field.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flows.settings import reference_dir

PREDICATES = ("Sangat Inovatif", "Inovatif", "Kurang Inovatif", "Tidak Dapat Dinilai")


class MethodologyError(ValueError):
    """A methodology file is missing or malformed, or cannot score a year; the message names the file and the
    field or year."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Row(_Strict):
    """One indicator row: ``weight × level``; numeric rows map a value to a level by cut-points."""

    code: str
    part: Literal["spd", "sid"]
    indicator: int
    name: str
    name_en: str
    weight: float = Field(gt=0)
    kind: Literal["choice", "numeric"]
    levels: tuple[str, str, str]
    direction: Literal["higher", "lower"] | None = None
    cutpoints: tuple[float, float, float] | None = None
    value_range: tuple[float | None, float | None] | None = None

    @field_validator("cutpoints", mode="before")
    @classmethod
    def _infinite(cls, raw: Any) -> Any:
        if isinstance(raw, list):
            return [float(v) if isinstance(v, str) and v in ("inf", "-inf") else v for v in raw]
        return raw

    @model_validator(mode="after")
    def _numeric_complete(self) -> Row:
        if self.kind == "numeric":
            if self.direction is None or self.cutpoints is None:
                raise ValueError(f"row {self.code}: a numeric row needs direction and cutpoints")
            c = self.cutpoints
            ordered = c[0] <= c[1] <= c[2] if self.direction == "higher" else c[0] >= c[1] >= c[2]
            if not ordered:
                raise ValueError(f"row {self.code}: cutpoints {list(c)} are not ordered for '{self.direction}'")
        elif self.direction is not None or self.cutpoints is not None:
            raise ValueError(f"row {self.code}: a choice row has no direction or cutpoints")
        return self

    def value_level(self, value: float) -> int:
        """Level implied by a numeric value (IID.md §6): cut-points reached (higher) or stayed below."""
        assert self.cutpoints is not None
        if self.direction == "higher":
            return sum(1 for c in self.cutpoints if value >= c)
        return sum(1 for c in self.cutpoints if value < c)


class Band(_Strict):
    predicate: Literal["Sangat Inovatif", "Inovatif", "Kurang Inovatif", "Tidak Dapat Dinilai"]
    min: float = Field(ge=0, le=100)
    max: float = Field(ge=0, le=100)


class Divisor(_Strict):
    minimum: int = Field(gt=0)
    by_year: dict[str, int] = {}


class InnovationCount(_Strict):
    per_innovation: float = Field(gt=0)
    cap: int = Field(gt=0)
    min_basic_service_affairs: int | None = None


class Deadlines(_Strict):
    timezone: str
    default_month_day: str
    by_year: dict[str, date] = {}


class Affair(_Strict):
    name: str
    group: str
    basic_service: bool


class Enumerations(_Strict):
    form: tuple[str, ...]
    kind: tuple[str, ...]
    initiator: tuple[str, ...]
    stage: tuple[str, ...]


class Evidence(_Strict):
    allowed_extensions: tuple[str, ...]
    url_schemes: tuple[str, ...]


class Narrative(_Strict):
    design_min_words: int | None = None


class Maxima(_Strict):
    spd: float
    sid_maturity: float
    innovation_count: float
    total: float


class Methodology(_Strict):
    """A whole method version (``iid-2023``, ``iid-2026``)."""

    id: str
    title: str
    schema_: Literal["iid.methodology/v1"] = Field(alias="schema")
    source: str
    max_total: float = Field(gt=0)
    maxima: Maxima
    rows: tuple[Row, ...]
    divisor: Divisor
    innovation_count: InnovationCount
    implementation_window_years: int | None = None
    narrative: Narrative
    rounding: dict[str, Any]
    bands: tuple[Band, ...]
    deadlines: Deadlines
    affairs: tuple[Affair, ...]
    enumerations: Enumerations
    evidence: Evidence

    @model_validator(mode="after")
    def _consistent(self) -> Methodology:
        codes = [r.code for r in self.rows]
        if len(set(codes)) != len(codes):
            raise ValueError("rows: duplicate row codes")
        for part, field in (("spd", "spd"), ("sid", "sid_maturity")):
            top = 3 * sum(r.weight for r in self.rows if r.part == part)
            if not math.isclose(top, getattr(self.maxima, field)):
                raise ValueError(f"rows: {part} weights give a maximum of {top}, maxima.{field} says "
                                 f"{getattr(self.maxima, field)}")
        ji_max = self.innovation_count.per_innovation * self.innovation_count.cap
        if not math.isclose(ji_max, self.maxima.innovation_count):
            raise ValueError(f"innovation_count: {ji_max} is not maxima.innovation_count")
        total = self.maxima.spd + self.maxima.sid_maturity + self.maxima.innovation_count
        if not (math.isclose(total, self.maxima.total) and math.isclose(total, self.max_total)):
            raise ValueError(f"maxima: spd + sid_maturity + innovation_count = {total}, not max_total")
        if [b.predicate for b in self.bands] != list(PREDICATES):
            raise ValueError(f"bands: must list {list(PREDICATES)} from the top down")
        for upper, lower in zip(self.bands, self.bands[1:], strict=False):
            if not math.isclose(round(upper.min - 0.01, 2), lower.max):
                raise ValueError(f"bands: {lower.predicate} ends at {lower.max}, "
                                 f"{upper.predicate} starts at {upper.min} (gap or overlap)")
        if self.bands[-1].min != 0 or self.bands[-1].max != 0 or self.bands[0].max != 100:
            raise ValueError("bands: must cover 0.00 (Tidak Dapat Dinilai) to 100.00")
        return self

    @property
    def spd_rows(self) -> list[Row]:
        return [r for r in self.rows if r.part == "spd"]

    @property
    def sid_rows(self) -> list[Row]:
        return [r for r in self.rows if r.part == "sid"]

    def row(self, code: str) -> Row:
        for r in self.rows:
            if r.code == code:
                return r
        raise KeyError(code)

    def divisor_for(self, year: int) -> int:
        """The divisor of ``year``: its entry in ``divisor.by_year``, or ``divisor.minimum`` in a method that
        lists no year (one divisor for every year). A method that lists years has none for another year
        (``iid-2026`` lists 2026-2029): :class:`MethodologyError`, not ``minimum`` in its place."""
        by_year = self.divisor.by_year
        if not by_year:
            return self.divisor.minimum
        if str(year) not in by_year:
            raise MethodologyError(f"methodology {self.id} has no divisor for {year} (divisor.by_year lists "
                                   f"{', '.join(sorted(by_year))})")
        return by_year[str(year)]

    def deadline_for(self, year: int) -> datetime:
        """End of the deadline day in the method's time zone (a submission at or before it counts)."""
        day = self.deadlines.by_year.get(str(year))
        if day is None:
            month, dom = (int(x) for x in self.deadlines.default_month_day.split("-"))
            day = date(year, month, dom)
        sign = -1 if self.deadlines.timezone.startswith("-") else 1
        hours, minutes = (int(x) for x in self.deadlines.timezone[1:].split(":"))
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=tz)

    def predicate_for(self, iid: float) -> str:
        """Predicate read from the IID already rounded to two decimals."""
        for band in self.bands:
            if iid >= band.min - 1e-9:
                return band.predicate
        return self.bands[-1].predicate

    @property
    def basic_service_affairs(self) -> list[str]:
        return [a.name for a in self.affairs if a.basic_service]


@dataclass(frozen=True)
class LoadedMethodology:
    """A method with the file it came from and the sha256 of that file's bytes."""

    method: Methodology
    path: Path
    sha256: str


def scoring(loaded: LoadedMethodology, year: int) -> LoadedMethodology:
    """``loaded`` when it can score ``year``; else :class:`MethodologyError` naming its file, the year and what
    to do. A release's file is never edited for a new year (its sha256 is in the manifests scored under it)."""
    try:
        loaded.method.divisor_for(year)
    except MethodologyError as exc:
        raise MethodologyError(f"{loaded.path}: {exc}; add the {year} divisor to a new methodology version (a new "
                               f"file beside it with its own id and {year} in divisor.by_year, and an entry in "
                               f"index.json giving it {year})") from None
    return loaded


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise MethodologyError(f"{path}: methodology file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MethodologyError(f"{path}: not valid JSON ({exc}); restore it from git") from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"field {where}: {err['msg']}")
    return "; ".join(parts)


def load_file(path: Path) -> LoadedMethodology:
    """Load and check one method file."""
    raw = _read_json(path)
    try:
        method = Methodology.model_validate(raw)
    except ValidationError as exc:
        raise MethodologyError(f"{path}: {_describe(exc)}") from None
    return LoadedMethodology(method, path, _sha256(path))


class _IndexEntry(_Strict):
    id: str
    file: str
    first_year: int
    last_year: int | None


class _Index(_Strict):
    schema_: Literal["iid.methodology-index/v1"] = Field(alias="schema")
    methods: tuple[_IndexEntry, ...]


@lru_cache(maxsize=16)
def _load_cached(directory: str, year: int) -> LoadedMethodology:
    index_path = Path(directory) / "index.json"
    try:
        index = _Index.model_validate(_read_json(index_path))
    except ValidationError as exc:
        raise MethodologyError(f"{index_path}: {_describe(exc)}") from None
    for entry in index.methods:
        if entry.first_year <= year and (entry.last_year is None or year <= entry.last_year):
            loaded = load_file(Path(directory) / entry.file)
            if loaded.method.id != entry.id:
                raise MethodologyError(f"{loaded.path}: field id is {loaded.method.id!r}, index says {entry.id!r}")
            return scoring(loaded, year)
    raise MethodologyError(f"{index_path}: no methodology covers the year {year}; give a year that a methodology "
                           f"there covers, or add one for {year}")


def for_year(year: int, directory: Path | None = None) -> LoadedMethodology:
    """The method that applies to a measurement year, checked and hashed."""
    return _load_cached(str(directory or reference_dir() / "methodology"), year)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def methodology_named(year: int, entry: object, whose: str, remedy: str = "then run again") -> LoadedMethodology:
    """The methodology file ``entry`` names (a manifest's ``{"file", "sha256"}``): that file in the reference
    folder when its sha256 matches, else any methodology file there with that sha256 (a kept earlier version);
    the file in force for ``year`` when ``entry`` has no sha256 (a manifest of before methodologies were
    hashed). :class:`MethodologyError` naming ``whose`` tables, both sha256 and what to restore (and ``remedy``)
    when no file has it: a report under another file would not be theirs."""
    if not isinstance(entry, dict) or not entry.get("sha256"):
        return for_year(year)
    folder = reference_dir() / "methodology"
    named = folder / Path(str(entry.get("file") or "")).name
    candidates = [named, *sorted(p for p in folder.glob("*.json") if p != named and p.name != "index.json")]
    for path in candidates:
        if path.is_file() and _sha256(path) == entry["sha256"]:
            return scoring(load_file(path), year)
    now = _sha256(named)[:12] if named.is_file() else "missing"
    raise MethodologyError(f"{whose} was scored under {entry.get('file')} sha256 {str(entry['sha256'])[:12]}…, and "
                           f"{named} is now {now}: no methodology file in {folder} has that sha256; restore that "
                           f"version (e.g. from git history) beside the others, {remedy}")
