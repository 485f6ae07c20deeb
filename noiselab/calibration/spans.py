"""Calibration-uncertain spans of a sensor's data, as a :class:`~noiselab.validity.SpanSource`.

The data between two consecutive calibrations that drifted more than 0.5 dB apart
(:mod:`noiselab.analysis.calibration`) is flagged, not left out: each span has the cause
``"calibration"``, ``excludes=False`` and a reason such as ``"calibration uncertain: drift
+0.80 dB between calibrations on 2026-11-02 and 2026-11-09"`` (local dates).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from noiselab.calibration.history import drift_spans
from noiselab.store.metadata import Calibration, MetadataStore
from noiselab.validity import Span

__all__ = ["CalibrationSpans", "span_reason"]

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def span_reason(first: Calibration, second: Calibration, drift_db: float, zone: ZoneInfo) -> str:
    """Why the data between ``first`` and ``second`` is flagged, with their local dates."""
    return (
        f"calibration uncertain: drift {drift_db:+.2f} dB between calibrations on "
        f"{first.ts.astimezone(zone):%Y-%m-%d} and {second.ts.astimezone(zone):%Y-%m-%d}"
    )


class CalibrationSpans:
    """The ``"calibration"`` spans of the calibration log in ``meta``; dates in ``zone``."""

    def __init__(self, meta: MetadataStore, zone: ZoneInfo = COPENHAGEN) -> None:
        self._meta, self._zone = meta, zone

    def spans(self, sensor_id: str, start: datetime, end: datetime) -> list[Span]:
        """The flagged spans of ``sensor_id`` overlapping ``[start, end)``, ordered by start.
        Reads the active calibrations in the range and the one on each side of it."""
        entries = self._meta.calibrations.around(sensor_id, start, end)
        first, last = start.timestamp(), end.timestamp()
        return [
            Span(
                span.start,
                span.end,
                "calibration",
                span_reason(a, b, span.drift_db, self._zone),
                excludes=False,
            )
            for a, b, span in drift_spans(entries)
            if span.start < last and first < span.end
        ]
