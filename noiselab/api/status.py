"""A sensor's status as the API reports it: whether its data still flows."""

from __future__ import annotations

from noiselab.api.schemas.sensors import SensorStatus
from noiselab.api.settings import ApiSettings
from noiselab.store.base import SensorActivity

__all__ = ["sensor_status"]


def sensor_status(
    activity: SensorActivity | None, now: float, settings: ApiSettings
) -> SensorStatus:
    """``online`` when data arrived within ``stale_after_s`` of ``now`` (Unix s), ``stale``
    within ``offline_after_s``, else (or never) ``offline``."""
    if activity is None:
        return "offline"
    age = now - activity.last_received
    if age <= settings.stale_after_s:
        return "online"
    return "stale" if age <= settings.offline_after_s else "offline"
