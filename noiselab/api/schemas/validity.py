"""A span of a sensor's time set apart from an answer (left out, or flagged)."""

from __future__ import annotations

from pydantic import Field

from noiselab.api.schemas.base import Out, UtcTime, with_example

__all__ = ["SpanOut"]


class SpanOut(Out):
    """A span of the sensor's time set apart, with its cause and reason."""

    model_config = with_example(
        start="2026-11-24T08:00:00Z",
        end="2026-11-24T11:00:00Z",
        cause="annotation",
        reason="roadworks: Roadworks on Køge Bugt Motorvejen, lane closure",
    )

    start: UtcTime
    end: UtcTime
    cause: str = Field(description="weather, annotation, correction or calibration.")
    reason: str
