"""The year's drop zone as ingest sees it: which entries are submissions, which are verification CSVs,
and the text a path is stored under."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

VERIFICATION_DIR = "verification"


def file_name(rel: str) -> str:
    """A drop-zone path as the text it is stored under: as it is, or, where the file system's name is not
    UTF-8 (Python holds each undecodable byte as a lone surrogate, which no UTF-8 table can store), with
    those bytes written as escapes: ``Pacit\\xe1n.json`` for a name saved in Latin-1. Such a file is
    read like any other."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("utf-8", "backslashreplace")
    return rel


def ignored(name: str) -> bool:
    """Whether a drop-zone entry is ignored by its name: files and folders starting with ``_`` (tooling, e.g. the
    generator's ledger in ``_generator/``) or ``.`` (hidden: an editor's backup, ``.DS_Store``, macOS's ``._*``
    twins), at any depth, in ``verification/`` too."""
    return name.startswith(("_", "."))


def drop_zone_files(raw_year: Path) -> Iterator[Path]:
    """Every entry of a year folder that could be a submission, sorted.

    Skipped: the top-level ``verification/`` folder and every :func:`ignored` file or folder, at any depth.
    Symbolic links (to files or folders) are listed, so they can be reported, but never followed.
    """
    for dirpath, dirnames, filenames in os.walk(raw_year, followlinks=False):
        here = Path(dirpath)
        top = here == raw_year
        links = [d for d in dirnames if (here / d).is_symlink()]
        dirnames[:] = sorted(d for d in dirnames if d not in links and not ignored(d)
                             and not (top and d == VERIFICATION_DIR))
        for name in sorted([*filenames, *links]):
            if not ignored(name):
                yield here / name


def verification_files(raw_year: Path) -> list[Path]:
    """The year's verification CSVs (``verification/*.csv``, ``.CSV`` too, but no :func:`ignored` name), sorted;
    symbolic links are never followed."""
    folder = raw_year / VERIFICATION_DIR
    if not folder.is_dir() or folder.is_symlink():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() == ".csv" and not ignored(p.name) and not p.is_symlink())
