"""One sensor's validity as an answer applies it: the staff corrections and the exclusion spans
of every source as ranges for :mod:`noiselab.corrections`, and the spans that only flag data.

Exclusion spans are widened outward to whole minutes: the per-minute roll-up is the finest
series an indicator reads, and a range on whole minutes corrects it exactly (a minute the
weather invalidated for 20 of its seconds is left out whole, as a sound level meter's logging
interval would be). Weather is the one cause a caller may keep (``weather="include"``): ISO
1996-2 asks for it to be left out of long-term indicators, so that is the default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from noiselab.analysis.corrections import RangeCorrection
from noiselab.validity.spans import Cause, Span, SpanSource

__all__ = ["ALL_TIME", "SensorValidity", "Validity", "WeatherChoice", "minute_range"]

WeatherChoice = Literal["exclude", "include"]
"""Whether data measured outside the weather conditions of ISO 1996-2 is left out (default)."""

ALL_TIME = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
"""The range a sensor's spans are read over: every instant a reading may have."""

MINUTE_S = 60.0


def minute_range(span: Span) -> RangeCorrection:
    """``span`` as an exclusion widened outward to whole minutes (Unix s)."""
    start = math.floor(span.start / MINUTE_S) * MINUTE_S
    end = math.ceil(span.end / MINUTE_S) * MINUTE_S
    return RangeCorrection(start, end, "exclude", cause=span.cause)


@dataclass(frozen=True, slots=True)
class SensorValidity:
    """What applies to one sensor's data: ``ranges`` (its active corrections, then every
    exclusion span applied, as :mod:`noiselab.corrections` takes them), the exclusion spans
    applied (``excluded``) and the spans that only flag (``flagged``, e.g. "calibration
    uncertain"), oldest first, and the ``weather`` choice."""

    ranges: tuple[RangeCorrection, ...]
    excluded: tuple[Span, ...]
    flagged: tuple[Span, ...]
    weather: WeatherChoice

    def flags(self, start: float, end: float) -> list[Span]:
        """The flagging spans overlapping ``[start, end)`` (Unix s), clipped to it."""
        return _clipped(self.flagged, start, end)

    def exclusions(self, start: float, end: float) -> list[Span]:
        """The applied exclusion spans overlapping ``[start, end)`` (Unix s), clipped to it."""
        return _clipped(self.excluded, start, end)


def _clipped(spans: Sequence[Span], start: float, end: float) -> list[Span]:
    return [
        Span(max(s.start, start), min(s.end, end), s.cause, s.reason, s.excludes)
        for s in spans
        if s.start < end and start < s.end
    ]


class Validity:
    """The span sources of a deployment by cause (``"weather"``, ``"annotation"``,
    ``"calibration"``); staff corrections are given per call, as their callers already hold
    them."""

    def __init__(self, sources: Mapping[Cause, SpanSource] | None = None) -> None:
        self._sources = dict(sources or {})

    @property
    def causes(self) -> tuple[Cause, ...]:
        """The causes this deployment has sources for."""
        return tuple(self._sources)

    def for_sensor(
        self,
        sensor_id: str,
        corrections: Sequence[RangeCorrection] = (),
        weather: WeatherChoice = "exclude",
        within: tuple[datetime, datetime] = ALL_TIME,
    ) -> SensorValidity:
        """The validity of ``sensor_id``'s whole history, or of the spans overlapping
        ``within`` (blocking: reads every source)."""
        spans: list[Span] = []
        for source in self._sources.values():
            spans.extend(source.spans(sensor_id, *within))
        spans.sort(key=lambda s: (s.start, s.end, s.cause))
        excluded = tuple(
            s for s in spans if s.excludes and (weather == "exclude" or s.cause != "weather")
        )
        ranges = (*corrections, *(minute_range(s) for s in excluded))
        flagged = tuple(s for s in spans if not s.excludes)
        return SensorValidity(ranges, excluded, flagged, weather)
