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


def months_chart(months: dict[str, int]) -> str:
    """Vertical bars of changes per month (YYYY-MM → count), oldest left."""
    if not months:
        return ""
    peak = max(months.values())
    bar, gap, height = 18, 4, 80
    width = len(months) * (bar + gap)
    parts = []
    for index, (month, count) in enumerate(months.items()):
        bar_height = max(1, round(count / peak * height))
        x = index * (bar + gap)
        parts.append(
            f'<rect x="{x}" y="{height - bar_height}" width="{bar}" height="{bar_height}" '
            f'fill="{COLOR_NEUTRAL}"><title>{month}: {count}</title></rect>'
        )
    first, last = next(iter(months)), next(reversed(months))
    return (
        f'<svg class="rb-chart" role="img" width="{width}" height="{height + 16}" '
        f'viewBox="0 0 {width} {height + 16}" aria-label="changes per month, {first} to {last}">'
        + "".join(parts)
        + f'<text x="0" y="{height + 13}" font-size="11" fill="currentColor">{first}</text>'
        + f'<text x="{width}" y="{height + 13}" font-size="11" fill="currentColor" '
        f'text-anchor="end">{last}</text></svg>'
    )
