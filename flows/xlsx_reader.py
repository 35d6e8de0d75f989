"""Read a submission workbook (the manual XLSX template) into a :class:`~flows.readers.ParsedFile`.

calamine (Rust) reads it, openpyxl where calamine cannot or reads differently (error cells, ISO
date cells, ``_xHHHH_`` escapes); a workbook too large unpacked, or with a sheet spanning too many
cells, is refused before either reads it. Locators are ``sheet!row``.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from itertools import zip_longest
from typing import Any

from flows.readers import (
    INNOVATION_FIELDS,
    OPERATOR_FIELDS,
    PROFILE_FIELDS,
    SCHEMA,
    XLSX_SHEETS,
    Answers,
    FileRejected,
    Innovation,
    ParsedFile,
    region_code_hint,
)
from flows.values import text
from flows.xlsx_formats import PERCENT, as_shown, column_letters, shown_cells, shown_styles, stored_number, zero_padded

MAX_XLSX_UNPACKED = 256 * 1024 * 1024  # uncompressed size of a workbook's parts (zip bombs)
# cells a sheet may span, from A1 to its last row and column (a template's SID sheet at ten times a national
# year spans ~100,000): calamine makes the whole span at once, and a cell at XFD1048576 asked it for
# 512 GB, which aborts the process (no exception to catch)
MAX_SHEET_CELLS = 4_000_000


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        stripped = value.strip()
        return stripped if stripped else None
    return value


# the columns of the template that hold identifiers, read as a zero-padded number format shows them (``001``:
# flows.xlsx_formats); indicators are left as stored (no row code has a leading zero: ``01`` would be ANS001),
# and so is profil's region_code (region_code_text reads 35.1 as 35.10; as shown, 35 in ``000`` would be
# ``035`` and no region)
IDENTIFIER_COLUMNS = {"inovasi": "id", "sid": "innovation_id"}


def _grid_rows(name: str, grid: Iterable[Sequence[Any]], shown: dict[tuple[int, int], str] | None = None,
               stored_ids: dict[int, float] | None = None) -> list[tuple[int, dict[str, Any]]]:
    """A sheet's rows (the first is the header) as (row number, {column: value}); empty rows skipped. A number
    cell the sheet shows otherwise than it stores it (``shown``: its format by (row, column), flows.xlsx_formats)
    is read as shown: in a ``value`` column a percentage (3.1 for 0.031), in an identifier column
    (IDENTIFIER_COLUMNS) a zero-padded number (``001`` for 1). ``stored_ids``, where given, gets the number each
    row's identifier cell stores, by row number, where it is a number cell (1 for a ``001`` shown by ``000``).

    What the reader raises while it reads the rows (openpyxl reads them one by one) is :class:`_Unreadable`,
    saying how many rows it read before."""
    rows = iter(grid)
    read = 0  # rows the reader gave: 1, 2, … from A1 (openpyxl gives the rows a sheet leaves out as empty)
    try:
        header_row = next(rows, None)
        read = 1
        header = [str(h).strip().lower() if h is not None else "" for h in (header_row or ())]
        missing = [c for c in XLSX_SHEETS[name] if c not in header]
        if missing:
            raise FileRejected("FIL006", f"sheet {name!r} lacks column(s) {missing}")
        # a template column given twice (a working copy left beside it): which of the two is meant cannot be told
        twice = {c: [i for i, h in enumerate(header) if h == c] for c in XLSX_SHEETS[name] if header.count(c) > 1}
        if twice:
            raise FileRejected("FIL006", f"sheet {name!r} has column(s) given twice: " + ", ".join(
                f"{c!r} ({' and '.join(column_letters(i + 1) for i in places)})" for c, places in twice.items())
                + "; which one is meant cannot be told: remove or rename all but one")
        out = []
        # a column's position from 1 (each template column is there once, above)
        positions = {column: position for position, column in enumerate(header, start=1)}
        value_column = positions.get("value", 0)
        identifier = IDENTIFIER_COLUMNS.get(name, "")
        identifier_column = positions.get(identifier, 0)
        for number, row in enumerate(rows, start=2):
            read = number
            if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            # every column of the header, also where the reader ends a row at its last value (openpyxl)
            cells = {h: _cell(v) for h, v in zip_longest(header, row) if h}
            if stored_ids is not None and (stored := stored_number(cells.get(identifier))) is not None:
                stored_ids[number] = stored
            if shown and shown.get((number, value_column)) == PERCENT:
                cells["value"] = as_shown(cells["value"])
            if shown and (code := shown.get((number, identifier_column), PERCENT)) != PERCENT:
                cells[identifier] = zero_padded(cells[identifier], code)
            out.append((number, cells))
    except FileRejected:
        raise
    except Exception as exc:  # the readers raise many kinds (CalamineError, XmlError, ValueError, OverflowError …)
        raise _Unreadable(name, exc, read) from None
    return out


class _Workbook:
    """The four sheets of a template as grids of cell values, from calamine (fast) or openpyxl."""

    def __init__(self, data: bytes, engine: str, shown: dict[str, dict[tuple[int, int], str]] | None = None) -> None:
        self.engine = engine
        # the number cells each sheet (by its title) shows otherwise than it stores them (flows.xlsx_formats)
        self.shown = shown or {}
        if engine == "calamine":
            from python_calamine import CalamineWorkbook

            self.book: Any = CalamineWorkbook.from_filelike(io.BytesIO(data))
            names: list[str] = list(self.book.sheet_names)
        else:
            import openpyxl

            self.book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            names = list(self.book.sheetnames)
        # the workbook's names for each sheet of the template, matched ignoring case and surrounding spaces
        # ('Profil', ' SPD '), as column names are; more than one is a clash (FIL006, see _check_sheets)
        self.titles: dict[str, list[str]] = {}
        for title in names:
            if (key := title.strip().lower()) in XLSX_SHEETS:
                self.titles.setdefault(key, []).append(title)

    def grid(self, name: str) -> Iterable[Sequence[Any]]:
        """The cells of the template's sheet ``name`` (``profil``, …), as the workbook names it."""
        title = self.titles[name][0]
        if self.engine != "calamine":
            sheet = self.book[title]
            # its rows as they are, not as far as the sheet's <dimension> says: a dimension smaller than
            # the data cut rows off without a word (calamine ignores it)
            sheet.reset_dimensions()
            return sheet.iter_rows(values_only=True)  # type: ignore[no-any-return]
        # from A1, as openpyxl reads it (not from the first used cell)
        rows = self.book.get_sheet_by_name(title).to_python(skip_empty_area=False)
        # calamine reads every number as a float; openpyxl a whole number written without a decimal
        # point (the file stores 3, not 3.0) as an int: the same values either way
        return [[int(v) if type(v) is float and v.is_integer() and abs(v) < 2**53 else v for v in row]
                for row in rows]

    def close(self) -> None:
        self.book.close()


# what calamine reads differently from openpyxl: error cells (#N/A, #DIV/0!: calamine gives an
# empty cell, openpyxl the error's text), ISO 8601 date cells, and _xHHHH_ escapes in text (calamine
# decodes them, openpyxl keeps them); a workbook with any of them is read with openpyxl
_OPENPYXL_ONLY = re.compile(rb"""\st\s*=\s*["'][ed]["']|_x[0-9A-Fa-f]{4}_""")
_CELL_REF = re.compile(rb"""<(?:\w+:)?c\s[^<>]*?\br\s*=\s*["']([A-Za-z]{1,7})([0-9]{1,12})["']""")
_ROW_REF = re.compile(rb"""<(?:\w+:)?row\s[^<>]*?\br\s*=\s*["']([0-9]{1,12})["']""")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def sheet_span(xml: bytes) -> tuple[int, int]:
    """The last row and column a sheet's XML puts a cell or row in (cells' ``r="C12"``, rows' ``r="12"``)."""
    rows = max((int(r) for r in _ROW_REF.findall(xml)), default=0)
    columns = 0
    for letters, row in _CELL_REF.findall(xml):
        columns = max(columns, _column_number(letters))
        rows = max(rows, int(row))
    return rows, columns


def _sheet_titles(archive: zipfile.ZipFile) -> dict[str, str]:
    """The name a workbook gives the sheet stored in each part ({part: name}; empty when that cannot be told)."""
    from xml.etree import ElementTree

    titles = {}
    try:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): "xl/" + str(rel.get("Target", "")).lstrip("/").removeprefix("xl/") for rel in rels}
        for sheet in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
            ids = [v for k, v in sheet.attrib.items() if k.endswith("}id")]
            if sheet.tag.endswith("}sheet") and ids and targets.get(ids[0]):
                titles[str(targets[ids[0]])] = sheet.get("name", "")
    except (KeyError, ElementTree.ParseError):
        pass
    return titles


def _sheet_name(archive: zipfile.ZipFile, part: str) -> str:
    """The name a workbook gives the sheet stored in ``part``, quoted (its part name when that cannot be told)."""
    title = _sheet_titles(archive).get(part)
    return repr(title) if title is not None else part.rsplit("/", 1)[-1]


def _check_span(archive: zipfile.ZipFile, part: str, xml: bytes) -> None:
    """FIL008 for a sheet spanning more than MAX_SHEET_CELLS cells from A1."""
    rows, columns = sheet_span(xml)
    if rows * columns > MAX_SHEET_CELLS:
        raise FileRejected("FIL008", f"sheet {_sheet_name(archive, part)} reaches row {rows:,} and column "
                                     f"{columns:,}, {rows * columns:,} cells from A1; the limit is "
                                     f"{MAX_SHEET_CELLS:,}: clear the cells far outside the table")


def _open_workbook(data: bytes, engine: str) -> _Workbook:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > MAX_XLSX_UNPACKED:
                raise FileRejected("FIL008", f"workbook unpacks to {unpacked} bytes (zip bomb?)")
            only_openpyxl = False
            styles = shown_styles(archive.read("xl/styles.xml")) if "xl/styles.xml" in archive.namelist() else {}
            shown: dict[str, dict[tuple[int, int], str]] = {}
            titles = _sheet_titles(archive) if styles else {}  # read once, where such cells may be found
            # a percentage applies to a value column (every sheet has one but inovasi), a zero-padded number only
            # to an identifier column: without percentages, the other sheets are not parsed for nothing
            sheets = set(XLSX_SHEETS) if PERCENT in styles.values() else set(IDENTIFIER_COLUMNS)
            for name in archive.namelist():  # each part read once, for all checks
                if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml":
                    xml = archive.read(name)
                    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                        _check_span(archive, name, xml)
                        title = titles.get(name, name)
                        if title.strip().lower() in sheets and (cells := shown_cells(xml, styles)):
                            shown[title] = cells
                    only_openpyxl = only_openpyxl or (engine == "calamine" and bool(_OPENPYXL_ONLY.search(xml)))
            if only_openpyxl:
                engine = "openpyxl"
        return _Workbook(data, engine, shown)
    except FileRejected:
        raise
    except Exception as exc:  # the readers raise many kinds for a broken workbook
        raise FileRejected("FIL006", f"not a readable XLSX workbook ({type(exc).__name__})") from None


def parse_xlsx(data: bytes, engine: str = "calamine") -> ParsedFile:
    """Parse the manual XLSX template (sheets profil, spd, inovasi, sid).

    Read with calamine (Rust, ~20 times faster than openpyxl); a workbook calamine cannot read is
    read with openpyxl, and only a workbook neither can read is rejected. Both give the same values
    (a test compares them on generated and awkward workbooks).
    """
    try:
        wb = _open_workbook(data, engine)
    except FileRejected as exc:
        if engine != "calamine" or exc.rule != "FIL006":
            raise
        return parse_xlsx(data, "openpyxl")
    try:
        return _read_sheets(wb)
    except _Unreadable as exc:  # calamine reads a sheet lazily: what it cannot read, openpyxl may
        if engine == "calamine":
            return parse_xlsx(data, "openpyxl")
        raise FileRejected("FIL006", exc.reason, exc.region_hint) from None
    finally:
        wb.close()


class _Unreadable(Exception):
    """A sheet the reader failed on while reading its cells (bad cell XML, a value it cannot convert).

    Its reason names the sheet, the rows read before and the kind of error only: the reader's message
    can quote the cell (``could not convert string to float: 'operator@…'``), and the reason is published
    in quarantine."""

    def __init__(self, sheet: str, error: Exception, rows_read: int = 0) -> None:
        super().__init__(sheet)
        after = f" after row {rows_read}" if rows_read else ""
        self.reason = f"sheet {sheet!r} is unreadable{after} ({type(error).__name__})"
        self.region_hint: str | None = None  # the region its profil names, when that sheet was read


def _sheet_rows(wb: _Workbook, name: str,
                stored_ids: dict[int, float] | None = None) -> list[tuple[int, dict[str, Any]]]:
    """:func:`_grid_rows` of a sheet; what the reader raises on its cells, as :class:`_Unreadable`."""
    try:
        grid = wb.grid(name)  # calamine reads the whole sheet here
    except Exception as exc:  # the readers raise many kinds (CalamineError, XmlError, ValueError, OverflowError …)
        raise _Unreadable(name, exc) from None
    return _grid_rows(name, grid, wb.shown.get(wb.titles[name][0], {}), stored_ids)


def _profile(wb: _Workbook) -> tuple[dict[str, Any], str | None]:
    """The ``profil`` sheet's fields ({field: value}) and the region code it names (when it names one);
    FIL009 for a field of the template given twice (a duplicate key in JSON), naming the field and its rows,
    not its values (an operator's contact)."""
    rows: dict[str, list[tuple[int, Any]]] = {}
    for number, row in _sheet_rows(wb, "profil"):
        rows.setdefault(str(row.get("field") or "").strip().lower(), []).append((number, row.get("value")))
    codes = {region_code_hint(value) for _, value in rows.get("region_code", ())}
    hint = codes.pop() if len(codes) == 1 else None
    for name in PROFILE_FIELDS:
        if len(rows.get(name, ())) > 1:
            numbers = " and ".join(str(number) for number, _ in rows[name])
            raise FileRejected("FIL009", f"sheet 'profil' gives the field {name!r} twice (rows {numbers}); "
                                         "keep one row", hint)
    return {name: given[-1][1] for name, given in rows.items()}, hint


def _check_sheets(wb: _Workbook, names: list[str]) -> None:
    """FIL006 for a sheet of the template among ``names`` that the workbook lacks, or names twice."""
    absent = [name for name in names if name not in wb.titles]
    if absent:
        raise FileRejected("FIL006", f"workbook lacks sheet(s) {absent}")
    for name in names:
        if len(wb.titles[name]) > 1:
            raise FileRejected("FIL006", f"sheets {' and '.join(map(repr, wb.titles[name]))} both stand for sheet "
                                         f"{name!r} (sheet names match ignoring case and surrounding spaces); "
                                         "keep one")


def _read_sheets(wb: _Workbook) -> ParsedFile:
    """The template's four sheets of an open workbook; profil first, so that a file rejected for what the
    other sheets lack or hold still names its region (``region_hint``: feedback reaches it)."""
    _check_sheets(wb, ["profil"] if "profil" in wb.titles else list(XLSX_SHEETS))  # no profil: all it lacks
    profile, hint = _profile(wb)
    try:
        _check_sheets(wb, list(XLSX_SHEETS))
        return _records(wb, profile)
    except (FileRejected, _Unreadable) as exc:
        exc.region_hint = hint
        raise


def _records(wb: _Workbook, profile: dict[str, Any]) -> ParsedFile:
    """The submission a workbook holds, from its profil's fields and its sheets spd, inovasi and sid."""
    if profile.get("schema") not in (None, SCHEMA):
        raise FileRejected("FIL005", f"schema is {str(profile.get('schema'))[:60]!r}, expected {SCHEMA!r}")
    header = {k: profile.get(k) for k in ("year", "region_code", "region_name", "submitted_at")}
    operator = {k: profile.get(f"operator_{k}") for k in OPERATOR_FIELDS}
    spd = Answers(json=False)
    for n, r in _sheet_rows(wb, "spd"):
        spd.add("spd", n, r)
    inovasi_numbers: dict[int, float] = {}
    inovasi = _sheet_rows(wb, "inovasi", inovasi_numbers)
    innovations = [Innovation(f"inovasi!{n}", {k: r.get(k) for k in INNOVATION_FIELDS}, Answers(json=False))
                   for n, r in inovasi]
    # the innovations of each id, as landing_innovations keeps it (text()): an id of two or more rows names
    # no one innovation, so its SID rows go to none of them (INO007 rejects them all, as in JSON); rows with
    # no id go to the first innovation with none (INO001 takes them with it, as in JSON)
    by_id: dict[str, list[Innovation]] = {}
    for inv in innovations:
        by_id.setdefault(text(inv.fields.get("id")) or "", []).append(inv)
    by_number = _ids_by_number(inovasi, inovasi_numbers)
    orphans = Answers(json=False)
    shared: dict[str, Answers] = {}
    sid_numbers: dict[int, float] = {}
    # a text id in sid that names the number an inovasi id cell stores (text "1" for the 1 shown "001"), as it
    # read before ids were read as shown: what matched then matches now
    by_stored_text = {text(number): shown for number, shown in by_number.items()}
    for n, r in _sheet_rows(wb, "sid", sid_numbers):
        key = text(r.get("innovation_id")) or ""
        if key not in by_id:
            if n in sid_numbers:  # a number: the inovasi id cell storing it, else the id it read as before (text 1)
                stored = sid_numbers[n]
                before = text(stored) or ""
                key = by_number.get(stored) or (before if before in by_id else key)
            else:
                key = by_stored_text.get(key, key)
        owners = by_id.get(key, [])
        target = owners[0].answers if len(owners) == 1 or (owners and not key) else orphans if not owners else \
            shared.setdefault(key, Answers(json=False))
        target.add("sid", n, r)
    return ParsedFile("xlsx", "profil", header, operator, spd, innovations, False, orphans, shared)


def _ids_by_number(inovasi: list[tuple[int, dict[str, Any]]], stored_ids: dict[int, float]) -> dict[float, str]:
    """The id the sheet ``inovasi`` shows (text()) for each number stored in exactly one of its id cells.

    A sid row whose ``innovation_id`` as shown names no innovation, but whose cell is a number, goes to the
    innovation whose id cell stores that number: an operator who gives inovasi's id column the format ``000``
    (1 shows ``001``) and leaves sid's General (1 shows ``1``) means one innovation, and so did the reader before
    ids were read as shown (each SID row was ANS009 after). Text is never matched so: ``01`` and ``1`` typed as
    text may be two innovations, and a number stored in two id cells names neither."""
    shown: dict[float, list[str]] = {}
    for number, row in inovasi:
        if number in stored_ids:
            shown.setdefault(stored_ids[number], []).append(text(row.get("id")) or "")
    return {stored: ids[0] for stored, ids in shown.items() if len(ids) == 1}
