"""Hashes that identify what produced a release: code version, file digests."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from flows.settings import PROJECT_ROOT

CODE_DIRS = ("flows", "transforms", "expectations")
CODE_SUFFIXES = (".py", ".sql", ".json", ".j2", ".css")  # the report's templates and style too
NOT_SHAPING_OUTPUT = ("flows/generator",)  # synthetic data for demos and benchmarks


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus a digest of every source file that shapes the output."""
    digest = hashlib.sha256()
    for folder in CODE_DIRS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts and not rel.startswith(
                    NOT_SHAPING_OUTPUT):
                digest.update(rel.encode())
                digest.update(path.read_bytes())
    try:
        package = version("iid")
    except PackageNotFoundError:
        package = "0+unknown"
    return f"{package}+{digest.hexdigest()[:12]}"
