"""Copy releases to a location outside the home: another disk, S3, GCS, Azure… (any fsspec URL).

The home's own ``published/`` folder stays the pipeline's record and is written as always (a
staging folder renamed into place). A copy location gets each complete release file by file, the
manifest last, so a reader there sees a release whole or not at all: as at home, a ``release=N``
folder without ``manifest.json`` is not a release. A release already there is never rewritten; one
there with a different manifest is an error. After the copy, the location gets its own analyst
catalog ``iid.duckdb``, views over the Parquet files at that location.

A local folder or ``file://`` needs nothing more; ``s3://`` needs ``s3fs``, ``gs://`` ``gcsfs``,
``az://`` ``adlfs`` (credentials as those packages read them).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from flows.catalog import write_catalog
from flows.errors import os_reason
from flows.faults import pause_point
from flows.locks import file_lock
from flows.releases import DamagedRelease, Release, all_releases, check_release, scan_releases
from flows.settings import Home

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

CATALOG = "iid.duckdb"


class CopyError(RuntimeError):
    """The copy location cannot be used or refused a file; the home's releases are untouched."""


@dataclass(frozen=True)
class CopyResult:
    url: str
    copied: list[tuple[int, int]] = field(default_factory=list)  # (year, release) copied by this call
    present: int = 0  # releases that were there already
    catalog: str = ""  # where the location's catalog was written

    @property
    def message(self) -> str:
        done = ", ".join(f"{y} release {n}" for y, n in self.copied) or "nothing new"
        return f"copied to {self.url}: {done} ({self.present} already there); catalog {self.catalog}"


def copy_location(value: str | None = None) -> str | None:
    """The copy location: ``value`` if given, else ``$IID_COPY_TO``; none when both are empty."""
    chosen = value if value is not None else os.environ.get("IID_COPY_TO", "")
    return chosen.strip() or None


def open_location(url: str) -> tuple[AbstractFileSystem, str]:
    """The fsspec filesystem and root path of a copy location, or a :class:`CopyError` saying what to install."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        raise CopyError(f"{url}: {exc} (pip install it into the pipeline's environment)") from None
    except ValueError as exc:
        raise CopyError(f"{url}: {exc}; use a folder or a URL such as s3://bucket/iid") from None
    return fs, str(root).rstrip("/") or "/"


def _is_local(fs: AbstractFileSystem) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocol


def _put_whole(fs: AbstractFileSystem, data: bytes, path: str) -> None:
    """Write a small file so that readers see all of it or none: a temporary name, then a move
    (a rename on disk; on object stores a single server-side copy)."""
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    fs.pipe_file(tmp, data)
    fs.mv(tmp, path)


def _release_files(release: Release) -> list[tuple[Path, str]]:
    """(local file, path inside the release) of every file but the manifest, sorted."""
    return sorted((p, p.relative_to(release.path).as_posix()) for p in release.path.rglob("*")
                  if p.is_file() and p.relative_to(release.path).as_posix() != "manifest.json")


def _copy_release(fs: AbstractFileSystem, root: str, url: str, release: Release) -> bool:
    """Copy one release unless it is there; returns whether it was copied."""
    folder = f"{root}/year={release.year}/release={release.number}"
    manifest = (release.path / "manifest.json").read_bytes()
    if fs.exists(f"{folder}/manifest.json"):
        if fs.cat_file(f"{folder}/manifest.json") == manifest:
            return False
        raise CopyError(f"{url}: release {release.number} of {release.year} is there with another manifest; "
                        "a release is never overwritten. Copy this home to a location of its own, or move the "
                        "other release away first")
    check_release(release)  # a damaged release is not copied: the location's copy would be final
    files = _release_files(release)
    if _is_local(fs):  # object stores have no folders (and makedirs there may create a bucket)
        for parent in sorted({str(Path(rel).parent) for _, rel in files}):
            fs.makedirs(f"{folder}/{parent}" if parent != "." else folder, exist_ok=True)
    fs.put([str(p) for p, _ in files], [f"{folder}/{rel}" for _, rel in files])
    arrived = {str(k).rstrip("/"): v.get("size") for k, v in fs.find(folder, detail=True).items()}
    for path, rel in files:  # a short file (a write cut off) must not be crowned by the manifest
        size = arrived.get(f"{folder}/{rel}")
        if size != path.stat().st_size:
            raise CopyError(f"{url}: {rel} of release {release.number} of {release.year} arrived with {size} of "
                            f"{path.stat().st_size} bytes; run 'iid copy --to {url}' again")
    for stale in fs.glob(f"{folder}/manifest.json.*.tmp"):  # left by a copy cut off while writing it
        fs.rm(stale)
    pause_point("copy:before-manifest")
    _put_whole(fs, manifest, f"{folder}/manifest.json")
    return True


def _write_location_catalog(fs: AbstractFileSystem, root: str) -> str:
    """The location's ``iid.duckdb``: views over its own Parquet files, written whole."""
    found = scan_releases(fs, root)
    folders = {(r.year, r.number): folder for r, folder in found}
    latest = {r.year: r for r, _ in found}  # oldest first: the last one of a year wins

    def where(folder: str) -> str:
        return folder if _is_local(fs) else fs.unstrip_protocol(folder)

    def locate(release: Release, name: str) -> str | None:
        return where(f"{folders[(release.year, release.number)]}/{name}") if name in release.manifest.get(
            "files", {}) else None

    releases = [r for r, _ in found]
    runs = [f for f in (locate(r, "runs.parquet") for r in releases) if f is not None]
    with tempfile.TemporaryDirectory(prefix="iid-catalog-") as tmp:
        path = Path(tmp) / CATALOG
        con = duckdb.connect(str(path))
        try:
            if not _is_local(fs):
                con.register_filesystem(fs)  # views are checked against the files when they are created
            write_catalog(con, releases, list(latest.values()), locate,
                          lambda r: where(folders[(r.year, r.number)]), runs, where(root))
            con.execute("checkpoint")
        finally:
            con.close()
        _put_whole(fs, path.read_bytes(), f"{root}/{CATALOG}")
    return where(f"{root}/{CATALOG}")


def copy_releases(home: Home, url: str, years: list[int] | None = None,
                  progress: Callable[[int, int], Any] | None = None) -> CopyResult:
    """Copy every release of ``years`` (default all) that the location lacks, then write its catalog.

    Serialised with the home's catalog rebuilds, so two years finishing together cannot drop each
    other's release from the location's catalog.
    """
    fs, root = open_location(url)
    if _is_local(fs) and (Path(root) == home.root or Path(root).is_relative_to(home.root)
                          or home.root.is_relative_to(Path(root))):
        raise CopyError(f"{url}: that is the home {home.root} (or holds it); copy to a folder outside it")
    releases = [r for r in all_releases(home) if years is None or r.year in years]
    copied: list[tuple[int, int]] = []
    damaged: list[str] = []
    home.warehouse.mkdir(parents=True, exist_ok=True)
    with file_lock(home.warehouse / ".catalog.lock", "a catalog rebuild", wait=True):
        try:
            if _is_local(fs):
                fs.makedirs(root, exist_ok=True)
            for done, release in enumerate(releases, 1):
                try:
                    if _copy_release(fs, root, url, release):
                        copied.append((release.year, release.number))
                except DamagedRelease as exc:
                    damaged.append(f"not copied: {exc}")
                if progress:
                    progress(done, len(releases))
            catalog = _write_location_catalog(fs, root)
        except (OSError, duckdb.Error) as exc:
            raise CopyError(f"cannot copy to {url}: {os_reason(exc)}; the releases at home are "
                            "complete: fix the location (space, permissions, credentials) and run "
                            f"'iid copy --to {url}'") from None
    result = CopyResult(url, copied, len(releases) - len(copied) - len(damaged), catalog)
    if damaged:  # the others are copied; the damaged ones fail the copy, named, each with what to do
        raise CopyError(f"{result.message}; {damaged[0]}" + (f" ({len(damaged) - 1} more damaged release(s): "
                                                            "see 'iid snapshots')" if len(damaged) > 1 else ""))
    return result
