"""Response model of ``/api/v1/push``: what a push of readings stored and refused."""

from __future__ import annotations

from pydantic import Field

from noiselab.api.schemas.base import Out, with_example

__all__ = ["PushOut"]


class PushOut(Out):
    """What a push stored: readings written (a re-sent one counts again, it changes nothing)
    and readings quarantined, with the reasons."""

    model_config = with_example(sensor_id="esp8266-12345678", stored=1, quarantined=0, reasons=[])

    sensor_id: str
    stored: int = Field(description="Readings durably stored (or already stored identically).")
    quarantined: int = Field(description="Readings refused and kept in quarantine.")
    reasons: list[str] = Field(description="Why each quarantined reading was refused.")
