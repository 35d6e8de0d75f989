"""Whole Arrow columns of parsed answers converted as ``flows.values`` converts one value: indicator
codes, levels and values with their text, evidence items. The columns come typed
(:data:`flows.landing.ANSWER_TYPE`); a converter returns None where its result could not be exact (the
caller then converts value by value)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flows.values import code_text, text


def per_distinct(texts: pa.Array, convert: Callable[[Any], Any], kind: pa.DataType) -> pa.Array:
    """``convert`` of every text of an Arrow string array (None stays None), worked out in Python once per
    distinct text: exactly what ``convert`` gives, as fast as Arrow's own string functions here (a year's
    evidence items repeat, enumerations and indicators are a few dozen, and hashing a narrative costs
    about what scanning it would)."""
    encoded = texts.dictionary_encode()
    return pa.array([convert(v) for v in encoded.dictionary.to_pylist()], kind).take(encoded.indices)


def indicator_column(column: pa.Array) -> pa.Array:
    """Indicator codes (a string column) as :func:`code_text` gives them."""
    return per_distinct(column, code_text, pa.string())


def level_columns(column: pa.Array) -> tuple[pa.Array, pa.Array] | None:
    """Levels (an int64 column) and their text as :func:`whole_number` and :func:`text` give them; None
    where a level is past 2**62 (no level, :func:`whole_number` says)."""
    low, high = (v.as_py() for v in pc.min_max(column).values())
    if low is not None and (low <= -(2**62) or high >= 2**62):
        return None
    return column, pc.cast(column, pa.string())


def value_columns(column: pa.Array, n: int) -> tuple[pa.Array, pa.Array, pa.Array] | None:
    """Values (a float64 column, integers among them as Arrow converted them exactly), their text and
    whether they were written as text, as :func:`number`, :func:`text` and the landing's ``value_is_text``
    give them: whole numbers written as integers, other numbers with Python's ``repr`` (Arrow writes some
    differently), none as text (a file with a value as text is not converted here); None where that
    cannot be exact (whole numbers from 10**15 on, infinities and NaN)."""
    not_text = pa.repeat(pa.scalar(False), n)
    values = column.to_numpy(zero_copy_only=False)  # nulls as NaN
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    if not np.isfinite(values[valid]).all():
        return None
    whole = valid & (values == np.floor(values))
    if (np.abs(values[whole]) >= 1e15).any():
        return None
    fraction = valid & ~whole
    written = pc.cast(pc.cast(pc.if_else(pa.array(fraction), 0.0, column), pa.int64()), pa.string())
    if fraction.any():
        written = pc.replace_with_mask(written, pa.array(fraction),
                                       pa.array([repr(v) for v in values[fraction].tolist()], pa.string()))
    return column, written, not_text


def evidence_column(column: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Every answer's evidence items (a list<string> column) as one array (as :func:`text` gives them:
    stripped, empty as None), the answer each belongs to, and the count per answer."""
    counts = pc.list_value_length(column).fill_null(0).to_numpy().astype(np.int64)
    items = pc.list_flatten(column)
    parents = pc.list_parent_indices(column).to_numpy().astype(np.int64)
    return per_distinct(items, text, pa.string()), parents, counts


def each_distinct(values: list[Any], convert: Callable[[Any], Any], kind: pa.DataType) -> pa.Array:
    """``convert`` of every value (None for None), worked out once per distinct text when all are text
    (or None), and value by value otherwise."""
    arr = as_arrow(values)
    if arr is not None and pa.types.is_null(arr.type):
        return pa.nulls(len(values), kind)
    if arr is not None and pa.types.is_string(arr.type):
        return per_distinct(arr, convert, kind)
    return pa.array([convert(v) for v in values], kind)


def as_arrow(values: list[Any]) -> pa.Array | None:
    """The values as an Arrow array of the type Arrow infers; None if they have no one type."""
    try:
        return pa.array(values)
    except (pa.ArrowException, OverflowError, ValueError, TypeError):
        return None
