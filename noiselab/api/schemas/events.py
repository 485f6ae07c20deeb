"""Response models of ``/api/v1/sensors/{id}/events``: pass-by events (levels dB re 20 µPa,
A-weighted, rounded to 0.01 dB; durations in seconds).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from noiselab.api.schemas.base import Out, UtcTime, with_example

__all__ = ["EventOut", "EventsOut"]

_EVENT_EXAMPLE: dict[str, Any] = {
    "start": "2026-11-25T07:41:12Z",
    "end": "2026-11-25T07:41:31Z",
    "duration_s": 19.0,
    "lmax": 84.3,
    "lmax_is_fast": True,
    "sel": 89.62,
    "leq": 76.83,
    "background": 58.1,
    "threshold": 68.1,
    "duration_10db": 11.0,
}


class EventOut(Out):
    """One pass-by event."""

    model_config = with_example(**_EVENT_EXAMPLE)

    start: UtcTime
    end: UtcTime
    duration_s: float = Field(description="Time above the detection threshold, s.")
    lmax: float = Field(description="LAFmax when reported, else the highest LAeq,1s, dB.")
    lmax_is_fast: bool = Field(description="True when lmax is an LAFmax.")
    sel: float = Field(description="Sound exposure level LAE over the event, dB.")
    leq: float = Field(description="LAeq over the event, dB.")
    background: float = Field(description="Running background level used, dB.")
    threshold: float = Field(description="Detection threshold used, dB.")
    duration_10db: float | None = Field(
        description="10-dB-down duration around the peak, s; null when the peak is less than "
        "10 dB above the background."
    )


class EventsOut(Out):
    """Pass-by events of one sensor starting in ``[start, end)``."""

    model_config = with_example(
        sensor_id="vb-rail-1",
        start="2026-11-25T07:00:00Z",
        end="2026-11-25T08:00:00Z",
        method="runs of LAeq above the running background (L90 over the trailing 10 minutes) "
        "+ 10 dB lasting at least 3 s, runs less than 2 s apart merged; SEL and LAeq over the "
        "run; 10-dB-down duration around the peak",
        events=[_EVENT_EXAMPLE],
    )

    sensor_id: str
    start: UtcTime
    end: UtcTime
    method: str
    events: list[EventOut]
