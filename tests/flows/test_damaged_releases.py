"""Damaged releases: a manifest alone, a table missing, cut short or written over, a manifest that is not JSON.

Every command that reads releases ends in one line naming the release folder, the file and what to do
(never a traceback, never an empty --out folder); the catalog leaves such a release out, with a warning;
a copy does not carry it to the location; the next publish of the year is a new release beside it, and
a year whose report reads a damaged earlier year's release publishes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from factory import innovation, score, submission, write_home
from typer.testing import CliRunner, Result

from flows import pipeline
from flows.cli import app
from flows.releases import DamagedRelease, release_dirs
from flows.settings import Home

runner = CliRunner()
KINDS = ("manifest only", "missing", "cut short", "written over", "manifest not JSON")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with release 1 of 2023 and of 2024 (whose report reads 2023's as history)."""
    root = tmp_path_factory.mktemp("damaged")
    for year in (2023, 2024):
        files = {f"{code}-{year}.json": submission(code, year=year, spd_total=20 + i,
                                                   innovations=[innovation(f"{code}-{year}", 30 + i, year=year)])
                 for i, code in enumerate(("35.78", "35.15"))}
        home = write_home(root, year, files)
        score(home, year).close()
        pipeline.publish(home, year, {"run_id": f"damaged-{year}"})
    return root


def _home(pristine: Path, tmp_path: Path) -> Home:
    root = tmp_path / "home"
    shutil.copytree(pristine, root)
    return Home.resolve(root)


def damage(folder: Path, kind: str, name: str = "region_scores.parquet") -> None:
    """Damage a release folder as a disk, a person or a copy cut off would."""
    for base, _dirs, files in os.walk(folder):
        os.chmod(base, 0o755)
        for file in files:
            os.chmod(Path(base) / file, 0o644)
    if kind == "manifest only":  # the reproducer of the report: a folder holding only {"year":…,"release":…}
        shutil.rmtree(folder)
        folder.mkdir()
        (folder / "manifest.json").write_text(json.dumps({"year": 2024, "release": 1}), encoding="utf-8")
    elif kind == "missing":
        (folder / name).unlink()
    elif kind == "cut short":
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])
    elif kind == "written over":  # a valid Parquet file, not the one published
        other = folder / "other.parquet"
        duckdb.connect().execute("copy (select * from read_parquet($source) limit 1) to $target (format parquet)",
                                 {"source": str(folder / name), "target": str(other)})
        os.replace(other, folder / name)
    else:
        (folder / "manifest.json").write_text("{not json", encoding="utf-8")


def _invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    text = result.output.lstrip("\n")  # iid copy's progress bar, once gone, leaves an empty line
    assert text.startswith("error: ") and text.count("\n") == 1, result.output
    for word in words:
        assert word in result.output, (word, result.output)


def _named(kind: str, name: str) -> tuple[str, ...]:
    """What the error must name: the release folder, and the file (or the manifest)."""
    if kind == "manifest only":
        return "release=1", "manifest.json lists no region_scores.parquet"
    if kind == "manifest not JSON":
        return "release=1", "no readable manifest.json"
    return "release=1", name, "iid run --year 2024 --from-stage publish"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("release", [None, "1"])
def test_report_of_a_damaged_release_is_one_line_and_writes_nothing(pristine: Path, tmp_path: Path, kind: str,
                                                                     release: str | None) -> None:
    """'iid report' on a release=1 holding only its manifest ended in DuckDB's 'No files found' traceback and left
    --out created, empty."""
    home = _home(pristine, tmp_path)
    damage(home.published_year(2024) / "release=1", kind)
    out = tmp_path / "out"
    chosen = ["--release", release] if release else []
    _one_line_error(_invoke("report", "--year", "2024", *chosen, "--out", str(out), "--home", str(home.root)),
                    *_named(kind, "region_scores.parquet"))
    assert not out.exists()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("command", "name"), [
    (("feedback", "--year", "2024", "--region", "35.78"), "quarantine.parquet"),
    (("feedback", "--year", "2024", "--out", "{out}"), "data_quality.parquet"),
    (("summary", "--year", "2024"), "region_scores.parquet"),
    (("diff", "--year", "2024", "--from", "1", "--to", "1"), "region_scores.parquet"),
])
def test_commands_reading_a_damaged_release_say_so_in_one_line(pristine: Path, tmp_path: Path, kind: str,
                                                               command: tuple[str, ...], name: str) -> None:
    """feedback, summary and diff ended in a DuckDB traceback (file missing or cut short) or read a file written over
    as if it were the release's."""
    home = _home(pristine, tmp_path)
    damage(home.published_year(2024) / "release=1", kind, name)
    out = tmp_path / "out"
    args = [a.format(out=out) for a in command]
    _one_line_error(_invoke(*args, "--home", str(home.root)), *_named(kind, name))
    assert not out.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_the_catalog_leaves_a_damaged_release_out_and_says_so(pristine: Path, tmp_path: Path, kind: str) -> None:
    """The catalog's views read whatever files a damaged latest release still had (a manifest alone: no 2024 at
    all, without a word; a file written over: its rows)."""
    home = _home(pristine, tmp_path)
    damage(home.published_year(2024) / "release=1", kind)
    result = _invoke("query", "select distinct year from region_scores order by year", "--home", str(home.root))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "release=1" in warnings[0] and "does not show it" in warnings[0], result.output
    assert "2023" in result.output and "2024" not in result.output.replace(str(home.root), "").split("warning")[0]


@pytest.mark.parametrize("kind", ["manifest only", "missing", "cut short", "written over"])
def test_a_damaged_release_is_not_copied(pristine: Path, tmp_path: Path, kind: str) -> None:
    """'iid copy' carried a damaged release to the location (where a release is never rewritten), or failed with
    DuckDB's words about the location's file and 'the releases at home are complete'."""
    home = _home(pristine, tmp_path)
    damage(home.published_year(2024) / "release=1", kind)
    location = tmp_path / "location"
    _one_line_error(_invoke("copy", "--to", str(location), "--home", str(home.root)),
                    "2023 release 1", "not copied: release 1 of 2024", *_named(kind, "region_scores.parquet")[1:])
    assert (location / "year=2023" / "release=1" / "manifest.json").is_file()
    assert not (location / "year=2024").exists()


@pytest.mark.parametrize("kind", ["manifest only", "missing", "cut short", "written over"])
def test_the_next_publish_of_a_damaged_year_is_a_new_release(pristine: Path, tmp_path: Path, kind: str) -> None:
    """A publish whose results equal a damaged latest release said 'nothing changed' and left it the latest, so the
    advice 'iid run --from-stage publish' did not help."""
    home = _home(pristine, tmp_path)
    damage(home.published_year(2024) / "release=1", kind)
    result = pipeline.publish(home, 2024, {"run_id": "again"})
    assert result["published"] and result["release"] == 2, result
    assert "release 1 is damaged" in result["message"]
    report = _invoke("report", "--year", "2024", "--out", str(tmp_path / "out"), "--home", str(home.root))
    assert report.exit_code == 0, report.output
    assert [r.number for r in release_dirs(home, 2024)] == [1, 2]


@pytest.fixture(scope="module")
def rescored(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pristine`` with 35.15's 2024 file changed and 2024 scored again (ingest, validate and transform read no
    release), not yet published."""
    home = _home(pristine, tmp_path_factory.mktemp("rescored"))
    (home.raw_year(2024) / "35.15-2024.json").write_text(json.dumps(submission("35.15", spd_total=40)), "utf-8")
    pipeline.ingest(home, 2024)
    pipeline.validate(home, 2024)
    pipeline.transform(home, 2024)
    return home.root


@pytest.mark.parametrize("kind", ["manifest only", "missing", "cut short", "written over"])
def test_a_year_whose_history_is_damaged_publishes_nothing(rescored: Path, tmp_path: Path, kind: str) -> None:
    """2024's report read a damaged 2023 release as history: a manifest alone or a missing file was skipped (no
    history, no word), a file cut short failed in DuckDB; now 2024 publishes nothing and says which and why."""
    home = _home(rescored, tmp_path)  # 2024 scored again after a change, not yet published
    damage(home.published_year(2023) / "release=1", kind)
    with pytest.raises(DamagedRelease, match=r"2024: nothing was published: .* release 1 of 2023 .*release=1\)"):
        pipeline.publish(home, 2024, {"run_id": "history"})
    assert [r.number for r in release_dirs(home, 2024)] == [1]
    _one_line_error(_invoke("report", "--year", "2024", "--out", str(tmp_path / "out"), "--home", str(home.root)),
                    "release 1 of 2023", "restore")
    assert not (tmp_path / "out").exists()
