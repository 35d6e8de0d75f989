"""Parts of the report checked on inputs built in the test: the fast HTML escape and the innovations table
against markupsafe, a profile's findings counted in SQL against the feedback list, and the coaching workbook
as a function of its rows."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from flows import pipeline
from flows.report.data import Innovation
from flows.settings import Home


@pytest.mark.parametrize("text", ["", "Sistem <b>Informasi</b> & Layanan", "\"quoted\" and 'single'", "a&amp;b",
                                  "tanpa tanda", "<script>alert('x')</script>", "Ünïcödé — ☃ &lt;"])
def test_the_fast_html_escape_equals_markupsafe(text: str) -> None:
    from markupsafe import escape

    from flows.report.profile import html_text

    assert html_text(text) == str(escape(text))


def test_profile_findings_counted_in_sql_equal_the_feedback_list(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile's findings (counted and cut to the first few in SQL) are what the full list of
    flows.feedback.findings gives, on a year with many defects of every kind; as in a region's letter, those of a
    superseded or late file are counted apart, not shown."""
    from collections import Counter

    from flows.feedback import NOT_COUNTING, findings, submission_files
    from flows.generator import generate_year
    from flows.releases import latest_release
    from flows.report import data
    from flows.report.data import load_findings

    listed = 3  # a small year: few regions have 40 findings
    monkeypatch.setattr(data, "FINDINGS_LISTED", listed)

    home = Home.resolve(tmp_path)
    generate_year(home, 2024, seed=3, scale=0.02, defect_rate=0.6)
    pipeline.ingest(home, 2024)
    pipeline.validate(home, 2024)
    pipeline.transform(home, 2024)
    pipeline.publish(home, 2024, {"run_id": "findings-test"})
    release = latest_release(home, 2024)
    assert release is not None
    full, files = findings(release), submission_files(release)
    counted = load_findings(release.path, list(full))
    assert set(counted) == set(full)
    assert any(len(items) > listed for items in full.values())
    assert any(f.severity == "rejected" for items in full.values() for f in items)
    asides = 0
    for code, everything in full.items():
        aside = {f.source_file for f in files.get(code, []) if f.status in NOT_COUNTING}
        items = [f for f in everything if f.source_file not in aside]
        assert counted[code].aside == len(everything) - len(items), code
        asides += counted[code].aside
        grouped = Counter((f.severity, f.rule, f.reason) for f in items)
        expected = [(s, rule, reason, n) for (s, rule, reason), n in
                    sorted(grouped.items(), key=lambda kv: (kv[0][0] != "rejected", kv[0][1]))]
        got = counted[code]
        assert got.summary == expected, code
        assert got.listed == items[:listed], code
        assert (got.total, got.rejected, got.warnings) == (
            len(items), sum(f.severity == "rejected" for f in items), sum(f.severity == "warning" for f in items))
    assert asides > 0  # the year has findings in superseded or late files


def _reference_rows(items: list[Innovation], sid_max: float) -> str:
    """The innovations table as the template wrote it once, cell by cell with markupsafe."""
    from markupsafe import escape

    from flows.report.fmt import FORM_LABEL, sentence_case, short

    rows = []
    for i in items:
        notes = ((" · <strong>ditolak verifikasi</strong> (rejected, counts in n)" if i.rejected else "")
                 + ("" if i.counts_in_n else " · tidak dihitung (outside the counting window)"))
        form = FORM_LABEL.get(i.form, sentence_case(i.form))
        rows.append(
            f'<tr><td class="wrap-text">{escape(i.name)}<br><span class="note">'
            f'{escape(i.innovation_id)} · {escape(i.unit)}{notes}</span></td>\n      '
            f'<td>{escape(sentence_case(i.affair))}</td><td class="opt">{escape(form)}</td>'
            f'<td class="nowrap opt">{escape(i.kind)}</td><td class="nowrap">{escape(sentence_case(i.stage))}</td>'
            f'\n      <td class="num">{escape(short(i.maturity))} <span class="note">/ {escape(short(sid_max))}</span>'
            f'</td><td><div class="meter"><span style="width:{round(100 * i.maturity / sid_max, 1)}%"></span>'
            '</div></td></tr>')
    return "".join(rows)


def test_innovation_rows_equal_cell_by_cell_escaping() -> None:
    """The innovations table escapes each repeated unit, enumeration and score once per table; every
    row must still be what escaping each cell on its own gives, whatever repeats and whatever differs."""
    from flows.report.profile import innovation_rows

    items = [
        Innovation("A<1>", "Sistem <b>Informasi</b> & Layanan", "Dinas \"Satu\"", "pelayanan publik", "digital",
                   "kesehatan", "penerapan", True, False, 42.5),
        Innovation("A-2", "tanpa tanda", "Dinas \"Satu\"", "pelayanan publik", "digital", "kesehatan", "penerapan",
                   True, True, 42.5),
        Innovation("A-3", "O'Brien & co", "Dinas Dua", "lainnya", "non digital", "pendidikan", "uji coba",
                   False, False, 0.0),
        Innovation("A-4", "Ünïcödé ☃ &lt;", "Dinas Dua", "bentuk baru", "digital", "kesehatan", "penerapan",
                   True, False, 7.25),
        Innovation("A-5", "", "", "", "", "", "", True, False, 42.5),
    ]
    got = str(innovation_rows(items, 63.0))
    assert got == _reference_rows(items, 63.0)
    assert got.count("<tr>") == 5 and "&lt;b&gt;" in got and "Dinas &#34;Satu&#34;" in got
    assert str(innovation_rows([], 63.0)) == ""


def test_the_coaching_workbook_is_a_function_of_its_rows(tmp_path: Path) -> None:
    """coaching.xlsx held the time it was saved (docProps/core.xml and every zip entry's time): two builds of
    the same release differed. Now every time in it is fixed, and two builds seconds apart are the same bytes."""
    import time
    import zipfile

    from flows.report.coaching import COLUMNS, write_xlsx

    rows = [["35.15", "Kabupaten Sidoarjo", *[None] * (len(COLUMNS) - 2)]]
    write_xlsx(rows, tmp_path / "a.xlsx", 2024)
    time.sleep(2.1)  # zip times count in steps of two seconds
    write_xlsx(rows, tmp_path / "b.xlsx", 2024)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as book:
        assert {entry.date_time for entry in book.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "1980-01-01T00:00:00Z" in book.read("docProps/core.xml").decode()
    sheet = openpyxl.load_workbook(tmp_path / "a.xlsx")["pembinaan 2024"]
    assert [c.value for c in sheet[2]][:2] == ["35.15", "Kabupaten Sidoarjo"]


def test_a_profile_chart_is_made_once_for_the_same_rows_and_printed_as_made_anew() -> None:
    """Regions with the same rows (every pemda without a counting submission) share one chart, which is the
    chart made anew; -0.0, equal to 0.0 as a key, is printed as itself."""
    from flows.report import charts

    made_anew = charts._row_profile.__wrapped__
    rows = [("1", "Regulasi <inovasi>", 0.0, 1.5), ("2", "SDM", 2.0, 1.0), ("3", "Anggaran", 0.5, 0.5)]
    charts._row_profile.cache_clear()
    first = charts.row_profile(rows)
    assert charts.row_profile(list(rows)) is first  # the second region's chart is the first's
    assert charts._row_profile.cache_info().hits == 1
    keyed = tuple((*row, repr(row[2]), repr(row[3])) for row in rows)
    assert first == made_anew(keyed) and "&lt;inovasi&gt;" in first
    negative = [("1", "Regulasi <inovasi>", -0.0, 1.5), *rows[1:]]
    assert charts.row_profile(negative) == made_anew(tuple((*row, repr(row[2]), repr(row[3])) for row in negative))
    assert charts.row_profile(negative) != first  # "-0,00", as before
