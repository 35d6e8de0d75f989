"""The four-region home the release tests start from, and a run of its four stages (no Prefect)."""

from __future__ import annotations

from factory import innovation, submission

from flows import pipeline
from flows.settings import Home

YEAR = 2024


def run_release(home: Home, force: bool = False) -> dict:
    """Ingest, validate, transform and publish ``YEAR`` in ``home``; each stage's result."""
    out = {"ingest": pipeline.ingest(home, YEAR, force=force), "validate": pipeline.validate(home, YEAR, force=force),
           "transform": pipeline.transform(home, YEAR, force=force)}
    out["publish"] = pipeline.publish(home, YEAR, {"run_id": "test"})
    return out


def release_files() -> dict[str, dict]:
    """Four submissions: 35.78, 35.15, 35.01 and 11, an innovation each."""
    return {f"{code}.json": submission(code, spd_total=20 + i, innovations=[innovation(f"{code}-1", 30 + i)])
            for i, code in enumerate(("35.78", "35.15", "35.01", "11"))}
