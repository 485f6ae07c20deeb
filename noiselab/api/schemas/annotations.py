"""Request and response models of ``/api/v1/annotations``.

An annotation marks a period ``[start, end)`` (RFC 3339, on whole minutes, at most 366 days)
of some sensors, of the sensors near a place, or of every sensor, with a category and a
reason; ``exclude`` leaves the period out of the indicators and trials. It can be withdrawn
once, with its own reason; the row keeps both. Times are UTC with ``Z``. The feed rows are
shaped for a Grafana annotation query (Infinity): times in epoch milliseconds.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from noiselab.api.schemas.base import Out, UtcTime, with_example
from noiselab.store.metadata import (
    MAX_ANNOTATION_SENSORS,
    MAX_ANNOTATION_TEXT,
    MAX_PLACE_RADIUS_M,
    MAX_REASON_LENGTH,
    AnnotationCategory,
)

__all__ = [
    "AnnotationFeedRow",
    "AnnotationIn",
    "AnnotationOut",
    "AnnotationWithdrawIn",
    "PlaceIn",
    "PlaceOut",
]

_PLACE_EXAMPLE: dict[str, Any] = {"lat": 55.626, "lon": 12.388, "radius_m": 300.0}
_OUT_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "start": "2026-03-04T08:00:00Z",
    "end": "2026-03-04T14:00:00Z",
    "sensor_ids": ["kbm-25m", "kbm-50m"],
    "place": _PLACE_EXAMPLE,
    "category": "roadworks",
    "text": "Roadworks on Køge Bugt Motorvejen, lane closure",
    "exclude": True,
    "created_by": "kommune",
    "created_by_key": "82442cd1443e838b",
    "created_at": "2026-03-04T07:40:12Z",
    "active": True,
    "withdrawn_at": None,
    "withdrawn_by": None,
    "withdrawn_by_key": None,
    "withdraw_reason": None,
}


class PlaceIn(BaseModel):
    """A position (WGS84 decimal degrees) and a radius (m): the annotation concerns the
    registered sensors within the radius, found when it is saved."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_PLACE_EXAMPLE]})

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    radius_m: float = Field(gt=0, le=MAX_PLACE_RADIUS_M, allow_inf_nan=False)


class AnnotationIn(BaseModel):
    """A new annotation: ``sensor_ids`` or a ``place`` (not both); neither concerns every
    sensor. ``start`` and ``end`` must be on whole minutes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "start": "2026-03-04T08:00:00Z",
                    "end": "2026-03-04T14:00:00Z",
                    "place": _PLACE_EXAMPLE,
                    "category": "roadworks",
                    "text": "Roadworks on Køge Bugt Motorvejen, lane closure",
                    "exclude": True,
                }
            ]
        },
    )

    start: AwareDatetime = Field(description="First instant, on a whole minute.")
    end: AwareDatetime = Field(description="First instant after the period, on a whole minute.")
    sensor_ids: list[str] = Field(
        default_factory=list,
        max_length=MAX_ANNOTATION_SENSORS,
        description="The sensors it concerns; empty (and no place): every sensor.",
    )
    place: PlaceIn | None = None
    category: AnnotationCategory
    text: str = Field(min_length=1, max_length=MAX_ANNOTATION_TEXT, description="The reason.")
    exclude: bool = Field(
        default=False, description="Leave the period out of the indicators and trials."
    )


class AnnotationWithdrawIn(BaseModel):
    """Why an annotation is withdrawn (it stops applying; its row stays)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "The roadworks were postponed."}]},
    )

    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH)


class PlaceOut(Out):
    """The place an annotation was given."""

    model_config = with_example(**_PLACE_EXAMPLE)

    lat: float
    lon: float
    radius_m: float


class AnnotationOut(Out):
    """An annotation as staff see it: what, where, why, by whom and when, whether it applies
    (``active``) or was withdrawn (by whom, when, why). ``sensor_ids`` empty: every sensor;
    for a place, the sensors found within its radius when it was saved."""

    model_config = with_example(**_OUT_EXAMPLE)

    id: int
    start: UtcTime
    end: UtcTime
    sensor_ids: list[str]
    place: PlaceOut | None
    category: AnnotationCategory
    text: str
    exclude: bool
    created_by: str = Field(description="The name of the key (or person) that made it.")
    created_by_key: str | None
    created_at: UtcTime
    active: bool = Field(description="Applied: not withdrawn.")
    withdrawn_at: UtcTime | None
    withdrawn_by: str | None
    withdrawn_by_key: str | None
    withdraw_reason: str | None


class AnnotationFeedRow(Out):
    """An active annotation as a row of a Grafana annotation query: ``time`` and ``timeEnd``
    in epoch milliseconds (UTC), ``title``, ``text``, ``tags`` comma-separated (Grafana
    splits them), and the annotation's ``id``, ``category``, ``exclude`` and ``sensors``
    (comma-separated ids, ``all`` for every sensor)."""

    model_config = with_example(
        time=1772611200000,
        timeEnd=1772632800000,
        title="Roadworks (excluded)",
        text="Roadworks on Køge Bugt Motorvejen, lane closure",
        tags="annotation,roadworks,excluded",
        id=3,
        category="roadworks",
        exclude=True,
        sensors="kbm-25m,kbm-50m",
    )

    time: int = Field(description="Start, epoch milliseconds (UTC).")
    timeEnd: int = Field(description="End (exclusive), epoch milliseconds (UTC).")  # noqa: N815
    title: str
    text: str
    tags: str = Field(description="Comma-separated: annotation, the category, excluded.")
    id: int
    category: AnnotationCategory
    exclude: bool
    sensors: str = Field(description="Comma-separated sensor ids, or all.")
