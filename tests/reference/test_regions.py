"""Invariants of the region master ``data/reference/regions.csv`` (no network)."""

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

REGIONS_CSV = Path(__file__).resolve().parents[2] / "data/reference/regions.csv"

HEADER = ["code", "name", "level", "province_code", "autonomous", "tertinggal", "perbatasan", "active_from"]
JAKARTA_ADMIN_UNITS = {"31.01", "31.71", "31.72", "31.73", "31.74", "31.75"}
NEW_PAPUA_PROVINCES = {"93", "94", "95", "96"}
NAME_PREFIX = {"provinsi": "Provinsi ", "kabupaten": "Kabupaten ", "kota": "Kota "}
BOOLEAN_VALUES = {"true", "false"}


def _code_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split("."))


@pytest.fixture(scope="module")
def header() -> list[str]:
    with REGIONS_CSV.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with REGIONS_CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def by_code(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in rows}


def test_header_is_exact(header: list[str]) -> None:
    assert header == HEADER


def test_row_count_and_no_ragged_rows(rows: list[dict[str, str]]) -> None:
    assert len(rows) == 552
    for row in rows:
        assert None not in row, f"extra fields in {row}"
        assert all(value is not None for value in row.values()), f"missing fields in {row}"


def test_codes_are_unique(rows: list[dict[str, str]]) -> None:
    dupes = [code for code, n in Counter(row["code"] for row in rows).items() if n > 1]
    assert dupes == []


def test_rows_are_sorted_by_code(rows: list[dict[str, str]]) -> None:
    codes = [row["code"] for row in rows]
    assert codes == sorted(codes, key=_code_key)


def test_levels_and_code_formats(rows: list[dict[str, str]]) -> None:
    for row in rows:
        code, level = row["code"], row["level"]
        assert level in NAME_PREFIX, row
        if level == "provinsi":
            assert re.fullmatch(r"\d{2}", code), row
            continue
        assert re.fullmatch(r"\d{2}\.\d{2}", code), row
        kk = int(code[3:])
        if level == "kabupaten":
            assert 1 <= kk <= 69, row
        else:
            assert 71 <= kk <= 99, row


def test_province_code_is_prefix_and_exists(rows: list[dict[str, str]]) -> None:
    provinces = {row["code"] for row in rows if row["level"] == "provinsi"}
    for row in rows:
        assert row["province_code"] == row["code"][:2], row
        assert row["province_code"] in provinces, row


def test_boolean_columns_are_well_formed(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for column in ("autonomous", "tertinggal", "perbatasan"):
            assert row[column] in BOOLEAN_VALUES, (column, row)


def test_autonomous_counts(rows: list[dict[str, str]]) -> None:
    autonomous = [row for row in rows if row["autonomous"] == "true"]
    levels = Counter(row["level"] for row in autonomous)
    assert levels == {"provinsi": 38, "kabupaten": 415, "kota": 93}
    assert len(autonomous) == 546


def test_only_jakarta_admin_units_are_non_autonomous(rows: list[dict[str, str]]) -> None:
    non_autonomous = {row["code"] for row in rows if row["autonomous"] == "false"}
    assert non_autonomous == JAKARTA_ADMIN_UNITS


def test_tertinggal_is_62_kabupaten(rows: list[dict[str, str]]) -> None:
    tertinggal = [row for row in rows if row["tertinggal"] == "true"]
    assert len(tertinggal) == 62
    assert {row["level"] for row in tertinggal} == {"kabupaten"}
    assert all(row["autonomous"] == "true" for row in tertinggal)


def test_perbatasan_only_on_kabupaten_kota(rows: list[dict[str, str]]) -> None:
    perbatasan = [row for row in rows if row["perbatasan"] == "true"]
    assert perbatasan, "expected at least one border region"
    assert {row["level"] for row in perbatasan} <= {"kabupaten", "kota"}


def test_active_from_only_on_new_papua_provinces(rows: list[dict[str, str]]) -> None:
    with_active_from = {row["code"]: row["active_from"] for row in rows if row["active_from"]}
    assert with_active_from == dict.fromkeys(NEW_PAPUA_PROVINCES, "2023")


def test_pemda_counts_per_year(rows: list[dict[str, str]]) -> None:
    def measured(year: int) -> int:
        return sum(
            1
            for row in rows
            if row["autonomous"] == "true" and (not row["active_from"] or int(row["active_from"]) <= year)
        )

    assert measured(2022) == 542
    assert measured(2024) == 546


def test_names_prefixed_by_level_and_unique_within_province(rows: list[dict[str, str]]) -> None:
    for row in rows:
        assert row["name"].startswith(NAME_PREFIX[row["level"]]), row
        assert row["name"] == row["name"].strip() and "  " not in row["name"], row
    per_province = Counter((row["province_code"], row["name"]) for row in rows)
    assert [key for key, n in per_province.items() if n > 1] == []


@pytest.mark.parametrize(
    ("code", "name", "level"),
    [
        ("35", "Provinsi Jawa Timur", "provinsi"),
        ("35.78", "Kota Surabaya", "kota"),
        ("35.15", "Kabupaten Sidoarjo", "kabupaten"),
        ("11.09", "Kabupaten Simeulue", "kabupaten"),
        ("35.76", "Kota Mojokerto", "kota"),
        ("33.71", "Kota Magelang", "kota"),
        ("73.10", "Kabupaten Pangkajene dan Kepulauan", "kabupaten"),
        ("12.72", "Kota Pematangsiantar", "kota"),
        ("31.01", "Kabupaten Administrasi Kepulauan Seribu", "kabupaten"),
        ("31.71", "Kota Administrasi Jakarta Pusat", "kota"),
        ("96", "Provinsi Papua Barat Daya", "provinsi"),
        ("96.71", "Kota Sorong", "kota"),
    ],
)
def test_known_regions(by_code: dict[str, dict[str, str]], code: str, name: str, level: str) -> None:
    assert by_code[code]["name"] == name
    assert by_code[code]["level"] == level


def test_papua_split_kabupaten_use_new_codes(by_code: dict[str, dict[str, str]]) -> None:
    assert by_code["93.01"]["name"] == "Kabupaten Merauke"
    assert by_code["94.04"]["name"] == "Kabupaten Mimika"
    assert by_code["95.01"]["name"] == "Kabupaten Jayawijaya"
    assert by_code["96.01"]["name"] == "Kabupaten Sorong"
    for old_code in ("91.01", "91.02", "91.04", "92.01", "92.71"):
        assert old_code not in by_code


def test_known_tertinggal_and_perbatasan_flags(by_code: dict[str, dict[str, str]]) -> None:
    assert by_code["12.04"]["tertinggal"] == "true"  # Kabupaten Nias
    assert by_code["94.08"]["tertinggal"] == "true"  # Kabupaten Deiyai (formerly Papua)
    assert by_code["35.15"]["tertinggal"] == "false"
    assert by_code["61.01"]["perbatasan"] == "true"  # Kabupaten Sambas (land border, Malaysia)
    assert by_code["53.04"]["perbatasan"] == "true"  # Kabupaten Belu (land border, Timor-Leste)
    assert by_code["35.78"]["perbatasan"] == "false"
