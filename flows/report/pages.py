"""Region pages carried over from an earlier release when nothing they show has changed.

A release rebuilds its 546 region pages, but a re-run after one region's correction changes few of
them: the region itself and those whose rank, level median or level leader moved. A page is a
function of its ``RegionInputs``, the method, the code and the release number, and the release
number appears only in its footer (``footer.html.j2``). So each page's inputs are digested
(``page_key``), and a page whose digest equals the one recorded when the earlier release was built
is taken from that release with its footer rendered again, instead of being rendered whole.

The record (``Home.report_pages(year)``, in the private warehouse) names the release it describes
and, per region, the digest of the page's inputs and the sha256 of the page as written. A page is
carried over only when the earlier release is complete (it has its manifest), the page there still
has that sha256 and ends with that release's footer; anything else renders the page as usual. So a
lost, stale or foreign record only costs time: the pages are byte for byte those a full rendering
gives (``tests/flows/test_report_pages.py`` compares them).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from flows.report.profile import RegionInputs
from flows.versioning import code_version

SCHEMA = "iid.report-pages/v1"
_MARSHAL = 2  # version 3 on marks objects referenced twice, which equal values need not be


def key_prefix(year: int, method_sha256: str) -> str:
    """What every page of the year depends on besides its inputs: the code, the template engine, the
    method, Python (whose ``marshal`` format the digests use) and DuckDB (which digests the innovations)."""
    return (f"{SCHEMA}|{code_version()}|jinja2 {version('jinja2')}|markupsafe {version('markupsafe')}|"
            f"duckdb {version('duckdb')}|python {sys.version}|method {method_sha256}|{year}")


def page_key(prefix: str, inputs: RegionInputs) -> str | None:
    """A digest of a page's inputs; None when some value has no faithful ``repr``, so the page is rendered.

    The innovations count by their digest (``innovations_digest``, computed in DuckDB from the values
    the page lists), so they are read only for pages that are rendered. The method rows (plain strings
    and numbers) are digested as ``marshal`` version 2, exact and without the references later versions
    write for objects that happen to be shared; the rest as its ``repr`` (frozen dataclasses, decimals,
    dates).
    """
    text = repr(inputs._replace(innovations=[], rows=()))
    if " object at 0x" in text:
        return None
    digest = hashlib.sha256(f"{prefix}\n{text}\n".encode())
    digest.update(marshal.dumps(inputs.rows, _MARSHAL))
    return digest.hexdigest()


@dataclass
class PageRecord:
    """The pages of one release build: region code → (digest of its inputs, sha256 of the page)."""

    year: int
    release: int
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, year: int) -> PageRecord | None:
        """The record at ``path``, or None when there is none or it cannot be used (wrong year, unreadable)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("schema") != SCHEMA or raw.get("year") != year:
                return None
            pages = {str(code): (str(entry[0]), str(entry[1])) for code, entry in raw["pages"].items()}
            return cls(year, int(raw["release"]), pages)
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None

    def write(self, path: Path) -> None:
        """Replace the record in one step (a reader sees the old one or the new one)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp")
        tmp.write_text(json.dumps({"schema": SCHEMA, "year": self.year, "release": self.release,
                                   "pages": self.pages}, separators=(",", ":")) + "\n", encoding="utf-8")
        os.replace(tmp, path)


class Carrier:
    """Takes pages over from the release a ``PageRecord`` describes, checking each one."""

    def __init__(self, record: PageRecord | None, year_dir: Path, old_footer: str, new_footer: str) -> None:
        folder = year_dir / f"release={record.release}" if record is not None else None
        complete = folder is not None and (folder / "manifest.json").is_file()  # a published release
        self._record = record if complete else None
        self._pages = folder / "report" / "region" if folder is not None and complete else None
        self._old_footer, self._new_footer = old_footer, new_footer
        self.carried = 0

    def take(self, code: str, key: str | None) -> str | None:
        """The page of ``code`` with the new footer, when its inputs are unchanged and the old page checks out."""
        if self._record is None or self._pages is None or key is None:
            return None
        entry = self._record.pages.get(code)
        if entry is None or entry[0] != key:
            return None
        try:
            data = (self._pages / f"{code}.html").read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != entry[1]:
            return None
        text = data.decode("utf-8")
        if not text.endswith(self._old_footer):
            return None
        self.carried += 1
        return text[: len(text) - len(self._old_footer)] + self._new_footer
