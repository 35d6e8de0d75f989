"""The region master loader refuses a tampered file with a message naming file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows import reference
from flows.settings import reference_dir


def _tampered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> Path:
    folder = tmp_path / "reference"
    shutil.copytree(reference_dir(), folder)
    path = folder / "regions.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    monkeypatch.setenv("IID_REFERENCE", str(folder))
    return path


def test_year_counts() -> None:
    assert len(reference.pemda(2022)) == 542
    assert len(reference.pemda(2024)) == 546
    assert sum(1 for r in reference.load_regions(2024) if not r.autonomous) == 6


@pytest.mark.parametrize("old, new, field", [
    ("35.78,Kota Surabaya,kota", "35.78,Kota Surabaya,kabupaten", "field code"),
    ("35.15,Kabupaten Sidoarjo,kabupaten,35", "35.15,Kabupaten Sidoarjo,kabupaten,36", "field province_code"),
    ("35.78,Kota Surabaya,kota,35,true", "35.78,Kota Surabaya,kota,35,ya", "field autonomous"),
    ("35.76,Kota Mojokerto", "35.78,Kota Mojokerto", "duplicate codes"),
])
def test_tampered_master_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str,
                                    field: str) -> None:
    path = _tampered(tmp_path, monkeypatch, old, new)
    with pytest.raises(reference.ReferenceError) as info:
        reference.all_regions()
    assert str(path) in str(info.value) and field in str(info.value)
