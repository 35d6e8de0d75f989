"""Read the report's HTML back in tests: text by element id, table rows by key, every link."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

_VOID = {"br", "meta", "img", "link", "input", "hr", "col", "source", "wbr"}


class Page(HTMLParser):
    """Text of every element with an id; rows of every table with an id, keyed by the row's
    ``data-code`` / ``data-predicate`` / ``data-row`` / ``data-year``; every ``src`` and ``href``; the script tags."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.rows: dict[str, list[tuple[str, list[str]]]] = {}
        self.links: list[str] = []
        self.scripts = 0
        self._open: list[tuple[str, str | None]] = []
        self._table: list[str | None] = []
        self._row: tuple[str, list[str]] | None = None
        self._cell: list[str] | None = None
        self.source = path.read_text(encoding="utf-8")
        self.feed(self.source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.links += [a[k] for k in ("src", "href") if a.get(k)]
        self.scripts += tag == "script"
        if tag == "table":
            self._table.append(a.get("id"))
        elif tag == "tr":
            key = next((a[k] for k in ("data-code", "data-predicate", "data-row", "data-year") if a.get(k)), "")
            self._row = (key, [])
        elif tag in ("td", "th"):
            self._cell = []
        if tag not in _VOID:
            self._open.append((tag, a.get("id")))
            if a.get("id"):
                self.text[a["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._table and self._table[-1] and self._row[0]:
                self.rows.setdefault(str(self._table[-1]), []).append(self._row)
            self._row = None
        elif tag == "table" and self._table:
            self._table.pop()
        while self._open:
            opened, _ = self._open.pop()
            if opened == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, ident in self._open:
            if ident:
                self.text[ident] += data
        if self._cell is not None:
            self._cell.append(data)

    def words(self, ident: str) -> str:
        return " ".join(self.text[ident].split())

    def row(self, table: str, key: str) -> list[str]:
        return next(cells for k, cells in self.rows[table] if k == key)


def number(text: str) -> float:
    """``1.234,56`` → 1234.56; ``−0,40`` → -0.4 (Indonesian number style as printed)."""
    return float(text.strip().replace(".", "").replace(",", ".").replace("−", "-").replace("+", ""))
