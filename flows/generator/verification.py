"""The technical team's verification decisions on a region's counting submission.

Only decisions are written (no row per checked answer): answers lowered (``adjust``, never above
what the file claims or its value implies), whole innovations rejected, and a few explicit
``accept`` rows. Answers touched by an injected defect are left alone, so every decision points at
an answer the pipeline accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from random import Random
from typing import Any

from flows.methodology import Methodology, Row

COLUMNS = ("region_code", "innovation_id", "indicator", "decision", "verified_level", "note")
SID_ADJUST = 0.095  # of answers that can be lowered (≈ 8 % of all SID answers)
SPD_ADJUST = 0.035
INNOVATION_REJECT = 0.015
ACCEPT = 0.006
ADJUST_NOTES = ("bukti dukung tidak sesuai", "dokumen tidak terbaca", "bukti dukung hanya mendukung level di bawahnya",
                "tautan tidak dapat diakses", "SK belum ditandatangani", "data dukung tahun anggaran tidak sesuai",
                "video tidak memuat seluruh unsur substansi")
REJECT_NOTES = ("inovasi tidak memenuhi kriteria", "merupakan program rutin, bukan inovasi",
                "duplikasi dengan inovasi lain", "tidak ada bukti penerapan")
ACCEPT_NOTES = ("sesuai", "bukti dukung lengkap", "terverifikasi")


def _supported_level(rows: dict[str, Row], answer: dict[str, Any]) -> int:
    """The level before verification: the claim, or the value's level when lower."""
    level = answer["level"]
    if "value" in answer:
        row = rows[answer["indicator"]]
        if row.kind == "numeric":
            level = min(level, row.value_level(float(answer["value"])))
    return int(level)


def _decide(rng: Random, rows: dict[str, Row], answer: dict[str, Any], adjust_share: float,
            code: str, innovation_id: str) -> list[str] | None:
    base = _supported_level(rows, answer)
    draw = rng.random()
    if base >= 1 and answer["evidence"] and draw < adjust_share:
        lowered = max(0, base - rng.choices((1, 2, 3), (0.75, 0.2, 0.05))[0])
        return [code, innovation_id, answer["indicator"], "adjust", str(lowered), rng.choice(ADJUST_NOTES)]
    if draw > 1 - ACCEPT:
        return [code, innovation_id, answer["indicator"], "accept", "", rng.choice(ACCEPT_NOTES)]
    return None


def decisions(rng: Random, method: Methodology, doc: dict[str, Any], *, skip_spd: frozenset[int] = frozenset(),
              skip_innovations: frozenset[int] = frozenset()) -> Iterator[list[str]]:
    """Rows of ``verification.csv`` for one counting submission (``doc`` in the JSON shape)."""
    code = doc["region_code"]
    rows = {row.code: row for row in method.rows}
    for i, answer in enumerate(doc["spd"]):
        if i not in skip_spd:
            row = _decide(rng, rows, answer, SPD_ADJUST, code, "")
            if row:
                yield row
    for k, innovation in enumerate(doc["innovations"]):
        if k in skip_innovations:
            continue
        if rng.random() < INNOVATION_REJECT:
            yield [code, innovation["id"], "", "reject", "", rng.choice(REJECT_NOTES)]
            continue
        for answer in innovation["sid"]:
            row = _decide(rng, rows, answer, SID_ADJUST, code, innovation["id"])
            if row:
                yield row
