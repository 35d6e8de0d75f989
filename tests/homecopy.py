"""A home built once per test module and copied for each test that changes it.

A pipeline cycle costs seconds even on a few files (validation, the report over every region), so tests
that start from the same published state build it once (a module-scoped fixture) and each gets a copy.
The copy is the home's folder copied, with one repair: the catalog's
views read the Parquet files by absolute path, so it is rebuilt to read the copy's releases, as the next
publish in that home would. Files keep their bytes and modification times; their change times and inodes
are new, so the next ingest hashes them again instead of trusting their stamps (the results are the same).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flows.catalog import rebuild_catalog
from flows.settings import Home


def copy_home(template: Path, root: Path) -> Home:
    """A copy of the home at ``template`` at ``root`` (which must not exist), its catalog reading the copy.
    Release files stay read-only, as published."""
    shutil.copytree(template, root, symlinks=True)
    home = Home.resolve(root)
    if home.catalog.exists():
        rebuild_catalog(home)
    return home
