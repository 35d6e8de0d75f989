"""Fixtures of the release tests (test_releases, test_release_concurrency; a plugin of tests/conftest.py): a home
of four regions, fresh, after its first release (built once per module and copied), and with 35.01 resubmitted
and scored."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from factory import submission, write_home
from homecopy import copy_home
from releasehome import YEAR
from releasehome import release_files as _files
from releasehome import run_release as _run

from flows import pipeline
from flows.settings import Home


@pytest.fixture()
def home(tmp_path: Path) -> Home:
    return write_home(tmp_path, YEAR, _files())


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict]:
    """A home of ``_files()`` after its first run (release 1), built once for the module, and that run's
    results. Tests read it as it is, or change a copy (``published_once``)."""
    home = write_home(tmp_path_factory.mktemp("released"), YEAR, _files())
    return home, _run(home)


@pytest.fixture()
def published_once(released: tuple[Home, dict], tmp_path: Path) -> Home:
    """A copy of ``released``'s home: what ``_run(home)`` leaves in a fresh home."""
    return copy_home(released[0].root, tmp_path / "home")


@pytest.fixture()
def first_run(released: tuple[Home, dict]) -> dict:
    """The results of the run that published ``published_once``'s release 1."""
    return copy.deepcopy(released[1])


@pytest.fixture(scope="module")
def rescored_35_01(released: tuple[Home, dict], tmp_path_factory: pytest.TempPathFactory) -> Home:
    """Release 1, then 35.01 resubmitted (spd 60) and scored (ingest, validate, transform), not yet published."""
    home = copy_home(released[0].root, tmp_path_factory.mktemp("rescored-35.01") / "home")
    (home.raw_year(YEAR) / "35.01.json").write_text(json.dumps(submission("35.01", spd_total=60)), encoding="utf-8")
    for stage in (pipeline.ingest, pipeline.validate, pipeline.transform):
        stage(home, YEAR)  # scored under the file in the repository
    return home
