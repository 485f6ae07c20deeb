"""Spans of a sensor's time that an answer must treat apart: left out of indicators (weather
outside the measurement conditions, a staff annotation that excludes a period, a staff
correction) or flagged (data between two field calibrations that drifted apart).

Every source of such spans (the weather, the annotations, the calibration log, the corrections)
answers the same question through :class:`SpanSource`, so the answers that use the data (daily
indicators, levels, trial evaluations, reports) combine them without knowing where they came
from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

__all__ = ["CAUSES", "Cause", "Span", "SpanSource"]

Cause = Literal["weather", "annotation", "correction", "calibration"]
"""Why a span is set apart. ``"calibration"`` spans flag data ("calibration uncertain"); the
others exclude it unless the caller asks to keep it."""

CAUSES: tuple[Cause, ...] = ("weather", "annotation", "correction", "calibration")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open span ``[start, end)`` (Unix s, UTC) of one sensor's time, its ``cause`` and a
    ``reason`` a person can read (e.g. ``"wind 7.2 m/s at the microphone"``, an annotation's
    text). ``excludes`` is False for a span that only flags the data."""

    start: float
    end: float
    cause: Cause
    reason: str
    excludes: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end) and self.start < self.end):
            raise ValueError(f"a span needs finite start < end, got {self.start}..{self.end}")
        if self.cause not in CAUSES:
            raise ValueError(f"cause {self.cause!r} must be one of {', '.join(CAUSES)}")


class SpanSource(Protocol):
    """Where spans of one cause come from (the weather, the annotations, ...)."""

    def spans(self, sensor_id: str, start: datetime, end: datetime) -> list[Span]:
        """The spans of ``sensor_id`` that overlap ``[start, end)`` (aware datetimes), ordered
        by start. Blocking (may read a database)."""
        ...
