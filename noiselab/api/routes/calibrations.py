"""``/api/v1/sensors/{id}/calibrations``: a sensor's calibration log. Staff and admin keys
only (no key 401, a vendor key 403; an unknown sensor 404).

``GET`` answers the log in the order the calibrations were done, each with its deviation and
its drift since the previous active entry, and the spans between two entries that drifted more
than 0.5 dB apart (calibration uncertain). ``POST`` logs a field calibration; the log is
append-only. Logging runs the drift check: a drift over 0.5 dB opens a staff alert of the
``calibration_drift`` rules (``/api/v1/alerts``), with their webhooks.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, HTTPException, Query, Response

from noiselab.analysis.calibration import DRIFT_TOLERANCE_DB, exceeds_tolerance
from noiselab.api.access import GUARDED, Staff, no_store, visible_sensor
from noiselab.api.deps import MetaDep, SensorsDep, SettingsDep
from noiselab.api.schemas.calibrations import (
    CalibrationHistoryOut,
    CalibrationIn,
    CalibrationOut,
    UncertainSpanOut,
)
from noiselab.api.schemas.errors import ErrorOut
from noiselab.calibration import CalibrationLog, HistoryEntry, drift_spans, span_reason, with_drift
from noiselab.model import utc
from noiselab.store.metadata import Calibration

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sensors", tags=["calibrations"])

MAX_ENTRIES = 10_000
"""Most entries one answer lists (the latest ones)."""
MAX_AHEAD = timedelta(minutes=5)
"""How far in the future a calibration's time may lie (clock differences)."""
_ERRORS: dict[int | str, dict[str, Any]] = {
    **GUARDED,
    404: {"model": ErrorOut, "description": "Unknown sensor."},
    422: {"model": ErrorOut, "description": "A bad value (the detail names it)."},
}


def _out(entry: HistoryEntry) -> CalibrationOut:
    c = entry.calibration
    fields = msgspec.structs.asdict(c)
    fields.pop("created_by_key")
    assert c.id is not None
    drift = entry.drift_db
    return CalibrationOut(
        **fields,
        active=c.active,
        deviation_db=entry.deviation_db,
        drift_db=drift,
        drift_exceeds=drift is not None and exceeds_tolerance(drift),
    )


def _spans(entries: list[Calibration], settings: SettingsDep) -> list[UncertainSpanOut]:
    spans = []
    for first, second, span in drift_spans(entries):
        assert first.id is not None
        assert second.id is not None
        spans.append(
            UncertainSpanOut(
                start=utc(span.start),
                end=utc(span.end),
                drift_db=span.drift_db,
                from_id=first.id,
                to_id=second.id,
                reason=span_reason(first, second, span.drift_db, settings.tz),
            )
        )
    return spans


@router.get(
    "/{sensor_id}/calibrations",
    summary="A sensor's calibration history",
    responses=_ERRORS,
)
def list_calibrations(  # noqa: PLR0917 - FastAPI passes the dependencies by name
    sensor_id: str,
    response: Response,
    meta: MetaDep,
    sensors: SensorsDep,
    settings: SettingsDep,
    staff: Staff,
    limit: Annotated[
        int, Query(ge=1, le=MAX_ENTRIES, description="The latest this many entries.")
    ] = 1000,
) -> CalibrationHistoryOut:
    """Field calibrations and tone checks in the order done (withdrawn ones included, marked),
    each with its deviation and its drift since the previous active entry, and the
    calibration-uncertain spans (drift over 0.5 dB)."""
    no_store(response)
    visible_sensor(sensors, sensor_id, staff)
    entries = meta.calibrations.history(sensor_id, limit=limit)
    return CalibrationHistoryOut(
        sensor_id=sensor_id,
        tolerance_db=DRIFT_TOLERANCE_DB,
        calibrations=[_out(e) for e in with_drift(entries)],
        uncertain=_spans(entries, settings),
    )


@router.post(
    "/{sensor_id}/calibrations",
    summary="Log a field calibration",
    status_code=201,
    responses=_ERRORS,
)
def create_calibration(  # noqa: PLR0917 - FastAPI passes the dependencies by name
    sensor_id: str,
    body: CalibrationIn,
    response: Response,
    meta: MetaDep,
    sensors: SensorsDep,
    settings: SettingsDep,
    staff: Staff,
) -> CalibrationOut:
    """Log a field calibration (append-only) and check its drift against the entries before
    and after it: over 0.5 dB opens a staff alert. The answer is the entry with its deviation
    and drift."""
    no_store(response)
    visible_sensor(sensors, sensor_id, staff)
    now = utc(settings.clock())
    ts = now if body.ts is None else body.ts.astimezone(UTC)
    if ts > now + MAX_AHEAD:
        raise HTTPException(422, "ts: must not lie in the future")
    try:
        calibration = Calibration(
            sensor_id=sensor_id,
            ts=ts,
            kind="field",
            reference_db=body.reference_db,
            before_db=body.before_db,
            after_db=body.after_db,
            by=(body.by or staff.name).strip() or staff.name,
            note=body.note.strip(),
            created_by_key=staff.key_id,
            created_at=now,
        )
        logged = CalibrationLog(meta, clock=settings.clock).add(calibration)
    except ValueError as exc:  # an unknown sensor too (removed meanwhile)
        raise HTTPException(422, str(exc)) from exc
    stored = logged.calibration
    assert stored is not None  # a field calibration is never a repeat
    history = with_drift(meta.calibrations.history(sensor_id))
    entry = next(h for h in history if h.calibration.id == stored.id)
    response.headers["Location"] = f"{router.prefix}/{sensor_id}/calibrations"
    return _out(entry)
