"""A submission's field values as the landing tables store them: text stripped (empty as none),
enumerations and codes normalised, numbers, dates and instants parsed, None for what does not convert
(validation then reports the raw text kept beside it)."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

WIB = timezone(timedelta(hours=7))
_NUMBER = re.compile(r"^[-+]?\d+([.,]\d+)?([eE][-+]?\d+)?$")
_SPACES = re.compile(r"\s+")


def text(value: Any) -> str | None:
    """A field as text: strings stripped, numbers as written, structures as JSON, empty as None."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)


_JSON_KINDS: dict[type, str] = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
                                float: "number"}


def kind_and_text(value: Any) -> str | None:
    """A JSON value as its kind and its JSON text (``object {"level": 3}``, ``string "16:3"``); None for None."""
    if value is None:
        return None
    return f"{_JSON_KINDS.get(type(value), type(value).__name__)} {json.dumps(value, ensure_ascii=False, default=str)}"


def region_code_text(value: Any) -> str | None:
    """A region code as :func:`text`, but a number with a fraction as the ``NN.KK`` it stands for: a cell where
    ``35.10`` was typed holds the number 35.1 (Excel drops the zero; so does a JSON writer given a number), and
    the text ``35.1`` is no region (SUB001 took the whole submission). A whole number stays as it is (``35``)."""
    if type(value) is float and not value.is_integer() and math.isfinite(value):
        two_places = f"{value:.2f}"
        if float(two_places) == value:
            return two_places
    return text(value)


def enum_text(value: Any) -> str | None:
    """Enumerations match ignoring case and surrounding or repeated spaces (CONTRACT.md §2)."""
    raw = text(value)
    return _SPACES.sub(" ", raw).lower() if raw is not None else None


def code_text(value: Any) -> str | None:
    raw = text(value)
    return raw.lower().replace(" ", "") if raw is not None else None


def whole_number(value: Any) -> int | None:
    """An int from an int, an integral float or a digit string; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if abs(value) < 2**62 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() and abs(value) < 2**62 else None
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d{1,15}\s*", value):
        return int(value)
    return None


def number(value: Any) -> float | None:
    """A finite float from a number or a numeric string (a decimal comma is accepted)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        result = float(value) if not isinstance(value, int) or abs(value) < 2**62 else math.inf
    elif isinstance(value, str) and _NUMBER.match(value.strip()):
        result = float(value.strip().replace(",", "."))
    else:
        return None
    return result if math.isfinite(result) else None


def iso_date(value: Any) -> date | None:
    raw = text(value)
    if raw is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 instant in UTC; a time without offset is read as WIB (UTC+7). None for anything else,
    also for an instant that is not in years 1-9999 once in UTC (``0001-01-01T00:00`` in WIB)."""
    raw = text(value)
    if raw is None or len(raw) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=WIB)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # stopped the year's ingest before
        return None
