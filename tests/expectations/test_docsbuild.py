"""Data Docs built on a thread: the same docs as a build in place, joined by publish, never stale."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from factory import innovation, submission, write_home

from expectations import docsbuild
from flows import pipeline
from flows.settings import Home

YEAR = 2024


def _home(tmp_path: Path) -> Home:
    bad = submission("35.01", spd_total=20, innovations=[innovation("35.01-1", 40)])
    bad["spd"][0]["level"] = "tiga"
    return write_home(tmp_path, YEAR, {"11.json": submission("11", spd_total=40, innovations=[innovation("11-1", 60)]),
                                       "35.01.json": bad})


def _pages(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_docs_built_on_a_thread_are_those_built_in_place_and_publish_joins_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _home(tmp_path)
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    docs = home.docs_dir(YEAR)
    in_place = _pages(docs)
    assert "index.html" in in_place and not docsbuild.pending(docs)

    from expectations import validate as gx_validate

    release_build = threading.Event()
    real = gx_validate.build_docs

    def held_build(target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> Path:
        release_build.wait(30)  # the build is still running when validate returns
        return real(target, run_name, results)

    monkeypatch.setattr(gx_validate, "build_docs", held_build)
    summary = pipeline.validate(home, YEAR, force=True, docs_in_background=True)
    assert not summary["skipped"]
    assert docsbuild.pending(docs) and not docs.exists()  # the old docs went when the build started
    release_build.set()
    pipeline.transform(home, YEAR)
    result = pipeline.publish(home, YEAR, {"run_id": "test"})
    assert not docsbuild.pending(docs)
    assert _pages(docs) == in_place and not docsbuild.partial_dir(docs).exists()
    release = Path(result["path"])
    assert _pages(release / "validation") == in_place


def test_a_failed_build_stops_publish_and_the_next_run_validates_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _home(tmp_path)
    pipeline.ingest(home, YEAR)
    pipeline.validate(home, YEAR)
    docs = home.docs_dir(YEAR)

    from expectations import validate as gx_validate

    real = gx_validate.build_docs

    def failing_build(target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> Path:
        (target / "half").mkdir(parents=True)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gx_validate, "build_docs", failing_build)
    pipeline.validate(home, YEAR, force=True, docs_in_background=True)
    pipeline.transform(home, YEAR)
    with pytest.raises(docsbuild.DocsBuildError, match=r"No space left on device.*run again"):
        pipeline.publish(home, YEAR, {"run_id": "test"})
    assert not docs.exists()  # neither the old docs nor the failed build's
    assert not list(home.published_year(YEAR).glob("release=*"))
    monkeypatch.setattr(gx_validate, "build_docs", real)
    again = pipeline.validate(home, YEAR)  # same inputs, but no docs: validated again
    assert not again["skipped"] and (docs / "index.html").is_file()
    pipeline.transform(home, YEAR)
    result = pipeline.publish(home, YEAR, {"run_id": "test"})
    assert (Path(result["path"]) / "validation" / "index.html").is_file()
