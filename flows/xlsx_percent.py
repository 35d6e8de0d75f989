"""Number cells a workbook shows as a percentage: Excel stores ``3,1%`` (typed, or 3.1 typed into a cell
formatted as a percentage) as 0.031, and the readers give that number. A row's ``value`` is in the
methodology's unit, percent for the rates and growths (IID.md §3.1), so such a cell is read as shown, 3.1:
the same content as a JSON ``"value": 3.1`` (before, 0.031 gave unemployment rate 5b level 3 for 3.1 %).

A format is a percentage where its code has a ``%`` outside quotes, escapes and brackets (built-in formats
9 and 10 are ``0%`` and ``0.00%``; ``0.00"%"`` only writes the sign after the number and is not one).
"""

from __future__ import annotations

import io
import math
import re
from decimal import Decimal
from typing import Any

_BUILTIN_PERCENT = {9, 10}
_REF = re.compile(r"([A-Za-z]{1,7})([0-9]{1,12})")
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def is_percent_format(code: str) -> bool:
    """Whether a number format code shows its number as a percentage (``0.0%``; not ``0"%"``)."""
    return "%" in _LITERALS.sub("", code)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def percent_styles(styles_xml: bytes) -> set[int]:
    """The indices of the cell formats (``cellXfs``) of a workbook's styles part that show a percentage (none
    where the part cannot be parsed: its numbers are then read as stored)."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(styles_xml)
    except ElementTree.ParseError:
        return set()
    custom = {}
    for element in root.iter():
        if _local(element.tag) == "numFmt":
            number, code = element.get("numFmtId"), element.get("formatCode")
            if number is not None and number.isdigit() and code is not None:
                custom[int(number)] = code
    out = set()
    for block in (e for e in root if _local(e.tag) == "cellXfs"):
        for index, xf in enumerate(e for e in block if _local(e.tag) == "xf"):
            number = xf.get("numFmtId")
            if number is not None and number.isdigit() and (
                    int(number) in _BUILTIN_PERCENT or is_percent_format(custom.get(int(number), ""))):
                out.add(index)
    return out


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def percent_cells(sheet_xml: bytes, styles: set[int]) -> set[tuple[int, int]]:
    """(row, column) of a sheet's number cells whose format is one of ``styles``, from 1 (A1 is (1, 1)); none
    where the part cannot be parsed (the reader then rejects the workbook). Parsed, not searched: a part full
    of ``<c `` without ``>`` cost a pattern search one pass per ``<c `` (minutes for a few MB)."""
    from xml.etree import ElementTree

    out = set()
    try:
        for _event, element in ElementTree.iterparse(io.BytesIO(sheet_xml), events=("end",)):
            tag = _local(element.tag)
            if tag == "c":
                style, kind = element.get("s"), element.get("t")
                if style is not None and style.isdigit() and int(style) in styles and kind in (None, "n"):
                    position = _REF.fullmatch(element.get("r") or "")
                    if position:
                        out.add((int(position.group(2)), _column_number(position.group(1))))
            elif tag == "row":
                element.clear()  # rows already looked at are not kept
    except ElementTree.ParseError:
        return set()
    return out


def as_shown(value: Any) -> Any:
    """A number shown as a percentage, as the number shown (0.031 -> 3.1, without 3.1000000000000005)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return value
    scaled = Decimal(repr(value)) * 100
    return int(scaled) if scaled == scaled.to_integral_value() and abs(scaled) < 2**53 else float(scaled)
