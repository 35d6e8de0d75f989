"""The Data Docs built on a thread while the run goes on (``docs_later``), and built whole or not at all."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from factory import submission, write_home

from expectations import stage, validate
from flows import pipeline
from flows.settings import Home


def _home(tmp_path: Path) -> Home:
    home = write_home(tmp_path, 2024, {"35.78.json": submission("35.78", spd_total=30)}, [])
    pipeline.ingest(home, 2024)
    return home


def _pages(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html"))


def test_docs_later_are_the_docs_built_at_once_and_publish_waits_for_them(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``docs_later`` the validate stage returns before GX has rendered the docs (held back here
    until it has returned); the transform stage runs meanwhile, and publish waits and copies them."""
    home = _home(tmp_path)
    release = threading.Event()
    threads: list[str] = []
    real = validate.build_docs

    def held(target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> Path:
        threads.append(threading.current_thread().name)
        assert release.wait(60)
        return real(target, run_name, results)

    monkeypatch.setattr(stage, "build_docs", held)
    summary = pipeline.validate(home, 2024, docs_later=True)
    assert not summary["skipped"]
    assert not home.docs_dir(2024).exists()  # still held: validation returned without them
    assert threads and threads[0].startswith("data-docs")
    pipeline.transform(home, 2024)
    release.set()
    result = pipeline.publish(home, 2024, {"run_id": "t"})
    assert result["published"]
    later = _pages(home.docs_dir(2024))
    assert later == _pages(Path(str(result["path"])) / "validation")
    assert "index.html" in later and any(p.startswith("validations/") for p in later)

    monkeypatch.setattr(stage, "build_docs", real)
    pipeline.validate(home, 2024, force=True)  # built before it returns
    assert _pages(home.docs_dir(2024)) == later


def test_an_error_of_docs_built_later_fails_the_publish_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The error is raised by the stage that needs the docs; nothing is published without them, and the
    next validation is not skipped (the docs are missing), so it builds them again."""
    home = _home(tmp_path)

    def broken(target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> Path:
        raise OSError("disk full while writing the Data Docs")

    monkeypatch.setattr(stage, "build_docs", broken)
    pipeline.validate(home, 2024, docs_later=True)
    pipeline.transform(home, 2024)
    with pytest.raises(OSError, match="disk full"):
        pipeline.publish(home, 2024, {"run_id": "t"})
    assert not home.published_year(2024).exists() or not list(home.published_year(2024).glob("release=*"))

    monkeypatch.undo()
    again = pipeline.validate(home, 2024, docs_later=True)
    assert not again["skipped"]
    result = pipeline.publish(home, 2024, {"run_id": "t"})
    assert result["published"] and (Path(str(result["path"])) / "validation" / "index.html").is_file()


def test_docs_cut_short_leave_nothing_a_later_run_would_take_for_them(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that fails half-way (as a killed process would leave it) leaves no docs folder: neither
    half of the new docs nor the earlier ones, so the next run validates again instead of skipping."""
    home = _home(tmp_path)
    pipeline.validate(home, 2024)
    docs = home.docs_dir(2024)
    assert (docs / "index.html").is_file()

    def cut_short(index: Path, statistics: dict[str, Any]) -> None:
        assert index.parent == validate.building_dir(docs) and index.is_file()  # GX wrote its pages there
        raise RuntimeError("killed while building")

    monkeypatch.setattr(validate, "_add_offline_listing", cut_short)
    with pytest.raises(RuntimeError, match="killed"):
        pipeline.validate(home, 2024, force=True)
    assert not docs.exists()
    monkeypatch.undo()
    assert not pipeline.validate(home, 2024)["skipped"]
    assert (docs / "index.html").is_file() and not validate.building_dir(docs).exists()


def test_docs_later_remove_the_earlier_docs_before_the_validation_is_recorded(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """While the thread has not started building, the earlier run's docs are already gone: a process
    killed then leaves the year to be validated again, not skipped with another validation's docs."""
    home = _home(tmp_path)
    pipeline.validate(home, 2024)
    docs = home.docs_dir(2024)
    release = threading.Event()
    real = validate.build_docs

    def held(target: Path, run_name: str, results: dict[str, dict[str, Any]]) -> Path:
        assert release.wait(60)
        return real(target, run_name, results)

    monkeypatch.setattr(stage, "build_docs", held)
    assert not pipeline.validate(home, 2024, force=True, docs_later=True)["skipped"]
    assert not docs.exists()
    release.set()
    stage.docs_built(docs)
    assert (docs / "index.html").is_file()
