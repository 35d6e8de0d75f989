"""EVD002's pattern, written for pyarrow's RE2, means what the plain Python pattern means."""

from __future__ import annotations

import re
import sys

import pandas as pd

from expectations.validate import _whitespace, suite_parameters
from flows.methodology import for_year


def _python_pattern(schemes: str, ext: str) -> str:
    return rf"(?i)^(?:(?:{schemes})://[^\s/]+\S*|[^/\\\s][^/\\]*\.(?:{ext}))$"


def test_whitespace_is_exactly_what_python_s_matches() -> None:
    assert _whitespace() == "".join(c for c in map(chr, range(sys.maxunicode + 1)) if re.match(r"\s", c))


def test_pattern_on_pyarrow_agrees_with_python_re() -> None:
    method = for_year(2024).method
    pattern = suite_parameters(method, 2024, [("35.78", True)])["evidence_regex"]
    ext = "|".join(re.escape(e) for e in method.evidence.allowed_extensions)
    schemes = "|".join(re.escape(s) for s in method.evidence.url_schemes)
    reference = re.compile(_python_pattern(schemes, ext))
    samples = ["laporan.pdf", "LAPORAN.PDF", "a/b.pdf", "b\\c.pdf", "https://x.go.id/a b", "https://x.go.id/ab",
               "HTTPS://X.GO.ID", "http:///x", "ftp://x", "foto.jpg", "foto.jpeg", "foto.exe", ".pdf", "x.pdf.exe",
               "dokumen final.pdf", "émoji 😀.png", "\u202edoc.pdf", "", "x.pdf\n", "https://a\u00a0b.pdf"]
    samples += [f"{ws}x.pdf" for ws in _whitespace()] + [f"https://x{ws}y" for ws in _whitespace()]
    samples += [f"x{ws}.pdf" for ws in _whitespace()]
    column = pd.Series(samples, dtype="string[pyarrow]")
    fast = column.str.contains(pattern).tolist()
    assert fast == [reference.search(s) is not None for s in samples]
