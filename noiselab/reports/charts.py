"""The inline SVG charts of a staff report: each sensor's Lden against the guideline value and
the year before, and one sensor's Lden per date or month."""

from __future__ import annotations

import html
from collections.abc import Sequence

from noiselab.charts import BOTTOM, LEFT, RIGHT, TOP, WIDTH, Axes, line, nice_range, svg, y_grid
from noiselab.reports.figures import Figures

__all__ = ["lden_bars", "lden_by_part"]

THIS, BEFORE, GUIDE = "#1d4ed8", "#94a3b8", "#b91c1c"
ROW = 22
LABELS = 150
"""Left margin of the bar chart, room for a sensor id (up to some 24 characters)."""


def lden_bars(rows: Sequence[tuple[str, float | None, float | None, float | None]]) -> str:
    """Horizontal bars of each row ``(label, Lden, Lden a year before, guideline value)``: a
    bar for the period, a grey tick for the year before, a red tick for the guideline."""
    values = [v for r in rows for v in r[1:] if v is not None]
    if not values:
        return '<p class="muted">No sensor has an Lden for this period.</p>'
    lo, hi, step = nice_range(values, pad=2.0)
    height = TOP + BOTTOM + ROW * len(rows)
    axes = Axes(lo, hi, 0, 1, height, LABELS)
    parts = []
    for i in range(round((hi - lo) / step) + 1):
        x = axes.x(lo + i * step)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{height - BOTTOM}" '
            f'stroke="#e2e8f0"/><text x="{x:.1f}" y="{height - BOTTOM + 16}" '
            f'text-anchor="middle">{lo + i * step:g} dB</text>'
        )
    for i, (label, lden, before, guide) in enumerate(rows):
        y = TOP + ROW * i
        parts.append(
            f'<text x="{LABELS - 6}" y="{y + 15}" text-anchor="end">{html.escape(label)}</text>'
        )
        if lden is not None:
            parts.append(
                f'<rect x="{LABELS}" y="{y + 5}" width="{max(0.0, axes.x(lden) - LABELS):.1f}" '
                f'height="12" fill="{THIS}"><title>{lden:.1f} dB</title></rect>'
            )
        for value, colour in ((before, BEFORE), (guide, GUIDE)):
            if value is not None:
                x = axes.x(value)
                parts.append(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 2}" y2="{y + 20}" '
                    f'stroke="{colour}" stroke-width="3"/>'
                )
    return svg(parts, "Lden of each sensor, the year before and the guideline value", height)


def lden_by_part(
    parts: Sequence[Figures], before: Sequence[Figures] | None, guideline: float | None
) -> str:
    """Lden of each date or month (blue), of the same month a year before (grey, for a year's
    report; ``before`` None for a month's) and the guideline value (red, dashed)."""
    this = [p.levels.lden for p in parts]
    earlier = [p.levels.lden for p in before] if before is not None else []
    values = [v for v in (*this, *earlier) if v is not None]
    if not values:
        return '<p class="muted">No Lden in this period (no date had all three periods).</p>'
    lo, hi, step = nice_range([*values, *([] if guideline is None else [guideline])])
    axes = Axes(-0.5, len(parts) - 0.5, lo, hi)
    shapes = y_grid(axes, step)
    every = max(1, len(parts) // 10)
    for i, part in enumerate(parts):
        if i % every == 0:
            shapes.append(
                f'<text x="{axes.x(i):.1f}" y="{axes.height - BOTTOM + 16}" '
                f'text-anchor="middle">{html.escape(part.label[-5:])}</text>'
            )
    if guideline is not None:
        y = axes.y(guideline)
        shapes.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GUIDE}" '
            f'stroke-dasharray="6 4"/>'
        )
    if earlier:
        shapes += line(axes, list(enumerate(earlier)), BEFORE)
    shapes += line(axes, list(enumerate(this)), THIS)
    return svg(shapes, "Lden per date or month with the guideline value")
