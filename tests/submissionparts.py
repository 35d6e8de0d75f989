"""The parts of a factory submission the rule tests change: an SPD or SID answer found by its row code, and the
submission of two innovations they start from."""

from __future__ import annotations

from typing import Any

from factory import innovation, submission


def spd_answer(sub: dict[str, Any], code: str) -> dict[str, Any]:
    """The SPD answer to row ``code``."""
    return next(a for a in sub["spd"] if a["indicator"] == code)


def sid_answer(sub: dict[str, Any], inv: int, code: str) -> dict[str, Any]:
    """Innovation ``inv``'s SID answer to row ``code``."""
    return next(a for a in sub["innovations"][inv]["sid"] if a["indicator"] == code)


def two_innovations(code: str) -> dict[str, Any]:
    """Region ``code``'s submission: SPD 30, innovations ``<code>-A`` (maturity 60) and ``<code>-B`` (40)."""
    return submission(code, spd_total=30, innovations=[innovation(f"{code}-A", 60), innovation(f"{code}-B", 40)])
