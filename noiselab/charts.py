"""Small inline SVG charts for the self-contained HTML pages (trial and staff reports): a
linear axes map, "nice" axis bounds, grid lines with labels, and a line broken at missing
values. No scripts, fonts or anything fetched; every label passed in is escaped here or by the
caller (:func:`svg` escapes its accessible label).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BOTTOM",
    "HEIGHT",
    "LEFT",
    "RIGHT",
    "TOP",
    "WIDTH",
    "Axes",
    "line",
    "nice_range",
    "svg",
    "y_grid",
]

WIDTH, HEIGHT = 720, 260
"""Chart size in CSS pixels."""
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 36
"""Margins around the plot area (room for the axis labels)."""


@dataclass(frozen=True, slots=True)
class Axes:
    """A linear map of data ``x0..x1`` by ``y0..y1`` onto the plot area of an SVG, whose left
    margin is ``left`` pixels."""

    x0: float
    x1: float
    y0: float
    y1: float
    height: int = HEIGHT
    left: int = LEFT

    def x(self, value: float) -> float:
        span = self.x1 - self.x0 or 1.0
        return self.left + (value - self.x0) / span * (WIDTH - self.left - RIGHT)

    def y(self, value: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return self.height - BOTTOM - (value - self.y0) / span * (self.height - TOP - BOTTOM)


def nice_range(values: Sequence[float], pad: float = 1.0) -> tuple[float, float, float]:
    """Axis bounds and a tick step (1, 2 or 5 times 10^k dB) around ``values``."""
    lo, hi = (min(values) - pad, max(values) + pad) if values else (0.0, 1.0)
    raw = (hi - lo) / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def y_grid(axes: Axes, step: float, unit: str = "dB") -> list[str]:
    parts = []
    n = round((axes.y1 - axes.y0) / step)
    for i in range(n + 1):
        value = axes.y0 + i * step
        y = axes.y(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g} {unit}</text>'
        )
    return parts


def svg(parts: Sequence[str], label: str, height: int = HEIGHT) -> str:
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{html.escape(label)}">'
        f"{body}</svg>"
    )


def line(axes: Axes, points: Sequence[tuple[int, float | None]], colour: str) -> list[str]:
    """A polyline broken where values are missing, with a dot per value."""
    parts: list[str] = []
    run: list[str] = []
    for x, y in [*points, (0, None)]:
        if y is None:
            if len(run) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                    f'points="{" ".join(run)}"/>'
                )
            run = []
            continue
        run.append(f"{axes.x(x):.1f},{axes.y(y):.1f}")
        parts.append(f'<circle cx="{axes.x(x):.1f}" cy="{axes.y(y):.1f}" r="2" fill="{colour}"/>')
    return parts
