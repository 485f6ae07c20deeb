"""Access rules: what a caller may see and ask for, and how its answers may be cached.

:mod:`noiselab.api.auth` says who is calling (a verified key's :class:`Principal`, or ``None``
for the public); this module says what that caller may do with it:

- sensors: the public sees public sensors, a vendor also its own (its key's and its trials'),
  staff and admin all (:func:`visible`, :func:`visible_sensor`, :func:`visible_sensor_async`);
  a sensor the caller may not see answers 404 like an unknown one, so its existence is not
  revealed;
- fine data: buckets finer than 15 minutes need staff, admin, or a vendor on its own sensor
  (:func:`fine_data_allowed`, :data:`PUBLIC_EVERY`);
- trials: staff and admin see all, a vendor the trials naming it (:func:`visible_trial`);
- roles: :data:`Staff`, :data:`Admin`, :data:`Reader` as route dependencies (401 without a key,
  403 for another role); :data:`GUARDED` and :data:`SENSOR_ERRORS` document those answers;
- caching: public answers are ``public, max-age`` (:func:`cache_headers`), anything answered to
  a key or to staff is ``private, no-store`` (:func:`no_store`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Response
from fastapi.concurrency import run_in_threadpool

from noiselab.analysis.buckets import Every
from noiselab.api.auth import Principal, require_role
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.sensor_cache import SensorCache
from noiselab.model import Sensor
from noiselab.store.metadata import Trial, TrialRepository

__all__ = [
    "GUARDED",
    "PUBLIC_EVERY",
    "PUBLIC_FRESH_S",
    "PUBLIC_SETTLED_S",
    "SENSOR_ERRORS",
    "Admin",
    "Reader",
    "Staff",
    "cache_headers",
    "fine_data_allowed",
    "no_store",
    "unknown_trial",
    "visible",
    "visible_sensor",
    "visible_sensor_async",
    "visible_trial",
]

PUBLIC_FRESH_S = 15
"""``max-age`` of public answers that may still change (the sensor list, recent data)."""
PUBLIC_SETTLED_S = 300
"""``max-age`` of public answers about a range fully in the past."""
PUBLIC_EVERY = frozenset({Every.M15, Every.H1, Every.D1})
"""Bucket widths served without a key (aggregated data only)."""

Staff = Annotated[Principal, Depends(require_role("staff", "admin"))]
"""A staff or admin key (401 without a key, 403 for a vendor key)."""
Admin = Annotated[Principal, Depends(require_role("admin"))]
"""An admin key (401 without a key, 403 for any other)."""
Reader = Annotated[Principal, Depends(require_role("vendor", "staff", "admin"))]
"""A vendor, staff or admin key: trials are read by vendors (their own), staff and admin;
sensor keys only push data."""

GUARDED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No key, or a bad or revoked one."},
    403: {"model": ErrorOut, "description": "Not a staff or admin key."},
}
"""The access errors of every :data:`Staff` route."""
SENSOR_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown sensor, or one the caller may not see."},
    401: {"model": ErrorOut, "description": "A bad or revoked API key."},
    429: {
        "model": ErrorOut,
        "description": "Too many requests without a key from this address; see `Retry-After`.",
    },
}
"""The errors of every route under /api/v1/sensors/{id}: unknown or hidden sensor, bad key,
rate limit."""


def visible(principal: Principal | None, sensor: Sensor) -> bool:
    """Whether ``principal`` (``None``: the public) may see ``sensor``."""
    return sensor.public if principal is None else principal.sees(sensor)


def visible_sensor(sensors: SensorCache, sensor_id: str, principal: Principal | None) -> Sensor:
    """The registered sensor ``sensor_id`` if ``principal`` (``None``: the public) may see it,
    else a 404 ``HTTPException`` that reads the same as for an unknown sensor. Blocking (it
    may read the database): for ``def`` routes."""
    return _shown(sensors.get(sensor_id), sensor_id, principal)


async def visible_sensor_async(
    sensors: SensorCache, sensor_id: str, principal: Principal | None
) -> Sensor:
    """:func:`visible_sensor` for ``async`` routes: a kept sensor on the event loop, a
    database read in a worker thread."""
    sensor = sensors.peek(sensor_id)
    if sensor is None:
        sensor = await run_in_threadpool(sensors.get, sensor_id)
    return _shown(sensor, sensor_id, principal)


def _shown(sensor: Sensor | None, sensor_id: str, principal: Principal | None) -> Sensor:
    if sensor is None or not visible(principal, sensor):
        raise HTTPException(status_code=404, detail=f"unknown sensor {sensor_id!r}")
    return sensor


def fine_data_allowed(principal: Principal | None, sensor: Sensor) -> bool:
    """Whether ``principal`` may read ``sensor`` in buckets finer than 15 minutes: staff and
    admin always, a vendor on its own sensors, the public never."""
    if principal is None:
        return False
    return principal.sees_all or principal.owns(sensor.id)


def visible_trial(trials: TrialRepository, trial_id: str, principal: Principal) -> Trial:
    """The trial if ``principal`` may see it, else a 404 that reads as for an unknown one."""
    trial = trials.get(trial_id)
    if trial is None or not principal.sees_trial(trial):
        raise unknown_trial(trial_id)
    return trial


def unknown_trial(trial_id: str) -> HTTPException:
    """The 404 of a trial that does not exist or that the caller may not see."""
    shown = trial_id if len(trial_id) <= 40 else trial_id[:40] + "..."
    return HTTPException(404, f"unknown trial {shown!r}")


def cache_headers(response: Response, principal: Principal | None, *, settled: bool) -> None:
    """``Cache-Control`` of a successful GET: ``private, no-store`` when a key was presented;
    for the public ``public, max-age=300`` when the answer covers a range fully in the past
    (``settled``), else ``max-age=15``. ``Vary: Authorization`` keeps shared caches from
    handing a public answer to a key holder or the reverse."""
    if principal is not None:
        response.headers["Cache-Control"] = "private, no-store"
    else:
        age = PUBLIC_SETTLED_S if settled else PUBLIC_FRESH_S
        response.headers["Cache-Control"] = f"public, max-age={age}"
    response.headers["Vary"] = "Authorization"


def no_store(response: Response) -> None:
    """Staff and admin answers are never cached: ``Cache-Control: private, no-store``."""
    response.headers["Cache-Control"] = "private, no-store"
