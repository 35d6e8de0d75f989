"""Charts as inline SVG built in Python: no scripts, no fonts, no requests; colours come from the page CSS.

Every chart scales to its container (``viewBox``); bar lists are HTML rows with a small SVG bar each,
so their labels wrap on a phone instead of shrinking.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from markupsafe import Markup, escape

from flows.report.fmt import integer, num, predicate_class

_PLOT_W, _PLOT_H = 400, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 32, 14, 10, 28


def _scale(value: float) -> tuple[int, int]:
    """A round axis maximum of at most five steps, and the step."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2500, 5000, 10000):
        steps = max(-int(-value // step), 1)
        if steps <= 5:
            return step * steps, step
    return int(value) + 1, int(value) + 1


def histogram(points: Sequence[tuple[float, str]], predicates: Sequence[str], thresholds: Sequence[float],
              title: str) -> Markup:
    """Regions per 5-point IID bin (0–100), each bar stacked by predicate; dashed lines at band minima."""
    bins = [dict.fromkeys(predicates, 0) for _ in range(20)]
    for iid, predicate in points:
        counts = bins[min(int(iid // 5), 19)]
        counts[predicate] = counts.get(predicate, 0) + 1
    top, step = _scale(max((sum(b.values()) for b in bins), default=1))
    width, height = _PLOT_W - _LEFT - _RIGHT, _PLOT_H - _TOP - _BOTTOM
    x = lambda v: _LEFT + width * v / 100  # noqa: E731
    y = lambda v: _TOP + height * (1 - v / top)  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {_PLOT_W} {_PLOT_H}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for tick in range(0, top + 1, step):
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{_PLOT_W - _RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
                     f'<text class="axis" x="{_LEFT - 5}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, counts in enumerate(bins):
        base = 0
        for predicate in predicates:
            count = counts.get(predicate, 0)
            if not count:
                continue
            parts.append(f'<rect class="fill-{predicate_class(predicate)}" x="{x(i * 5) + 1:.1f}" '
                         f'y="{y(base + count):.1f}" width="{width / 20 - 2:.1f}" '
                         f'height="{y(base) - y(base + count):.1f}"><title>IID {i * 5}–{i * 5 + 5}: '
                         f'{count} {escape(predicate)}</title></rect>')
            base += count
    for value in thresholds:
        parts.append(f'<line class="threshold" x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{_TOP}" '
                     f'y2="{_TOP + height}"/>')
    for tick in range(0, 101, 20):
        parts.append(f'<text class="axis" x="{x(tick):.1f}" y="{_PLOT_H - _BOTTOM + 16}" '
                     f'text-anchor="middle">{tick}</text>')
    parts.append(f'<line class="baseline" x1="{_LEFT}" x2="{_PLOT_W - _RIGHT}" y1="{_TOP + height}" '
                 f'y2="{_TOP + height}"/></svg>')
    return Markup("".join(parts))


def bar_list(items: Sequence[tuple[str, int]], css: str = "fill-bar", note: str = "") -> Markup:
    """Horizontal bars as HTML rows (label, bar, value); the labels wrap on small screens."""
    top = max((v for _, v in items), default=0) or 1
    total = sum(v for _, v in items) or 1
    rows = []
    for label, value in items:
        share = 100 * value / total
        rows.append(f'<div class="bar-row"><span class="bar-label">{escape(label)}</span>'
                    f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
                    f'<rect class="{css}" width="{100 * value / top:.2f}" height="10"/></svg>'
                    f'<span class="bar-value">{integer(value)} <small>({num(share, 1)} %)</small></span></div>')
    caption = f'<p class="note">{escape(note)}</p>' if note else ""
    return Markup(f'<div class="bars">{"".join(rows)}</div>{caption}')


def predicate_strip(counts: Sequence[tuple[str, int]]) -> Markup:
    """One 100 % stacked bar of predicate shares."""
    total = sum(c for _, c in counts) or 1
    parts, start = [], 0.0
    for predicate, count in counts:
        width = 100 * count / total
        if width:
            parts.append(f'<rect class="fill-{predicate_class(predicate)}" x="{start:.3f}" width="{width:.3f}" '
                         f'height="10"><title>{escape(predicate)}: {count}</title></rect>')
        start += width
    return Markup('<svg class="strip" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
                  f'aria-label="sebaran predikat">{"".join(parts)}</svg>')


def row_profile(rows: Sequence[tuple[str, str, float, float]]) -> Markup:
    """Strengths and weaknesses: per row (code, label, attained 0–3, median of the level) a bar and the
    median as a tick; a bar above the median is a strength, below it a weakness."""
    # Regions with the same rows get the same chart: every pemda without a counting submission has none
    # attained, against its level's medians (most of the pages of a small year). Each value's text is part of
    # the key, as -0.0 equals 0.0 but is printed otherwise.
    return _row_profile(tuple((code, label, value, median, repr(value), repr(median))
                              for code, label, value, median in rows))


@lru_cache(maxsize=64)
def _row_profile(rows: tuple[tuple[str, str, float, float, str, str], ...]) -> Markup:
    out = []
    numbers: dict[float, str] = {}  # a page shows a few distinct values (zero is formatted each time: ±0)
    for code, label, value, median, _, _ in rows:
        state = "above" if value > median + 1e-9 else "below" if value < median - 1e-9 else "equal"
        shown = (value and numbers.get(value)) or _formatted(numbers, value)
        middle = (median and numbers.get(median)) or _formatted(numbers, median)
        out.append(f'<div class="prof-row {state}"><span class="prof-label"><b>{escape(code)}</b> {escape(label)}'
                   f'</span><svg class="prof" viewBox="0 0 300 14" preserveAspectRatio="none" role="img" '
                   f'aria-label="{escape(code)}: {shown} / median {middle}">'
                   f'<rect class="track" width="300" height="14"/>'
                   f'<rect class="level-{state}" width="{100 * value:.1f}" height="14"/>'
                   f'<rect class="median" x="{max(100 * median - 1.5, 0):.1f}" y="0" width="3" height="14"/></svg>'
                   f'<span class="prof-value">{shown} <small>/ {middle}</small></span></div>')
    return Markup(f'<div class="profile">{"".join(out)}</div>')


def _formatted(numbers: dict[float, str], value: float) -> str:
    text = num(value)
    if value:
        numbers[value] = text
    return text


def history_chart(points: Sequence[tuple[int, float, str]], band_minima: Sequence[tuple[str, float]],
                  title: str) -> Markup:
    """IID over the published years on the predicate bands."""
    width, height, left, top, bottom = 480, 170, 34, 10, 26
    plot_w, plot_h = width - left - 14, height - top - bottom
    y = lambda v: top + plot_h * (1 - v / 100)  # noqa: E731
    parts = [f'<svg class="chart history" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    upper = 100.0
    for predicate, minimum in band_minima:
        if minimum <= 0:
            continue
        bottom_edge = minimum if minimum >= 1 else 0  # the lowest scored band reaches the axis
        parts.append(f'<rect class="band-{predicate_class(predicate)}" x="{left}" y="{y(upper):.1f}" '
                     f'width="{plot_w}" height="{y(bottom_edge) - y(upper):.1f}"/>')
        upper = minimum
    for tick in (0, 25, 50, 75, 100):
        parts.append(f'<text class="axis" x="{left - 5}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    step = plot_w / max(len(points), 1)
    xs = [left + step * (i + 0.5) for i in range(len(points))]
    if len(points) > 1:
        path = " ".join(f"{px:.1f},{y(v):.1f}" for px, (_, v, _) in zip(xs, points, strict=True))
        parts.append(f'<polyline class="line" points="{path}"/>')
    for px, (year, value, predicate) in zip(xs, points, strict=True):
        parts.append(f'<circle class="fill-{predicate_class(predicate)} dot" cx="{px:.1f}" cy="{y(value):.1f}" r="5">'
                     f"<title>{year}: {num(value)} ({escape(predicate)})</title></circle>"
                     f'<text class="label" x="{px:.1f}" y="{max(y(value) - 9, 12):.1f}" '
                     f'text-anchor="middle">{num(value)}</text>'
                     f'<text class="axis" x="{px:.1f}" y="{height - 8}" text-anchor="middle">{year}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
