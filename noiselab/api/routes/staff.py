"""Staff views: the quarantine and sensor health. Staff and admin keys only (no key 401, a
vendor key 403).

``GET /api/v1/quarantine`` pages newest first: pass the last ``id`` of a page as
``before_id`` for the next one (the ``X-Next-Before-Id`` header carries it when the page was
full). ``GET /api/v1/health/sensors`` answers one flat row per registered sensor.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from noiselab.analysis.buckets import Every
from noiselab.api.access import GUARDED, Staff, no_store
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep
from noiselab.api.params import MAX_ID, RowId, parse_instant
from noiselab.api.schemas.alerts import QuarantineDetailOut, QuarantineOut, SensorHealthOut
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.settings import ApiSettings
from noiselab.api.status import sensor_status
from noiselab.model import Sensor
from noiselab.store.base import ReadingStore, SensorActivity
from noiselab.store.metadata import QuarantineEntry

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["staff"])

RAW_IN_LISTS = 1000
"""Characters of a raw payload shown in quarantine lists (the detail shows all)."""
_BAD: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "A bad value (the detail names it)."}
}


def _entry_fields(entry: QuarantineEntry, *, cut: int | None) -> dict[str, Any]:
    text = entry.raw.decode("utf-8", errors="replace")
    truncated = cut is not None and len(text) > cut
    return {
        "id": entry.id,
        "topic": entry.topic,
        "sensor_id": entry.sensor_id,
        "reason": entry.reason,
        "received_at": entry.received_at,
        "index": entry.index,
        "raw": text[:cut] if truncated else text,
        "raw_bytes": len(entry.raw),
        "raw_truncated": truncated,
    }


@router.get("/quarantine", summary="Browse the quarantine", responses={**GUARDED, **_BAD})
def list_quarantine(
    *,
    response: Response,
    meta: MetaDep,
    settings: SettingsDep,
    _staff: Staff,
    sensor_id: Annotated[str | None, Query(max_length=64)] = None,
    reason: Annotated[
        str | None, Query(max_length=200, description="Text the reason contains (any case).")
    ] = None,
    start: Annotated[
        str | None,
        Query(
            description="Received at or after: RFC 3339 with offset, a date (local midnight) "
            "or epoch milliseconds."
        ),
    ] = None,
    end: Annotated[str | None, Query(description="Received before; like start.")] = None,
    before_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Next page: the last id of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[QuarantineOut]:
    """Rejected readings newest first: reason, topic and raw payload (cut to 1000
    characters; the single entry shows all)."""
    no_store(response)
    first = parse_instant("start", start, settings.tz) if start else None
    last = parse_instant("end", end, settings.tz) if end else None
    if first is not None and last is not None and first >= last:
        raise HTTPException(422, "start: must be before end")
    entries = meta.quarantine.find(
        sensor_id=sensor_id, reason=reason, start=first, end=last, before_id=before_id, limit=limit
    )
    if len(entries) == limit:
        response.headers["X-Next-Before-Id"] = str(entries[-1].id)
    return [QuarantineOut(**_entry_fields(e, cut=RAW_IN_LISTS)) for e in entries]


@router.get(
    "/quarantine/{entry_id}",
    summary="One quarantined reading",
    responses={**GUARDED, **_BAD, 404: {"model": ErrorOut, "description": "No such entry."}},
)
def get_quarantine(
    entry_id: RowId, response: Response, meta: MetaDep, _staff: Staff
) -> QuarantineDetailOut:
    """One rejected reading with its raw payload in full (text and base64)."""
    no_store(response)
    entry = meta.quarantine.get(entry_id)
    if entry is None:
        raise HTTPException(404, f"unknown quarantine entry {entry_id}")
    return QuarantineDetailOut(
        **_entry_fields(entry, cut=None), raw_base64=base64.b64encode(entry.raw).decode()
    )


@router.get("/health/sensors", summary="Sensor health", responses=GUARDED)
def sensor_health(
    response: Response, store: StoreDep, meta: MetaDep, settings: SettingsDep, _staff: Staff
) -> list[SensorHealthOut]:
    """Per registered sensor: status, last seen, data coverage since local midnight,
    rejections today and over 24 h, unresolved alerts."""
    no_store(response)
    now = settings.clock()
    midnight = local_midnight(now, settings)
    seen = {activity.sensor_id: activity for activity in store.activity()}
    today = meta.quarantine.counts_by_sensor(midnight)
    day = meta.quarantine.counts_by_sensor(datetime.fromtimestamp(now, UTC) - timedelta(days=1))
    alerts = meta.alerts.unresolved_counts()
    return [
        SensorHealthOut(
            **_health_fields(sensor, seen.get(sensor.id), store, now, midnight, settings),
            quarantined_today=today.get(sensor.id, 0),
            quarantined_24h=day.get(sensor.id, 0),
            open_alerts=alerts.get(sensor.id, 0),
        )
        for sensor in meta.sensors.all()
    ]


def local_midnight(now: float, settings: ApiSettings) -> datetime:
    """The latest local midnight (in ``settings.tz``) at or before ``now`` (Unix s), in UTC."""
    local = datetime.fromtimestamp(now, settings.tz)
    return datetime(local.year, local.month, local.day, tzinfo=settings.tz).astimezone(UTC)


def _health_fields(  # noqa: PLR0917 - one row's inputs
    sensor: Sensor,
    activity: SensorActivity | None,
    store: ReadingStore,
    now: float,
    midnight: datetime,
    settings: ApiSettings,
) -> dict[str, Any]:
    elapsed = now - midnight.timestamp()
    measured = 0.0
    if elapsed > 0:
        hours = store.levels(
            sensor.id, midnight, datetime.fromtimestamp(now, UTC), Every.H1, settings.tz
        )
        measured = sum(point.coverage * 3600.0 for point in hours)
    return {
        "sensor_id": sensor.id,
        "name": sensor.name,
        "source": sensor.source,
        "public": sensor.public,
        "status": sensor_status(activity, now, settings),
        "last_seen": None if activity is None else datetime.fromtimestamp(activity.last_ts, UTC),
        "last_received": None
        if activity is None
        else datetime.fromtimestamp(activity.last_received, UTC),
        "silent_s": None if activity is None else round(max(0.0, now - activity.last_received), 1),
        "coverage_today": round(min(1.0, measured / elapsed), 4) if elapsed > 0 else 0.0,
        "measured_s_today": round(measured, 1),
    }
