"""Number cells a workbook shows otherwise than it stores them, read as shown: the readers give the stored
number, and what an operator (and the verification team, who type from what they see) means is the display.

Percentages: Excel stores ``3,1%`` (typed, or 3.1 typed into a cell formatted as a percentage) as 0.031. A row's
``value`` is in the methodology's unit, percent for the rates and growths (IID.md §3.1), so such a cell is read
as shown, 3.1: the same content as a JSON ``"value": 3.1`` (before, 0.031 gave unemployment rate 5b level 3 for
3.1 %). A format is a percentage where its code has a ``%`` outside quotes, escapes and brackets (built-in
formats 9 and 10 are ``0%`` and ``0.00%``; ``0.00"%"`` only writes the sign after the number and is not one).

Zero-padded numbers: an id typed ``001`` is the number 1 unless the cell is text, and a template gives such a
column the format ``000`` so that it shows ``001``. A format of two or more zeros and nothing else (``00``,
``000``; custom, no built-in format is one) shows the number rounded to a whole one and padded to its width: an
identifier cell is read as that text (``001``). A format with a fraction or a single zero is not one: Excel's
"Number" (built-in 2, ``0.00``) shows an id 1 as ``1.00``, and the id is still 1 (as in JSON, and as a
verification CSV types it); ``0`` shows it as stored.
"""

from __future__ import annotations

import io
import math
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

PERCENT = "%"  # what :func:`shown_styles` gives for a percentage format
_BUILTIN = {9: "0%", 10: "0.00%"}  # the built-in formats read as shown (no built-in one is zero-padded)
_REF = re.compile(r"([A-Za-z]{1,7})([0-9]{1,12})")
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
# Excel keeps a format code to 255 characters: a longer one (a crafted styles part) is left alone, so that no
# cell is padded to a million digits
_ZERO_PADDED = re.compile(r"0{2,255}")


def is_percent_format(code: str) -> bool:
    """Whether a number format code shows its number as a percentage (``0.0%``; not ``0"%"``)."""
    return "%" in _LITERALS.sub("", code)


def is_zero_padded_format(code: str) -> bool:
    """Whether a number format code is two or more zeros and nothing else (``00``, ``000``; not ``0``, ``0.00``)."""
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


def column_letters(number: int) -> str:
    """A column's letters from its number from 1 (1 is A, 27 is AA): the inverse of :func:`_column_number`."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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
    1 in ``000`` is ``001``, 12345 is ``12345``, 2.5 is ``003`` (halves away from zero, as Excel rounds).
    Anything else (text, a non-finite number, another format) as it is."""
    number = stored_number(value)
    if not is_zero_padded_format(code) or number is None:
        return value
    # through a float: calamine reads 2**60 as a float, openpyxl as an int, and both are to read one text
    with localcontext() as context:
        context.prec = 400  # a float's 309 digits, exactly
        shown = abs(Decimal(repr(number))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    digits = f"{shown:0{len(code)}f}"
    return f"-{digits}" if number < 0 else digits  # -0.4 in ``00`` shows -00, as in Excel
