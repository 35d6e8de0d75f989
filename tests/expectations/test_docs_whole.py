"""The Data Docs are built whole or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from factory import submission, write_home

from expectations import validate
from flows import pipeline
from flows.settings import Home


def _home(tmp_path: Path) -> Home:
    home = write_home(tmp_path, 2024, {"35.78.json": submission("35.78", spd_total=30)}, [])
    pipeline.ingest(home, 2024)
    return home


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
