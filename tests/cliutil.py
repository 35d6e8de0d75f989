"""Helpers of the command-line tests: one-line errors and a home's files as they were."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import Result


def one_line_error(result: Result) -> str:
    """The command ended with one ``error:`` line, not a traceback; that line."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def fingerprint(home: Path) -> dict[str, str]:
    """Every file of the home but the catalog's temporary spill folder, with its sha256."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}
