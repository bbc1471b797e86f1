"""Small inline SVG charts: a metric's before/after and the changes per month.

Inline SVG needs no JavaScript and no external asset, works offline and in any Markdown
engine, and survives the sanitiser's allow-list (which keeps only the elements used here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..models import Metric
from .escape import escape_text

if TYPE_CHECKING:
    from .index import MetricUse

BAR_WIDTH = 220
COLOR_BEFORE = "#9e9e9e"
COLOR_IMPROVED = "#2e7d32"
COLOR_REGRESSED = "#c62828"
COLOR_NEUTRAL = "#546e7a"
COLOR_GRID = "#9e9e9e80"


def format_number(value: float) -> str:
    """Whole numbers without a decimal point, others with at most four significant digits."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) >= 1 else f"{value:.4g}"


@dataclass(frozen=True)
class MetricChange:
    """What a metric did: delta, percent change and verdict by its `better` direction."""

    metric: Metric

    @property
    def delta(self) -> float:
        return self.metric.after - self.metric.before

    @property
    def percent(self) -> float | None:
        if self.metric.before == 0:
            return None
        return self.delta / abs(self.metric.before) * 100

    @property
    def verdict(self) -> str:
        if self.delta == 0:
            return "unchanged"
        lower_is_better = self.metric.better == "lower"
        return "improved" if (self.delta < 0) == lower_is_better else "regressed"

    @property
    def delta_text(self) -> str:
        sign = "+" if self.delta > 0 else ""
        return f"{sign}{format_number(self.delta)}"

    @property
    def percent_text(self) -> str:
        if self.percent is None:
            return "n/a"
        sign = "+" if self.percent > 0 else ""
        return f"{sign}{self.percent:.1f}%"


def metric_chart(change: MetricChange) -> str:
    """Two horizontal bars, before and after, on a common scale."""
    metric = change.metric
    scale = max(abs(metric.before), abs(metric.after)) or 1
    color = {"improved": COLOR_IMPROVED, "regressed": COLOR_REGRESSED}.get(
        change.verdict, COLOR_NEUTRAL
    )
    unit = escape_text(metric.unit)
    rows = []
    for y, label, value, fill in (
        (4, "before", metric.before, COLOR_BEFORE),
        (26, "after", metric.after, color),
    ):
        width = max(1, round(abs(value) / scale * BAR_WIDTH))
        rows.append(
            f'<text x="0" y="{y + 13}" font-size="12" fill="currentColor">{label}</text>'
            f'<rect x="50" y="{y}" width="{width}" height="16" fill="{fill}"></rect>'
            f'<text x="{54 + width}" y="{y + 13}" font-size="12" fill="currentColor">'
            f"{format_number(value)} {unit}</text>"
        )
    return (
        f'<svg class="rb-chart" role="img" width="{BAR_WIDTH + 150}" height="46" '
        f'viewBox="0 0 {BAR_WIDTH + 150} 46" aria-label="{escape_text(metric.name)}: '
        f'{format_number(metric.before)} to {format_number(metric.after)} {unit}">'
        + "".join(rows)
        + "</svg>"
    )


def every_month(months: dict[str, int]) -> dict[str, int]:
    """YYYY-MM → count for every month from the first to the last, empty ones as 0."""
    if not months:
        return {}
    first, last = min(months), max(months)
    year, month = int(first[:4]), int(first[5:7])
    filled = {}
    while f"{year:04d}-{month:02d}" <= last:
        key = f"{year:04d}-{month:02d}"
        filled[key] = months.get(key, 0)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return filled


def months_chart(months: dict[str, int]) -> str:
    """Vertical bars of changes per month (YYYY-MM → count), oldest left; an empty month is
    a gap; a label every few months, never overlapping."""
    months = every_month(months)
    if not months:
        return ""
    peak = max(months.values())
    bar, gap, height = 18, 4, 80
    width = max(len(months) * (bar + gap), 60)
    label_every = max(3, -(-len(months) // 10))
    parts = []
    for index, (month, count) in enumerate(months.items()):
        x = index * (bar + gap)
        if count:
            bar_height = max(1, round(count / peak * height))
            parts.append(
                f'<rect x="{x}" y="{height - bar_height}" width="{bar}" height="{bar_height}" '
                f'fill="{COLOR_NEUTRAL}"><title>{month}: {count}</title></rect>'
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x}" y="{height + 13}" font-size="11" fill="currentColor">{month}</text>'
            )
    first, last = next(iter(months)), next(reversed(months))
    total = sum(months.values())
    return (
        f'<svg class="rb-chart" role="img" width="{width + 30}" height="{height + 16}" '
        f'viewBox="0 0 {width + 30} {height + 16}" aria-label="changes per month, {first} to '
        f'{last}: {total} in all, at most {peak} in a month">' + "".join(parts) + "</svg>"
    )


def axis_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round values (1, 2, 2.5 or 5 times a power of ten apart) from at most `low` to at
    least `high`: the y axis's ticks."""
    if low == high:
        low, high = (low - 1, high + 1) if low else (0, 1)
    raw = (high - low) / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(round((last - first) / step) + 1)]


def _verdict_color(verdict: str) -> str:
    return {"improved": COLOR_IMPROVED, "regressed": COLOR_REGRESSED}.get(verdict, COLOR_NEUTRAL)


TREND_WIDTH = 420
TREND_PLOT_HEIGHT = 130
TEXT = 'font-size="14" fill="currentColor"'


@dataclass(frozen=True)
class TrendChart:
    """A metric's trend chart over its uses (newest first, as the index lists them), drawn
    when a page shows it.

    A metric page's key needs what the chart shows, not the drawing: a page taken from the
    cache draws nothing (drawing every metric's chart cost seconds of each rebuild), nor
    lists its changes' dates (a quarter of a million at 100,000 records)."""

    uses: Sequence[MetricUse]

    def __html__(self) -> str:
        oldest_first = reversed(self.uses)
        dated = [(use.entry.record.date.isoformat(), use.metric) for use in oldest_first]
        return trend_chart(dated)

    __str__ = __html__


def trend_chart(uses: Sequence[tuple[str, Metric]]) -> str:
    """A metric over time, as a step chart: each change (date, metric), oldest first, a step
    at its date from its before value (a square) to its after value (a dot, coloured by its
    verdict), the value held between changes; y ticks with the unit, dates under the steps.

    A change is an instant, so the value never slopes between two dates, and a metric moved
    by one change is one step with its two values, not a diagonal."""
    if not uses:
        return ""
    unit = uses[0][1].unit
    values = [v for _, metric in uses for v in (metric.before, metric.after)]
    ticks = axis_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]

    def tick_text(value: float) -> str:
        return escape_text(f"{format_number(value)} {unit}".strip())

    left = 12 + 8 * max(len(f"{format_number(t)} {unit}") for t in ticks)
    right, top, pad = 8, 10, 46
    bottom = top + TREND_PLOT_HEIGHT
    inner = TREND_WIDTH - right - left - 2 * pad
    count = len(uses)

    def x(position: int) -> float:
        if count == 1:
            return round(left + pad + inner / 2, 1)
        return round(left + pad + position * inner / (count - 1), 1)

    def y(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * TREND_PLOT_HEIGHT, 1)

    parts = []
    for tick in ticks:
        parts.append(
            f'<line x1="{left}" y1="{y(tick)}" x2="{TREND_WIDTH - right}" y2="{y(tick)}" '
            f'stroke="{COLOR_GRID}" stroke-width="1"></line>'
            f'<text class="rb-axis" x="{left - 6}" y="{y(tick) + 4}" {TEXT} '
            f'text-anchor="end">{tick_text(tick)}</text>'
        )
    labelled = range(count) if count <= 4 else (0, count - 1)
    held_from = (left, uses[0][1].before)  # where the value shown before a step starts
    for position, (day, metric) in enumerate(uses):
        at = x(position)
        start_x, start_value = held_from
        parts.append(
            f'<line x1="{start_x}" y1="{y(start_value)}" x2="{at}" y2="{y(start_value)}" '
            f'stroke="{COLOR_BEFORE}" stroke-width="2"></line>'
        )
        if start_value != metric.before:  # it drifted between two changes
            parts.append(
                f'<line x1="{at}" y1="{y(start_value)}" x2="{at}" y2="{y(metric.before)}" '
                f'stroke="{COLOR_BEFORE}" stroke-width="1" stroke-dasharray="3 3"></line>'
            )
        verdict = MetricChange(metric).verdict
        color = _verdict_color(verdict)
        label = escape_text(
            f"{day}: {format_number(metric.before)} to {format_number(metric.after)} "
            f"{unit} ({verdict})"
        )
        parts.append(
            f'<line class="rb-mark-{verdict}" x1="{at}" y1="{y(metric.before)}" x2="{at}" '
            f'y2="{y(metric.after)}" stroke="{color}" stroke-width="3"></line>'
            f'<rect x="{at - 4}" y="{y(metric.before) - 4}" width="8" height="8" fill="none" '
            f'stroke="{COLOR_BEFORE}" stroke-width="2"></rect>'
            f'<circle class="rb-point rb-mark-{verdict}" cx="{at}" cy="{y(metric.after)}" r="5" '
            f'fill="{color}"><title>{label}</title></circle>'
        )
        if count <= 3:
            parts.append(
                f'<text x="{at - 9}" y="{y(metric.before) + 4}" {TEXT} text-anchor="end">'
                f"{escape_text(format_number(metric.before))}</text>"
                f'<text x="{at + 9}" y="{y(metric.after) + 4}" {TEXT}>'
                f"{escape_text(format_number(metric.after))}</text>"
            )
        if position in labelled:
            parts.append(
                f'<line x1="{at}" y1="{bottom}" x2="{at}" y2="{bottom + 4}" '
                f'stroke="{COLOR_GRID}" stroke-width="1"></line>'
                f'<text class="rb-axis" x="{at}" y="{bottom + 20}" {TEXT} '
                f'text-anchor="middle">{day}</text>'
            )
        held_from = (at, metric.after)
    parts.append(
        f'<line x1="{held_from[0]}" y1="{y(held_from[1])}" x2="{TREND_WIDTH - right}" '
        f'y2="{y(held_from[1])}" stroke="{COLOR_BEFORE}" stroke-width="2"></line>'
    )
    height = bottom + 28
    first, last = uses[0][0], uses[-1][0]
    span = f"on {first}" if first == last else f"from {first} to {last}"
    return (
        f'<svg class="rb-chart rb-trend" role="img" width="{TREND_WIDTH}" height="{height}" '
        f'viewBox="0 0 {TREND_WIDTH} {height}" aria-label="'
        f"{count} {'change' if count == 1 else 'changes'} {span}, between "
        f"{escape_text(format_number(min(values)))} and "
        f'{escape_text(format_number(max(values)))} {escape_text(unit)}">'
        + "".join(parts)
        + "</svg>"
    )
