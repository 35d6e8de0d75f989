"""Feedback letters to regions from a published release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factory import innovation, score, submission, write_home, xlsx_bytes
from typer.testing import CliRunner

from flows import pipeline
from flows.cli import app
from flows.feedback import describe_locator


@pytest.mark.parametrize("locator, words", [
    ("(file)", "the whole file"), ("$", "the submission header (profil)"), ("$.spd[3]", "SPD answer no. 4"),
    ("$.innovations[7].sid[4]", "innovation no. 8, SID answer no. 5"),
    ("$.spd[0].evidence[1]", "SPD answer no. 1, evidence item no. 2"), ("sid!120", "sheet sid, row 120"),
    ("spd!5#evidence[0]", "sheet spd, row 5, evidence item 1"),
])
def test_locators_in_plain_words(locator: str, words: str) -> None:
    assert describe_locator(locator) == words


@pytest.fixture(scope="module")
def home_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feedback")
    bad = submission("35.78", spd_total=20, innovations=[innovation("S-1", 40)])
    bad["spd"][0]["level"] = 7
    bad["innovations"][0]["affair"] = "urusan karangan"
    bad["spd"][2]["evidence"] = []
    broken = json.dumps(submission("35.15", spd_total=10))[:200]
    no_sid = xlsx_bytes(submission("61.04", spd_total=10), drop_sheet="sid")
    # Kota Malang: a first file with a rejected answer, superseded by a clean one; Kota Batu: only a late file
    first = submission("35.73", spd_total=10, submitted_at="2024-07-01T10:00:00+07:00")
    first["spd"][0]["level"] = 9
    then = submission("35.73", spd_total=12, submitted_at="2024-07-20T10:00:00+07:00")
    late = submission("35.79", spd_total=12, submitted_at="2024-08-05T10:00:00+07:00")
    late["spd"][0]["level"] = 9
    home = write_home(root, 2024, {"sby.json": bad, "sda.json": broken, "ok.json": submission("35.01", spd_total=5),
                                   "sintang.xlsx": no_sid, "malang-1.json": first, "malang-2.json": then,
                                   "batu.json": late})
    score(home, 2024).close()
    pipeline.publish(home, 2024, {})
    return root


@pytest.mark.parametrize("code", ["35.78", " 35.78 "])  # as pasted, with spaces: it was 'not a pemda'
def test_feedback_for_one_region(home_root: Path, code: str) -> None:
    result = CliRunner().invoke(app, ["feedback", "--year", "2024", "--region", code, "--home", str(home_root)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "ANS003" in text and "SPD answer no. 1" in text and "INO006" in text and "innovation no. 1" in text
    assert "Kota Surabaya" in text
    assert "its innovation" not in text  # dependants rejected with their innovation are not repeated


def test_unreadable_file_is_routed_to_its_region(home_root: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["feedback", "--year", "2024", "--out", str(tmp_path), "--home",
                                      str(home_root)])
    assert result.exit_code == 0, result.output
    letters = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert len(letters) == 546 and "wrote 546 feedback file(s)" in result.output  # a letter to every pemda
    assert "FIL004" in letters["feedback-2024-35.15.md"] and "the whole file" in letters["feedback-2024-35.15.md"]
    assert "Nothing was rejected or flagged" in letters["feedback-2024-35.01.md"]  # ok.json counts, no finding
    assert "`ok.json`, submitted 2024-07-01 10:00 WIB: counts" in letters["feedback-2024-35.01.md"]
    assert "No submission of Kota Kediri for 2024 was received" in letters["feedback-2024-35.71.md"]


def test_a_rejected_workbook_is_routed_to_the_region_its_profil_names(home_root: Path) -> None:
    """A workbook without its sid sheet whose profil names 61.04: the region was told nothing was rejected."""
    result = CliRunner().invoke(app, ["feedback", "--year", "2024", "--region", "61.04", "--home", str(home_root)])
    assert result.exit_code == 0, result.output
    assert "FIL006" in result.output and "sintang.xlsx" in result.output and "the whole file" in result.output


def test_a_letter_says_which_files_count_and_lists_only_their_findings(home_root: Path) -> None:
    """A region's letter listed the findings of every file it sent, a superseded or late one's too, and told a
    region whose only file came late '0 rejected; N accepted with a warning', never that nothing of it was
    scored. It now names each file with what it is, and lists the findings of those that count or were
    rejected; those of a superseded or late file are counted, as they change nothing."""
    def letter(code: str) -> str:
        result = CliRunner().invoke(app, ["feedback", "--year", "2024", "--region", code, "--home", str(home_root)],
                                    env={"COLUMNS": "300"})
        assert result.exit_code == 0, result.output
        return result.output

    malang = letter("35.73")
    assert "- `malang-1.json`, submitted 2024-07-01 10:00 WIB: superseded (digantikan) by a later submission: " \
           "not scored" in malang
    assert "- `malang-2.json`, submitted 2024-07-20 10:00 WIB: counts (dihitung)" in malang
    assert "ANS003" not in malang and "1 finding(s) in the files that are superseded or late are not listed" in malang
    assert "Nothing was rejected or flagged" in malang
    batu = letter("35.79")
    assert "- `batu.json`, submitted 2024-08-05 10:00 WIB: late (terlambat): received after the deadline" in batu
    assert "None of these submissions counts, so Kota Batu has no score for 2024 (Tidak Dapat Dinilai)" in batu
    assert "ANS003" not in batu and "accepted with a warning" not in batu and "thank you" not in batu
    surabaya = letter("35.78")  # one file, that counts: its findings listed as before
    assert "`sby.json`, submitted 2024-07-01 10:00 WIB: counts" in surabaya and "ANS003" in surabaya


def test_unknown_region_is_a_clear_error(home_root: Path) -> None:
    result = CliRunner().invoke(app, ["feedback", "--year", "2024", "--region", "99.99", "--home", str(home_root)])
    assert result.exit_code == 1 and "not a pemda" in result.output


def test_letters_go_to_pemda_only_whatever_code_a_file_claims(tmp_path: Path) -> None:
    """A file claiming the region code 'a/b' made 'iid feedback --out' end in a FileNotFoundError traceback
    (feedback-2024-a/b.md); one claiming 99.95 (no such region) got a letter no pemda receives."""
    hostile, unknown = submission("35.15", spd_total=10), submission("35.16", spd_total=10)
    hostile["region_code"], unknown["region_code"] = "a/b", "99.95"
    home = write_home(tmp_path / "home", 2024, {"a.json": hostile, "b.json": unknown,
                                                "c.json": json.dumps(submission("35.78", spd_total=5))[:200]})
    score(home, 2024).close()
    pipeline.publish(home, 2024, {})
    out = tmp_path / "letters"
    result = CliRunner().invoke(app, ["feedback", "--year", "2024", "--out", str(out), "--home", str(home.root)],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    letters = sorted(p.name for p in out.iterdir())  # one per pemda of the year, none for a code that is none
    assert len(letters) == 546 and "feedback-2024-35.78.md" in letters and all("/" not in n for n in letters)
    assert not {"feedback-2024-99.95.md", "feedback-2024-a"} & set(letters)
    assert "FIL004" in (out / "feedback-2024-35.78.md").read_text(encoding="utf-8")
    assert "2 region code(s) that are not pemda of 2024 ('99.95', 'a/b') have no letter" in result.output


def test_a_letter_says_by_when_to_submit_again_or_that_the_deadline_has_passed() -> None:
    """Every letter asked to 'submit again before the deadline', also when written after it (as a release
    usually is): it names the deadline before it, and says the year's scores stand after it."""
    from datetime import datetime, timedelta

    from flows.feedback import Finding, SubmissionFile, render
    from flows.methodology import for_year

    deadline = for_year(2024).method.deadline_for(2024)
    items = [Finding("a.json", "$.spd[0]", "ANS008", "warning", "answer has no evidence", "0")]
    files = [SubmissionFile("a.json", "counting", deadline - timedelta(days=3))]

    def letter(now: datetime) -> str:
        return render(2024, "35.78", "Kota Surabaya", items, files, deadline, now)

    before = letter(deadline - timedelta(hours=1))
    assert "submit the whole submission again before the deadline, 2024-08-02 23:59 UTC+07:00." in before
    after = letter(deadline + timedelta(seconds=1))
    assert "The deadline for 2024, 2024-08-02 23:59 UTC+07:00, has passed, so these stay as scored this year" in after
    assert "before the deadline" not in after and "**ANS008** in `a.json`" in after


def test_the_region_page_gives_a_late_submission_s_time_in_wib(home_root: Path) -> None:
    """The page of a region none of whose files counts lists them with their times: in UTC, unlabelled (15:24 WIB
    read 08:24), where its letter gives WIB. Both give WIB now."""
    from flows.releases import latest_release
    from flows.settings import Home

    release = latest_release(Home.resolve(home_root), 2024)
    assert release is not None
    page = (release.path / "report" / "region" / "35.79.html").read_text(encoding="utf-8")
    assert "Penyampaian yang tidak dihitung (not counting): terlambat (late) 2024-08-05 10:00 WIB." in page
