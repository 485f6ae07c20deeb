"""A sensor's calibration log read as a history: each entry with its deviation and its drift
since the previous one, and the spans between calibrations that drifted apart.

Only active entries (not withdrawn) count: a withdrawn one is listed with its deviation but no
drift, and the drift of the entry after it is taken from the active one before it. The
arithmetic and its conventions are :mod:`noiselab.analysis.calibration`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from noiselab.analysis.calibration import DriftSpan, drifts, uncertain_spans
from noiselab.analysis.decibels import round_db
from noiselab.store.metadata import Calibration

__all__ = ["HistoryEntry", "drift_spans", "with_drift"]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One entry of the log with ``deviation_db`` (read before adjustment minus reference) and
    ``drift_db`` since the previous active entry (``None`` for the first one, or when the entry
    is withdrawn), both rounded to 0.01 dB."""

    calibration: Calibration
    deviation_db: float
    drift_db: float | None


def _series(entries: Sequence[Calibration]) -> tuple[list[float], list[float], list[float]]:
    reference = [c.reference_db for c in entries]
    before = [c.before_db for c in entries]
    after = [math.nan if c.after_db is None else c.after_db for c in entries]
    return reference, before, after


def with_drift(entries: Sequence[Calibration]) -> list[HistoryEntry]:
    """``entries`` (in time order) with their deviations and drifts (module docstring)."""
    active = [c for c in entries if c.active]
    found = drifts(*_series(active))
    drift_of = {id(c): float(found[i - 1]) for i, c in enumerate(active) if i > 0}
    return [
        HistoryEntry(c, round_db(c.before_db - c.reference_db), drift_of.get(id(c)))
        for c in entries
    ]


def drift_spans(entries: Sequence[Calibration]) -> list[tuple[Calibration, Calibration, DriftSpan]]:
    """The spans between consecutive active ``entries`` (in time order) whose drift exceeds
    0.5 dB, each with the two calibrations that bound it."""
    active = [c for c in entries if c.active]
    times = [c.ts.timestamp() for c in active]
    spans = uncertain_spans(times, *_series(active))
    return [(active[s.first], active[s.first + 1], s) for s in spans]
