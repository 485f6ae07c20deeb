"""Repeated timing of one call and its one-line report (median, p95, ratio to a baseline)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

__all__ = ["report", "times_ms"]


def times_ms(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall times of ``runs`` calls of ``fn`` in ms, after one warm-up call."""
    fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def report(
    name: str,
    ms: list[float],
    baseline: float | None = None,
    *,
    width: int = 44,
    decimals: int = 2,
) -> float:
    """Print median and p95 of ``ms`` (and the median over ``baseline``); the median."""
    med = statistics.median(ms)
    p95 = float(np.percentile(ms, 95))
    ratio = f"  {med / baseline:7.1f} x baseline" if baseline else ""
    value = f"{{:{decimals + 7}.{decimals}f}}"
    print(
        f"{name:{width}s} median {value.format(med)} ms  p95 {value.format(p95)} ms"
        f"  (n={len(ms)}){ratio}"
    )
    return med
