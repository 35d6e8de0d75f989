"""The methodology files: loaded, checked, hashed; malformed files are refused with file and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flows.methodology import MethodologyError, for_year, load_file
from flows.settings import reference_dir

METHODS = reference_dir() / "methodology"


@pytest.mark.parametrize("year, method_id", [(2021, "iid-2023"), (2024, "iid-2023"), (2025, "iid-2023"),
                                             (2026, "iid-2026"), (2029, "iid-2026")])
def test_year_selects_method(year: int, method_id: str) -> None:
    assert for_year(year).method.id == method_id


def test_weights_and_maxima() -> None:
    for year in (2024, 2026):
        m = for_year(year).method
        assert sum(r.weight for r in m.spd_rows) == 21 and len(m.spd_rows) == 20
        assert sum(r.weight for r in m.sid_rows) == 37 and len(m.sid_rows) == 20
        assert (m.maxima.spd, m.maxima.sid_maturity, m.maxima.innovation_count, m.maxima.total) == (63, 111, 76, 250)
        assert len(m.basic_service_affairs) == 6


def test_divisor_deadlines_and_ji_rule() -> None:
    old, new = for_year(2024).method, for_year(2026).method
    assert [old.divisor_for(y) for y in (2022, 2024)] == [10, 10]
    assert [new.divisor_for(y) for y in (2026, 2027, 2028, 2029)] == [12, 14, 16, 18]
    assert old.innovation_count.min_basic_service_affairs is None
    assert new.innovation_count.min_basic_service_affairs == 5
    assert str(old.deadline_for(2024)) == "2024-08-02 23:59:59.999999+07:00"
    assert str(old.deadline_for(2023)) == "2023-07-28 23:59:59.999999+07:00"
    assert str(new.deadline_for(2026)) == "2026-08-31 23:59:59.999999+07:00"


@pytest.mark.parametrize("code, value, level", [
    ("3", -60, 1), ("3", -50.32, 2), ("3", 8.17, 3), ("5b", 6.0, 1), ("5b", 5.92, 1), ("5b", 5.91, 2),
    ("5b", 2.35, 2), ("5b", 2.34, 3), ("17", 0, 0), ("17", 10, 1), ("17", 11, 2), ("17", 31, 3), ("28", 6, 1),
    ("28", 5, 2), ("28", 1, 3), ("29", 50, 1), ("29", 51, 2), ("29", 91, 3), ("32", 9, 1), ("32", 4, 3),
    ("33", 200, 1), ("33", 501, 3), ("35", 2, 1), ("35", 5, 3), ("13a", 0, 0), ("13a", 8, 3),
])
def test_value_levels_follow_cut_points(code: str, value: float, level: int) -> None:
    assert for_year(2024).method.row(code).value_level(value) == level


def test_predicates_from_rounded_value() -> None:
    m = for_year(2024).method
    assert [m.predicate_for(v) for v in (0.0, 0.01, 34.99, 35.0, 60.0, 60.01, 100.0)] == [
        "Tidak Dapat Dinilai", "Kurang Inovatif", "Kurang Inovatif", "Inovatif", "Inovatif", "Sangat Inovatif",
        "Sangat Inovatif"]


def test_hash_is_of_file_bytes() -> None:
    import hashlib

    loaded = for_year(2024)
    assert loaded.sha256 == hashlib.sha256((METHODS / "iid-2023.json").read_bytes()).hexdigest()


def _broken(tmp_path: Path, change: object) -> Path:
    doc = json.loads((METHODS / "iid-2023.json").read_text(encoding="utf-8"))
    change(doc)  # type: ignore[operator]
    path = tmp_path / "iid-2023.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, field", [
    (lambda d: d["rows"][0].pop("weight"), "rows.0.weight"),
    (lambda d: d["rows"][3].update(cutpoints=[8.17, -50.32, "-inf"]), "rows.3"),
    (lambda d: d["rows"][0].update(weight=2), "spd weights"),
    (lambda d: d["bands"][1].update(min=36), "bands"),
    (lambda d: d["innovation_count"].update(per_innovation=0.4), "innovation_count"),
    (lambda d: d["rows"][1].update(code="1"), "duplicate row codes"),
])
def test_malformed_file_names_file_and_field(tmp_path: Path, change: object, field: str) -> None:
    path = _broken(tmp_path, change)
    with pytest.raises(MethodologyError) as info:
        load_file(path)
    assert str(path) in str(info.value) and field in str(info.value)


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "iid-2023.json"
    path.write_text("{ weights: ", encoding="utf-8")
    with pytest.raises(MethodologyError, match="not valid JSON"):
        load_file(path)


@pytest.mark.parametrize("year", [2030, 2031])
def test_a_year_whose_divisor_the_method_does_not_list_is_refused(year: int) -> None:
    """iid-2026 lists its divisors for 2026-2029. Before, a later year was scored with divisor.minimum (12),
    a divisor the methodology gives for no year after 2026; now loading it for that year names the file,
    the year and what to do. A method listing no year (iid-2023) has one divisor for all its years."""
    with pytest.raises(MethodologyError) as info:
        for_year(year)
    line = str(info.value)
    assert "\n" not in line and str(METHODS / "iid-2026.json") in line
    assert f"no divisor for {year} (divisor.by_year lists 2026, 2027, 2028, 2029)" in line
    assert f"add the {year} divisor to a new methodology version" in line
    with pytest.raises(MethodologyError, match=f"iid-2026 has no divisor for {year}"):
        for_year(2029).method.divisor_for(year)
    assert for_year(2018).method.divisor_for(2018) == for_year(2025).method.divisor_for(2025) == 10


def test_index_without_method_for_year(tmp_path: Path) -> None:
    shutil.copytree(METHODS, tmp_path / "m")
    index = json.loads((tmp_path / "m" / "index.json").read_text())
    index["methods"] = index["methods"][:1]
    (tmp_path / "m" / "index.json").write_text(json.dumps(index))
    with pytest.raises(MethodologyError, match="no methodology covers the year 2026"):
        for_year(2026, tmp_path / "m")
