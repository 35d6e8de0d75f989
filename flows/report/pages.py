"""Region pages carried over from an earlier release when nothing they show has changed.

A release rebuilds its 546 region pages, but a re-run after one region's correction changes few of
them: the region itself and those whose rank, level median or level leader moved. A page is a
function of its ``RegionInputs``, the method and the code (it does not name the release: only the
yearly report does). So each page's inputs are digested (``page_key``), and a page whose digest
equals the one recorded when the earlier release was built is the same file: it is hard-linked into
the new release (its bytes are written once, for every release that shows them; published files are
read-only) instead of being rendered, encoded, written and hashed again.

The record (``Home.report_pages(year)``, in the private warehouse) names the release it describes
and, per region, the digest of the page's inputs, the sha256 of the page as written, and its size,
modification time and inode then. A page is carried over only when the earlier release is complete
(it has its manifest) and the page there still has that size, time and inode (as git's index tells an
unchanged file); where a link cannot be made (another file system), the page is read, checked
against its sha256 and written. Anything else renders the page as usual: a lost, stale or foreign
record only costs time, and the pages are byte for byte those a full rendering gives
(``tests/flows/test_report_pages.py`` compares them).
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
from typing import NamedTuple

from flows.report.profile import RegionInputs
from flows.versioning import code_version

SCHEMA = "iid.report-pages/v2"
_MARSHAL = 2  # version 3 on marks objects referenced twice, which equal values need not be


def key_prefix(year: int, method_sha256: str) -> str:
    """What every page of the year depends on besides its inputs: the code, the template engine, the
    method, Python (whose ``marshal`` format the digests use) and DuckDB (which digests the innovations)."""
    return (f"{SCHEMA}|{code_version()}|jinja2 {version('jinja2')}|markupsafe {version('markupsafe')}|"
            f"duckdb {version('duckdb')}|python {sys.version}|method {method_sha256}|{year}")


def page_key(prefix: str, inputs: RegionInputs) -> str | None:
    """A digest of a page's inputs; None when some value has no faithful ``repr``, so the page is rendered.

    The innovations and findings count by their digests (``innovations_digest``, ``findings_digest``, computed
    in DuckDB from the values the page lists), so they are read only for pages that are rendered. The method
    rows (plain strings and numbers) are digested as ``marshal`` version 2, exact and without the references
    later versions write for objects that happen to be shared; the rest as its ``repr`` (frozen dataclasses,
    decimals, dates).
    """
    text = repr(inputs._replace(innovations=[], findings=None, rows=()))
    if " object at 0x" in text:
        return None
    digest = hashlib.sha256(f"{prefix}\n{text}\n".encode())
    digest.update(marshal.dumps(inputs.rows, _MARSHAL))
    return digest.hexdigest()


class Stamp(NamedTuple):
    """A written page: its sha256, and its size, modification time (ns) and inode then."""

    sha256: str
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path, sha256: str) -> Stamp:
        status = path.stat()
        return cls(sha256, status.st_size, status.st_mtime_ns, status.st_ino)

    def holds(self, path: Path) -> bool:
        """Whether ``path`` is still the file stamped (same size, modification time and inode)."""
        try:
            status = path.stat()
        except OSError:
            return False
        return (status.st_size, status.st_mtime_ns, status.st_ino) == (self.size, self.mtime_ns, self.inode)


@dataclass
class PageRecord:
    """The pages of one release build: region code → (digest of its inputs, stamp of the page written)."""

    year: int
    release: int
    pages: dict[str, tuple[str, Stamp]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, year: int) -> PageRecord | None:
        """The record at ``path``, or None when there is none or it cannot be used (wrong year, unreadable)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("schema") != SCHEMA or raw.get("year") != year:
                return None
            pages = {str(code): (str(key), Stamp(str(sha), int(size), int(mtime), int(inode)))
                     for code, (key, sha, size, mtime, inode) in raw["pages"].items()}
            return cls(year, int(raw["release"]), pages)
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None

    def write(self, path: Path) -> None:
        """Replace the record in one step (a reader sees the old one or the new one)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp")
        pages = {code: [key, *stamp] for code, (key, stamp) in self.pages.items()}
        tmp.write_text(json.dumps({"schema": SCHEMA, "year": self.year, "release": self.release,
                                   "pages": pages}, separators=(",", ":")) + "\n", encoding="utf-8")
        os.replace(tmp, path)


class Carrier:
    """Takes pages over from the release a ``PageRecord`` describes, checking each one."""

    def __init__(self, record: PageRecord | None, year_dir: Path, link: bool = True) -> None:
        folder = year_dir / f"release={record.release}" if record is not None else None
        complete = folder is not None and (folder / "manifest.json").is_file()  # a published release
        self._record = record if complete else None
        self._pages = folder / "report" / "region" if folder is not None and complete else None
        self._link = link
        self.carried = 0

    def take(self, code: str, key: str | None, target: Path) -> Stamp | None:
        """Put the earlier page of ``code`` at ``target`` when its inputs are unchanged and the page checks
        out; its stamp there, or None (nothing written) when it has to be rendered.

        ``link``: a hard link (the release's files are read-only, so the two names never differ); a copy
        is made, the bytes checked against the sha256, where a link cannot be (or for a folder outside
        the releases, whose files a user may change).
        """
        if self._record is None or self._pages is None or key is None:
            return None
        entry = self._record.pages.get(code)
        if entry is None or entry[0] != key:
            return None
        stamp, source = entry[1], self._pages / f"{code}.html"
        if not stamp.holds(source):
            return None
        if self._link and _linked(source, target):
            self.carried += 1
            return stamp  # the same file
        try:
            data = source.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != stamp.sha256:
            return None
        write_new(target, data)
        self.carried += 1
        return Stamp.of(target, stamp.sha256)


def _linked(source: Path, target: Path) -> bool:
    """Whether ``target`` could be made a hard link to ``source`` (not on another file system, say)."""
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file at ``path``: a file there before is unlinked first, never written
    through (it may be a published page linked into another release)."""
    path.unlink(missing_ok=True)
    path.write_bytes(data)
