"""Small inline SVG charts: a metric's before/after and the changes per month.

Inline SVG needs no JavaScript and no external asset, works offline and in any Markdown
engine, and survives the sanitiser's allow-list (which keeps only the elements used here).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Metric
from .escape import escape_text

BAR_WIDTH = 220
COLOR_BEFORE = "#9e9e9e"
COLOR_IMPROVED = "#2e7d32"
COLOR_REGRESSED = "#c62828"
COLOR_NEUTRAL = "#546e7a"


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


def trend_chart(uses: list[tuple[str, Metric]]) -> str:
    """A metric over time: each change (date, metric), oldest first, as a segment from its
    before to its after value, coloured by its verdict, the segments joined in date order."""
    if not uses:
        return ""
    values = [v for _, metric in uses for v in (metric.before, metric.after)]
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 1, high + 1
    step = max(8, min(60, 640 // len(uses)))
    left, top, plot_height = 64, 8, 120
    width = max(240, left + step * len(uses) + 16)

    def y(value: float) -> float:
        return round(top + (high - value) / (high - low) * plot_height, 1)

    path, segments = [], []
    for position, (day, metric) in enumerate(uses):
        x0 = left + position * step + step * 0.2
        x1 = left + position * step + step * 0.8
        verdict = MetricChange(metric).verdict
        color = {"improved": COLOR_IMPROVED, "regressed": COLOR_REGRESSED}.get(
            verdict, COLOR_NEUTRAL
        )
        path += [f"{x0:.1f},{y(metric.before)}", f"{x1:.1f},{y(metric.after)}"]
        label = (
            f"{day}: {format_number(metric.before)} to {format_number(metric.after)} "
            f"{metric.unit} ({verdict})"
        )
        segments.append(
            f'<line x1="{x0:.1f}" y1="{y(metric.before)}" x2="{x1:.1f}" y2="{y(metric.after)}" '
            f'stroke="{color}" stroke-width="3"><title>{escape_text(label)}</title></line>'
            f'<rect x="{x1 - 3:.1f}" y="{y(metric.after) - 3}" width="6" height="6" '
            f'fill="{color}"></rect>'
        )
    unit = escape_text(uses[0][1].unit)
    bottom = top + plot_height
    axis = (
        f'<text x="{left - 6}" y="{top + 10}" font-size="11" fill="currentColor" '
        f'text-anchor="end">{format_number(high)}</text>'
        f'<text x="{left - 6}" y="{bottom}" font-size="11" fill="currentColor" '
        f'text-anchor="end">{format_number(low)}</text>'
        f'<text x="{left}" y="{bottom + 16}" font-size="11" fill="currentColor">{uses[0][0]}</text>'
        + (
            f'<text x="{width - 4}" y="{bottom + 16}" font-size="11" fill="currentColor" '
            f'text-anchor="end">{uses[-1][0]}</text>'
            if len(uses) > 1
            else ""
        )
    )
    return (
        f'<svg class="rb-chart rb-trend" role="img" width="{width}" height="{bottom + 22}" '
        f'viewBox="0 0 {width} {bottom + 22}" aria-label="{len(uses)} changes from '
        f"{uses[0][0]} to {uses[-1][0]}, between {format_number(low)} and "
        f'{format_number(high)} {unit}">'
        f'<polyline points="{" ".join(path)}" fill="none" stroke="{COLOR_BEFORE}"></polyline>'
        + "".join(segments)
        + axis
        + "</svg>"
    )
