"""The generator's files: the same bytes for a seed, a rerun replacing only the files it wrote, progress per
region, and the XLSX template holding what the JSON holds."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from generatedfiles import YEAR, generate, read_xlsx, submission_files, submitting_region

from flows.generator import LEDGER_FILE, VERIFICATION_FILE, generate_year, run_options
from flows.generator.regionfiles import write_region
from flows.settings import Home


def test_same_seed_gives_identical_bytes(tmp_path: Path, small_reference: Path) -> None:
    options = {"scale": 0.15, "defect_rate": 0.3, "xlsx_share": 0.3, "reference": small_reference}
    first = generate(tmp_path / "a", seed=7, **options)
    second = generate(tmp_path / "b", seed=7, **options)
    other = generate(tmp_path / "c", seed=8, **options)
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    assert any(n.endswith(".xlsx") for n in names) and "verification/verification.csv" in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / VERIFICATION_FILE).read_bytes() != (other / VERIFICATION_FILE).read_bytes()
    common = [n for n in names if (other / n).is_file() and n.endswith((".json", ".xlsx")) and n != LEDGER_FILE.name]
    assert common and all((first / n).read_bytes() != (other / n).read_bytes() for n in common)


def test_rerun_replaces_only_generated_files(tmp_path: Path, small_reference: Path) -> None:
    raw = generate(tmp_path, seed=1, scale=0.1, defect_rate=0.5, reference=small_reference)
    (raw / "README.md").write_text("kept")
    (raw / "verification" / "manual-2024.csv").write_text("kept")
    before = {p.name for p in submission_files(raw)}
    raw_again = generate(tmp_path, seed=2, scale=0.1, reference=small_reference)
    after = {p.name for p in submission_files(raw_again)}
    assert (raw / "README.md").read_text() == "kept"
    assert (raw / "verification" / "manual-2024.csv").read_text() == "kept"
    assert json.loads((raw / LEDGER_FILE).read_text())["defects"] == []
    assert after and before != after
    assert {p.name for p in submission_files(raw)} == after


def test_progress_is_reported_per_region(tmp_path: Path, small_reference: Path) -> None:
    calls: list[tuple[int, int]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IID_REFERENCE", str(small_reference))
        summary = generate_year(Home(tmp_path), YEAR, scale=0.05, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(i, summary.regions) for i in range(1, summary.regions + 1)]
    assert summary.files == summary.json_files + summary.xlsx_files == len(submission_files(tmp_path / "raw/2024"))


def test_xlsx_holds_the_same_content_as_json(tmp_path: Path, small_reference: Path) -> None:
    options = run_options(YEAR, seed=4, scale=0.2)
    region = submitting_region(options, "kota")
    (tmp_path / "j").mkdir()
    (tmp_path / "x").mkdir()
    as_json = write_region(options, region, tmp_path / "j", force_format="json")
    as_xlsx = write_region(options, region, tmp_path / "x", force_format="xlsx")
    assert as_json.verification == as_xlsx.verification and as_json.innovations == as_xlsx.innovations
    for json_name, xlsx_name in zip(as_json.files, as_xlsx.files, strict=True):
        data = (tmp_path / "x" / xlsx_name).read_bytes()
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        assert wb.sheetnames == ["profil", "spd", "inovasi", "sid"]
        headers = {name: next(wb[name].iter_rows(max_row=1, values_only=True)) for name in wb.sheetnames}
        wb.close()
        assert headers["profil"] == ("field", "value")
        assert headers["spd"] == ("indicator", "level", "value", "evidence")
        assert headers["inovasi"][:3] == ("id", "name", "unit") and headers["inovasi"][-1] == "result"
        assert headers["sid"] == ("innovation_id", "indicator", "level", "value", "evidence")
        doc = json.loads((tmp_path / "j" / json_name).read_bytes())
        assert read_xlsx(data) == doc
