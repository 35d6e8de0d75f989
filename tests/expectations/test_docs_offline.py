"""The Data Docs in a release open offline and are the same for the same results."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from factory import templates_parsed, validation_results

from expectations.validate import SuiteRunner


class _Loads(HTMLParser):
    """Every address a page loads by itself: img/script src, link href, CSS url()."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"img": "src", "script": "src", "link": "href", "source": "src", "iframe": "src"}.get(tag)
        self.addresses += [value or "" for name, value in attrs if name == wanted]

    def handle_data(self, data: str) -> None:
        self.addresses += re.findall(r"url\(\s*['\"]?([^)'\"]*)", data)


def _remote_loads(root: Path) -> dict[str, list[str]]:
    found = {}
    for page in sorted(root.rglob("*.html")):
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        remote = [a for a in parser.addresses if a.startswith(("http:", "https:", "//"))]
        if remote:
            found[page.relative_to(root).as_posix()] = remote
    return found


def test_data_docs_load_nothing_from_the_network_and_two_builds_are_identical(tmp_path: Path) -> None:
    """GX's pages loaded Bootstrap, jQuery and Vega from CDNs and GX's logo from its web server with the build
    time in the address (logo-long.png?d=<time>): the docs reached the internet (the README says no page
    does), and two builds of the same results differed (the pages also showed the time each batch was loaded,
ge_load_time). Now nothing is loaded from the network (the logo is
    the copy GX ships in static/) and two builds of the same results are the same files, byte for byte."""
    results = validation_results(tmp_path)
    runner = SuiteRunner()
    runner.build_docs(tmp_path / "first", "annual-2024", results)
    time.sleep(0.01)
    runner.build_docs(tmp_path / "second", "annual-2024", results)
    for root in (tmp_path / "first", tmp_path / "second"):
        assert _remote_loads(root) == {}
    files = {root: {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
             for root in (tmp_path / "first", tmp_path / "second")}
    assert len(files[tmp_path / "first"]) > 10 and files[tmp_path / "first"] == files[tmp_path / "second"]
    page = (tmp_path / "first" / "expectations" / "files.html").read_text(encoding="utf-8")
    assert 'src="../static/images/logo-long.png"' in page
    assert (tmp_path / "first" / "static" / "images" / "logo-long.png").is_file()
    assert not [p for p in (tmp_path / "first").rglob("*.html") if "ge_load_time" in p.read_text(encoding="utf-8")]
    index = (tmp_path / "first" / "index.html").read_text(encoding="utf-8")
    assert 'id="iid-offline-listing"' in index and "validation result" in index


def test_two_homes_build_the_same_pages_of_the_same_results(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Each home keeps its own compiled GX templates (warehouse/work/.gx-templates); GX's collapse template
    drew a random element id as it was compiled, so the same results gave other pages in another home, or
    once the cache was deleted ('collapse-body-<uuid4>'). Now the id is the same wherever it is compiled.
    The process keeps what it compiled: a third home compiles nothing and still gets the cache files."""
    from expectations import gxpatch

    results = validation_results(tmp_path)
    runner = SuiteRunner()
    for home in ("one", "two"):  # each its own template cache, compiled anew
        gxpatch.forget_compiled()
        runner.build_docs(tmp_path / home / "work" / "validation", "annual-2024", results)
    parsed = templates_parsed(monkeypatch)
    runner.build_docs(tmp_path / "three" / "work" / "validation", "annual-2024", results)
    assert parsed == []
    first, second, third = (tmp_path / home / "work" for home in ("one", "two", "three"))
    assert len(list((first / ".gx-templates").glob("*.cache"))) >= 20
    assert sorted(p.name for p in (third / ".gx-templates").glob("*.cache")) == \
        sorted(p.name for p in (first / ".gx-templates").glob("*.cache"))
    pages = {root: {p.relative_to(root / "validation").as_posix(): p.read_bytes()
                    for p in sorted((root / "validation").rglob("*")) if p.is_file()}
             for root in (first, second, third)}
    assert any(b"collapse-body-" in page for page in pages[first].values())
    assert len(pages[first]) > 10 and pages[first] == pages[second] == pages[third]
