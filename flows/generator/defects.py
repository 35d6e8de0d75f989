"""Catalogue of defects the generator can inject, each with the validation rule that must catch it.

An injector changes a copy of a submission document (or the rendered bytes) and says where the
defect sits, with the locators the pipeline uses: ``(file)``, ``$`` / ``profil`` for the header,
``$.spd[3]``, ``$.innovations[7]``, ``$.innovations[7].sid[4]`` in JSON and ``spd!5``, ``inovasi!9``,
``sid!120`` in XLSX (sheet and 1-based Excel row, header in row 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random
from typing import Any, Literal

from flows.generator import vocab
from flows.generator.submission import timestamp
from flows.generator.writers import sid_row_number
from flows.values import WIB

Doc = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """A document about to be written, with what injectors need to know about its year."""

    doc: Doc
    format: str  # "json" | "xlsx"
    deadline: datetime
    row_codes: frozenset[str]
    numeric_codes: frozenset[str]
    administrative: tuple[tuple[str, str], ...]  # (code, name) of non-autonomous units
    counts: bool  # the region's last on-time version: its counting submission unless a defect rejects it


@dataclass(frozen=True)
class Injection:
    """Where a defect was put and how the file is to be written."""

    locator: str
    touched_spd: frozenset[int] = frozenset()
    touched_innovations: frozenset[int] = frozenset()
    transform: Callable[[bytes], bytes] | None = None  # applied to the rendered bytes
    omit_sheets: tuple[str, ...] = ()
    as_copy: bool = False  # written as an extra file; the original is written clean
    # with as_copy: the copy is written just before the original, which then sorts last, counts and carries
    # the finding (SUB009 names the file that counts)
    copy_first: bool = False
    region_code: str | None = None  # the code the defective file claims, when not the region's own


@dataclass(frozen=True)
class DefectKind:
    name: str
    rule: str
    severity: Literal["reject", "warn"]
    scope: Literal["file", "submission", "record"]
    formats: tuple[str, ...]
    inject: Callable[[Target, Random], Injection | None] = field(repr=False)

    @property
    def loses_submission(self) -> bool:
        """The defective file no longer counts as its region's submission."""
        return self.severity == "reject" and self.scope in ("file", "submission")


def _header(t: Target) -> str:
    return "$" if t.format == "json" else "profil"


def _spd_loc(t: Target, i: int) -> str:
    return f"$.spd[{i}]" if t.format == "json" else f"spd!{i + 2}"


def _innovation_loc(t: Target, k: int) -> str:
    return f"$.innovations[{k}]" if t.format == "json" else f"inovasi!{k + 2}"


def _sid_loc(t: Target, k: int, a: int) -> str:
    return f"$.innovations[{k}].sid[{a}]" if t.format == "json" else f"sid!{sid_row_number(t.doc, k, a)}"


def _pick_answer(t: Target, rng: Random, accept: Callable[[Doc], bool]) -> tuple[Doc, Injection] | None:
    """A random SPD or SID answer satisfying ``accept``, with its locator."""
    spd = [i for i, a in enumerate(t.doc["spd"]) if accept(a)]
    sid = [(k, a) for k, inv in enumerate(t.doc["innovations"]) for a, ans in enumerate(inv["sid"]) if accept(ans)]
    if sid and (not spd or rng.random() < 0.7):
        k, a = rng.choice(sid)
        return t.doc["innovations"][k]["sid"][a], Injection(_sid_loc(t, k, a), touched_innovations=frozenset({k}))
    if spd:
        i = rng.choice(spd)
        return t.doc["spd"][i], Injection(_spd_loc(t, i), touched_spd=frozenset({i}))
    return None


def _answer_defect(change: Callable[[Doc, Random, Target], None],
                   accept: Callable[[Doc, Target], bool] = lambda a, t: True,
                   ) -> Callable[[Target, Random], Injection | None]:
    def inject(t: Target, rng: Random) -> Injection | None:
        picked = _pick_answer(t, rng, lambda a: accept(a, t))
        if picked is None:
            return None
        change(picked[0], rng, t)
        return picked[1]
    return inject


def _innovation_defect(change: Callable[[Doc, Random, Target], None]) -> Callable[[Target, Random], Injection | None]:
    def inject(t: Target, rng: Random) -> Injection | None:
        if not t.doc["innovations"]:
            return None
        k = rng.randrange(len(t.doc["innovations"]))
        change(t.doc["innovations"][k], rng, t)
        return Injection(_innovation_loc(t, k), touched_innovations=frozenset({k}))
    return inject


def _relabel(codes: Callable[[Target, Random], tuple[str, str]]) -> Callable[[Target, Random], Injection]:
    def inject(t: Target, rng: Random) -> Injection:
        code, name = codes(t, rng)
        t.doc["region_code"], t.doc["region_name"] = code, name
        return Injection(_header(t), as_copy=True, region_code=code)
    return inject


def _unknown_code(t: Target, rng: Random) -> tuple[str, str]:
    return f"99.{rng.randint(10, 99)}", t.doc["region_name"]


def _administrative(t: Target, rng: Random) -> tuple[str, str]:
    return rng.choice(t.administrative or (("31.71", "Kota Administrasi Jakarta Pusat"),))


def _wrong_year(t: Target, rng: Random) -> Injection:
    t.doc["year"] = t.doc["year"] + rng.choice((-1, -1, 1))
    return Injection(_header(t))


def _drop_field(inv: Doc, rng: Random, t: Target) -> None:
    del inv[rng.choice(("name", "affair"))]


def _before_trial(inv: Doc, rng: Random, t: Target) -> None:
    trial = date.fromisoformat(inv["trial_date"])
    inv["implementation_date"] = (trial - timedelta(days=rng.randint(10, 300))).isoformat()


def _future(inv: Doc, rng: Random, t: Target) -> None:
    inv["implementation_date"] = (t.deadline.date() + timedelta(days=rng.randint(20, 400))).isoformat()


def _duplicate_id(t: Target, rng: Random) -> Injection | None:
    innovations = t.doc["innovations"]
    if len(innovations) < 2:
        return None
    first, second = sorted(rng.sample(range(len(innovations)), 2))
    innovations[second]["id"] = innovations[first]["id"]
    return Injection(_innovation_loc(t, second), touched_innovations=frozenset({first, second}))


def _set(key: str, *choices: Any) -> Callable[[Doc, Random, Target], None]:
    def change(answer: Doc, rng: Random, t: Target) -> None:
        answer[key] = rng.choice(choices)
    return change


def _unknown_indicator(answer: Doc, rng: Random, t: Target) -> None:
    answer["indicator"] = rng.choice([c for c in ("36x", "99", "2c", "16b", "0") if c not in t.row_codes])


def _text_value(answer: Doc, rng: Random, t: Target) -> None:
    text = rng.choice(("dua belas", "sekitar 20", "tiga puluh persen", "belum ada data", "±15"))
    items = list(answer.items())
    if "value" not in answer:
        items.insert(2, ("value", None))
    answer.clear()
    answer.update((k, text if k == "value" else v) for k, v in items)


def _empty_evidence(answer: Doc, rng: Random, t: Target) -> None:
    answer["evidence"] = []


def _no_time_zone(t: Target, rng: Random) -> Injection:
    """submitted_at as WIB wall-clock time without a zone (the same instant): text in JSON, a date-time cell
    (which has no zone) in XLSX."""
    local = datetime.fromisoformat(t.doc["submitted_at"]).astimezone(WIB).replace(tzinfo=None)
    t.doc["submitted_at"] = timestamp(local) if t.format == "json" else local
    return Injection(_header(t))


def _thousands(answer: Doc) -> bool:
    value = answer.get("value")
    return type(value) is int and 1000 <= abs(value) < 1_000_000


def _thousands_text(answer: Doc, rng: Random, t: Target) -> None:
    """1234 written ``"1.234"`` or ``"1,234"``: the pipeline reads 1.234 (ANS010)."""
    answer["value"] = f"{answer['value']:,}".replace(",", rng.choice(".,"))


def _same_instant(t: Target, rng: Random) -> Injection | None:
    """A second file of the counting submission with the same submitted_at and a few lower levels (a draft
    uploaded again, say), written just before it: the original's name sorts last, so it still counts."""
    if not t.counts:
        return None
    lowerable = [a for a in t.doc["spd"] + [a for inv in t.doc["innovations"] for a in inv["sid"]]
                 if "value" not in a and a["level"] > 0]  # without a value, no ANS007 in the draft
    if not lowerable:
        return None
    for answer in rng.sample(lowerable, min(len(lowerable), rng.randint(1, 5))):
        answer["level"] -= 1
    return Injection(_header(t), as_copy=True, copy_first=True)


def _truncate(data: bytes) -> bytes:
    cut = max(1, len(data) * 2 // 3)
    while cut > 1 and data[cut] >= 0x80:  # never inside a UTF-8 sequence (that would be FIL002)
        cut -= 1
    return data[:cut]


def _latin1(t: Target, rng: Random) -> Injection:
    place = t.doc["region_name"]
    if t.doc["innovations"]:
        t.doc["innovations"][0]["name"] = f"Pelayanan Kependudukan Terpadu « Café Informasi » {place}"
    t.doc["operator"]["name"] = rng.choice(("José Müller", "Renée Siregar", "Théo Nugroho"))
    return Injection("(file)", transform=lambda b: b.decode("utf-8").encode("latin-1", errors="replace"))


def _file(transform: Callable[[bytes], bytes]) -> Callable[[Target, Random], Injection]:
    return lambda t, rng: Injection("(file)", transform=transform)


BOTH = ("json", "xlsx")
JSON = ("json",)
CATALOGUE: tuple[DefectKind, ...] = (
    DefectKind("unknown_region_code", "SUB001", "reject", "submission", BOTH, _relabel(_unknown_code)),
    DefectKind("jakarta_admin_code", "SUB002", "reject", "submission", BOTH, _relabel(_administrative)),
    DefectKind("wrong_year", "SUB003", "reject", "submission", BOTH, _wrong_year),
    DefectKind("missing_required_field", "INO001", "reject", "record", BOTH, _innovation_defect(_drop_field)),
    DefectKind("level_out_of_range", "ANS003", "reject", "record", BOTH, _answer_defect(_set("level", 4, -1))),
    DefectKind("unknown_indicator", "ANS001", "reject", "record", BOTH, _answer_defect(_unknown_indicator)),
    DefectKind("duplicate_innovation_id", "INO007", "reject", "record", BOTH, _duplicate_id),
    DefectKind("implementation_before_trial", "INO008", "reject", "record", BOTH, _innovation_defect(_before_trial)),
    DefectKind("future_date", "INO009", "reject", "record", BOTH, _innovation_defect(_future)),
    DefectKind("wrong_type_level", "ANS002", "reject", "record", BOTH, _answer_defect(_set("level", "tiga", 2.5))),
    DefectKind("text_in_number", "ANS005", "reject", "record", BOTH,
               _answer_defect(_text_value, lambda a, t: a["indicator"] in t.numeric_codes)),
    DefectKind("empty_evidence", "ANS008", "warn", "record", BOTH,
               _answer_defect(_empty_evidence, lambda a, t: bool(a["evidence"]) and a["level"] > 0)),
    DefectKind("thousands_separator", "ANS010", "warn", "record", BOTH,
               _answer_defect(_thousands_text, lambda a, t: a["indicator"] in t.numeric_codes and _thousands(a))),
    DefectKind("no_time_zone", "SUB008", "warn", "submission", BOTH, _no_time_zone),
    DefectKind("same_instant_tie", "SUB009", "warn", "submission", BOTH, _same_instant),
    DefectKind("truncated_json", "FIL004", "reject", "file", JSON, _file(_truncate)),
    DefectKind("not_json", "FIL004", "reject", "file", JSON, _file(lambda b: vocab.NOT_JSON_PAGE.encode())),
    DefectKind("xlsx_missing_sheet", "FIL006", "reject", "file", ("xlsx",),
               lambda t, rng: Injection("(file)", omit_sheets=("sid",))),
    DefectKind("latin1_encoded", "FIL002", "reject", "file", JSON, _latin1),
    DefectKind("byte_order_mark", "FIL003", "warn", "file", JSON, _file(lambda b: b"\xef\xbb\xbf" + b)),
    DefectKind("zero_byte", "FIL001", "reject", "file", BOTH, _file(lambda b: b"")),
)
BY_NAME = {kind.name: kind for kind in CATALOGUE}


def applicable(file_format: str) -> list[DefectKind]:
    return [kind for kind in CATALOGUE if file_format in kind.formats]
