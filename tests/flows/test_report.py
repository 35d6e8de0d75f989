"""The release report of a small published year (built once for the module): pages whose numbers equal the
tables, region profiles, the coaching list, the "next predicate" gain against a hand computation, `iid report`,
the methodology a rebuilt report uses, and the pages in a real browser."""

from __future__ import annotations

import csv
import json
import os
import shutil
import struct
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from factory import answers, innovation, score, submission, write_home
from jinja2 import Environment
from report_browser import chromium_path, visit
from report_pages import Page, number

from flows import pipeline
from flows.methodology import for_year
from flows.report import ReportSummary, build_release_report
from flows.report.cli import ReportError, report_command
from flows.report.lift import next_step
from flows.report.render import environment
from flows.settings import Home
from flows.versioning import sha256_file

SPD_WEIGHTS = {r.code: r.weight for r in for_year(2024).method.spd_rows}
HAND = "35.15"  # Kabupaten Sidoarjo, built row by row below


def hand_submission() -> dict[str, object]:
    """SPD: every row at level 2 except row 1 at 3, row 7 at 1 and row 12 unanswered;
    two innovations with every SID row at level 1, the first with row 16 at level 3."""
    sub = submission(HAND, year=2024)
    spd = dict.fromkeys(SPD_WEIGHTS, 2) | {"1": 3, "7": 1}
    del spd["12"]
    sub["spd"] = answers(spd)
    sid_rows = [r.code for r in for_year(2024).method.sid_rows]
    first, second = innovation("SDA-1", 0), innovation("SDA-2", 0)
    first["sid"] = answers(dict.fromkeys(sid_rows, 1) | {"16": 3})
    second["sid"] = answers(dict.fromkeys(sid_rows, 1))
    sub["innovations"] = [first, second]
    return sub


def full(prefix: str, count: int, maturity: float, year: int) -> list[dict[str, object]]:
    return [innovation(f"{prefix}-{i}", maturity, year=year) for i in range(count)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, Path, ReportSummary]:
    root = tmp_path_factory.mktemp("report")
    environment.cache_clear()  # templates compiled by an earlier test of this process are not this home's
    year_2023 = {
        "sda.json": submission("35.15", year=2023, spd_total=20),  # 8.00 Kurang Inovatif
        "pct.json": submission("35.01", year=2023, spd_total=30),  # 12.00 Kurang Inovatif
        "mlg.json": submission("35.07", year=2023, spd_total=40, innovations=full("MLG", 10, 50, 2023)),  # 37.52
        "sby.json": submission("35.78", year=2023, spd_total=50, innovations=full("SBY", 10, 60, 2023)),  # 45.52
    }
    sby = submission("35.78", spd_total=60, innovations=full("SBY", 10, 100, 2024))  # 65.52 Sangat Inovatif
    sby["spd"].append({"indicator": "99", "level": 1, "evidence": ["x.pdf"]})  # ANS001: quarantined, no score
    year_2024 = {
        "sda.json": hand_submission(),
        "sby.json": sby,
        "batu.json": submission("35.79", spd_total=40, innovations=full("BATU", 10, 50, 2024)),  # 37.52 Inovatif
        "jatim.json": submission("35", spd_total=45, innovations=full("JTM", 12, 60, 2024)),  # 43.82 Inovatif
    }
    for year, files in ((2023, year_2023), (2024, year_2024)):
        home = write_home(root, year, files)
        score(home, year).close()
        pipeline.publish(home, year, {})
    release = home.published_year(2024) / "release=1"
    summary = build_release_report(release, home, 2024, 1, out_dir=root / "out")
    return home, release, summary


def regions(release: Path) -> dict[str, dict[str, Any]]:
    cur = duckdb.connect().execute("select * from read_parquet(?)", [str(release / "region_scores.parquet")])
    names = [d[0] for d in cur.description]
    return {row[1]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def page(summary: ReportSummary, code: str | None = None) -> Page:
    return Page(summary.index if code is None else summary.index.parent / "region" / f"{code}.html")


def test_build_writes_every_page_and_the_coaching_files(built: tuple[Home, Path, ReportSummary]) -> None:
    _, release, summary = built
    assert summary.pages == 547 and len(list((summary.index.parent / "region").glob("*.html"))) == 546
    assert summary.coaching_csv.is_file() and summary.coaching_xlsx.is_file()
    # the release itself (built with its own report at publish) is untouched by a rebuild elsewhere
    assert not summary.index.is_relative_to(release)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    for rel in ("report/index.html", "coaching.csv"):
        assert sha256_file(release / rel) == manifest["files"][rel]["sha256"]


def test_index_numbers_equal_the_tables(built: tuple[Home, Path, ReportSummary]) -> None:
    _, release, summary = built
    scores, index = regions(release), page(summary)
    for predicate in ("Sangat Inovatif", "Inovatif", "Kurang Inovatif", "Tidak Dapat Dinilai"):
        cells = index.row("predicate-table", predicate)
        for position, level in enumerate(("provinsi", "kabupaten", "kota"), start=2):
            expected = sum(1 for r in scores.values() if r["level"] == level and r["predicate"] == predicate)
            assert number(cells[position].split()[0]) == expected, (predicate, level)
    total = sum((Decimal(r["iid"]) for r in scores.values()), Decimal(0))
    mean = (total / len(scores)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert number(index.words("mean-value")) == float(mean)
    assert number(index.words("assessed-value")) == sum(1 for r in scores.values() if r["submitted"]) == 4
    assert number(index.words("innovations-value")) == sum(r["n_innovations"] for r in scores.values())
    sby = index.row("rank-kota", "35.78")  # rank, code, name, province, IID, predicate, ± 2023, innovations
    assert sby[:3] == ["1", "35.78", "Kota Surabaya"] and number(sby[4]) == float(scores["35.78"]["iid"]) == 65.52
    assert sby[5] == "Sangat Inovatif" and number(sby[6]) == 20.0 and sby[7] == "10"
    assert 'href="region/35.78.html"' in index.source
    assert index.words("assessed-change") == "±0 dari 2023"  # four regions submitted in each year


def test_region_profile_shows_iid_predicate_rank_and_history(built: tuple[Home, Path, ReportSummary]) -> None:
    _, release, summary = built
    batu, profile = regions(release)["35.79"], page(summary, "35.79")
    assert number(profile.words("iid-value")) == float(batu["iid"]) == 37.52
    assert "Inovatif" in profile.words("kpi-predicate")
    assert profile.words("rank-value") == f"{batu['rank_in_level']} dari 93" == "2 dari 93"
    sby = page(summary, "35.78")
    assert [cells[:2] for _, cells in sby.rows["history"]] == [["2023", "45,52"], ["2024", "65,52"]]
    assert "Peringkat 1" in sby.words("top-band")
    assert "ANS001" in sby.words("catatan")  # the quarantined answer, with its rule
    assert "SBY-0" in sby.words("inovasi") and "Inovasi SBY-9" in sby.words("inovasi")


def test_a_region_that_did_not_submit_says_so(built: tuple[Home, Path, ReportSummary]) -> None:
    _, _, summary = built
    malang = page(summary, "35.07")
    text = malang.words("not-submitted")
    assert "tidak menyampaikan data IID 2024" in text and "It did not submit" in text
    assert "Tidak Dapat Dinilai" in text and "2024-08-02" in text
    assert [cells[0] for _, cells in malang.rows["lift-rows"]] == ["35", "16", "31"]  # the heaviest rows


def test_next_predicate_gain_equals_the_hand_computation(built: tuple[Home, Path, ReportSummary]) -> None:
    _, release, summary = built
    # SPD = 2 × 21 − 2 × 2 (row 12 unanswered) − 1.5 (row 7 one level lower) + 1 (row 1 one higher) = 37.5
    # SID = (37 + 2 × 3 + 37) / MAX(10, 2) = 8.0; JI = 0.38 × 2 = 0.76; total 46.26 → IID 18.50, Kurang Inovatif
    sda = regions(release)[HAND]
    assert (sda["spd_score"], sda["sid_maturity_score"], float(sda["iid"])) == (37.5, 8.0, 18.50)
    # to Inovatif: 35.00 × 250 / 100 − 46.26 = 41.24 points (16.50 IID points)
    # gains: row 12: 2 × 3 = 6; row 7: 1.5 × 2 = 3; row 35: 4 × (2 + 2) / 10 = 1.6; rows 6 and 8: 1.5 × 1 = 1.5
    profile = page(summary, HAND)
    assert number(profile.words("points-missing")) == 41.24 and number(profile.words("iid-missing")) == 16.50
    rows = profile.rows["lift-rows"]
    assert [(code, number(cells[5])) for code, cells in rows] == [("12", 6), ("7", 3), ("35", 1.6), ("6", 1.5),
                                                                   ("8", 1.5)]
    assert number(rows[-1][1][7]) == 13.6  # cumulative; all rows at level 3 give 25.5 + 14.2 = 39.7 < 41.24
    assert "belum cukup" in profile.words("reach") and "39,70" in profile.words("reach")
    assert "Kurang Inovatif" in profile.words("kpi-predicate")


def test_lift_is_computed_from_the_method() -> None:
    method = for_year(2024).method
    sums = {code: 3.0 for code in SPD_WEIGHTS} | {"12": 0.0} | {r.code: 30.0 for r in method.sid_rows}
    # SPD 63 − 6 = 57, SID 111 (10 innovations all at level 3) + 3.8 → 171.8 → 68.72, top band; rank 1 at 70.00
    top = next_step(method, 2024, submitted=True, predicate="Sangat Inovatif", iid=68.72, total_score=171.8,
                    n_innovations=10, divisor_used=10, sid_maturity_score=111, basic_service_affairs=6,
                    level_sums=sums, leader_iid=70.0)
    assert top.target is None and top.gap_to_first == 1.28 and top.gains[0].code == "12" and top.gains[0].gain == 6
    assert top.gains[1].gain == 0 and top.new_innovation_gain == pytest.approx(0.38)  # (1110 + 111) / 11 − 111
    close = next_step(method, 2024, submitted=True, predicate="Inovatif", iid=59.0, total_score=147.5,
                      n_innovations=10, divisor_used=10, sid_maturity_score=60, basic_service_affairs=6,
                      level_sums=sums | {"12": 1.0})
    assert close.target == "Sangat Inovatif" and close.points_missing == pytest.approx(60.01 * 2.5 - 147.5)
    assert close.rows_needed == 1 and close.gains[0].code == "12" and close.gains[0].gain == 4  # 2.525 ≤ 4


def test_heaviest_rows_are_kept_per_method_and_equal_a_fresh_computation() -> None:
    """A region without a submission is shown the method's heaviest rows (3 × weight each): computed once for the
    method last asked for and kept, the same rows as computed afresh, each method's own."""
    from flows.report import lift

    def fresh(method: Any) -> tuple[lift.RowGain, ...]:
        return lift._ordered([lift._row_gain(r, 0.0, 3 * r.weight) for r in method.rows], method)

    older, newer = for_year(2024).method, for_year(2026).method
    assert older is not newer
    first = lift.heaviest_rows(older)
    assert first == fresh(older) and lift.heaviest_rows(older) is first
    assert lift.heaviest_rows(newer) == fresh(newer) and lift.heaviest_rows(newer) is not first
    assert first[0].gain == 3 * max(r.weight for r in older.rows) and all(g.attained == 0 for g in first)
    again = lift.heaviest_rows(older)  # asked for after another method: its own rows again, kept again
    assert again == fresh(older) and again is not first and lift.heaviest_rows(older) is again
    assert len(lift._HEAVIEST) == 1  # only the last method's rows are held


def test_coaching_list_has_every_kurang_inovatif_and_tdd_region(built: tuple[Home, Path, ReportSummary]) -> None:
    _, release, summary = built
    scores = regions(release)
    with summary.coaching_csv.open(encoding="utf-8") as handle:
        listed = {row["region_code"]: row for row in csv.DictReader(handle)}
    coached = {c for c, r in scores.items() if r["predicate"] in ("Kurang Inovatif", "Tidak Dapat Dinilai")}
    assert set(listed) == coached and len(coached) == 543  # all but Surabaya, Batu and Jawa Timur
    assert all(row[f"row_{k}_code"] and row[f"row_{k}_gain"] for row in listed.values() for k in (1, 2, 3))
    sda = listed[HAND]
    assert [(sda[f"row_{k}_code"], float(sda[f"row_{k}_gain"])) for k in (1, 2, 3)] == [("12", 6), ("7", 3),
                                                                                      ("35", 1.6)]
    assert float(sda["points_missing"]) == 41.24 and sda["province_name"] == "Provinsi Jawa Timur"
    flags = {code: listed[code]["same_situation_previous_year"] for code in (HAND, "35.01", "35.07", "11.01")}
    assert flags == {HAND: "true", "35.01": "true", "35.07": "false", "11.01": "true"}
    assert listed["35.07"]["previous_predicate"] == "Inovatif" and listed["35.07"]["submitted"] == "false"
    sheet = openpyxl.load_workbook(summary.coaching_xlsx, read_only=True)["pembinaan 2024"]
    assert sum(1 for _ in sheet.iter_rows()) == 544


def test_no_personal_data_and_nothing_from_the_network(built: tuple[Home, Path, ReportSummary]) -> None:
    _, _, summary = built
    for item in (page(summary), page(summary, "35.78"), page(summary, HAND)):
        assert item.scripts == 0
        assert not [link for link in item.links if link.startswith(("http:", "https:", "//"))]
        assert "Rahasia" not in item.source and "example.go.id" not in item.source and "0812999" not in item.source
    assert "Rahasia" not in summary.coaching_csv.read_text(encoding="utf-8")


def test_report_command_rebuilds_outside_the_release(built: tuple[Home, Path, ReportSummary],
                                                     tmp_path: Path) -> None:
    home, release, _ = built
    index = report_command(2024, None, tmp_path / "copy", home)
    assert index == tmp_path / "copy" / "report" / "index.html" and (tmp_path / "copy" / "coaching.xlsx").is_file()
    with pytest.raises(ReportError, match="immutable"):
        report_command(2024, 1, release / "again", home)
    with pytest.raises(ReportError, match="does not exist"):
        report_command(2024, 9, tmp_path / "nine", home)
    staging = tmp_path / ".staging-x"  # at publish: the staging folder, before any manifest
    shutil.copytree(release, staging, ignore=shutil.ignore_patterns("manifest.json", "validation"))
    os.chmod(staging, 0o755)
    built_in_place = build_release_report(staging, home, 2024, 2)
    assert built_in_place.index == staging / "report" / "index.html" and (staging / "coaching.csv").is_file()


def test_compiled_templates_are_kept_and_give_the_same_pages(built: tuple[Home, Path, ReportSummary],
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next process that builds a report loads the templates compiled by the one before (from
    ``warehouse/work/.report-templates``) instead of compiling them again: the pages are the same."""
    home, release, summary = built
    kept = home.work_db(2024).parent / ".report-templates"
    assert len(list(kept.glob("*.cache"))) >= 5
    compiled: list[str] = []
    compile_source = Environment.compile

    def counting(self: Environment, source: Any, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(name))
        return compile_source(self, source, name, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", counting)
    environment.cache_clear()  # as in a new process
    try:
        again = build_release_report(release, home, 2024, 1, out_dir=tmp_path / "again")
        assert compiled == []
        first = sorted(p.relative_to(summary.index.parent) for p in summary.index.parent.rglob("*.html"))
        assert first == sorted(p.relative_to(again.index.parent) for p in again.index.parent.rglob("*.html"))
        for rel in first:
            assert (again.index.parent / rel).read_bytes() == (summary.index.parent / rel).read_bytes(), rel
        shutil.rmtree(kept)  # a cache that can no longer be written to: compiled as without one
        kept.write_text("not a folder", encoding="utf-8")
        environment.cache_clear()
        third = build_release_report(release, home, 2024, 1, out_dir=tmp_path / "third")
        assert compiled and (third.index.read_bytes() == summary.index.read_bytes())
    finally:
        kept.unlink(missing_ok=True)
        environment.cache_clear()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_pages_open_from_disk_in_chromium(built: tuple[Home, Path, ReportSummary], tmp_path: Path) -> None:
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI: apt-get install -y chromium")
        pytest.skip("chromium is not installed (apt-get install -y chromium; make test and .ci/run install it)")
    _, _, summary = built
    bad = tmp_path / "bad.html"  # proves the check can fail: a console error and a request to the network
    bad.write_text('<!DOCTYPE html><title>bad</title><script>console.error("boom")</script>'
                   '<img src="https://example.invalid/x.png">', encoding="utf-8")
    region = summary.index.parent / "region" / f"{HAND}.html"
    pages = [(summary.index, tmp_path / "index.png", (1280, 900)), (summary.index, tmp_path / "index-phone.png",
             (390, 844)), (region, tmp_path / "region.png", (1280, 900)),
             (region, tmp_path / "region-phone.png", (390, 844)), (bad, tmp_path / "bad.png", (800, 600))]
    visits = visit([(html, png, size, False) for html, png, size in pages])
    for (html, png, size), seen in zip(pages[:4], visits, strict=False):
        assert seen.errors == [], (html, seen.errors)
        assert seen.requests == [html.resolve().as_uri()], seen.requests
        assert _png_size(png) == size and png.stat().st_size > 20_000
    assert visits[0].title.startswith("Indeks Inovasi Daerah 2024") and "Sidoarjo" in visits[2].title
    assert any("boom" in e for e in visits[4].errors) and any(u.startswith("https:") for u in visits[4].requests)


def test_report_of_a_release_uses_the_methodology_it_was_scored_under(
        built: tuple[Home, Path, ReportSummary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'iid report --release N' rendered with today's methodology file: after the file was edited, release 1's
    rebuilt report showed the edited method. Now it uses the file of the release's manifest (by sha256), kept
    under any name in the reference folder, and without one it stops in one line saying what to restore."""
    from flows.settings import reference_dir

    home, release, _ = built
    scored = json.loads((release / "manifest.json").read_text(encoding="utf-8"))["methodology"]
    reference = tmp_path / "reference"
    shutil.copytree(reference_dir(), reference)
    method_file = reference / "methodology" / scored["file"]
    original = method_file.read_text(encoding="utf-8")
    name = "Vision & mission of the head of region include innovation"
    method_file.write_text(original.replace(name, "Vision and mission name innovation (edited)"), encoding="utf-8")
    monkeypatch.setenv("IID_REFERENCE", str(reference))
    with pytest.raises(ReportError, match=rf"release 1 of 2024 was scored under {scored['file']} sha256 "
                                          rf"{scored['sha256'][:12]}…, and .* is now [0-9a-f]{{12}}: no methodology "
                                          r"file in .* has that sha256; restore that version"):
        report_command(2024, 1, tmp_path / "edited", home)
    kept = reference / "methodology" / "iid-2023-as-published.json"  # the version restored beside the others
    kept.write_text(original, encoding="utf-8")
    index = report_command(2024, 1, tmp_path / "kept", home)
    assert "(edited)" not in index.read_text(encoding="utf-8")
    assert index.read_bytes() == (release / "report" / "index.html").read_bytes()
