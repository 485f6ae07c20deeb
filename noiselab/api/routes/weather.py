"""``/api/v1/weather``: the weather stations and their observations (staff and admin keys).

``GET /api/v1/weather/stations`` lists the stations with the sensors assigned to each;
``GET /api/v1/weather/stations/{id}/observations?start=&end=`` answers a station's stored
observations over at most :data:`MAX_RANGE` (start defaults to end - 24 h, end to now),
charged to the caller's read budget like the levels (:func:`noiselab.api.cost.weather_cost`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, HTTPException, Query, Request, Response

from noiselab.api.access import GUARDED, Staff, no_store
from noiselab.api.cost import weather_cost
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep
from noiselab.api.params import resolve_window
from noiselab.api.read_gate import Offload, run_read
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.weather import ObservationsOut, WeatherStationOut
from noiselab.model import WeatherObservation, rfc3339, utc
from noiselab.store.base import ReadingStore

__all__ = ["MAX_RANGE", "router"]

router = APIRouter(prefix="/api/v1/weather", tags=["weather"])

MAX_RANGE = timedelta(days=366)
"""The longest range one observations request may ask for."""
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown weather station."}
}


@router.get("/stations", summary="List weather stations", responses=GUARDED)
def list_stations(*, response: Response, meta: MetaDep, _staff: Staff) -> list[WeatherStationOut]:
    """Every weather station with its anemometer height and the sensors assigned to it."""
    no_store(response)
    assigned: dict[str, list[str]] = {}
    for sensor_id, station_id in meta.weather.assignments().items():
        assigned.setdefault(station_id, []).append(sensor_id)
    return [
        WeatherStationOut(
            id=s.id,
            name=s.name,
            lat=s.lat,
            lon=s.lon,
            height_m=s.height_m,
            sensors=assigned.get(s.id, []),
        )
        for s in meta.weather.all()
    ]


@router.get(
    "/stations/{station_id}/observations",
    summary="Observations of one weather station",
    response_model=ObservationsOut,
    responses={
        **GUARDED,
        **_UNKNOWN,
        422: {
            "model": ErrorOut,
            "description": "A bad start or end, a range over 366 days, or a read over the "
            "caller's budget.",
        },
        429: {"model": ErrorOut, "description": "The read budget is spent; see `Retry-After`."},
        503: {"model": ErrorOut, "description": "Too many costly reads; see `Retry-After`."},
    },
)
async def get_observations(
    station_id: str,
    *,
    request: Request,
    store: StoreDep,
    meta: MetaDep,
    settings: SettingsDep,
    staff: Staff,
    start: Annotated[
        str | None,
        Query(
            description="RFC 3339 time with offset, a date (local midnight) or epoch "
            "milliseconds; default end - 24 h."
        ),
    ] = None,
    end: Annotated[str | None, Query(description="Like start, exclusive; default now.")] = None,
) -> Response:
    """The stored observations of one station with start <= ts < end, ordered by ts."""
    if len(station_id) > 64 or meta.weather.get(station_id) is None:
        raise HTTPException(404, f"unknown weather station {station_id[:80]!r}")
    first, last = resolve_window(start, end, settings.clock(), settings.tz)
    if last - first > MAX_RANGE:
        raise HTTPException(422, f"start..end may span at most {MAX_RANGE.days} days")

    def work(offload: Offload) -> bytes:
        return bytes(offload(_encode_observations, station_id, first, last))

    body = await run_read(request, staff, weather_cost(first, last), store, work)
    response = Response(body, media_type="application/json")
    no_store(response)
    return response


def _encode_observations(
    store: ReadingStore, station_id: str, first: datetime, last: datetime
) -> bytes:
    """The answer's JSON (``ObservationsOut``), encoded directly (up to a year of minutes)."""
    found = store.weather(station_id, first, last)
    return msgspec.json.encode(
        {
            "station_id": station_id,
            "start": rfc3339(first),
            "end": rfc3339(last),
            "observations": [_observation_json(o) for o in found],
        }
    )


def _observation_json(o: WeatherObservation) -> dict[str, object]:
    return {
        "ts": rfc3339(utc(o.ts)),
        "duration": o.duration,
        "wind_speed": o.wind_speed,
        "wind_gust": o.wind_gust,
        "wind_direction": o.wind_direction,
        "precipitation": o.precipitation,
        "temperature": o.temperature,
    }
