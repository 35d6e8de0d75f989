"""Number cells a workbook shows otherwise than it stores them, read as shown: the readers give the stored
number, and what an operator (and the verification team, who type from what they see) means is the display.

Percentages: Excel stores ``3,1%`` (typed, or 3.1 typed into a cell formatted as a percentage) as 0.031. A row's
``value`` is in the methodology's unit, percent for the rates and growths (IID.md §3.1), so such a cell is read
as shown, 3.1: the same content as a JSON ``"value": 3.1`` (before, 0.031 gave unemployment rate 5b level 3 for
3.1 %). A format is a percentage where its code has a ``%`` outside quotes, escapes and brackets (built-in
formats 9 and 10 are ``0%`` and ``0.00%``; ``0.00"%"`` only writes the sign after the number and is not one).

Zero-padded numbers: an id typed ``001`` is the number 1 unless the cell is text, and a template gives such a
column the format ``000`` so that it shows ``001``. A format made only of zeros with an optional ``.`` and
zeros (``0``, ``000``, ``00.00``; built-in formats 1 and 2 are ``0`` and ``0.00``) shows the number padded to
its widths, the fraction rounded to its places: an identifier cell is read as that text (``001``).
"""

from __future__ import annotations

import io
import math
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

PERCENT = "%"  # what :func:`shown_styles` gives for a percentage format
_BUILTIN = {1: "0", 2: "0.00", 9: "0%", 10: "0.00%"}  # the built-in formats read as shown
_REF = re.compile(r"([A-Za-z]{1,7})([0-9]{1,12})")
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
# Excel keeps a format code to 255 characters: a longer one (a crafted styles part) is left alone, so that no
# cell is padded to a million digits
_ZERO_PADDED = re.compile(r"(0{1,255})(?:\.(0{1,255}))?")


def is_percent_format(code: str) -> bool:
    """Whether a number format code shows its number as a percentage (``0.0%``; not ``0"%"``)."""
    return "%" in _LITERALS.sub("", code)


def is_zero_padded_format(code: str) -> bool:
    """Whether a number format code is only zeros with an optional ``.`` and zeros (``000``, ``00.00``)."""
    return len(code) <= 255 and _ZERO_PADDED.fullmatch(code) is not None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def shown_styles(styles_xml: bytes) -> dict[int, str]:
    """The cell formats (``cellXfs``, by index) of a workbook's styles part whose numbers are read as shown:
    :data:`PERCENT` for a percentage, the format code for a zero-padded one (``000``). None where the part
    cannot be parsed: its numbers are then read as stored."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(styles_xml)
    except ElementTree.ParseError:
        return {}
    custom = {}
    for element in root.iter():
        if _local(element.tag) == "numFmt":
            number, code = element.get("numFmtId"), element.get("formatCode")
            if number is not None and number.isdigit() and code is not None:
                custom[int(number)] = code
    out = {}
    for block in (e for e in root if _local(e.tag) == "cellXfs"):
        for index, xf in enumerate(e for e in block if _local(e.tag) == "xf"):
            number = xf.get("numFmtId")
            if number is None or not number.isdigit():
                continue
            code = _BUILTIN.get(int(number)) or custom.get(int(number), "")
            if is_percent_format(code):
                out[index] = PERCENT
            elif is_zero_padded_format(code):
                out[index] = code
    return out


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def shown_cells(sheet_xml: bytes, styles: dict[int, str]) -> dict[tuple[int, int], str]:
    """The format (as :func:`shown_styles` gives it) of a sheet's number cells styled with one of ``styles``,
    by (row, column) from 1 (A1 is (1, 1)); none where the part cannot be parsed (the reader then rejects the
    workbook). Parsed, not searched: a part full of ``<c `` without ``>`` cost a pattern search one pass per
    ``<c `` (minutes for a few MB)."""
    from xml.etree import ElementTree

    out = {}
    try:
        for _event, element in ElementTree.iterparse(io.BytesIO(sheet_xml), events=("end",)):
            tag = _local(element.tag)
            if tag == "c":
                style, kind = element.get("s"), element.get("t")
                if style is not None and style.isdigit() and int(style) in styles and kind in (None, "n"):
                    position = _REF.fullmatch(element.get("r") or "")
                    if position:
                        out[int(position.group(2)), _column_number(position.group(1))] = styles[int(style)]
            elif tag == "row":
                element.clear()  # rows already looked at are not kept
    except ElementTree.ParseError:
        return {}
    return out


def stored_number(value: Any) -> float | None:
    """A number cell's value as a finite float; None for anything else (text, an integer past a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def as_shown(value: Any) -> Any:
    """A number shown as a percentage, as the number shown (0.031 -> 3.1, without 3.1000000000000005)."""
    if stored_number(value) is None:
        return value
    scaled = Decimal(repr(value)) * 100
    return int(scaled) if scaled == scaled.to_integral_value() and abs(scaled) < 2**53 else float(scaled)


def zero_padded(value: Any, code: str) -> Any:
    """A number shown with a zero-padded format (``code``, :func:`is_zero_padded_format`) as the text shown:
    1 in ``000`` is ``001``, 35.1 in ``00.00`` is ``35.10``, 7.456 in ``0.00`` is ``7.46`` (halves away from
    zero, as Excel rounds). Anything else (text, a non-finite number, another format) as it is."""
    match = _ZERO_PADDED.fullmatch(code) if len(code) <= 255 else None
    number = stored_number(value)
    if match is None or number is None:
        return value
    width, places = len(match.group(1)), len(match.group(2) or "")
    # through a float: calamine reads 2**60 as a float, openpyxl as an int, and both are to read one text
    with localcontext() as context:
        context.prec = 1000  # a float's 309 digits and 255 places, exactly
        shown = abs(Decimal(repr(number))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    digits = f"{shown:0{width + (places + 1 if places else 0)}.{places}f}"
    return f"-{digits}" if number < 0 else digits  # -0.4 in ``0`` shows -0, as in Excel
