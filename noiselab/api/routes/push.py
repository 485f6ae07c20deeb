"""``/api/v1/push``: readings pushed over HTTP by devices that cannot speak MQTT.

``POST /api/v1/push/sensor-community`` takes what the Sensor.Community firmware sends to a
custom API: the JSON ``{"software_version": ..., "sensordatavalues": [...]}`` with the device in
the ``X-Sensor`` header (``esp8266-<chip id>``; its lower-cased text is the sensor id). The key
must be a ``sensor`` key listing that sensor, sent as a bearer token or as the password of HTTP
Basic (the firmware's own-API setting has a user and a password field).

The readings take the ingest's path: the same parser as the MQTT adapter
(:func:`noiselab.ingest.adapters.sensor_community.parse_sensor_community`), the same registry
check and store write (:mod:`noiselab.ingest.commit`), and everything refused goes to
quarantine with its reason, its topic recorded as ``http:/api/v1/push/sensor-community``. The
answer comes after the write is durable: 200 when readings were stored, 422 (with the reasons)
when everything was refused, 503 when the store is unavailable (send again: writes are
idempotent).

``POST /api/v1/push/weather`` takes weather observations, the payload of the MQTT topic
``{prefix}/{station_id}/weather`` (one object or an array; docs/sensors.md), for the station
named in the ``X-Station`` header. The key must be a ``sensor`` key listing that station (a
station is a device like a sensor). The observations take the ingest's weather path: the same
parser (:mod:`noiselab.ingest.weather_message`), the same store write and exclusion spans
(:mod:`noiselab.ingest.weather_commit`), refusals quarantined with the topic
``http:/api/v1/push/weather``; the answers are those of the noise push.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from noiselab.api.auth import Principal, sensor_principal
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.push import PushOut
from noiselab.api.schemas.weather import WeatherPushOut
from noiselab.ingest.adapters.sensor_community import parse_sensor_community
from noiselab.ingest.commit import split_unknown, write_isolating
from noiselab.ingest.weather_commit import commit_weather
from noiselab.ingest.weather_message import WeatherContext, judge_observations
from noiselab.model import SENSOR_ID_PATTERN, Reading, Rejection, WeatherObservation
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import MetadataStore

__all__ = ["MAX_PUSH_BYTES", "router"]

router = APIRouter(prefix="/api/v1/push", tags=["push"])

MAX_PUSH_BYTES = 64 * 1024
"""The largest body accepted; a Sensor.Community message is well under 2 kB."""
TOPIC = "http:/api/v1/push/sensor-community"
"""The quarantine records' topic for readings refused on this route."""
WEATHER_TOPIC = "http:/api/v1/push/weather"
"""The quarantine records' topic for observations refused on the weather route."""

SensorKey = Annotated[Principal, Depends(sensor_principal)]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No API key, or a bad or revoked one."},
    403: {"model": ErrorOut, "description": "Not a sensor key, or not one for this sensor."},
    413: {"model": ErrorOut, "description": f"A body over {MAX_PUSH_BYTES} bytes."},
    422: {
        "model": ErrorOut,
        "description": "Nothing could be stored: a bad X-Sensor header, or every reading was "
        "refused (the reasons are in `detail`, and the readings in quarantine).",
    },
    429: {"model": ErrorOut, "description": "Too many failed key checks from this address."},
    503: {"model": ErrorOut, "description": "The store is unavailable; send again later."},
}


@router.post(
    "/sensor-community",
    summary="Push Sensor.Community noise readings",
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "software_version": "NRZ-2020-133",
                        "sensordatavalues": [
                            {"value_type": "noise_LAeq", "value": "54.52"},
                            {"value_type": "noise_LA_min", "value": "49.10"},
                            {"value_type": "noise_LA_max", "value": "63.83"},
                        ],
                    },
                }
            },
        }
    },
)
async def push_sensor_community(
    *,
    request: Request,
    response: Response,
    principal: SensorKey,
    store: StoreDep,
    meta: MetaDep,
    settings: SettingsDep,
    x_sensor: Annotated[
        str, Header(description="The device, e.g. esp8266-12345678; lower-cased, the sensor id.")
    ],
) -> PushOut:
    """Store the noise values (`noise_LAeq`, `noise_LA_min`, `noise_LA_max`, also with the
    `DNMS_` prefix) of one Sensor.Community message as one reading of the interval that just
    ended (about 145 s); other values of the message are not noise and are ignored."""
    response.headers["Cache-Control"] = "private, no-store"
    sensor_id = x_sensor.strip().lower()
    if not SENSOR_ID_PATTERN.fullmatch(sensor_id):
        raise HTTPException(422, f"X-Sensor {x_sensor[:80]!r} is not a usable sensor id")
    if sensor_id not in principal.sensors:
        raise HTTPException(403, f"this key may not push readings for {sensor_id!r}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PUSH_BYTES:
        raise HTTPException(413, f"the body may be at most {MAX_PUSH_BYTES} bytes")
    body = await _bounded_body(request)
    now = settings.clock()
    parsed = parse_sensor_community(body, sensor_id=sensor_id, topic=TOPIC, received_at=now)
    stored, rejections = await run_in_threadpool(
        _commit, store, meta, parsed.readings, list(parsed.rejections), now
    )
    if stored == 0 and rejections:
        raise HTTPException(422, "; ".join(r.reason for r in rejections))
    return PushOut(
        sensor_id=sensor_id,
        stored=stored,
        quarantined=len(rejections),
        reasons=[r.reason for r in rejections],
    )


@router.post(
    "/weather",
    summary="Push weather observations",
    responses={
        **_RESPONSES,
        413: {"model": ErrorOut, "description": "A body over the weather push limit (1 MiB)."},
        422: {
            "model": ErrorOut,
            "description": "Nothing could be stored: a bad X-Station header, or every "
            "observation was refused (the reasons are in `detail`, and they are in quarantine).",
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": ["object", "array"]},
                    "example": {
                        "ts": "2026-11-25T14:00:00Z",
                        "duration": 60,
                        "wind_speed": 7.0,
                        "wind_gust": 11.2,
                        "wind_direction": 250,
                        "precipitation": 0.4,
                        "temperature": 6.5,
                    },
                }
            },
        }
    },
)
async def push_weather(
    *,
    request: Request,
    response: Response,
    principal: SensorKey,
    store: StoreDep,
    meta: MetaDep,
    settings: SettingsDep,
    x_station: Annotated[str, Header(description="The weather station's id, e.g. vb-weather.")],
) -> WeatherPushOut:
    """Store the observations (wind speed, gust and direction, precipitation, temperature) of
    one weather station, and mark the noise seconds their weather makes invalid."""
    response.headers["Cache-Control"] = "private, no-store"
    station_id = x_station.strip()
    if not SENSOR_ID_PATTERN.fullmatch(station_id):
        raise HTTPException(422, f"X-Station {x_station[:80]!r} is not a usable station id")
    if station_id not in principal.sensors:
        raise HTTPException(403, f"this key may not push observations for {station_id!r}")
    limit = settings.limits.weather_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body may be at most {limit} bytes")
    body = await _bounded_body(request, limit)
    now = settings.clock()
    ctx = WeatherContext(WEATHER_TOPIC, station_id, now)
    parsed = judge_observations(body, ctx, max_payload_bytes=limit)
    stored, rejections = await run_in_threadpool(
        _commit_weather, store, meta, parsed.observations, list(parsed.rejections), now
    )
    if stored == 0 and rejections:
        raise HTTPException(422, "; ".join(r.reason for r in rejections)[:4000])
    return WeatherPushOut(
        station_id=station_id,
        stored=stored,
        quarantined=len(rejections),
        reasons=[r.reason for r in rejections],
    )


async def _bounded_body(request: Request, limit: int = MAX_PUSH_BYTES) -> bytes:
    """The body, or 413 once more than ``limit`` bytes arrived (a chunked upload has no
    ``Content-Length`` to check first)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body may be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _commit_weather(
    store: ReadingStore,
    meta: MetadataStore,
    observations: list[WeatherObservation],
    rejections: list[Rejection],
    now: float,
) -> tuple[int, list[Rejection]]:
    """Store the observations with their exclusion spans and quarantine everything refused;
    returns how many are stored and the rejections."""
    if observations:
        committed = commit_weather(store, meta, observations, lambda _: WEATHER_TOPIC, now)
        rejections.extend(committed.rejections)
        stored = committed.stored
    else:
        stored = 0
    if rejections:
        meta.quarantine.add(rejections)
    return stored, rejections


def _commit(
    store: ReadingStore,
    meta: MetadataStore,
    readings: list[Reading],
    rejections: list[Rejection],
    now: float,
) -> tuple[int, list[Rejection]]:
    """Store ``readings`` of registered sensors and quarantine everything refused; returns how
    many readings are stored and the rejections."""
    unknown = {i for i in {r.sensor_id for r in readings} if meta.sensors.get(i) is None}
    kept, refused = split_unknown(readings, unknown, lambda _: TOPIC, now)
    rejections.extend(refused)
    stored = 0
    if kept:
        result, refused = write_isolating(
            lambda batch: store.write(batch, now), kept, lambda _: TOPIC, now
        )
        rejections.extend(refused)
        stored = result.inserted + result.unchanged
    if rejections:
        meta.quarantine.add(rejections)
    return stored, rejections
