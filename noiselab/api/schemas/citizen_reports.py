"""Request and response models of ``/api/v1/citizen-reports``.

A citizen files a report without a key: when it was loud (``ts``, RFC 3339 with an offset,
default now; at most 7 days ago), where (``lat``, ``lon``, WGS 84 degrees inside the public
map's area), what (``road``, ``rail``, ``other``) and optionally a text of up to 500
characters; the answer is the new report's id only. No personal data is asked for or stored.
Staff read each report with the public sensors within 2 km and the LAeq each measured over the
15 minutes around its time (energetic mean, dB, rounded to 0.01), and mark it handled once,
with a note. The text is returned exactly as stored: a JSON string, to be shown as text.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from noiselab.api.schemas.base import Out, UtcTime, with_example
from noiselab.store.metadata import MAX_NOTE_LENGTH, MAX_TEXT_LENGTH, ReportCategory, ReportState

__all__ = ["CitizenReportIn", "CitizenReportOut", "FiledOut", "HandleIn", "NearbySensorOut"]

_NEARBY_EXAMPLE: dict[str, Any] = {
    "sensor_id": "kbm-25m",
    "name": "Køge Bugt Motorvejen, 25 m",
    "source": "road",
    "distance_m": 181.0,
    "laeq": 66.02,
    "coverage": 1.0,
}
_REPORT_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "ts": "2026-03-02T06:40:00Z",
    "received_at": "2026-03-02T06:42:13Z",
    "lat": 55.6283,
    "lon": 12.3866,
    "category": "road",
    "text": "Meget larm fra motorvejen i morges, lastbiler hele tiden.",
    "status": "handled",
    "handled_at": "2026-03-03T09:15:00Z",
    "handled_by": "kommune",
    "handling_note": "Compared with kbm-25m: 66 dB, usual for the morning rush.",
    "nearby": [_NEARBY_EXAMPLE],
    "nearest_sensor_id": "kbm-25m",
    "nearest_distance_m": 181.0,
    "nearest_laeq": 66.02,
}


class CitizenReportIn(BaseModel):
    """A citizen's report: "it is loud here now". Nothing else is asked for."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "lat": 55.6283,
                    "lon": 12.3866,
                    "category": "road",
                    "text": "Meget larm fra motorvejen i morges.",
                }
            ]
        },
    )

    ts: AwareDatetime | None = Field(
        default=None,
        description="When it was loud (RFC 3339 with offset); default: now. At most 7 days ago "
        "and not in the future.",
    )
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="Latitude, degrees.")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="Longitude, degrees.")
    category: ReportCategory = Field(description="What is loud: road, rail or other.")
    text: str | None = Field(
        default=None,
        max_length=MAX_TEXT_LENGTH,
        description="Optional words; control characters are removed. Do not write personal data.",
    )


class FiledOut(Out):
    """The id of the report just filed (nothing else is answered)."""

    model_config = with_example(id=17)

    id: int


class HandleIn(BaseModel):
    """How staff handled a report."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "Forwarded to the road authority."}]},
    )

    note: str = Field(min_length=1, max_length=MAX_NOTE_LENGTH)


class NearbySensorOut(Out):
    """A public sensor near a report: its distance (m) and the LAeq it measured over the 15
    minutes around the report's time (energetic mean, dB; ``null``: no data) with the share
    of that time measured."""

    model_config = with_example(**_NEARBY_EXAMPLE)

    sensor_id: str
    name: str
    source: str | None
    distance_m: float = Field(description="Great-circle distance, m (rounded to 1 m).")
    laeq: float | None = Field(description="LAeq over the 15 whole minutes around ts, dB.")
    coverage: float = Field(description="Measured seconds over 900 s (0..1).")


class CitizenReportOut(Out):
    """A report as staff see it, with its nearest public sensors (within 2 km, nearest first,
    at most 3) and, flat for tables, the nearest one's id, distance and level."""

    model_config = with_example(**_REPORT_EXAMPLE)

    id: int
    ts: UtcTime = Field(description="When it was loud.")
    received_at: UtcTime
    lat: float
    lon: float
    category: ReportCategory
    text: str | None = Field(description="The citizen's words, as stored: show them as text.")
    status: ReportState
    handled_at: UtcTime | None
    handled_by: str | None = Field(description="The name of the key (or person) that did it.")
    handling_note: str | None
    nearby: list[NearbySensorOut]
    nearest_sensor_id: str | None
    nearest_distance_m: float | None
    nearest_laeq: float | None
